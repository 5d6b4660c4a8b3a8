/*
 * The SQLite connection's own thread. better-sqlite3 is synchronous: a commit with
 * `synchronous = FULL` waits for the disk flush, and run on the main thread it stops the event loop
 * that answers HTTP. Here it stops only this thread. The main thread's driver
 * (sqlite-worker.driver.ts) posts one compiled query at a time and awaits the answer.
 *
 * Self-contained on purpose (no relative import): Node loads this file directly as a worker, from
 * `src/` (type stripping) or from `dist/`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './sqlite-worker.protocol.js';

const STATEMENT_CACHE_MAX = 512;

const port = parentPort;
if (!port) throw new Error('sqlite-writer.worker must run as a worker thread');
const setup = workerData as WorkerSetup;

/**
 * Kysely prepares every query anew; preparing costs more than running a short indexed read. Vigie
 * issues the same few hundred statements over and over, so they are kept prepared. A statement
 * still iterating (a streamed select) is busy: another is prepared for that call.
 */
const cache = new Map<string, SqliteDatabase.Statement>();
function prepare(db: SqliteDatabase.Database, sql: string): SqliteDatabase.Statement {
  const hit = cache.get(sql);
  if (hit && !hit.busy) return hit;
  const statement = db.prepare(sql);
  if (!hit) {
    if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
    cache.set(sql, statement);
  }
  return statement;
}

/** Structured clone turns a Buffer into a plain Uint8Array; better-sqlite3 binds Buffers as blobs. */
function bindable(params: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(params.length);
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    out[i] =
      p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p;
  }
  return out;
}

function describe(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

let db: SqliteDatabase.Database;
try {
  db = new SqliteDatabase(setup.file);
  for (const pragma of setup.pragmas) db.pragma(pragma);
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: describe(error) } satisfies WorkerReply);
  process.exit(1);
}

const runStatements = db.transaction(
  (statements: ReadonlyArray<{ readonly sql: string; readonly params: readonly unknown[] }>) => {
    for (const s of statements) prepare(db, s.sql).run(bindable(s.params));
  },
);

const cursors = new Map<number, Iterator<unknown>>();
let nextCursor = 1;

function takeRows(
  cursor: number,
  iterator: Iterator<unknown>,
  max: number,
): { rows: unknown[]; done: boolean } {
  const rows: unknown[] = [];
  while (rows.length < max) {
    const step = iterator.next();
    if (step.done) {
      cursors.delete(cursor);
      return { rows, done: true };
    }
    rows.push(step.value);
  }
  return { rows, done: false };
}

function handle(request: WorkerRequest): WorkerReply {
  switch (request.op) {
    case 'query': {
      const statement = prepare(db, request.sql);
      const params = bindable(request.params);
      if (statement.reader) return { id: request.id, ok: true, rows: statement.all(params) };
      const { changes, lastInsertRowid } = statement.run(params);
      return { id: request.id, ok: true, rows: [], changes, lastInsertRowid };
    }
    case 'open-cursor': {
      const statement = prepare(db, request.sql);
      if (!statement.reader) throw new TypeError('only statements that return rows can be streamed');
      const cursor = nextCursor++;
      const iterator = statement.iterate(bindable(request.params));
      cursors.set(cursor, iterator);
      return { id: request.id, ok: true, cursor, ...takeRows(cursor, iterator, request.chunkSize) };
    }
    case 'next': {
      const iterator = cursors.get(request.cursor);
      if (!iterator) return { id: request.id, ok: true, rows: [], done: true };
      return { id: request.id, ok: true, ...takeRows(request.cursor, iterator, request.chunkSize) };
    }
    case 'close-cursor': {
      cursors.get(request.cursor)?.return?.();
      cursors.delete(request.cursor);
      return { id: request.id, ok: true, rows: [] };
    }
    case 'transaction': {
      // One message for a whole batch: no round trip between its statements, and the connection is
      // never left inside an open transaction waiting for the main thread's next statement.
      runStatements(request.statements);
      return { id: request.id, ok: true, rows: [] };
    }
    case 'close': {
      for (const iterator of cursors.values()) iterator.return?.();
      cursors.clear();
      db.close();
      return { id: request.id, ok: true, rows: [] };
    }
  }
}

port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = handle(request);
  } catch (error) {
    reply = { id: request.id, ok: false, error: describe(error) };
  }
  port.postMessage(reply);
  if (request.op === 'close') port.close();
});
port.postMessage({ id: 0, ok: true, rows: [] } satisfies WorkerReply);
