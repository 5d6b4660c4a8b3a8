import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeApplication, makeScene } from '../helpers/factories.js';

describe('an organisation that is not active stops everything under it', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let agentToken = '';
  let appToken = '';

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(t.database.db);
    const agent = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, agent.id, 'account_manager', scene.structure.id);
    agentToken = await issueToken(t.database.db, 'account', agent.id);
    const app = await makeApplication(t.database.db, { organisationId: scene.structure.id });
    appToken = await issueToken(t.database.db, 'application', app.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it('resolves the accounts and applications of a structure while its network is active', async () => {
    expect(await t.container.resolver.resolve(agentToken)).toMatchObject({ kind: 'account' });
    expect(await t.container.resolver.resolve(appToken)).toMatchObject({ kind: 'application' });
  });

  it('refuses them once the network above the structure is suspended', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/organisations/${scene.network.id}/suspend`,
      headers: { authorization: `Bearer ${scene.adminToken}` },
      payload: { reason: 'partner network under investigation' },
    });
    expect(res.statusCode).toBe(200);
    expect(await t.container.resolver.resolve(agentToken)).toBeUndefined();
    expect(await t.container.resolver.resolve(appToken)).toBeUndefined();
    const me = await t.app.inject({
      url: '/api/v1/accounts/me',
      headers: { authorization: `Bearer ${agentToken}` },
    });
    expect(me.statusCode).toBe(401);
  });
});
