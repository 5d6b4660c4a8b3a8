import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isInLineage,
  lineageEdges,
  lineageMemberIds,
} from '../../src/modules/identity/lineage.repository.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';
import { makeAccount, makeOrganisation } from '../helpers/factories.js';

/**
 * The lineage CTE on the real database: A created B, B created C, C approved D; E stands apart.
 * Then a loop is forced (A marked as approved by D) to show the recursion still ends.
 */
describe('account lineage (recursive CTE)', () => {
  let database: TestDatabase;
  const id = { a: '', b: '', c: '', d: '', e: '' };

  beforeAll(async () => {
    database = await createTestDatabase();
    const db = database.db;
    const org = await makeOrganisation(db);
    const a = await makeAccount(db, { organisationId: org.id });
    const b = await makeAccount(db, { organisationId: org.id, createdBy: a.id });
    const c = await makeAccount(db, { organisationId: org.id, createdBy: b.id });
    const d = await makeAccount(db, { organisationId: org.id, approvedBy: c.id });
    const e = await makeAccount(db, { organisationId: org.id });
    Object.assign(id, { a: a.id, b: b.id, c: c.id, d: d.id, e: e.id });
  });
  afterAll(async () => {
    await database.close();
  });

  it('holds everything created or approved, transitively', async () => {
    expect(await lineageMemberIds(database.db, id.a)).toEqual([id.b, id.c, id.d].sort());
    expect(await lineageMemberIds(database.db, id.c)).toEqual([id.d]);
    expect(await lineageMemberIds(database.db, id.e)).toEqual([]);
  });

  it('answers membership both ways', async () => {
    expect(await isInLineage(database.db, id.a, id.d)).toBe(true);
    expect(await isInLineage(database.db, id.d, id.a)).toBe(false);
    expect(await isInLineage(database.db, id.a, id.e)).toBe(false);
    expect(await isInLineage(database.db, id.a, id.a)).toBe(false);
  });

  it('reads the edges with their relation and depth', async () => {
    const edges = await lineageEdges(database.db, id.a, { limit: 100 });
    const byId = Object.fromEntries(edges.map((e) => [e.id, e]));
    expect(byId[id.b]).toMatchObject({ parent_id: id.a, relation: 'created', depth: 1 });
    expect(byId[id.c]).toMatchObject({ parent_id: id.b, relation: 'created', depth: 2 });
    expect(byId[id.d]).toMatchObject({ parent_id: id.c, relation: 'approved', depth: 3 });
    expect(edges).toHaveLength(3);
  });

  it('ends even when created/approved links form a loop', async () => {
    await database.db.updateTable('accounts').set({ approved_by: id.d }).where('id', '=', id.a).execute();
    expect(await lineageMemberIds(database.db, id.a)).toEqual([id.b, id.c, id.d].sort());
    expect(await isInLineage(database.db, id.b, id.a)).toBe(true);
    const edges = await lineageEdges(database.db, id.b, { limit: 100 });
    expect(edges.map((e) => e.id).sort()).toEqual([id.a, id.c, id.d].sort());
    await database.db.updateTable('accounts').set({ approved_by: null }).where('id', '=', id.a).execute();
  });

  it('walks a wide lineage of a thousand accounts quickly', async () => {
    const org = await makeOrganisation(database.db);
    const root = await makeAccount(database.db, { organisationId: org.id });
    let parents = [root.id];
    for (let level = 0; level < 3; level++) {
      const next: string[] = [];
      for (const p of parents)
        for (let i = 0; i < 10; i++)
          next.push((await makeAccount(database.db, { organisationId: org.id, createdBy: p })).id);
      parents = next;
    }
    const started = performance.now();
    expect(await lineageMemberIds(database.db, root.id)).toHaveLength(1110);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
