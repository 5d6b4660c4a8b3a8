import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityServiceOf } from '../../src/modules/identity/index.js';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Four-eyes independent of the whole creation chain (issue 8, item 2): the approver of an account or
 * of a privileged grant is neither an ancestor of what it approves (through created_by) nor a
 * descendant of one of those ancestors. Founding administrators (created_by null) stay independent.
 */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('four-eyes across the whole creation chain', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  /** An old approver of the structure with no creation tie to anything below: the control case. */
  const independent = { id: '', token: '' };
  /** A: an account manager and approver of the structure, the grandparent of the replayed attack. */
  const a = { id: '', token: '' };

  beforeAll(async () => {
    // Detection stays off: its creation-chain rule would rightly contain this test's chains.
    t = await createTestApp({
      env: {
        VIGIE_APPROVER_MIN_AGE_DAYS: '0',
        VIGIE_DELEGATION_MAX_CREATIONS_PER_DAY: '100',
        VIGIE_DELEGATION_MAX_PENDING: '100',
      },
    });
    const db = t.database.db;
    scene = await makeScene(db);
    const ml = scene.structure.id;
    const p = await makeAccount(db, { organisationId: ml, createdAt: '2025-01-01T00:00:00.000Z' });
    await grantRole(db, p.id, 'account_approver', ml);
    Object.assign(independent, { id: p.id, token: await issueToken(db, 'account', p.id) });
    const grandparent = await makeAccount(db, { organisationId: ml, createdAt: '2025-01-01T00:00:00.000Z' });
    await grantRole(db, grandparent.id, 'account_manager', ml);
    await grantRole(db, grandparent.id, 'account_approver', ml);
    Object.assign(a, { id: grandparent.id, token: await issueToken(db, 'account', grandparent.id) });
  });
  afterAll(async () => {
    await t.close();
  });

  const create = async (token: string, email: string): Promise<string> => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(token),
      payload: { organisationId: scene.structure.id, email, kind: 'human' },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  const approve = (token: string, id: string) =>
    t.app.inject({ method: 'POST', url: `/api/v1/accounts/${id}/approve`, headers: auth(token) });
  const statusOf = async (id: string) =>
    (
      await t.database.db
        .selectFrom('accounts')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  /** An account A creates, that the independent approver approves, made manager (and approver). */
  const approvedChildOfA = async (email: string, roles: string[]) => {
    const id = await create(a.token, email);
    expect((await approve(independent.token, id)).statusCode).toBe(200);
    for (const role of roles) await grantRole(t.database.db, id, role, scene.structure.id);
    return { id, token: await issueToken(t.database.db, 'account', id) };
  };

  it('refuses the replayed attack: A created Y, Y created Z, A approves Z', async () => {
    const y = await approvedChildOfA('y.manager@ml.test', ['account_manager']);
    const z = await create(y.token, 'z.created@ml.test');
    const res = await approve(a.token, z);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({
      code: 'APPROVER_IN_CREATION_CHAIN',
      details: { relation: 'ancestor' },
    });
    expect(await statusOf(z)).toBe('pending_approval');
    const refused = await t.database.db
      .selectFrom('events')
      .select(['outcome', 'actor_id', 'payload'])
      .where('kind', '=', 'account.approval_refused')
      .where('target_id', '=', z)
      .execute();
    expect(
      refused.map((r) => [r.outcome, r.actor_id, (JSON.parse(r.payload) as { reason: string }).reason]),
    ).toEqual([['denied', a.id, 'APPROVER_IN_CREATION_CHAIN']]);
    // An approver outside the chain still approves it.
    expect((await approve(independent.token, z)).statusCode).toBe(200);
    expect(await statusOf(z)).toBe('active');
  });

  it("refuses a sibling: an approver A created cannot approve what A's other creature created", async () => {
    const sibling = await approvedChildOfA('w.sibling@ml.test', ['account_approver']);
    const y = await approvedChildOfA('y2.manager@ml.test', ['account_manager']);
    const z = await create(y.token, 'z2.created@ml.test');
    const res = await approve(sibling.token, z);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({
      code: 'APPROVER_IN_CREATION_CHAIN',
      details: { relation: 'descendant_of_ancestor' },
    });
    expect(await statusOf(z)).toBe('pending_approval');
  });

  it('refuses a cousin two generations down, and the ancestor three generations up', async () => {
    const y = await approvedChildOfA('y3.manager@ml.test', ['account_manager']);
    const y1 = await create(y.token, 'y31.manager@ml.test');
    expect((await approve(independent.token, y1)).statusCode).toBe(200);
    await grantRole(t.database.db, y1, 'account_manager', scene.structure.id);
    const z = await create(await issueToken(t.database.db, 'account', y1), 'z3.deep@ml.test');
    const w = await approvedChildOfA('w3.branch@ml.test', ['account_manager']);
    const cousin = await create(w.token, 'w31.cousin@ml.test');
    expect((await approve(independent.token, cousin)).statusCode).toBe(200);
    await grantRole(t.database.db, cousin, 'account_approver', scene.structure.id);
    const byCousin = await approve(await issueToken(t.database.db, 'account', cousin), z);
    expect(byCousin.statusCode).toBe(403);
    expect(byCousin.json().error.details).toEqual({ relation: 'descendant_of_ancestor' });
    const byAncestor = await approve(a.token, z);
    expect(byAncestor.statusCode).toBe(403);
    expect(byAncestor.json().error.details).toEqual({ relation: 'ancestor' });
    expect(await statusOf(z)).toBe('pending_approval');
  });

  it("refuses the grantee's creator as approver of its privileged grant, even when someone else granted it", async () => {
    const y = await approvedChildOfA('y4.future-approver@ml.test', []);
    const grant = await t.app.inject({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      headers: auth(scene.adminToken),
      payload: { accountId: y.id, roleId: 'account_approver', organisationId: scene.structure.id },
    });
    expect(grant.statusCode).toBe(201);
    expect(grant.json().status).toBe('pending_approval');
    const url = `/api/v1/roles/assignments/${grant.json().id}/approve`;
    const byCreator = await t.app.inject({ method: 'POST', url, headers: auth(a.token) });
    expect(byCreator.statusCode).toBe(403);
    expect(byCreator.json().error).toMatchObject({
      code: 'APPROVER_IN_CREATION_CHAIN',
      details: { relation: 'ancestor' },
    });
    const refused = await t.database.db
      .selectFrom('events')
      .select(['payload'])
      .where('kind', '=', 'role.approval_refused')
      .where('actor_id', '=', a.id)
      .execute();
    expect(refused.map((r) => (JSON.parse(r.payload) as { reason: string }).reason)).toContain(
      'APPROVER_IN_CREATION_CHAIN',
    );
    const byIndependent = await t.app.inject({ method: 'POST', url, headers: auth(independent.token) });
    expect(byIndependent.statusCode).toBe(200);
    expect(byIndependent.json().status).toBe('active');
  });

  it("lets two founding administrators approve each other's creations, and keeps a founder's creatures apart", async () => {
    const boot = async (email: string) => {
      const r = await identityServiceOf(t.container).bootstrapAdmin({ email });
      return { id: r.accountId, token: r.secret };
    };
    const f1 = await boot('founder.one@operator.test');
    const f2 = await boot('founder.two@operator.test');
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(f1.token),
      payload: { organisationId: scene.operator.id, email: 'staff@operator.test', kind: 'human' },
    });
    expect(made.statusCode).toBe(201);
    expect(made.json().status).toBe('active');
    const staff = made.json().id as string;
    const sibling = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(f1.token),
      payload: { organisationId: scene.operator.id, email: 'other.staff@operator.test', kind: 'human' },
    });
    const siblingId = sibling.json().id as string;
    await grantRole(t.database.db, siblingId, 'account_approver', scene.operator.id);
    const grant = await t.app.inject({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      headers: auth(f1.token),
      payload: { accountId: staff, roleId: 'security_analyst', organisationId: scene.operator.id },
    });
    expect(grant.statusCode).toBe(201);
    const url = `/api/v1/roles/assignments/${grant.json().id}/approve`;
    const bySibling = await t.app.inject({
      method: 'POST',
      url,
      headers: auth(await issueToken(t.database.db, 'account', siblingId)),
    });
    expect(bySibling.statusCode).toBe(403);
    // The founder's own lineage check speaks first: the sibling was created by the granter.
    expect(bySibling.json().error.code).toBe('APPROVER_IN_CREATOR_LINEAGE');
    const byF2 = await t.app.inject({ method: 'POST', url, headers: auth(f2.token) });
    expect(byF2.statusCode, byF2.body).toBe(200);
    expect(byF2.json()).toMatchObject({ status: 'active', approvedBy: f2.id });
  });

  it('answers a looped creation chain (corrupted rows) with a decision, not a 500', async () => {
    const db = t.database.db;
    const ml = scene.structure.id;
    const x = await makeAccount(db, { organisationId: ml });
    const w = await makeAccount(db, { organisationId: ml, createdBy: x.id });
    await db.updateTable('accounts').set({ created_by: w.id }).where('id', '=', x.id).execute();
    await grantRole(db, w.id, 'account_manager', ml);
    const z = await create(await issueToken(db, 'account', w.id), 'z.loop@ml.test');
    const byX = await approve(
      await (async () => {
        await grantRole(db, x.id, 'account_approver', ml);
        return issueToken(db, 'account', x.id);
      })(),
      z,
    );
    expect(byX.statusCode).toBe(403);
    expect(['APPROVER_IN_CREATOR_LINEAGE', 'APPROVER_IN_CREATION_CHAIN']).toContain(byX.json().error.code);
    expect((await approve(independent.token, z)).statusCode).toBe(200);
  });

  it('refuses a malformed or unknown account id without touching anything', async () => {
    const bad = await approve(independent.token, 'not-a-uuid');
    expect(bad.statusCode).toBe(400);
    const unknown = await approve(independent.token, '0195f3c2-8b1e-7c4a-9d2f-3e5a6b7c8d9e');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('ACCOUNT_NOT_FOUND');
  });
});
