import SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';

const STATEMENT_CACHE_MAX = 512;
const READER_MMAP_BYTES = 1 << 30;

/**
 * A read connection on the main thread, beside the writer thread's connection. In WAL mode a reader
 * never waits for the writer and never flushes to disk, so a plain select outside any transaction
 * costs microseconds here where a round trip to the writer thread costs tens of them (an inclusion
 * proof reads one tile per level: A5 of the journal bench). It sees every committed transaction,
 * so a caller that awaited its write reads it back. Statements stay prepared, as in the writer.
 */
export class SqliteReader {
  readonly #db: SqliteDatabase.Database;
  readonly #cache = new Map<string, SqliteDatabase.Statement>();

  constructor(file: string) {
    this.#db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
    this.#db.pragma('busy_timeout = 5000');
    // Reads go through a memory map of the database's first GiB instead of a read() into the
    // connection's page cache per page: a level-0 tile (16 KiB, four overflow pages) costs 13 µs
    // instead of 20, and an inclusion proof reads one (A5). Only address space is reserved; the
    // pages are the operating system's file cache, shared and reclaimable. The connection is
    // read-only, so no stray write can go through the map; pages still in the WAL are read as before.
    this.#db.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
  }

  select<R>(query: CompiledQuery): QueryResult<R> {
    let statement = this.#cache.get(query.sql);
    if (!statement || statement.busy) {
      const fresh = this.#db.prepare(query.sql);
      if (!statement) {
        if (this.#cache.size >= STATEMENT_CACHE_MAX) this.#cache.clear();
        this.#cache.set(query.sql, fresh);
      }
      statement = fresh;
    }
    return { rows: statement.all(...(query.parameters as unknown[])) as R[] };
  }

  close(): void {
    this.#db.close();
  }
}

/** Only a plain select built with the query builder is sent to the reader; raw SQL may write. */
export const isPlainSelect = (query: CompiledQuery): boolean => query.query.kind === 'SelectQueryNode';

/**
 * What Kysely holds between acquireConnection and releaseConnection. Plain selects outside a
 * transaction go to the main-thread reader without waiting for the writer; anything else (writes,
 * raw SQL, every query of a transaction) takes the writer's queue on first use and holds it until
 * the connection is released, so a transaction stays one caller's at a time.
 */
export class RoutingConnection implements DatabaseConnection {
  #held = false;
  #inTransaction = false;

  constructor(
    private readonly writer: DatabaseConnection,
    private readonly reader: SqliteReader | undefined,
    private readonly queue: { acquire(): Promise<void>; release(): void },
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.reader && !this.#inTransaction && isPlainSelect(query)) return this.reader.select<R>(query);
    await this.hold();
    return this.writer.executeQuery<R>(query);
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    await this.hold();
    yield* this.writer.streamQuery<R>(query, chunkSize);
  }

  /** From here to end(), every query goes to the writer, on the queue this connection holds. */
  async beginTransaction(): Promise<void> {
    await this.hold();
    this.#inTransaction = true;
  }

  endTransaction(): void {
    this.#inTransaction = false;
  }

  async hold(): Promise<void> {
    if (this.#held) return;
    await this.queue.acquire();
    this.#held = true;
  }

  release(): void {
    this.#inTransaction = false;
    if (!this.#held) return;
    this.#held = false;
    this.queue.release();
  }
}
