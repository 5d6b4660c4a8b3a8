import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessService } from '../../src/modules/access/access.service.js';
import type { SystemActor } from '../../src/shared/principal.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read } from './access-scene.js';

const detection: SystemActor = { kind: 'system', id: 'detection:test-rule' };

describe('disclosure budgets, controls and four-eyes exports', () => {
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

  it('counts exactly under concurrent requests: 400 parallel reads of distinct people, 300 allowed', async () => {
    const replies = await Promise.all(
      s.ownPeople.map((id) => evaluate(t, s.businessToken, read(s.advisor.id, id))),
    );
    const decisions = replies.map((r) => r.json().decision as boolean);
    expect(decisions.filter(Boolean)).toHaveLength(300); // agent: hard 300 per hour
    const minute = Math.floor(t.clock.now().getTime() / 60_000);
    expect(accessOf(t).service.ledger.count('account', s.advisor.id, minute)).toBe(300);
  });

  it('rebuilds the budget windows after a restart from the persisted disclosures', async () => {
    const access = accessOf(t);
    await access.service.flush();
    const minute = Math.floor(t.clock.now().getTime() / 60_000);
    const restarted = createAccessService(
      { ...t.container.core, logger: pino({ level: 'silent' }) },
      { policyDir: t.config.policyDir },
    );
    await restarted.start();
    try {
      expect(restarted.ledger.count('account', s.advisor.id, minute)).toBe(300);
      expect(restarted.ledger.count('organisation', s.structure.id, minute)).toBe(300);
      expect(restarted.ledger.count('application', s.business.id, minute)).toBe(300);
      const d = restarted.dryRun({
        subject: { type: 'account', id: s.advisor.id },
        action: { name: 'read' },
        resource: { type: 'record', id: s.ownPeople[399]! },
        callerId: s.business.id,
      });
      expect(d.decision).toBe(false);
      expect(d.reasons).toEqual(['budget_exhausted']);
    } finally {
      await restarted.stop();
    }
  });

  it('freezes and unfreezes budgets, journaled, for the detection helper', async () => {
    const { controls, service } = accessOf(t);
    const person = s.otherPeople[1]!;
    const before = await evaluate(t, s.businessToken, read(s.colleagueB.id, person));
    expect(before.json().decision).toBe(true);
    const frozen = await controls.freezeBudgets(
      detection,
      { type: 'organisation', id: s.mlB.id },
      'mass consultation',
    );
    expect(frozen.changed).toBe(true);
    expect(
      (await controls.freezeBudgets(detection, { type: 'organisation', id: s.mlB.id }, 'again')).changed,
    ).toBe(false);
    const during = await evaluate(t, s.businessToken, read(s.colleagueB.id, person));
    expect(during.json()).toEqual({ decision: false, context: { reasons: ['budget_frozen'] } });
    await controls.unfreezeBudgets(detection, { type: 'organisation', id: s.mlB.id }, 'false positive');
    expect((await evaluate(t, s.businessToken, read(s.colleagueB.id, person))).json().decision).toBe(true);
    const kinds = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', 'in', ['budget.frozen', 'budget.unfrozen'])
      .execute();
    expect(kinds.map((k) => k.kind).sort()).toEqual(['budget.frozen', 'budget.unfrozen']);
    await expect(
      controls.freezeBudgets(
        detection,
        { type: 'account', id: '00000000-0000-7000-8000-000000000000' },
        'nobody',
      ),
    ).rejects.toMatchObject({
      code: 'CONTROL_TARGET_NOT_FOUND',
      status: 404,
    });
    expect(service.view.frozen.size).toBe(0);
  });

  it('requires a step-up: denied with the obligation until a fresh phishing-resistant authentication', async () => {
    const { controls } = accessOf(t);
    const person = s.otherPeople[2]!;
    await controls.requireStepUp(detection, s.colleagueB.id, 'impossible travel');
    const denied = await evaluate(t, s.businessToken, read(s.colleagueB.id, person));
    expect(denied.json()).toEqual({
      decision: false,
      context: {
        reasons: ['step_up_required'],
        obligations: [{ type: 'step_up', level: 'phishing_resistant' }],
      },
    });
    const stale = await evaluate(
      t,
      s.businessToken,
      read(s.colleagueB.id, person, { auth_level: 'phishing_resistant', auth_time: '2026-01-01T00:00:00Z' }),
    );
    expect(stale.json().decision).toBe(false);
    const fresh = await evaluate(
      t,
      s.businessToken,
      read(s.colleagueB.id, person, {
        auth_level: 'phishing_resistant',
        auth_time: t.clock.now().toISOString(),
      }),
    );
    expect(fresh.json().decision).toBe(true);
    await controls.clearStepUp(detection, s.colleagueB.id, 'confirmed by phone');
    expect((await evaluate(t, s.businessToken, read(s.colleagueB.id, person))).json().decision).toBe(true);
    const rows = await t.database.db
      .selectFrom('access_controls')
      .select(['kind', 'cleared_at'])
      .where('kind', '=', 'step_up')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cleared_at).not.toBeNull();
  });

  it('asks for a four-eyes approval token for an export above the threshold, usable once', async () => {
    const exportOf = (records: number, token?: string) => ({
      subject: { type: 'account', id: s.colleagueB.id },
      action: { name: 'export', properties: { records } },
      resource: { type: 'record', id: s.otherPeople[3]! },
      context: { auth_level: 'phishing_resistant', ...(token ? { approval_token: token } : {}) },
    });
    expect((await evaluate(t, s.businessToken, exportOf(50))).json().decision).toBe(true);
    const big = await evaluate(t, s.businessToken, exportOf(500));
    expect(big.json()).toEqual({
      decision: false,
      context: { reasons: ['four_eyes_required'], obligations: [{ type: 'four_eyes_approval', above: 100 }] },
    });
    // The approver must be able to approve accounts of the requester's organisation.
    const outOfScope = await t.app.inject({
      method: 'POST',
      url: '/api/v1/access/export-approvals',
      headers: { authorization: `Bearer ${s.approverToken}` },
      payload: { requesterAccountId: s.colleagueB.id, maxRecords: 500, purpose: 'annual statistics' },
    });
    expect(outOfScope.statusCode).toBe(404);
    const approval = await t.app.inject({
      method: 'POST',
      url: '/api/v1/access/export-approvals',
      headers: { authorization: `Bearer ${s.adminToken}` },
      payload: { requesterAccountId: s.colleagueB.id, maxRecords: 500, purpose: 'annual statistics' },
    });
    expect(approval.statusCode).toBe(201);
    const token = approval.json().token as string;
    expect((await evaluate(t, s.businessToken, exportOf(501, token))).json().decision).toBe(false);
    expect((await evaluate(t, s.businessToken, exportOf(500, token))).json().decision).toBe(true);
    expect((await evaluate(t, s.businessToken, exportOf(500, token))).json().decision).toBe(false);
    await accessOf(t).service.flush();
    const row = await t.database.db
      .selectFrom('access_export_approvals')
      .select(['used_at', 'token_hash'])
      .executeTakeFirstOrThrow();
    expect(row.used_at).not.toBeNull();
    expect(row.token_hash).not.toContain(token);
  });

  it('publishes decision events on the bus only once their batch is stored', async () => {
    const { service } = accessOf(t);
    const published: Array<{ id: string; storedAtPublish: boolean }> = [];
    const pendingChecks: Array<Promise<void>> = [];
    const unsubscribe = t.container.core.bus.subscribe((events) => {
      for (const e of events) {
        if (e.kind !== 'access.decision' || e.target?.id !== s.otherPeople[4]) continue;
        pendingChecks.push(
          t.database.db
            .selectFrom('events')
            .select('id')
            .where('id', '=', e.id)
            .executeTakeFirst()
            .then((row) => void published.push({ id: e.id, storedAtPublish: row !== undefined })),
        );
      }
    });
    try {
      const res = await evaluate(t, s.businessToken, read(s.colleagueB.id, s.otherPeople[4]!));
      expect(res.json().decision).toBe(true);
      await service.flush();
      await Promise.all(pendingChecks);
      expect(published).toHaveLength(1);
      expect(published[0]!.storedAtPublish).toBe(true);
    } finally {
      unsubscribe();
    }
  });
});
