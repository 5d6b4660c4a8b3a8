import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { RoutingConnection, SqliteReader } from './sqlite-reader.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './sqlite-worker.protocol.js';

/** An error raised by SQLite in the writer thread, with better-sqlite3's `code` (SQLITE_CONSTRAINT_UNIQUE…). */
export class SqliteWorkerError extends Error {
  readonly code: string | undefined;
  constructor(error: { name: string; message: string; code?: string }) {
    super(error.message);
    this.name = error.name === 'Error' ? 'SqliteWorkerError' : error.name;
    this.code = error.code;
  }
}

/** How far behind the single connection is: callers waiting for it, and for how long the oldest has. */
export interface WriterBacklog {
  readonly waiting: number;
  readonly oldestWaitMs: number;
}

type Pending = { resolve(reply: WorkerReply & { ok: true }): void; reject(error: Error): void };

/** The main thread's end of the worker: one message per request, answers matched by id. */
class WorkerClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: Error | undefined;
  readonly ready: Promise<void>;

  constructor(setup: WorkerSetup) {
    const here = fileURLToPath(import.meta.url);
    // Beside this file, with its extension: src/ under tsx or vitest, dist/ once built.
    const file = path.join(path.dirname(here), `sqlite-writer.worker${path.extname(here)}`);
    // Referenced until it answers `ready` (the first empty pending map unrefs it).
    this.#worker = new Worker(file, { workerData: setup });
    this.ready = new Promise((resolve, reject) => {
      this.#pending.set(0, { resolve: () => resolve(), reject });
    });
    this.#worker.on('message', (reply: WorkerReply) => {
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new SqliteWorkerError(reply.error));
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      for (const waiter of this.#pending.values()) waiter.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)));
  }

  request(message: DistributiveOmit<WorkerRequest, 'id'>): Promise<WorkerReply & { ok: true }> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    // Only a request in flight keeps the process alive: an idle database never holds it open.
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }

  /** The writer thread's event-loop utilisation (cumulative; diff two readings for a window). */
  utilization(): EventLoopUtilization {
    return this.#worker.performance.eventLoopUtilization();
  }

  async terminate(): Promise<void> {
    if (!this.#failure) await this.request({ op: 'close' }).catch(() => undefined);
    await this.#worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Structured clone hands blobs back as plain Uint8Arrays; the repositories expect Buffers. */
function withBuffers(rows: unknown[]): unknown[] {
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (const key in record) {
      const v = record[key];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v))
        record[key] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return rows;
}

class WorkerConnection implements DatabaseConnection {
  constructor(readonly client: WorkerClient) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const reply = await this.client.request({
      op: 'query',
      sql: compiledQuery.sql,
      params: compiledQuery.parameters,
    });
    if (reply.changes === undefined) return { rows: withBuffers(reply.rows) as R[] };
    return {
      rows: [],
      numAffectedRows: BigInt(reply.changes),
      ...(reply.lastInsertRowid != null ? { insertId: BigInt(reply.lastInsertRowid) } : {}),
    };
  }

  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize = 100,
  ): AsyncIterableIterator<QueryResult<R>> {
    const size = Math.max(1, chunkSize);
    let reply = await this.client.request({
      op: 'open-cursor',
      sql: compiledQuery.sql,
      params: compiledQuery.parameters,
      chunkSize: size,
    });
    const cursor = reply.cursor!;
    try {
      for (;;) {
        if (reply.rows.length > 0) yield { rows: withBuffers(reply.rows) as R[] };
        if (reply.done) return;
        reply = await this.client.request({ op: 'next', cursor, chunkSize: size });
      }
    } finally {
      // The consumer may stop early (break): free the worker's statement.
      if (!reply.done) await this.client.request({ op: 'close-cursor', cursor });
    }
  }
}

/** Who waits for the writer: decision batches (`first`) or everyone else (ingestion, commands…). */
export type WriterLane = 'first' | 'normal';

