import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAtomically } from '../../db/database.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { VigieEvent } from '../../shared/event.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/test-db.js';
import { compileInsertEvents, findEventById } from './event.repository.js';
import { PROCESS_ORIGIN } from './origin.js';

let n = 0;
const event = (i: number): VigieEvent => ({
  id: `00000000-0000-7000-8000-${(++n).toString(16).padStart(12, '0')}`,
  time: '2026-03-02T09:00:00.000Z',
  kind: i % 2 === 0 ? 'access.decision' : 'auth.login_succeeded',
  actor: { type: 'account', id: `a${i}` },
  ...(i % 3 === 0 ? {} : { target: { type: 'record', id: `r${i}` } }),
  ...(i % 5 === 0 ? { organisationId: `o${i}` } : {}),
  outcome: 'success',
  ...(i % 7 === 0 ? { source: 'app-1' } : {}),
  data: { i, text: 'é "quoted"' },
});

describe('compileInsertEvents (the decision recorder’s append)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('splits a batch into chunks whose statements are reused, and stores every event whole', async () => {
    const db = database.db;
    const thousand = compileInsertEvents(
      db,
      Array.from({ length: 1000 }, (_, i) => event(i)),
    );
    if (database.dialect === 'sqlite') {
      // 1,000 = 400 + 400 + 128 + 64 + 8: the tail in powers of two, never a statement of its own size.
      expect(thousand.map((q) => q.parameters.length / 12)).toEqual([400, 400, 128, 64, 8]);
    } else {
      // One statement, one array per column.
      expect(thousand.map((q) => (q.parameters as unknown[][]).map((a) => a.length))).toEqual([
        Array.from({ length: 12 }, () => 1000),
      ]);
    }
    expect(compileInsertEvents(db, [])).toEqual([]);

    const batch = Array.from({ length: 403 }, (_, i) => event(i));
    await writeAtomically(db, compileInsertEvents(db, batch));
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('id', 'in', [batch[0]!.id, batch[1]!.id, batch[402]!.id])
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.id)).toEqual([batch[0]!.id, batch[1]!.id, batch[402]!.id]);
    const second = rows[1]!;
    expect(second).toMatchObject({
      time: '2026-03-02T09:00:00.000Z',
      kind: 'auth.login_succeeded',
      actor_type: 'account',
      actor_id: 'a1',
      target_type: 'record',
      target_id: 'r1',
      organisation_id: null,
      outcome: 'success',
      source: 'vigie',
      origin: PROCESS_ORIGIN,
      payload: canonicalJson(batch[1]),
      leaf_index: null,
    });
    expect(rows[0]).toMatchObject({
      target_type: null,
      target_id: null,
      organisation_id: 'o0',
      source: 'app-1',
    });
    expect(await findEventById(db, batch[402]!.id)).toEqual(batch[402]);
    const count = await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(
        'id',
        'in',
        batch.map((e) => e.id),
      )
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(403);
  });
});
