import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/shared/clock.js';
import { grantRole, makeAccount } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read, seedPeople } from './access-scene.js';

describe('the seed scenarios under the shipped default policy', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;
  let fresh: { id: string };
  let freshPeople: string[];

  beforeAll(async () => {
    t = await createTestApp({ env: isolatedEnv() });
    s = await makeAccessScene(t);
    // Approved ten minutes before "now": still in its first hour.
    const freshStructure = s.mlB;
    fresh = await makeAccount(t.database.db, {
      organisationId: freshStructure.id,
      createdAt: new Date(t.clock.now().getTime() - 10 * 60_000).toISOString(),
    });
    await grantRole(t.database.db, fresh.id, 'agent', freshStructure.id);
    freshPeople = await seedPeople(t.database.db, 'fresh', 60, { organisationId: freshStructure.id });
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('denies an advisor reading a person followed only by another structure', async () => {
    const res = await evaluate(t, s.businessToken, read(s.advisor.id, s.otherPeople[0]!));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ decision: false, context: { reasons: ['not_in_caseload'] } });
    const own = await evaluate(t, s.businessToken, read(s.advisor.id, s.ownPeople[0]!));
    expect(own.json()).toEqual({ decision: true });
  });

  it('masks the NIR for partner applications, as an obligation in the response context', async () => {
    const res = await evaluate(t, s.portalToken, {
      subject: { type: 'application', id: s.portal.id },
      action: { name: 'read' },
      resource: { type: 'record', id: s.enrolled[999]! },
    });
    expect(res.json()).toEqual({
      decision: true,
      context: { obligations: [{ type: 'mask', fields: ['nir'] }] },
    });
    const notEnrolled = await evaluate(t, s.portalToken, {
      subject: { type: 'application', id: s.portal.id },
      action: { name: 'read' },
      resource: { type: 'record', id: s.ownPeople[0]! },
    });
    expect(notEnrolled.json().decision).toBe(false);
    expect(notEnrolled.json().context.reasons).toContain('not_enrolled');
  });

  it("stops a training organisation's portal that discloses 1,000 job-seekers in an hour at its budget", async () => {
    const start = t.clock.now().getTime();
    let allowed = 0;
    const refusals = new Set<string>();
    for (const [i, id] of s.enrolled.entries()) {
      t.clock.set(new Date(start + i * 3_000)); // 1,000 requests over 50 minutes
      const res = await evaluate(t, s.portalToken, {
        subject: { type: 'application', id: s.portal.id },
        action: { name: 'read' },
        resource: { type: 'record', id },
      });
      const body = res.json();
      if (body.decision) allowed++;
      else for (const r of body.context.reasons as string[]) refusals.add(r);
    }
    // training_organisation budget in policies/default.yaml: soft 150, hard 300 distinct records per hour.
    // 299 new people, plus enrolled[999] which the NIR test had already disclosed (a re-read is free).
    expect(allowed).toBe(300);
    expect([...refusals]).toEqual(['budget_exhausted']);
    const access = accessOf(t);
    const minute = Math.floor(t.clock.now().getTime() / 60_000);
    expect(access.service.ledger.count('application', s.portal.id, minute)).toBe(300);
    await access.service.flush();
    const soft = await t.database.db
      .selectFrom('events')
      .select(['target_type', 'target_id'])
      .where('kind', '=', 'budget.soft_exceeded')
      .execute();
    expect(soft).toEqual(
      expect.arrayContaining([
        { target_type: 'application', target_id: s.portal.id },
        { target_type: 'organisation', target_id: s.training.id },
      ]),
    );
    // A re-read of an already disclosed person is not a new disclosure: still allowed.
    const again = await evaluate(t, s.portalToken, {
      subject: { type: 'application', id: s.portal.id },
      action: { name: 'read' },
      resource: { type: 'record', id: s.enrolled[5]! },
    });
    expect(again.json().decision).toBe(true);
    // An hour after the first disclosures, the window has slid and new people can be read again.
    t.clock.set(new Date(start + HOUR_MS + 60_000));
    const later = await evaluate(t, s.portalToken, {
      subject: { type: 'application', id: s.portal.id },
      action: { name: 'read' },
      resource: { type: 'record', id: s.enrolled[998]! },
    });
    expect(later.json().decision).toBe(true);
    t.clock.set(new Date(start));
  });

  it("budgets a freshly approved account's first hour more tightly", async () => {
    let allowed = 0;
    for (const id of freshPeople) {
      const res = await evaluate(t, s.businessToken, read(fresh.id, id));
      if (res.json().decision) allowed++;
      else expect(res.json().context.reasons).toEqual(['budget_exhausted']);
    }
    expect(allowed).toBe(40); // recently_approved: hard 40 in the first hour
    const base = t.clock.now().getTime();
    t.clock.set(new Date(base + HOUR_MS));
    const after = await evaluate(t, s.businessToken, read(fresh.id, freshPeople[59]!));
    expect(after.json().decision).toBe(true);
    t.clock.set(new Date(base));
  });

  it('writes each decision as an access.decision event carrying reasons, obligations and the policy version', async () => {
    const access = accessOf(t);
    await access.service.flush();
    const rows = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'access.decision')
      .where('target_id', '=', s.otherPeople[0]!)
      .execute();
    expect(rows).toHaveLength(1);
    const event = JSON.parse(rows[0]!.payload);
    expect(event).toMatchObject({
      actor: { type: 'account', id: s.advisor.id },
      target: { type: 'record', id: s.otherPeople[0] },
      outcome: 'denied',
      data: {
        action: 'read',
        decision: false,
        reasons: ['not_in_caseload'],
        obligations: [],
        policyVersion: access.service.policy.version,
        applicationId: s.business.id,
        ruleIds: ['outside-caseload'],
      },
    });
  });
});
