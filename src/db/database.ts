import fs from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';
import path from 'node:path';
import { Kysely, PostgresAdapter, PostgresDialect, type CompiledQuery, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { SqliteWorkerDialect, type WriterBacklog } from './sqlite-worker.driver.js';

export type { WriterBacklog } from './sqlite-worker.driver.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
/** What repositories take as first parameter: the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: Dialect;
  close(): Promise<void>;
  /** Callers waiting for a connection: what ingestion backs off on before decisions' writes wait. */
  writerBacklog(): WriterBacklog;
  /** SQLite: the writer thread's event-loop utilisation (cumulative), for the bench and metrics. */
  writerUtilization?(): EventLoopUtilization | undefined;
}

const INT8_OID = 20;

/** SQLite databases opened here: their writer thread runs a whole transaction from one message. */
const atomicWriters = new WeakMap<Kysely<Database>, (queries: readonly CompiledQuery[]) => Promise<void>>();

/**
 * Runs compiled statements (built by repositories) in one transaction: all commit or none. On
 * SQLite they go to the writer thread as one message, so the connection is never held open while
 * the main thread, busy answering requests, gets round to sending the next statement; elsewhere
 * (PostgreSQL, or inside a caller's transaction) they run one after the other on that executor.
 */
export async function writeAtomically(db: Executor, queries: readonly CompiledQuery[]): Promise<void> {
  if (queries.length === 0) return;
  const atomic = db.isTransaction ? undefined : atomicWriters.get(db);
  if (atomic) return atomic(queries);
  const run = async (executor: Executor) => {
    for (const q of queries) await executor.executeQuery(q);
  };
  if (db.isTransaction) return run(db);
  await db.transaction().execute(run);
}

/** Opens the database named by a `sqlite:<path>` or `postgres://…` URL. */
export function openDatabase(url: string, options: { poolSize?: number } = {}): DatabaseHandle {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // The connection lives in a worker thread: a commit's disk flush never stops the event loop.
    // `synchronous = FULL`: in WAL mode each commit waits for the WAL's fsync, so a committed write
    // (an acknowledged journal entry) survives a power loss; NORMAL would only survive a crash of
    // the process. A larger page cache keeps the journal's indexes (actor, target) in memory, and a
    // larger auto-checkpoint copies the WAL into the database every ~32 MB instead of every 4 MB:
    // a page that several commits wrote is copied once (docs/journal.md, "Writing on SQLite").
    const dialect = new SqliteWorkerDialect({
      file,
      pragmas: [
        'journal_mode = WAL',
        'synchronous = FULL',
        'foreign_keys = ON',
        'busy_timeout = 5000',
        'cache_size = -65536',
        'wal_autocheckpoint = 8192',
        'journal_size_limit = 67108864',
      ],
    });
    const db = new Kysely<Database>({ dialect });
    atomicWriters.set(db, (queries) => dialect.driver.executeTransaction(queries));
    return {
      db,
      dialect: 'sqlite',
      close: () => db.destroy(),
      writerBacklog: () => dialect.backlog(),
      writerUtilization: () => dialect.utilization(),
    };
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: {
      // bigint columns (sequences, leaf indexes) fit in a double far beyond any realistic log size.
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    close: () => db.destroy(),
    // pg does not say how long a caller has waited for a client; the count is what it has.
    writerBacklog: () => ({ waiting: pool.waitingCount, oldestWaitMs: 0 }),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
