import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUniqueViolation } from '../modules/identity/identity.errors.js';
import { SqliteWorkerDialect } from './sqlite-worker.driver.js';

interface TestSchema {
  items: { id: number; name: string; blob: Buffer | null; n: number | null };
}

describe('the SQLite driver whose connection lives in a worker thread', () => {
  let dir: string;
  let dialect: SqliteWorkerDialect;
  let db: Kysely<TestSchema>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-worker-'));
    dialect = new SqliteWorkerDialect({
      file: path.join(dir, 'w.db'),
      pragmas: ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON'],
    });
    db = new Kysely<TestSchema>({ dialect });
    await sql`create table items (id integer primary key, name text not null unique, blob blob, n integer)`.execute(
      db,
    );
  });

  afterAll(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a query in the worker and hands back rows, blobs as Buffers, integers as numbers', async () => {
    const blob = Buffer.from([0, 1, 2, 255]);
    const insert = await db
      .insertInto('items')
      .values({ id: 1, name: 'one', blob, n: 2 ** 40 })
      .executeTakeFirst();
    expect(insert.insertId).toBe(1n);
    expect(insert.numInsertedOrUpdatedRows).toBe(1n);
    const row = await db.selectFrom('items').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    expect(Buffer.isBuffer(row.blob)).toBe(true);
    expect(row.blob!.equals(blob)).toBe(true);
    expect(row.n).toBe(2 ** 40);
    const returned = await db
      .insertInto('items')
      .values({ id: 2, name: 'two', blob: null, n: null })
      .returning(['id', 'name'])
      .execute();
    expect(returned).toEqual([{ id: 2, name: 'two' }]);
    const pragma = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    expect(pragma.rows[0]?.journal_mode).toBe('wal');
  });

  it('rolls a failed transaction back on the worker connection', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: 10, name: 'ten', blob: null, n: null }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.selectFrom('items').select('id').where('id', '=', 10).execute()).toEqual([]);
    // The connection is free again and not left inside a transaction.
    await db
      .transaction()
      .execute((trx) =>
        trx.insertInto('items').values({ id: 11, name: 'eleven', blob: null, n: null }).execute(),
      );
    expect(await db.selectFrom('items').select('id').where('id', '=', 11).execute()).toEqual([{ id: 11 }]);
  });

  it('raises constraint errors with the SQLite code that maps them to the same VigieErrors', async () => {
    const error = await db
      .insertInto('items')
      .values({ id: 20, name: 'one', blob: null, n: null })
      .execute()
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(isUniqueViolation(error)).toBe(true);
    const pk = await db
      .insertInto('items')
      .values({ id: 1, name: 'other', blob: null, n: null })
      .execute()
      .catch((e: unknown) => e);
    expect((pk as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    const syntax = await sql`selec 1`.execute(db).catch((e: unknown) => e);
    expect((syntax as Error).message).toMatch(/syntax error/);
    expect(isUniqueViolation(syntax)).toBe(false);
  });

  it('streams a select in chunks, and frees the connection when the reader stops early', async () => {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < 1000; i += 250)
        await trx
          .insertInto('items')
          .values(
            Array.from({ length: 250 }, (_, j) => ({
              id: 1000 + i + j,
              name: `s${i + j}`,
              blob: null,
              n: i + j,
            })),
          )
          .execute();
    });
    let seen = 0;
    for await (const row of db
      .selectFrom('items')
      .select('n')
      .where('id', '>=', 1000)
      .orderBy('id')
      .stream(64)) {
      expect(row.n).toBe(seen);
      seen++;
    }
    expect(seen).toBe(1000);
    let taken = 0;
    for await (const _row of db.selectFrom('items').select('id').where('id', '>=', 1000).stream(10)) {
      if (++taken === 15) break;
    }
    expect(taken).toBe(15);
    const count = await db
      .selectFrom('items')
      .select((eb) => eb.fn.countAll<number>().as('c'))
      .executeTakeFirstOrThrow();
    expect(count.c).toBeGreaterThanOrEqual(1000);
  });

  it('reports writers waiting behind a transaction, and none once it is done; readers do not wait', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const trx = db.transaction().execute(async (t) => {
      await t.insertInto('items').values({ id: 900_001, name: 'held', blob: null, n: 1 }).execute();
      await held;
    });
    try {
      await new Promise((r) => setTimeout(r, 20));
      const waiting = [1, 2, 3].map((i) =>
        db
          .insertInto('items')
          .values({ id: 900_010 + i, name: `after-${i}`, blob: null, n: i })
          .execute(),
      );
      await new Promise((r) => setTimeout(r, 30));
      const backlog = dialect.backlog();
      expect(backlog.waiting).toBe(3);
      expect(backlog.oldestWaitMs).toBeGreaterThanOrEqual(20);
      // A plain select reads the last committed state on the main thread: the open transaction's
      // row is not there yet, and the reader does not queue behind the writer.
      const seen = await db.selectFrom('items').select('id').where('id', '=', 900_001).execute();
      expect(seen).toEqual([]);
      expect(dialect.backlog().waiting).toBe(3);
      release();
      await trx;
      await Promise.all(waiting);
    } finally {
      release();
    }
    expect(dialect.backlog()).toEqual({ waiting: 0, oldestWaitMs: 0 });
    // Once committed, what was written is read back at once.
    const after = await db.selectFrom('items').select('id').where('id', '>=', 900_001).execute();
    expect(after.map((r) => r.id).sort()).toEqual([900_001, 900_011, 900_012, 900_013]);
  });

  it('keeps the event loop responsive while a large transaction runs and commits', async () => {
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    // Ticks on the main thread during the write; each one measures how late it ran.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = performance.now();
    await db.transaction().execute(async (trx) => {
      // Heavy for SQLite, light for the main thread: 300 k rows built and indexed inside the worker.
      await sql`insert into items (id, name, n)
        with recursive seq(x) as (select 1 union all select x + 1 from seq where x < 300000)
        select 100000 + x, 'bulk-' || x, x * 7 from seq`.execute(trx);
    });
    const elapsed = performance.now() - started;
    clearInterval(ticker);
    histogram.disable();
    const maxDelayMs = histogram.max / 1e6;
    // The write must be long enough for the bound to mean something, and the loop kept ticking.
    expect(elapsed).toBeGreaterThan(150);
    expect(maxDelayMs).toBeLessThan(Math.max(100, elapsed / 3));
    expect(ticks).toBeGreaterThan(elapsed / 10 / 3);
    const n = await db
      .selectFrom('items')
      .select((eb) => eb.fn.countAll<number>().as('c'))
      .where('name', 'like', 'bulk-%')
      .executeTakeFirstOrThrow();
    expect(n.c).toBe(300000);
  });
});
