import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeAccount } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read } from './access-scene.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('the access view in step with changes, and the policy administration', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;
  let policyDir: string;
  let agentToken: string;
  const asAdmin = (method: 'GET' | 'POST', url: string, payload?: unknown, token = s.adminToken) =>
    t.app.inject({
      method,
      url,
      ...(payload !== undefined ? { payload: payload as object } : {}),
      headers: { authorization: `Bearer ${token}` },
    });

  beforeAll(async () => {
    policyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-policy-'));
    fs.copyFileSync(path.join(root, 'policies/default.yaml'), path.join(policyDir, 'default.yaml'));
    t = await createTestApp({ env: isolatedEnv({ VIGIE_POLICY_DIR: policyDir }) });
    s = await makeAccessScene(t);
    const agent = await makeAccount(t.database.db, { organisationId: s.structure.id });
    await grantRole(t.database.db, agent.id, 'agent', s.structure.id);
    agentToken = await issueToken(t.database.db, 'account', agent.id);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(policyDir, { recursive: true, force: true });
  });

  it('allows a person once a follow is created through the caseload API', async () => {
    const person = s.otherPeople[0]!;
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, person))).json().decision).toBe(false);
    const created = await asAdmin('POST', '/api/v1/follows', {
      subjectId: person,
      organisationId: s.structure.id,
    });
    expect(created.statusCode, created.body).toBe(201);
    await accessOf(t).service.settled();
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, person))).json().decision).toBe(true);
  });

  it('denies everything to an account as soon as it is suspended', async () => {
    expect(
      (await evaluate(t, s.businessToken, read(s.colleagueB.id, s.otherPeople[1]!))).json().decision,
    ).toBe(true);
    const suspended = await asAdmin('POST', `/api/v1/accounts/${s.colleagueB.id}/suspend`, {
      reason: 'compromised account',
    });
    expect(suspended.statusCode, suspended.body).toBe(200);
    await accessOf(t).service.settled();
    const res = await evaluate(t, s.businessToken, read(s.colleagueB.id, s.otherPeople[1]!));
    expect(res.json()).toEqual({ decision: false, context: { reasons: ['subject_inactive'] } });
  });

  it('shows the active policy and its content hash', async () => {
    const res = await asAdmin('GET', '/api/v1/access/policy');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'default',
      files: ['default.yaml'],
      version: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect((await asAdmin('GET', '/api/v1/access/policy', undefined, agentToken)).statusCode).toBe(403);
  });

  it('refuses an invalid policy on reload with its line, keeping the active one', async () => {
    const before = accessOf(t).service.policy.version;
    const text = fs.readFileSync(path.join(policyDir, 'default.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(policyDir, 'default.yaml'),
      text.replace('fact: resource.sealed', 'fact: resource.unheard_of'),
    );
    const res = await asAdmin('POST', '/api/v1/access/policies/reload');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('POLICY_INVALID');
    const line = text.split('\n').findIndex((l) => l.includes('fact: resource.sealed')) + 1;
    expect(res.json().error.details).toEqual({ file: 'default.yaml', line });
    expect(accessOf(t).service.policy.version).toBe(before);
    const refused = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', '=', 'policy.reload_refused')
      .execute();
    expect(refused).toHaveLength(1);
    fs.writeFileSync(path.join(policyDir, 'default.yaml'), text);
  });

  it('reloads a changed policy atomically and records the new version with later decisions', async () => {
    const access = accessOf(t);
    const before = access.service.policy.version;
    const text = fs.readFileSync(path.join(policyDir, 'default.yaml'), 'utf8');
    fs.writeFileSync(path.join(policyDir, 'default.yaml'), text.replace('cap_per_day: 3', 'cap_per_day: 2'));
    expect((await asAdmin('POST', '/api/v1/access/policies/reload', undefined, agentToken)).statusCode).toBe(
      403,
    );
    const res = await asAdmin('POST', '/api/v1/access/policies/reload');
    expect(res.statusCode).toBe(200);
    expect(res.json().previousVersion).toBe(before);
    expect(res.json().version).not.toBe(before);
    expect(access.service.policy.version).toBe(res.json().version);
    await evaluate(t, s.businessToken, read(s.advisor.id, s.ownPeople[1]!));
    await access.service.flush();
    const last = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'access.decision')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(last.payload).data.policyVersion).toBe(res.json().version);
    const reloaded = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', '=', 'policy.reloaded')
      .execute();
    expect(reloaded).toHaveLength(1);
  });

  it('explains a decision: which rule and which fact', async () => {
    const res = await asAdmin('POST', '/api/v1/access/explain', {
      ...read(s.advisor.id, s.otherPeople[2]!),
      applicationId: s.business.id,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.decision).toBe(false);
    expect(body.ruleIds).toEqual(['outside-caseload']);
    const rule = body.rules.find((r: { id: string }) => r.id === 'outside-caseload');
    expect(rule.matched).toBe(true);
    expect(rule.conditions).toContainEqual(
      expect.objectContaining({ text: 'not (fact resource.followed_by_structure)', value: true }),
    );
  });

  it('reports distinct disclosures in the window, to policy readers only', async () => {
    const res = await asAdmin('GET', `/api/v1/access/budgets/account/${s.advisor.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ type: 'account', id: s.advisor.id, windowMinutes: 60, frozen: false });
    expect(res.json().count).toBeGreaterThanOrEqual(2);
    expect((await asAdmin('GET', `/api/v1/access/budgets/nothing/${s.advisor.id}`)).statusCode).toBe(400);
  });

  it('lets only holders of response.execute freeze budgets, with a bounded reason', async () => {
    const body = { target: { type: 'application', id: s.portal.id }, reason: 'scraping' };
    expect((await asAdmin('POST', '/api/v1/access/freezes', body, agentToken)).statusCode).toBe(403);
    expect(
      (await asAdmin('POST', '/api/v1/access/freezes', { ...body, reason: 'x'.repeat(501) })).statusCode,
    ).toBe(400);
    const ok = await asAdmin('POST', '/api/v1/access/freezes', body);
    expect(ok.json()).toMatchObject({ changed: true });
    const cleared = await asAdmin('POST', '/api/v1/access/freezes/clear', { ...body, reason: 'checked' });
    expect(cleared.json()).toMatchObject({ changed: true });
  });
});