/**
 * One connection, one caller at a time: the mutex Kysely would otherwise keep itself, held here so
 * that its backlog can be read (ingestion backs off on it). Two lanes, each first come first served;
 * when both wait they take turns, so a line of ingestion chunks delays a decision batch by one
 * transaction at most, and decisions never starve the rest.
 */
export class ConnectionQueue {
  #held = false;
  #lastGranted: WriterLane = 'normal';
  readonly #lanes: Record<WriterLane, Array<{ since: number; grant(): void }>> = { first: [], normal: [] };

  acquire(lane: WriterLane = 'normal'): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((grant) => this.#lanes[lane].push({ since: performance.now(), grant }));
  }

  release(): void {
    const { first, normal } = this.#lanes;
    const lane: WriterLane =
      first.length > 0 && (normal.length === 0 || this.#lastGranted === 'normal') ? 'first' : 'normal';
    const next = this.#lanes[lane].shift();
    if (!next) {
      this.#held = false;
      return;
    }
    this.#lastGranted = lane;
    next.grant();
  }

  backlog(): WriterBacklog {
    const { first, normal } = this.#lanes;
    const oldest = Math.min(first[0]?.since ?? Infinity, normal[0]?.since ?? Infinity);
    return {
      waiting: first.length + normal.length,
      oldestWaitMs: oldest === Infinity ? 0 : performance.now() - oldest,
    };
  }
}

class WorkerDriver implements Driver {
  #client: WorkerClient | undefined;
  #connection: WorkerConnection | undefined;
  #reader: SqliteReader | undefined;
  readonly queue = new ConnectionQueue();

  constructor(private readonly setup: WorkerSetup) {}

  async init(): Promise<void> {
    const client = new WorkerClient(this.setup);
    this.#client = client;
    this.#connection = new WorkerConnection(client);
    await client.ready;
    // Opened once the writer has made the file (and its WAL): an in-memory database has no second view.
    if (this.setup.file !== ':memory:' && this.setup.file !== '')
      this.#reader = new SqliteReader(this.setup.file);
  }

  utilization(): EventLoopUtilization | undefined {
    return this.#client?.utilization();
  }

  /**
   * Statements run in one transaction, sent as one message: the decision recorder's batches, which
   * wait in the writer's first lane (taking turns with everyone else when both wait).
   */
  async executeTransaction(queries: readonly CompiledQuery[]): Promise<void> {
    if (queries.length === 0) return;
    await this.queue.acquire('first');
    try {
      await this.#client!.request({
        op: 'transaction',
        statements: queries.map((q) => ({ sql: q.sql, params: q.parameters })),
      });
    } finally {
      this.queue.release();
    }
  }

  acquireConnection(): Promise<DatabaseConnection> {
    // The writer's queue is taken on first use, not here: a plain select never waits for it.
    return Promise.resolve(new RoutingConnection(this.#connection!, this.#reader, this.queue));
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as RoutingConnection).beginTransaction();
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
    (connection as RoutingConnection).endTransaction();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
    (connection as RoutingConnection).endTransaction();
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as RoutingConnection).release();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    // Wait for the connection like any caller: queries already queued finish first.
    await this.queue.acquire();
    this.#reader?.close();
    await this.#client?.terminate();
  }
}

/** Kysely's own mutex is off (our driver queues callers itself); the SQL is SQLite's. */
class QueuedSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

/**
 * SQLite for Kysely with the connection in a worker thread: queries, transactions
 * (begin / queries / commit on the worker's connection, one caller at a time) and streamed selects.
 */
export class SqliteWorkerDialect implements Dialect {
  readonly driver: WorkerDriver;

  constructor(setup: WorkerSetup) {
    this.driver = new WorkerDriver(setup);
  }

  createDriver(): Driver {
    return this.driver;
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new QueuedSqliteAdapter();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }

  backlog(): WriterBacklog {
    return this.driver.queue.backlog();
  }

  utilization(): EventLoopUtilization | undefined {
    return this.driver.utilization();
  }
}
