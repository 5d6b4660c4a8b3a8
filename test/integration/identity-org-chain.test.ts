import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeFollow,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';
import { accessOf } from './access-scene.js';

describe('an organisation that is not active stops everything under it', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let agentToken = '';
  let appToken = '';
  let pdpToken = '';
  let advisorId = '';

  beforeAll(async () => {
    t = await createTestApp();
    scene = await makeScene(t.database.db);
    const agent = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, agent.id, 'account_manager', scene.structure.id);
    agentToken = await issueToken(t.database.db, 'account', agent.id);
    const app = await makeApplication(t.database.db, { organisationId: scene.structure.id });
    appToken = await issueToken(t.database.db, 'application', app.id);
    // The operator's business application asks the PDP about an advisor of the structure.
    const business = await makeApplication(t.database.db, {
      organisationId: scene.operator.id,
      kind: 'business',
    });
    pdpToken = await issueToken(t.database.db, 'application', business.id);
    const advisor = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, advisor.id, 'agent', scene.structure.id);
    advisorId = advisor.id;
    const person = await makeSubject(t.database.db, { id: 'DE-CHAIN-1' });
    await makeFollow(t.database.db, { subjectId: person.id, organisationId: scene.structure.id });
    await t.container.start();
  });

  const decide = () =>
    t.app.inject({
      method: 'POST',
      url: '/access/v1/evaluation',
      headers: { authorization: `Bearer ${pdpToken}` },
      payload: {
        subject: { type: 'account', id: advisorId },
        action: { name: 'read' },
        resource: { type: 'record', id: 'DE-CHAIN-1' },
      },
    });
  afterAll(async () => {
    await t.close();
  });

  it('resolves the accounts and applications of a structure while its network is active', async () => {
    expect((await decide()).json()).toEqual({ decision: true });
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

  it('and the PDP refuses its advisors once the view has taken the suspension in', async () => {
    await accessOf(t).service.settled();
    expect((await decide()).json()).toEqual({ decision: false, context: { reasons: ['subject_inactive'] } });
  });
});
