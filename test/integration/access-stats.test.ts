import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeAccount } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read } from './access-scene.js';

describe('disclosure figures for the console (/api/v1/access/stats, /disclosures, /policy/budgets)', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;
  let partnerReaderToken: string;
  let agentToken: string;

  const get = (url: string, token: string) =>
    t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await createTestApp({ env: isolatedEnv() });
    s = await makeAccessScene(t);
    // Mission Locale B's account manager: the partner's own figures, nothing of the others.
    const partnerReader = await makeAccount(t.database.db, { organisationId: s.mlB.id });
    await grantRole(t.database.db, partnerReader.id, 'account_manager', s.mlB.id);
    partnerReaderToken = await issueToken(t.database.db, 'account', partnerReader.id);
    // An agent administers nothing: no figures but its own disclosures.
    agentToken = await issueToken(t.database.db, 'account', s.advisor.id);
    await t.container.start();

    for (const id of s.ownPeople.slice(0, 12)) await evaluate(t, s.businessToken, read(s.advisor.id, id));
    // A re-read is one more disclosure of the same record, not one more record.
    await evaluate(t, s.businessToken, read(s.advisor.id, s.ownPeople[0]!));
    for (const id of s.otherPeople.slice(0, 3)) {
      await evaluate(t, s.businessToken, read(s.colleagueB.id, id));
      t.clock.advance(1000);
    }
    // Denied: outside the advisor's caseload, and a record that does not exist.
    for (const id of s.otherPeople.slice(0, 2)) await evaluate(t, s.businessToken, read(s.advisor.id, id));
    await evaluate(t, s.businessToken, read(s.advisor.id, 'no-such-person'));
    t.clock.advance(90 * 60_000);
    await evaluate(t, s.businessToken, read(s.colleagueB.id, s.otherPeople[3]!));
    await accessOf(t).service.flush();
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives an operator-wide reader every hour of the day, denials by reason and the top disclosers with their budget', async () => {
    const res = await get('/api/v1/access/stats?hours=24&top=5', s.adminToken);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.scope).toBe('operator');
    expect(body.hourly).toHaveLength(24);
    const busy = body.hourly.filter((h: { disclosures: number }) => h.disclosures > 0);
    expect(busy).toEqual([
      { hour: '2026-03-02T09:00:00.000Z', disclosures: 16, records: 15 },
      { hour: '2026-03-02T10:00:00.000Z', disclosures: 1, records: 1 },
    ]);
    expect(body.hourly.at(-1).hour).toBe('2026-03-02T10:00:00.000Z');
    expect(body.denials).toEqual([
      { reason: 'not_in_caseload', count: 2 },
      { reason: 'unknown_record', count: 1 },
    ]);
    expect(body.top.accounts[0]).toEqual({
      id: s.advisor.id,
      records: 12,
      // Its reads are 90 minutes old: out of the 60-minute budget window, in the day's figures.
      window: { records: 0, soft: 150, hard: 300, frozen: false },
    });
    expect(body.top.accounts[1]).toMatchObject({ id: s.colleagueB.id, records: 4 });
    expect(body.top.organisations.map((o: { id: string }) => o.id)).toEqual([s.structure.id, s.mlB.id]);
    expect(body.top.applications).toEqual([expect.objectContaining({ id: s.business.id, records: 16 })]);
  });

  it('shows a partner’s account manager its own structure only', async () => {
    const body = (await get('/api/v1/access/stats?hours=3', partnerReaderToken)).json();
    expect(body.scope).toBe('structures');
    expect(body.hourly).toHaveLength(3);
    expect(body.top.accounts.map((a: { id: string }) => a.id)).toEqual([s.colleagueB.id]);
    expect(body.top.organisations.map((o: { id: string }) => o.id)).toEqual([s.mlB.id]);
    expect(body.denials).toEqual([]);
    const other = await get(`/api/v1/access/disclosures?accountId=${s.advisor.id}`, partnerReaderToken);
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('lists the records an account disclosed, newest first, by opaque id and without any justification', async () => {
    const res = await get(
      `/api/v1/access/disclosures?accountId=${s.colleagueB.id}&limit=2`,
      partnerReaderToken,
    );
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Record<string, unknown>[];
    expect(items.map((i) => i.recordId)).toEqual([s.otherPeople[3], s.otherPeople[2]]);
    expect(Object.keys(items[0]!).sort()).toEqual([
      'applicationId',
      'breakGlass',
      'eventId',
      'recordId',
      'time',
    ]);
    expect(items[0]!.applicationId).toBe(s.business.id);
    // The window bounds the list: an hour back, only the latest read remains.
    const recent = await get(`/api/v1/access/disclosures?accountId=${s.colleagueB.id}&hours=1`, s.adminToken);
    expect(recent.json().items).toHaveLength(1);
  });

  it('lets an agent read the records disclosed under its own name, and no one else’s', async () => {
    const token = await issueToken(t.database.db, 'account', s.colleagueB.id);
    const own = await get(`/api/v1/access/disclosures?accountId=${s.colleagueB.id}`, token);
    expect(own.statusCode).toBe(200);
    expect(own.json().items).toHaveLength(4);
    const other = await get(`/api/v1/access/disclosures?accountId=${s.advisor.id}`, token);
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('PERMISSION_DENIED');
    expect((await get('/api/v1/access/stats', token)).statusCode).toBe(403);
  });

  it('lists an account’s recent decisions, allowed and denied, newest first, with reasons and opaque ids', async () => {
    const res = await get(`/api/v1/access/decisions?accountId=${s.advisor.id}&limit=4`, s.adminToken);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as {
      decision: boolean;
      reasons: string[];
      recordId: string;
      unknownRecord: boolean;
      action: string;
      applicationId: string;
    }[];
    expect(items).toHaveLength(4);
    // The last three asks: an unknown record (kept as the journal's digest), then two outside the caseload.
    expect(items[0]).toMatchObject({ decision: false, reasons: ['unknown_record'], unknownRecord: true });
    expect(items[0]!.recordId).not.toBe('no-such-person');
    expect(items[1]).toMatchObject({
      decision: false,
      reasons: ['not_in_caseload'],
      recordId: s.otherPeople[1],
    });
    expect(items[2]).toMatchObject({ decision: false, recordId: s.otherPeople[0] });
    expect(items[3]).toMatchObject({ decision: true, action: 'read', applicationId: s.business.id });
    const mine = await get(`/api/v1/access/decisions?accountId=${s.advisor.id}`, agentToken);
    expect(mine.statusCode).toBe(200);
    const foreign = await get(`/api/v1/access/decisions?accountId=${s.advisor.id}`, partnerReaderToken);
    expect(foreign.statusCode).toBe(404);
    const refused = await get(`/api/v1/access/decisions?accountId=${s.colleagueB.id}`, agentToken);
    expect(refused.statusCode).toBe(403);
    for (const q of ['hours=25', 'limit=201', 'accountId=x']) {
      const bad = await get(`/api/v1/access/decisions?accountId=${s.advisor.id}&${q}`, s.adminToken);
      expect(bad.statusCode, q).toBe(400);
    }
  });

  it('gives the active policy budgets per role and kind of organisation to policy readers', async () => {
    const res = await get('/api/v1/access/policy/budgets', s.adminToken);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.policy.version).toBe(accessOf(t).service.policy.version);
    expect(body.budgets.windowMinutes).toBe(60);
    expect(body.budgets.account.byRole).toContainEqual({ role: 'agent', soft: 150, hard: 300 });
    expect(body.budgets.organisation.byKind).toContainEqual({
      kind: 'training_organisation',
      soft: 150,
      hard: 300,
    });
  });

  it('refuses an account without account.read, and policy budgets without policy.read', async () => {
    for (const url of [
      '/api/v1/access/stats',
      `/api/v1/access/disclosures?accountId=${s.colleagueB.id}`,
      '/api/v1/access/policy/budgets',
    ]) {
      const res = await get(url, agentToken);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('PERMISSION_DENIED');
    }
    const app = await get('/api/v1/access/stats', s.businessToken);
    expect(app.statusCode).toBe(403);
  });

  it('refuses windows and lists beyond their caps and hostile query strings with 400', async () => {
    for (const q of [
      'hours=25',
      'hours=0',
      'hours=NaN',
      'top=51',
      'top=-1',
      '__proto__=1',
      `hours=${'9'.repeat(400)}`,
    ]) {
      const res = await get(`/api/v1/access/stats?${q}`, s.adminToken);
      expect(res.statusCode, q).toBe(400);
      expect(['VALIDATION_FAILED', 'INVALID_NUMBER']).toContain(res.json().error.code);
    }
    for (const q of [
      'accountId=not-a-uuid',
      `accountId=${s.advisor.id}&hours=169`,
      `accountId=${s.advisor.id}&limit=501`,
      '',
    ]) {
      const res = await get(`/api/v1/access/disclosures?${q}`, s.adminToken);
      expect(res.statusCode, q).toBe(400);
    }
  });

  it('serves one answer per scope for 30 seconds, then counts again', async () => {
    const url = '/api/v1/access/stats?hours=2&top=3';
    const first = (await get(url, s.adminToken)).json();
    await evaluate(t, s.businessToken, read(s.colleagueB.id, s.otherPeople[4]!));
    await accessOf(t).service.flush();
    expect((await get(url, s.adminToken)).json()).toEqual(first);
    t.clock.advance(31_000);
    const later = (await get(url, s.adminToken)).json();
    expect(later.hourly.at(-1).disclosures).toBe(first.hourly.at(-1).disclosures + 1);
  });

  it('finds the window among events an application reported with its own, older times', async () => {
    const access = accessOf(t).service;
    await evaluate(t, s.businessToken, read(s.advisor.id, s.otherPeople[2]!));
    await access.flush();
    // Ingested events keep the time their sender gave: written after that refusal, dated years ago.
    await t.database.db
      .insertInto('events')
      .values(
        Array.from({ length: 300 }, (_, i) => ({
          id: `late-${i}`,
          time: '2020-01-01T00:00:00.000Z',
          kind: 'api.activity',
          actor_type: 'account',
          actor_id: s.advisor.id,
          target_type: null,
          target_id: null,
          organisation_id: s.structure.id,
          outcome: 'success',
          source: s.business.id,
          origin: 'test',
          payload: JSON.stringify({ id: `late-${i}` }),
          leaf_index: 900_000_000 + i,
        })),
      )
      .execute();
    await evaluate(t, s.businessToken, read(s.advisor.id, s.otherPeople[3]!));
    await access.flush();
    const body = (await get('/api/v1/access/stats?hours=1&top=1', s.adminToken)).json();
    expect(body.denials).toEqual([{ reason: 'not_in_caseload', count: 2 }]);
    const decisions = await get(`/api/v1/access/decisions?accountId=${s.advisor.id}&hours=1`, s.adminToken);
    expect(decisions.json().items.map((d: { recordId: string }) => d.recordId)).toEqual([
      s.otherPeople[3],
      s.otherPeople[2],
    ]);
  });

  it('lists the controls in force to policy readers, and not to others', async () => {
    const { controls } = accessOf(t);
    const detection = { kind: 'system' as const, id: 'detection:test-rule' };
    await controls.freezeBudgets(detection, { type: 'organisation', id: s.mlB.id }, 'mass consultation');
    await controls.requireStepUp(detection, s.colleagueB.id, 'new network');
    const res = await get('/api/v1/access/controls', s.adminToken);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.truncated).toBe(false);
    expect(
      body.items.map((c: { kind: string; target: { id: string } }) => [c.kind, c.target.id]).sort(),
    ).toEqual(
      [
        ['freeze', s.mlB.id],
        ['step_up', s.colleagueB.id],
      ].sort(),
    );
    await controls.unfreezeBudgets(detection, { type: 'organisation', id: s.mlB.id }, 'false positive');
    const after = (await get('/api/v1/access/controls', s.adminToken)).json();
    expect(after.items.map((c: { kind: string }) => c.kind)).toEqual(['step_up']);
    expect((await get('/api/v1/access/controls', partnerReaderToken)).statusCode).toBe(403);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/access/stats',
        '/api/v1/access/disclosures',
        '/api/v1/access/decisions',
        '/api/v1/access/policy/budgets',
        '/api/v1/access/controls',
      ]),
    );
  });
});
