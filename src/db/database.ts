import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresAdapter, PostgresDialect, type Transaction } from 'kysely';
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
}

const INT8_OID = 20;

/** Opens the database named by a `sqlite:<path>` or `postgres://…` URL. */
export function openDatabase(url: string, options: { poolSize?: number } = {}): DatabaseHandle {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // The connection lives in a worker thread: a commit's disk flush never stops the event loop.
    const dialect = new SqliteWorkerDialect({
      file,
      pragmas: ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'busy_timeout = 5000'],
    });
    const db = new Kysely<Database>({ dialect });
    return { db, dialect: 'sqlite', close: () => db.destroy(), writerBacklog: () => dialect.backlog() };
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
