import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

describe('an account manager reads its delegation quotas (GET /api/v1/accounts/me/delegation-quotas)', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let managerToken: string;
  let agentToken: string;
  const url = '/api/v1/accounts/me/delegation-quotas';
  const get = (token: string) => t.app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(t.database.db);
    const manager = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, manager.id, 'account_manager', scene.structure.id);
    managerToken = await issueToken(t.database.db, 'account', manager.id);
    const agent = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, agent.id, 'agent', scene.structure.id);
    agentToken = await issueToken(t.database.db, 'account', agent.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts the accounts it created in the last 24 hours and those still pending, against the limits', async () => {
    expect((await get(managerToken)).json()).toEqual({
      daily: { limit: 5, used: 0, remaining: 5 },
      pending: { limit: 3, used: 0, remaining: 3 },
      windowHours: 24,
      approverMinAgeDays: 7,
    });
    for (const email of ['q1@ml.test', 'q2@ml.test']) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/accounts',
        headers: { authorization: `Bearer ${managerToken}` },
        payload: { organisationId: scene.structure.id, email },
      });
      expect(created.statusCode).toBe(201);
    }
    const after = (await get(managerToken)).json();
    expect(after.daily).toEqual({ limit: 5, used: 2, remaining: 3 });
    expect(after.pending).toEqual({ limit: 3, used: 2, remaining: 1 });
    // A day later the daily quota is whole again; the pending ones still wait for their approval.
    t.clock.advance(25 * 3_600_000);
    const later = (await get(managerToken)).json();
    expect(later.daily.used).toBe(0);
    expect(later.pending.used).toBe(2);
  });

  it('is refused to an account that may not create accounts, and to no one signed in', async () => {
    const agent = await get(agentToken);
    expect(agent.statusCode).toBe(403);
    expect(agent.json().error.code).toBe('PERMISSION_DENIED');
    expect((await t.app.inject({ url })).statusCode).toBe(401);
  });
});
