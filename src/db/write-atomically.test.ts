import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/test-db.js';
import { writeAtomically } from './database.js';

const T = '2026-01-01T00:00:00.000Z';

const org = (id: string, name: string) => ({
  id,
  parent_id: null,
  path: `/${id}/`,
  depth: 0,
  name,
  kind: 'operator',
  siret: null,
  status: 'active',
  contract_end_date: null,
  created_at: T,
  updated_at: T,
});

describe('writeAtomically: compiled statements in one transaction', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase();
  });

  afterAll(async () => {
    await t.close();
  });

  const names = async () =>
    (await t.db.selectFrom('organisations').select('name').orderBy('name').execute()).map((r) => r.name);

  it('commits every statement, in order', async () => {
    await writeAtomically(t.db, [
      t.db.insertInto('organisations').values(org('o-1', 'Un')).compile(),
      t.db.updateTable('organisations').set({ name: 'Un bis' }).where('id', '=', 'o-1').compile(),
      t.db.insertInto('organisations').values(org('o-2', 'Deux')).compile(),
    ]);
    expect(await names()).toEqual(['Deux', 'Un bis']);
  });

  it('commits none of them when one fails, and the connection serves the next caller', async () => {
    await expect(
      writeAtomically(t.db, [
        t.db.insertInto('organisations').values(org('o-3', 'Trois')).compile(),
        // Same primary key as the first statement's row: the whole transaction rolls back.
        t.db.insertInto('organisations').values(org('o-3', 'Trois encore')).compile(),
      ]),
    ).rejects.toThrow();
    expect(await names()).toEqual(['Deux', 'Un bis']);
    await t.db.insertInto('organisations').values(org('o-4', 'Quatre')).execute();
    expect(await names()).toEqual(['Deux', 'Quatre', 'Un bis']);
  });

  it('runs inside a caller’s transaction as part of it', async () => {
    await expect(
      t.db.transaction().execute(async (trx) => {
        await writeAtomically(trx, [trx.insertInto('organisations').values(org('o-5', 'Cinq')).compile()]);
        throw new Error('the caller gives up');
      }),
    ).rejects.toThrow('the caller gives up');
    expect(await names()).toEqual(['Deux', 'Quatre', 'Un bis']);
  });

  it('waits for a transaction already holding the SQLite connection instead of interleaving', async () => {
    let release!: () => void;
    let inserted!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = new Promise<void>((r) => (inserted = r));
    // The row exists, committed, before either runs: on PostgreSQL the first's update then holds its
    // row lock (an uncommitted insert would simply be invisible to the second, which would not wait).
    await t.db.insertInto('organisations').values(org('o-6', 'Six')).execute();
    const first = t.db.transaction().execute(async (trx) => {
      await trx.updateTable('organisations').set({ name: 'Six' }).where('id', '=', 'o-6').execute();
      inserted();
      await held;
      await trx.updateTable('organisations').set({ name: 'Six bis' }).where('id', '=', 'o-6').execute();
    });
    await holding;
    const second = writeAtomically(t.db, [
      t.db.updateTable('organisations').set({ name: 'Six ter' }).where('id', '=', 'o-6').compile(),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    release();
    await Promise.all([first, second]);
    // On SQLite the second waits for the first to commit; on PostgreSQL its update waits for the
    // first's row lock. Either way it runs last.
    expect(await names()).toEqual(['Deux', 'Quatre', 'Six ter', 'Un bis']);
  });
});
