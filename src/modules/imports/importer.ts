import type { Executor } from '../../db/database.js';
import type { RecordShape } from './record.source.js';

export type ImportKind = 'organisations' | 'accounts' | 'roles' | 'follows';

/** Values one INSERT may bind, well under PostgreSQL's 65,535 (SQLite's limit is higher still). */
const MAX_BOUND_PARAMETERS = 30_000;

/** The rows of a batch in slices small enough for one multi-row INSERT each. */
export function* insertSlices<Row>(rows: readonly PendingRow<Row>[], columns: number): Generator<Row[]> {
  const size = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / columns));
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size).map((r) => r.row);
}

/** A validated line waiting in a batch. */
export interface PendingRow<Row> {
  readonly line: number;
  readonly row: Row;
}

export interface BatchOutcome {
  /** Ids of the rows written, in file order. */
  readonly insertedIds: string[];
  /** Lines that changed nothing because the same fact was already stored (a re-run, a repeated line). */
  readonly unchanged: number;
  /** Extra counters for the batch event (e.g. subjects created). */
  readonly counts?: Readonly<Record<string, number>>;
}

/**
 * What the engine needs from one kind of import. `validate` is synchronous and works from in-memory
 * caches loaded by `prepare`, so 1.6 M lines cost no query each; `write` runs inside the batch's
 * transaction. State a line adds to the caches while pending (a new organisation a later line may
 * name as parent, an e-mail now taken) is kept by `committed` and undone by `discarded`.
 */
export interface Importer<Row> {
  readonly kind: ImportKind;
  readonly eventKind: string;
  readonly shape: RecordShape;
  prepare(db: Executor): Promise<void>;
  /** Returns the row to write, or throws LineRejected. */
  validate(fields: Readonly<Record<string, unknown>>, now: string): Row;
  write(trx: Executor, rows: readonly PendingRow<Row>[]): Promise<BatchOutcome>;
  committed(rows: readonly PendingRow<Row>[]): void;
  discarded(rows: readonly PendingRow<Row>[]): void;
}
