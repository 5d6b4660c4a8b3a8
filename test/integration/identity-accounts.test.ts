import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../src/shared/clock.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('accounts and four-eyes approval', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let otherMl: Awaited<ReturnType<typeof makeOrganisation>>;
  const tok = { manager: '', approver: '', fresh: '', auditor: '', otherManager: '', mlAnalyst: '' };
  const id = { manager: '', approver: '', otherManager: '' };

  const db = () => t.database.db;
  const count = async (table: 'accounts' | 'api_tokens') =>
    Number(
      (
        await db()
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  // The enrolment link an activation triggers is written after commit, by the sign-in module.
  const lastEvent = async () =>
    db()
      .selectFrom('events')
      .selectAll()
      .where('kind', 'not like', 'enrolment.%')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
  const post = (url: string, token: string, payload?: unknown) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: auth(token),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const createAccount = (token: string, email: string, organisationId = scene.structure.id) =>
    post('/api/v1/accounts', token, { organisationId, email });

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(db());
    otherMl = await makeOrganisation(db(), { parent: scene.network, name: 'Other ML' });
    const ml = scene.structure.id;
    const manager = await makeAccount(db(), { organisationId: ml });
    await grantRole(db(), manager.id, 'account_manager', ml);
    const approver = await makeAccount(db(), { organisationId: ml });
    await grantRole(db(), approver.id, 'account_approver', ml);
    const fresh = await makeAccount(db(), {
      organisationId: ml,
      createdAt: new Date(t.clock.now().getTime() - 2 * DAY_MS).toISOString(),
    });
    await grantRole(db(), fresh.id, 'account_approver', ml);
    const auditor = await makeAccount(db(), { organisationId: scene.operator.id });
    await grantRole(db(), auditor.id, 'auditor', scene.operator.id);
    const otherManager = await makeAccount(db(), { organisationId: otherMl.id });
    await grantRole(db(), otherManager.id, 'account_manager', otherMl.id);
    const mlAnalyst = await makeAccount(db(), { organisationId: ml });
    await grantRole(db(), mlAnalyst.id, 'security_analyst', ml);
    Object.assign(id, { manager: manager.id, approver: approver.id, otherManager: otherManager.id });
    tok.manager = await issueToken(db(), 'account', manager.id);
    tok.approver = await issueToken(db(), 'account', approver.id);
    tok.fresh = await issueToken(db(), 'account', fresh.id);
    tok.auditor = await issueToken(db(), 'account', auditor.id);
    tok.otherManager = await issueToken(db(), 'account', otherManager.id);
    tok.mlAnalyst = await issueToken(db(), 'account', mlAnalyst.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it("creates a platform administrator's account active, with the e-mail normalised", async () => {
    const res = await createAccount(scene.adminToken, '  Chloé.Dupont@Exemple.FR ');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      email: 'chloé.dupont@exemple.fr',
      status: 'active',
      createdBy: scene.admin.id,
      creationChannel: 'api',
    });
    expect(res.json().approvedAt).not.toBeNull();
  });

  it('refuses a duplicate e-mail in any spelling with 409 EMAIL_TAKEN and writes nothing but the refusal', async () => {
    const before = await count('accounts');
    for (const email of ['chloé.dupont@exemple.fr', 'CHLOE\u0301.DUPONT@exemple.fr ']) {
      const res = await createAccount(scene.adminToken, email);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('EMAIL_TAKEN');
      expect(res.body).not.toContain('dupont');
    }
    expect(await count('accounts')).toBe(before);
    const refusal = await lastEvent();
    expect(refusal).toMatchObject({ kind: 'account.created', outcome: 'failure' });
    expect(JSON.parse(refusal.payload).reason).toBe('EMAIL_TAKEN');
    expect(refusal.payload).not.toContain('dupont');
  });

  it('refuses unusable e-mails and unknown or foreign organisations', async () => {
    const before = await count('accounts');
    expect((await createAccount(scene.adminToken, 'not-an-email')).json().error.code).toBe('INVALID_EMAIL');
    const foreign = await createAccount(tok.manager, 'x@exemple.fr', otherMl.id);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('ORGANISATION_NOT_FOUND');
    const unknown = await createAccount(
      scene.adminToken,
      'x@exemple.fr',
      '00000000-0000-7000-8000-000000000000',
    );
    expect(unknown.statusCode).toBe(404);
    expect(await count('accounts')).toBe(before);
  });

  it("hides another tenant's accounts (404) and lists only the caller's scope", async () => {
    const foreign = await t.app.inject({
      url: `/api/v1/accounts/${id.otherManager}`,
      headers: auth(tok.manager),
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('ACCOUNT_NOT_FOUND');
    const list = await t.app.inject({ url: '/api/v1/accounts?limit=500', headers: auth(tok.manager) });
    const orgs = new Set(list.json().items.map((a: { organisationId: string }) => a.organisationId));
    expect([...orgs]).toEqual([scene.structure.id]);
  });

  it("searches accounts by part of the e-mail or by id, within the caller's scope only", async () => {
    const admin = auth(scene.adminToken);
    const made = await createAccount(scene.adminToken, 'Jeanne.Searchable@ml.test');
    expect(made.statusCode).toBe(201);
    const other = await createAccount(scene.adminToken, 'elsewhere.searchable@ml.test', otherMl.id);
    expect(other.statusCode).toBe(201);
    const found = async (q: string, headers = admin): Promise<string[]> =>
      (await t.app.inject({ url: `/api/v1/accounts?q=${encodeURIComponent(q)}&limit=50`, headers }))
        .json<{ items: Array<{ email: string }> }>()
        .items.map((a) => a.email);
    expect(await found('SEARCHABLE')).toEqual(
      expect.arrayContaining(['jeanne.searchable@ml.test', 'elsewhere.searchable@ml.test']),
    );
    expect(await found(made.json().id)).toEqual(['jeanne.searchable@ml.test']);
    // LIKE's own characters are taken literally: `_` matches no letter, `%` is not a wildcard.
    expect(await found('jeanne_searchable')).toEqual([]);
    expect(await found('%searchable')).toEqual([]);
    // A manager finds only its own structure's accounts.
    expect(await found('searchable', auth(tok.manager))).toEqual(['jeanne.searchable@ml.test']);
    const short = await t.app.inject({ url: '/api/v1/accounts?q=j', headers: admin });
    expect(short.statusCode).toBe(400);
  });

  it('lets an established, independent approver approve what a manager created', async () => {
    const created = (await createAccount(tok.manager, 'conseillere@ml.fr')).json();
    expect(created.status).toBe('pending_approval');
    const byFresh = await post(`/api/v1/accounts/${created.id}/approve`, tok.fresh);
    expect(byFresh.statusCode).toBe(403);
    expect(byFresh.json().error).toMatchObject({ code: 'APPROVER_TOO_RECENT', details: { minDays: 7 } });
    const byAuditor = await post(`/api/v1/accounts/${created.id}/approve`, tok.auditor);
    expect(byAuditor.json().error.code).toBe('APPROVER_OUT_OF_SCOPE');
    const byOtherTenant = await post(`/api/v1/accounts/${created.id}/approve`, tok.otherManager);
    expect(byOtherTenant.statusCode).toBe(404);
    const ok = await post(`/api/v1/accounts/${created.id}/approve`, tok.approver);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'active', approvedBy: id.approver, createdBy: id.manager });
    expect((await lastEvent()).kind).toBe('account.approved');
    const again = await post(`/api/v1/accounts/${created.id}/approve`, tok.approver);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('NOT_PENDING_APPROVAL');
  });

  it('counts creations over a rolling 24 hours, whatever approvals did to the pending count', async () => {
    // The manager created one account above; approve each new one so the pending quota never bites.
    for (let i = 2; i <= 5; i++) {
      const res = await createAccount(tok.manager, `daily${i}@ml.fr`);
      expect(res.statusCode).toBe(201);
      expect((await post(`/api/v1/accounts/${res.json().id}/approve`, tok.approver)).statusCode).toBe(200);
    }
    const sixth = await createAccount(tok.manager, 'daily6@ml.fr');
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.details).toEqual({ quota: 'daily', limit: 5 });
    const event = await lastEvent();
    expect(event).toMatchObject({
      kind: 'delegation.quota_exceeded',
      outcome: 'denied',
      actor_id: id.manager,
    });
    t.clock.advance(24 * HOUR_MS + 1);
    expect((await createAccount(tok.manager, 'daily6@ml.fr')).statusCode).toBe(201);
  });

  it('holds the pending quota under concurrent creations by one manager', async () => {
    const manager = await makeAccount(db(), { organisationId: scene.structure.id });
    await grantRole(db(), manager.id, 'account_manager', scene.structure.id);
    const token = await issueToken(db(), 'account', manager.id);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => createAccount(token, `race${i}@ml.fr`)),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429]);
    const pending = await db()
      .selectFrom('accounts')
      .select('id')
      .where('created_by', '=', manager.id)
      .execute();
    expect(pending).toHaveLength(3);
  });

  it('walks the status machine and answers 409 ILLEGAL_STATUS_TRANSITION off it', async () => {
    const acc = (await createAccount(scene.adminToken, 'cycle@ml.fr')).json();
    const to = (action: string) =>
      post(`/api/v1/accounts/${acc.id}/${action}`, scene.adminToken, { reason: 'testing the cycle' });
    expect((await to('reactivate')).json().error).toMatchObject({
      code: 'ILLEGAL_STATUS_TRANSITION',
      details: { from: 'active', to: 'active' },
    });
    expect((await to('suspend')).json().account.status).toBe('suspended');
    expect((await to('suspend')).statusCode).toBe(409);
    expect((await to('reactivate')).json().status).toBe('active');
    expect((await to('disable')).json().status).toBe('disabled');
    for (const action of ['reactivate', 'suspend', 'disable']) {
      const res = await to(action);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('ILLEGAL_STATUS_TRANSITION');
    }
  });

  it('returns a never-approved account to pending when it is reactivated', async () => {
    const acc = (await createAccount(tok.manager, 'never-approved@ml.fr')).json();
    await post(`/api/v1/accounts/${acc.id}/suspend`, scene.adminToken, { reason: 'doubt' });
    const res = await post(`/api/v1/accounts/${acc.id}/reactivate`, scene.adminToken, { reason: 'cleared' });
    expect(res.json().status).toBe('pending_approval');
  });

  it('reads the lineage tree, with who created and who approved', async () => {
    const res = await t.app.inject({
      url: `/api/v1/accounts/${id.approver}/lineage?limit=500`,
      headers: auth(scene.adminToken),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.rootId).toBe(id.approver);
    expect(body.items.length).toBeGreaterThanOrEqual(5);
    expect(
      body.items.every(
        (n: { relation: string; parentId: string; depth: number }) =>
          n.relation === 'approved' && n.parentId === id.approver && n.depth === 1,
      ),
    ).toBe(true);
    const page1 = (
      await t.app.inject({
        url: `/api/v1/accounts/${id.manager}/lineage?limit=2`,
        headers: auth(scene.adminToken),
      })
    ).json();
    const page2 = (
      await t.app.inject({
        url: `/api/v1/accounts/${id.manager}/lineage?limit=2&cursor=${page1.nextCursor}`,
        headers: auth(scene.adminToken),
      })
    ).json();
    expect(page1.items).toHaveLength(2);
    expect(page2.items[0].accountId > page1.items[1].accountId).toBe(true);
    const bad = await t.app.inject({
      url: `/api/v1/accounts/${id.manager}/lineage?cursor=Zm9v`,
      headers: auth(scene.adminToken),
    });
    expect(bad.json().error.code).toBe('INVALID_CURSOR');
  });

  it("refuses to suspend a lineage partly outside the caller's scope, and changes nothing", async () => {
    const root = await makeAccount(db(), { organisationId: scene.structure.id });
    const inside = await makeAccount(db(), { organisationId: scene.structure.id, createdBy: root.id });
    await makeAccount(db(), { organisationId: otherMl.id, createdBy: inside.id });
    const res = await post(`/api/v1/accounts/${root.id}/suspend`, tok.mlAnalyst, {
      reason: 'contain',
      lineage: true,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'LINEAGE_OUT_OF_SCOPE', details: { count: 1 } });
    const statuses = await db()
      .selectFrom('accounts')
      .select('status')
      .where('id', 'in', [root.id, inside.id])
      .execute();
    expect(statuses.map((s) => s.status)).toEqual(['active', 'active']);
    const byManager = await post(`/api/v1/accounts/${root.id}/suspend`, tok.manager, {
      reason: 'contain',
      lineage: true,
    });
    expect(byManager.json().error.code).toBe('PERMISSION_DENIED');
    const ok = await post(`/api/v1/accounts/${root.id}/suspend`, scene.adminToken, {
      reason: 'contain',
      lineage: true,
    });
    expect(ok.json().suspended).toHaveLength(3);
  });

  it('issues a token shown once, lists tokens without secrets, and revokes them', async () => {
    const issued = await post('/api/v1/tokens', tok.approver, { name: 'integration', expiresInDays: 30 });
    expect(issued.statusCode).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    const { secret, id: tokenId } = issued.json();
    expect(secret).toMatch(/^vig_[A-Za-z0-9_-]{43}$/);
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(secret) })).json().id).toBe(
      id.approver,
    );
    const list = await t.app.inject({ url: '/api/v1/tokens', headers: auth(tok.approver) });
    expect(list.body).not.toContain(secret);
    expect(list.body).not.toContain('hash');
    expect(list.json().items.map((x: { id: string }) => x.id)).toContain(tokenId);
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${tokenId}`,
      headers: auth(tok.manager),
    });
    expect(foreign.statusCode).toBe(404);
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${tokenId}`,
      headers: auth(tok.approver),
    });
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(secret) })).statusCode).toBe(401);
    const events = await db()
      .selectFrom('events')
      .select('payload')
      .where('kind', 'in', ['token.issued', 'token.revoked'])
      .execute();
    expect(events.map((e) => e.payload).join()).not.toContain(secret);
  });

  it('caps live tokens per account', async () => {
    const acc = await makeAccount(db(), { organisationId: scene.structure.id });
    const token = await issueToken(db(), 'account', acc.id);
    for (let i = 0; i < 9; i++)
      expect((await post('/api/v1/tokens', token, { name: `t${i}` })).statusCode).toBe(201);
    const before = await count('api_tokens');
    const over = await post('/api/v1/tokens', token, { name: 'one too many' });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('TOKEN_LIMIT_REACHED');
    expect(await count('api_tokens')).toBe(before);
  });

  it('revokes every token of an account on command, and records when it was last seen', async () => {
    const acc = await makeAccount(db(), { organisationId: scene.structure.id });
    const token = await issueToken(db(), 'account', acc.id);
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(token) })).statusCode).toBe(200);
    const seen = await db()
      .selectFrom('accounts')
      .select('last_seen_at')
      .where('id', '=', acc.id)
      .executeTakeFirstOrThrow();
    expect(seen.last_seen_at).toBe(t.clock.now().toISOString());
    const res = await post(`/api/v1/accounts/${acc.id}/revoke-tokens`, scene.adminToken, {
      reason: 'lost laptop',
    });
    expect(res.json()).toEqual({ revoked: 1, sessionsEnded: 0 });
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(token) })).statusCode).toBe(401);
  });
});
