import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import { identityServiceOf } from '../../src/modules/identity/index.js';
import { moveSubtree } from '../../src/modules/identity/organisation.repository.js';
import type { SystemActor } from '../../src/shared/principal.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { makeOrganisation, makeScene } from '../helpers/factories.js';
import { onPostgres } from '../helpers/test-db.js';

/**
 * Changes to the tree's shape racing each other on PostgreSQL (SQLite has one writer). Each test
 * holds, in a transaction of its own, a move in flight, then starts a command that must wait for it
 * and decide on the paths the move committed.
 */
const ADMIN: SystemActor = { kind: 'system', id: 'cli' };

describe.runIf(onPostgres())('tree changes racing a move', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  const db = () => t.database.db;
  const pathOf = async (id: string) =>
    (await db().selectFrom('organisations').select('path').where('id', '=', id).executeTakeFirstOrThrow())
      .path;

  /** Runs `inFlight` in a transaction holding the tree lock, starts `racer`, commits once it waits. */
  async function race(
    inFlight: (trx: Transaction<Database>) => Promise<void>,
    racer: () => Promise<unknown>,
  ) {
    let racing: Promise<unknown> | undefined;
    await db()
      .transaction()
      .execute(async (trx) => {
        await sql`select id from organisations where parent_id is null for update`.execute(trx);
        await inFlight(trx);
        const holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
        racing = racer();
        racing.catch(() => undefined);
        for (let i = 0; i < 200; i++) {
          const r = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
            where ${holder} = any(pg_blocking_pids(pid))`.execute(db());
          if (Number(r.rows[0]!.n) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
    return racing!;
  }

  const move = async (trx: Transaction<Database>, id: string, parentId: string) => {
    const [row, parent] = [await pathOf(id), await pathOf(parentId)];
    const depth = (x: string) => x.split('/').length - 3;
    await moveSubtree(trx, 'postgres', {
      id,
      newParentId: parentId,
      oldPath: row,
      newPath: `${parent}${id}/`,
      depthDelta: depth(parent) + 1 - depth(row),
      at: t.clock.now().toISOString(),
    });
  };

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(db());
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a move that would close a cycle with a move committed meanwhile', async () => {
    const a = await makeOrganisation(db(), { parent: scene.network, name: 'A' });
    const b = await makeOrganisation(db(), { parent: scene.network, name: 'B' });
    const racing = race(
      (trx) => move(trx, a.id, b.id),
      () => identityServiceOf(t.container).organisations.update(ADMIN, b.id, { parentId: a.id }),
    );
    await expect(racing).rejects.toMatchObject({ code: 'ORGANISATION_CYCLE' });
    expect(await pathOf(a.id)).toBe(`${await pathOf(b.id)}${a.id}/`);
    expect(await pathOf(b.id)).toBe(`${scene.network.path}${b.id}/`);
  });

  it('places a new organisation under the path its parent has after a move committed meanwhile', async () => {
    const x = await makeOrganisation(db(), { parent: scene.network, name: 'X' });
    const y = await makeOrganisation(db(), { parent: scene.network, name: 'Y' });
    const created = (await race(
      (trx) => move(trx, x.id, y.id),
      () =>
        identityServiceOf(t.container).organisations.create(ADMIN, {
          parentId: x.id,
          name: 'Mission Locale under X',
          kind: 'mission_locale',
        }),
    )) as { id: string };
    expect(await pathOf(created.id)).toBe(`${scene.network.path}${y.id}/${x.id}/${created.id}/`);
  });
});
