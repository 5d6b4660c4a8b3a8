import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read } from './access-scene.js';

describe('break-glass outside the caseload', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;

  beforeAll(async () => {
    t = await createTestApp({ env: isolatedEnv() });
    s = await makeAccessScene(t);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  const glass = (justification: string) => ({ break_glass: { purpose: 'person_request', justification } });

  it('refuses a read outside the caseload without a stated purpose', async () => {
    const res = await evaluate(t, s.businessToken, read(s.advisor.id, s.otherPeople[0]!));
    expect(res.json()).toEqual({ decision: false, context: { reasons: ['not_in_caseload'] } });
  });

  it('allows it with purpose and justification, flagged for review and the access ledger, up to the daily cap', async () => {
    const words = 'La personne est au guichet et demande son dossier';
    const decisions: boolean[] = [];
    for (const person of s.otherPeople) {
      const res = await evaluate(t, s.businessToken, read(s.advisor.id, person, glass(words)));
      decisions.push(res.json().decision as boolean);
      if (res.json().decision) {
        expect(res.json().context.obligations).toEqual(
          expect.arrayContaining([{ type: 'review', queue: 'break_glass' }, { type: 'access_ledger_entry' }]),
        );
      }
    }
    // policies/default.yaml: break_glass.cap_per_day = 3
    expect(decisions).toEqual([true, true, true, false, false]);

    await accessOf(t).service.flush();
    const used = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'access.break_glass_used')
      .execute();
    expect(used).toHaveLength(3);
    for (const row of used) {
      // The journal is immutable: the agent's own words (which may name the person) are only hashed there.
      expect(row.payload).not.toContain('guichet');
      expect(JSON.parse(row.payload).data).toMatchObject({ purpose: 'person_request', review: 'pending' });
      expect(JSON.parse(row.payload).data.justificationSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const kept = await t.database.db
      .selectFrom('access_disclosures')
      .select(['record_id', 'justification'])
      .where('break_glass', '=', 1)
      .execute();
    expect(kept.map((k) => k.record_id).sort()).toEqual(s.otherPeople.slice(0, 3).sort());
    expect(new Set(kept.map((k) => k.justification))).toEqual(new Set([words]));
  });
});
