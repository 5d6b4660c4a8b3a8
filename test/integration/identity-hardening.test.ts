import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markApproved } from '../../src/modules/identity/account.repository.js';
import { identityServiceOf } from '../../src/modules/identity/index.js';
import { updateAssignment } from '../../src/modules/identity/role.repository.js';
import type { AccountPrincipal, SystemActor } from '../../src/shared/principal.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';
import { onPostgres } from '../helpers/test-db.js';

/**
 * Review findings on delegated administration: stale principals, expiries the principal cache must
 * honour, a platform administrator's scope, races between approval and containment, hostile input.
 */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const SOC: SystemActor = { kind: 'system', id: 'detection:test' };

describe('identity hardening', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let otherMl: Awaited<ReturnType<typeof makeOrganisation>>;
  const ids = { approver: '', mixed: '' };
  const tok = { approver: '', mixed: '' };

  const db = () => t.database.db;
  const service = () => identityServiceOf(t.container);
  const principalOf = async (token: string) =>
    (await t.container.resolver.resolve(token)) as AccountPrincipal;
  const statusOf = async (id: string) =>
    (await db().selectFrom('accounts').select('status').where('id', '=', id).executeTakeFirstOrThrow())
      .status;
  const newManager = async () => {
    const manager = await makeAccount(db(), { organisationId: scene.structure.id });
    await grantRole(db(), manager.id, 'account_manager', scene.structure.id);
    return { id: manager.id, token: await issueToken(db(), 'account', manager.id) };
  };
  /** A manager's principal resolved just before the SOC suspended its account. */
  const staleManager = async () => {
    const manager = await newManager();
    const stale = await principalOf(manager.token);
    await service().suspendAccount(SOC, manager.id, 'compromised account manager');
    return { id: manager.id, stale };
  };

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(db());
    otherMl = await makeOrganisation(db(), { parent: scene.network, name: 'Other ML' });
    const approver = await makeAccount(db(), { organisationId: scene.structure.id });
    await grantRole(db(), approver.id, 'account_approver', scene.structure.id);
    // Platform administrator of another structure, delegated account manager of this one.
    const mixed = await makeAccount(db(), { organisationId: otherMl.id });
    await grantRole(db(), mixed.id, 'platform_admin', otherMl.id);
    await grantRole(db(), mixed.id, 'account_manager', scene.structure.id);
    Object.assign(ids, { approver: approver.id, mixed: mixed.id });
    tok.approver = await issueToken(db(), 'account', approver.id);
    tok.mixed = await issueToken(db(), 'account', mixed.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a creation by a principal whose account was suspended after it was resolved', async () => {
    const { id: managerId, stale } = await staleManager();
    await expect(
      service().createAccount(stale, {
        organisationId: scene.structure.id,
        email: 'late.creation@example.test',
        kind: 'human',
      }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE', status: 401 });
    const written = await db()
      .selectFrom('accounts')
      .select('id')
      .where('email', '=', 'late.creation@example.test')
      .execute();
    expect(written).toEqual([]);
    const refusal = await db()
      .selectFrom('events')
      .select(['kind', 'outcome', 'payload'])
      .where('actor_id', '=', managerId)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(refusal).toMatchObject({ kind: 'account.created', outcome: 'denied' });
    expect(JSON.parse(refusal.payload)).toMatchObject({ reason: 'ACCOUNT_NOT_ACTIVE' });
  });

  it('refuses a grant by a principal whose account was suspended after it was resolved', async () => {
    const colleague = await makeAccount(db(), { organisationId: scene.structure.id });
    const { stale } = await staleManager();
    await expect(
      service().grantRole(stale, {
        accountId: colleague.id,
        roleId: 'agent',
        organisationId: scene.structure.id,
      }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    const grants = await db()
      .selectFrom('role_assignments')
      .select('id')
      .where('account_id', '=', colleague.id)
      .execute();
    expect(grants).toEqual([]);
  });

  it('refuses a token issued by a principal whose account was suspended after it was resolved', async () => {
    const { id: managerId, stale } = await staleManager();
    await expect(service().tokens.issue(stale, { name: 'persistence' })).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_ACTIVE',
    });
    const tokens = await db()
      .selectFrom('api_tokens')
      .select('id')
      .where('principal_id', '=', managerId)
      .execute();
    expect(tokens).toHaveLength(1);
  });

  it('stops honouring a token at its expiry, even while its principal is cached', async () => {
    const account = await makeAccount(db(), { organisationId: scene.structure.id });
    const secret = await issueToken(db(), 'account', account.id);
    const expiresAt = new Date(t.clock.now().getTime() + 10_000).toISOString();
    await db()
      .updateTable('api_tokens')
      .set({ expires_at: expiresAt })
      .where('principal_id', '=', account.id)
      .execute();
    expect(await t.container.resolver.resolve(secret)).toBeDefined();
    t.clock.advance(15_000);
    expect(await t.container.resolver.resolve(secret)).toBeUndefined();
  });

  it('drops a role grant at its expiry, even while the principal is cached', async () => {
    const account = await makeAccount(db(), { organisationId: scene.structure.id });
    const expiresAt = new Date(t.clock.now().getTime() + 10_000).toISOString();
    await grantRole(db(), account.id, 'auditor', scene.structure.id, { expiresAt });
    const secret = await issueToken(db(), 'account', account.id);
    expect((await principalOf(secret)).grants.map((g) => g.roleId)).toEqual(['auditor']);
    t.clock.advance(15_000);
    expect((await principalOf(secret)).grants).toEqual([]);
    const res = await t.app.inject({ url: '/api/v1/inventory/privileged', headers: auth(secret) });
    expect(res.statusCode).toBe(403);
  });

  it('treats a platform administrator of another subtree as a delegated administrator here', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(tok.mixed),
      payload: { organisationId: scene.structure.id, email: 'mixed.created@example.test' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'pending_approval', approvedAt: null });
    const privileged = await t.app.inject({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      headers: auth(tok.mixed),
      payload: { accountId: ids.approver, roleId: 'account_manager', organisationId: scene.structure.id },
    });
    expect(privileged.statusCode).toBe(403);
    expect(privileged.json().error.code).toBe('ROLE_NOT_DELEGABLE');
    // In its own subtree it stays a platform administrator.
    const own = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: auth(tok.mixed),
      payload: { organisationId: otherMl.id, email: 'mixed.own@example.test' },
    });
    expect(own.json()).toMatchObject({ status: 'active' });
  });

  it('never activates an account that is no longer pending, nor revives a revoked grant', async () => {
    const account = await makeAccount(db(), {
      organisationId: scene.structure.id,
      status: 'suspended',
    });
    const at = t.clock.now().toISOString();
    expect(await markApproved(db(), account.id, ids.approver, at)).toBe(false);
    expect(await statusOf(account.id)).toBe('suspended');
    const grant = await grantRole(db(), account.id, 'agent', scene.structure.id);
    await db()
      .updateTable('role_assignments')
      .set({ status: 'revoked' })
      .where('id', '=', grant.id)
      .execute();
    expect(await updateAssignment(db(), grant.id, 'pending_approval', { status: 'active' })).toBe(false);
    const row = await db()
      .selectFrom('role_assignments')
      .select('status')
      .where('id', '=', grant.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('revoked');
  });

  it.runIf(onPostgres())(
    'an approval racing a suspension waits for it and fails, leaving the account suspended',
    async () => {
      const manager = await newManager();
      const pending = await makeAccount(db(), {
        organisationId: scene.structure.id,
        status: 'pending_approval',
        createdBy: manager.id,
      });
      const approver = await principalOf(tok.approver);
      let approving: Promise<unknown> | undefined;
      await db()
        .transaction()
        .execute(async (trx) => {
          await sql`select id from accounts where id = ${pending.id} for update`.execute(trx);
          await trx
            .updateTable('accounts')
            .set({ status: 'suspended' })
            .where('id', '=', pending.id)
            .execute();
          const holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!
            .pid;
          approving = service().approveAccount(approver, pending.id);
          approving.catch(() => undefined);
          // Commit only once the approval is blocked behind this transaction.
          for (let i = 0; i < 200; i++) {
            const r = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
              where ${holder} = any(pg_blocking_pids(pid))`.execute(db());
            if (Number(r.rows[0]!.n) > 0) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        });
      await expect(approving).rejects.toMatchObject({ code: 'NOT_PENDING_APPROVAL' });
      expect(await statusOf(pending.id)).toBe('suspended');
    },
  );

  describe('hostile input', () => {
    it('answers 400 INVALID_NUMBER, not 500, for a limit the query-string coerces to Infinity', async () => {
      const app = await t.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: auth(scene.adminToken),
        payload: {
          organisationId: scene.structure.id,
          name: 'Portal',
          kind: 'partner',
          scopes: ['pdp.evaluate'],
        },
      });
      for (const url of [
        '/api/v1/accounts',
        '/api/v1/roles',
        '/api/v1/roles/assignments',
        '/api/v1/organisations',
        '/api/v1/inventory/privileged',
        '/api/v1/tokens',
        `/api/v1/accounts/${scene.admin.id}/lineage`,
        '/api/v1/applications',
        `/api/v1/applications/${app.json().id}/tokens`,
        `/api/v1/follows?organisationId=${scene.structure.id}`,
      ]) {
        const res = await t.app.inject({
          url: `${url}${url.includes('?') ? '&' : '?'}limit=1e400`,
          headers: auth(scene.adminToken),
        });
        // The HTTP edge refuses it before the services' own pageLimit() guard would (INVALID_LIMIT).
        expect([url, res.statusCode, res.json().error?.code]).toEqual([url, 400, 'INVALID_NUMBER']);
      }
    });

    it('refuses control characters in names and reasons with 400, writing nothing', async () => {
      const before = await db()
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const attempts = [
        ['/api/v1/organisations', { parentId: scene.network.id, name: 'ML\u0000', kind: 'mission_locale' }],
        [
          '/api/v1/accounts',
          { organisationId: scene.structure.id, email: 'nul@example.test', displayName: 'a\u0000b' },
        ],
        ['/api/v1/tokens', { name: 'ci\u0000' }],
        [`/api/v1/accounts/${ids.approver}/suspend`, { reason: 'phishing\u0000' }],
      ] as const;
      for (const [url, payload] of attempts) {
        const res = await t.app.inject({ method: 'POST', url, headers: auth(scene.adminToken), payload });
        expect([url, res.statusCode, res.json().error.code]).toEqual([url, 400, 'VALIDATION_FAILED']);
      }
      const after = await db()
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
      expect(await statusOf(ids.approver)).toBe('active');
    });
  });
});
