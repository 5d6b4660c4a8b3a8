/** Messages between the SQLite driver (main thread) and the worker that owns the connection. */

export interface WorkerSetup {
  readonly file: string;
  /** Applied in order right after opening, e.g. `journal_mode = WAL`. */
  readonly pragmas: readonly string[];
}

export type WorkerRequest =
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly params: readonly unknown[] }
  | {
      readonly id: number;
      readonly op: 'open-cursor';
      readonly sql: string;
      readonly params: readonly unknown[];
      readonly chunkSize: number;
    }
  | { readonly id: number; readonly op: 'next'; readonly cursor: number; readonly chunkSize: number }
  | { readonly id: number; readonly op: 'close-cursor'; readonly cursor: number }
  | {
      readonly id: number;
      readonly op: 'transaction';
      /** Run in order inside one transaction: all of them commit, or none (rolled back, error sent). */
      readonly statements: ReadonlyArray<{ readonly sql: string; readonly params: readonly unknown[] }>;
    }
  | { readonly id: number; readonly op: 'close' };

export type WorkerReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly rows: unknown[];
      readonly changes?: number;
      readonly lastInsertRowid?: number | bigint;
      readonly cursor?: number;
      readonly done?: boolean;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: { readonly name: string; readonly message: string; readonly code?: string };
    };
