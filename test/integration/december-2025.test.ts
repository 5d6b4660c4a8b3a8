import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityServiceOf } from '../../src/modules/identity/index.js';
import type { AccountPrincipal } from '../../src/shared/principal.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';

/**
 * December 2025, Missions Locales: a delegated account administrator ("RGC") was compromised and
 * used to create two accounts through the federation, which then read 1.6 M young people's files.
 * This replays the move step by step against Vigie with its default delegation settings.
 */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the December 2025 move fails', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  const ids = { manager: '', older: '', approver: '', analyst: '', x1: '', x2: '', x3: '' };
  const tokens = { manager: '', older: '', analyst: '', x1: '', x2: '' };
  let startSeq = 0;

  const events = async () =>
    t.database.db
      .selectFrom('events')
      .select(['seq', 'kind', 'outcome', 'actor_id', 'target_id', 'time', 'payload'])
      .where('seq', '>', startSeq)
      .orderBy('seq')
      .execute();
  const accountCount = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('accounts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const statusOf = async (id: string) =>
    (
      await t.database.db
        .selectFrom('accounts')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    const db = t.database.db;
    scene = await makeScene(db);
    const ml = scene.structure.id;
    const approver = await makeAccount(db, { organisationId: ml, createdAt: '2025-06-01T00:00:00.000Z' });
    await grantRole(db, approver.id, 'account_approver', ml);
    const manager = await makeAccount(db, { organisationId: ml, createdAt: '2025-09-01T00:00:00.000Z' });
    await grantRole(db, manager.id, 'account_manager', ml);
    // An older colleague the RGC created months ago, properly approved since, now an approver itself.
    const older = await makeAccount(db, {
      organisationId: ml,
      createdBy: manager.id,
      approvedBy: approver.id,
      createdAt: '2025-10-01T00:00:00.000Z',
      channel: 'console',
    });
    await grantRole(db, older.id, 'account_approver', ml);
    const analyst = await makeAccount(db, {
      organisationId: scene.operator.id,
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    await grantRole(db, analyst.id, 'security_analyst', scene.operator.id);
    Object.assign(ids, { manager: manager.id, older: older.id, approver: approver.id, analyst: analyst.id });
    tokens.manager = await issueToken(db, 'account', manager.id);
    tokens.older = await issueToken(db, 'account', older.id);
    tokens.analyst = await issueToken(db, 'account', analyst.id);
    startSeq = Number(
      (
        await db
          .selectFrom('events')
          .select((eb) => eb.fn.max('seq').as('m'))
          .executeTakeFirst()
      )?.m ?? 0,
    );
  });
  afterAll(async () => {
    await t.close();
  });

  const createAccount = (email: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(tokens.manager),
      payload: { organisationId: scene.structure.id, email, kind: 'human' },
    });

  it('1. the compromised account manager creates two accounts: both stay pending_approval', async () => {
    for (const [key, email] of [
      ['x1', 'Attacker.One@Proton.me'],
      ['x2', 'attacker.two@proton.me'],
    ] as const) {
      const res = await createAccount(email);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        status: 'pending_approval',
        createdBy: ids.manager,
        approvedBy: null,
        creationChannel: 'api',
      });
      ids[key] = res.json().id;
    }
    // The RGC may hand out the advisor role at once, but not a privileged one.
    const agent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      headers: auth(tokens.manager),
      payload: { accountId: ids.x1, roleId: 'agent', organisationId: scene.structure.id },
    });
    expect(agent.statusCode).toBe(201);
    const approverRole = await t.app.inject({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      headers: auth(tokens.manager),
      payload: { accountId: ids.x2, roleId: 'account_approver', organisationId: scene.structure.id },
    });
    expect(approverRole.statusCode).toBe(403);
    expect(approverRole.json().error.code).toBe('ROLE_NOT_DELEGABLE');
  });

  it('2. the pending accounts obtain nothing: their credentials resolve to no principal', async () => {
    tokens.x1 = await issueToken(t.database.db, 'account', ids.x1);
    tokens.x2 = await issueToken(t.database.db, 'account', ids.x2);
    for (const token of [tokens.x1, tokens.x2]) {
      expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(token) })).statusCode).toBe(401);
      const more = await t.app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: auth(token),
        payload: { name: 'persist' },
      });
      expect(more.statusCode).toBe(401);
    }
    expect(await t.container.resolver.resolve(tokens.x1)).toBeUndefined();
  });

  it('3. the second account cannot approve the first, not even with a forged principal', async () => {
    const viaHttp = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${ids.x1}/approve`,
      headers: auth(tokens.x2),
    });
    expect(viaHttp.statusCode).toBe(401);
    const forged: AccountPrincipal = {
      kind: 'account',
      accountId: ids.x2,
      organisationId: scene.structure.id,
      tokenId: 'forged',
      authLevel: 'api_token',
      grants: [
        {
          roleId: 'account_approver',
          organisationId: scene.structure.id,
          organisationPath: scene.structure.path,
          permissions: new Set(['account.read', 'account.approve']),
          privileged: true,
        },
      ],
    };
    await expect(identityServiceOf(t.container).approveAccount(forged, ids.x1)).rejects.toMatchObject({
      code: 'APPROVER_IN_CREATOR_LINEAGE',
      status: 403,
    });
  });

  it('4. nor can the manager itself, nor an older, active approver it created', async () => {
    const byManager = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${ids.x1}/approve`,
      headers: auth(tokens.manager),
    });
    expect(byManager.statusCode).toBe(403);
    expect(byManager.json().error.code).toBe('APPROVER_IS_CREATOR');
    for (const target of [ids.x1, ids.x2]) {
      const byOlder = await t.app.inject({
        method: 'POST',
        url: `/api/v1/accounts/${target}/approve`,
        headers: auth(tokens.older),
      });
      expect(byOlder.statusCode).toBe(403);
      expect(byOlder.json().error.code).toBe('APPROVER_IN_CREATOR_LINEAGE');
    }
    expect(await statusOf(ids.x1)).toBe('pending_approval');
    expect(await statusOf(ids.x2)).toBe('pending_approval');
  });

  it('5. further creations stop at the pending quota: the fourth pending account is refused', async () => {
    const third = await createAccount('attacker.three@proton.me');
    expect(third.statusCode).toBe(201);
    ids.x3 = third.json().id;
    const before = await accountCount();
    const fourth = await createAccount('attacker.four@proton.me');
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().error).toMatchObject({
      code: 'DELEGATION_QUOTA_EXCEEDED',
      details: { quota: 'pending', limit: 3 },
    });
    expect(await accountCount()).toBe(before);
  });

  it('6. suspending the manager with its lineage suspends it and every account it created, in one transaction', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${ids.manager}/suspend`,
      headers: auth(tokens.analyst),
      payload: { reason: 'RGC compromised, incident 2025-12', lineage: true },
    });
    expect(res.statusCode).toBe(200);
    const line = [ids.manager, ids.older, ids.x1, ids.x2, ids.x3];
    expect([...res.json().suspended].sort()).toEqual([...line].sort());
    for (const id of line) expect(await statusOf(id)).toBe('suspended');
    expect(await statusOf(ids.approver)).toBe('active');
    expect(
      (await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(tokens.manager) })).statusCode,
    ).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(tokens.older) })).statusCode).toBe(
      401,
    );

    const suspended = (await events()).filter((e) => e.kind === 'account.suspended');
    expect(suspended).toHaveLength(5);
    // Written together: consecutive sequence numbers, one timestamp, one lineage root.
    expect(suspended.map((e) => e.seq)).toEqual(suspended.map((_, i) => suspended[0]!.seq + i));
    expect(new Set(suspended.map((e) => e.time)).size).toBe(1);
    for (const e of suspended) expect(JSON.parse(e.payload).data.lineageRoot).toBe(ids.manager);
  });

  it('7. every step, refused ones included, is an event carrying ids and codes only', async () => {
    const all = await events();
    const summary = all.map((e) => {
      const p = JSON.parse(e.payload);
      const who = Object.entries(ids).find(([, id]) => id === e.actor_id)?.[0] ?? 'unknown';
      return [e.kind, e.outcome, p.reason, who].filter(Boolean).join(' ');
    });
    expect(summary).toEqual([
      'account.created success manager',
      'account.created success manager',
      'role.granted success manager',
      'role.granted denied ROLE_NOT_DELEGABLE manager',
      'account.approval_refused denied APPROVER_IN_CREATOR_LINEAGE x2',
      'account.approval_refused denied APPROVER_IS_CREATOR manager',
      'account.approval_refused denied APPROVER_IN_CREATOR_LINEAGE older',
      'account.approval_refused denied APPROVER_IN_CREATOR_LINEAGE older',
      'account.created success manager',
      'delegation.quota_exceeded denied DELEGATION_QUOTA_EXCEEDED manager',
      'account.suspended success analyst',
      'account.suspended success analyst',
      'account.suspended success analyst',
      'account.suspended success analyst',
      'account.suspended success analyst',
    ]);
    const text = all
      .map((e) => e.payload)
      .join('\n')
      .toLowerCase();
    expect(text).not.toContain('proton.me');
    expect(text).not.toContain('compromised');
  });
});
