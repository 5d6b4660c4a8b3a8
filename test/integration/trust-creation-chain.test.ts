import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The creation chain blames the end of the chain (issue 8, item 3): a platform administrator
 * creates an account manager, the manager — freshly created — creates a colleague. The alert names
 * the manager, and suspend_lineage suspends the manager and the colleague; the platform
 * administrator and the other accounts it created stay active.
 */
const RULE = 'vigie.account-creation-chain';
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const detectionOf = (t: TestApp) =>
  (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service;

describe('account creation chain', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let analystToken: string;

  const createAccount = (token: string, organisationId: string, email: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(token),
      payload: { organisationId, email },
    });
  const statusOf = async (id: string) =>
    (
      await t.database.db
        .selectFrom('accounts')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;
  const chainAlerts = async () => {
    const res = await t.app.inject({ url: `/api/v1/alerts?ruleId=${RULE}`, headers: auth(analystToken) });
    expect(res.statusCode).toBe(200);
    return res.json<{ items: Array<{ id: string; entity: { type: string; id: string } }> }>().items;
  };
  /** A manager created by the platform administrator through the API, then given its role and a token. */
  const newManager = async (email: string) => {
    const res = await createAccount(scene.adminToken, scene.structure.id, email);
    expect(res.statusCode).toBe(201);
    const manager = res.json<{ id: string; status: string }>();
    expect(manager.status).toBe('active');
    await grantRole(t.database.db, manager.id, 'account_manager', scene.structure.id);
    return { id: manager.id, token: await issueToken(t.database.db, 'account', manager.id) };
  };

  beforeAll(async () => {
    t = await createTestApp();
    scene = await makeScene(t.database.db);
    const analyst = await makeAccount(t.database.db, {
      organisationId: scene.operator.id,
      approvedBy: scene.admin.id,
    });
    await grantRole(t.database.db, analyst.id, 'security_analyst', scene.operator.id);
    analystToken = await issueToken(t.database.db, 'account', analyst.id);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('stays quiet when the fresh manager only tries to create outside its subtree', async () => {
    const manager = await newManager('rgc.refused@ml.example');
    const refused = await createAccount(manager.token, scene.operator.id, 'intruder@operator.example');
    // Outside its subtree the organisation does not exist for it.
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('ORGANISATION_NOT_FOUND');
    await detectionOf(t).settled();
    expect(await chainAlerts()).toHaveLength(0);
    expect(await statusOf(manager.id)).toBe('active');
  });

  it('names the manager who, freshly created, creates — and suspends its lineage, not the platform admin', async () => {
    const others: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await createAccount(scene.adminToken, scene.structure.id, `agent${i}@ml.example`);
      expect(res.statusCode).toBe(201);
      others.push(res.json<{ id: string }>().id);
    }
    const manager = await newManager('rgc@ml.example');
    const colleague = await createAccount(manager.token, scene.structure.id, 'colleague@ml.example');
    expect(colleague.statusCode).toBe(201);
    const colleagueId = colleague.json<{ id: string }>().id;
    await detectionOf(t).settled();

    const alerts = await chainAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toEqual({ type: 'account', id: manager.id });
    const responses = await t.app.inject({
      url: `/api/v1/alerts/${alerts[0]!.id}/responses`,
      headers: auth(analystToken),
    });
    expect(responses.statusCode).toBe(200);
    expect(responses.json().items).toMatchObject([
      { action: 'suspend_lineage', status: 'executed', target: { type: 'account', id: manager.id } },
    ]);

    expect(await statusOf(manager.id)).toBe('suspended');
    expect(await statusOf(colleagueId)).toBe('suspended');
    expect(await statusOf(scene.admin.id)).toBe('active');
    for (const id of others) expect(await statusOf(id)).toBe('active');
    const me = await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(scene.adminToken) });
    expect(me.statusCode).toBe(200);
    expect(me.json().status).toBe('active');
  });
});
