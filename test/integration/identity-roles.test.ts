import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/shared/clock.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('roles, privileged grants under four-eyes, and the privileged inventory', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let otherMl: Awaited<ReturnType<typeof makeOrganisation>>;
  const tok = { manager: '', admin2: '', auditor: '', colleague: '' };
  const id = { manager: '', admin2: '', colleague: '', foreign: '' };

  const db = () => t.database.db;
  const grant = (token: string, body: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/roles/assignments', headers: auth(token), payload: body });
  const assignmentCount = async () =>
    Number(
      (
        await db()
          .selectFrom('role_assignments')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(db());
    otherMl = await makeOrganisation(db(), { parent: scene.network, name: 'Other ML' });
    const ml = scene.structure.id;
    const manager = await makeAccount(db(), { organisationId: ml });
    await grantRole(db(), manager.id, 'account_manager', ml);
    const admin2 = await makeAccount(db(), { organisationId: scene.operator.id });
    await grantRole(db(), admin2.id, 'platform_admin', scene.operator.id);
    const auditor = await makeAccount(db(), { organisationId: scene.operator.id });
    await grantRole(db(), auditor.id, 'auditor', scene.operator.id);
    const colleague = await makeAccount(db(), { organisationId: ml });
    const foreign = await makeAccount(db(), { organisationId: otherMl.id });
    Object.assign(id, {
      manager: manager.id,
      admin2: admin2.id,
      colleague: colleague.id,
      foreign: foreign.id,
    });
    tok.manager = await issueToken(db(), 'account', manager.id);
    tok.admin2 = await issueToken(db(), 'account', admin2.id);
    tok.auditor = await issueToken(db(), 'account', auditor.id);
    tok.colleague = await issueToken(db(), 'account', colleague.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps the built-in catalogue in line with the code on every start', async () => {
    await db()
      .updateTable('roles')
      .set({ permissions: '[]', privileged: 0 })
      .where('id', '=', 'account_manager')
      .execute();
    await t.container.modules.find((m) => m.name === 'identity')!.start!();
    const res = await t.app.inject({ url: '/api/v1/roles', headers: auth(tok.auditor) });
    const manager = res.json().items.find((r: { id: string }) => r.id === 'account_manager');
    expect(manager).toMatchObject({ privileged: true, delegable: false, builtin: true });
    expect(manager.permissions).toContain('account.create');
    expect(
      res
        .json()
        .items.map((r: { id: string }) => r.id)
        .sort(),
    ).toEqual([
      'account_approver',
      'account_manager',
      'agent',
      'auditor',
      'platform_admin',
      'security_analyst',
    ]);
  });

  it('lets an account manager grant the advisor role at once, inside its scope only', async () => {
    const ok = await grant(tok.manager, {
      accountId: id.colleague,
      roleId: 'agent',
      organisationId: scene.structure.id,
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ status: 'active', grantedBy: id.manager, approvedBy: null });
    const before = await assignmentCount();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [
        { accountId: id.colleague, roleId: 'agent', organisationId: scene.structure.id },
        409,
        'ROLE_ALREADY_GRANTED',
      ],
      [
        { accountId: id.manager, roleId: 'agent', organisationId: scene.structure.id },
        403,
        'ROLE_SELF_GRANT',
      ],
      [
        { accountId: id.colleague, roleId: 'auditor', organisationId: scene.structure.id },
        403,
        'ROLE_NOT_DELEGABLE',
      ],
      [
        { accountId: id.colleague, roleId: 'account_approver', organisationId: scene.structure.id },
        403,
        'ROLE_NOT_DELEGABLE',
      ],
      [
        { accountId: id.colleague, roleId: 'platform_admin', organisationId: scene.structure.id },
        403,
        'ROLE_NOT_DELEGABLE',
      ],
      [
        { accountId: id.foreign, roleId: 'agent', organisationId: scene.structure.id },
        404,
        'ACCOUNT_NOT_FOUND',
      ],
      [
        { accountId: id.colleague, roleId: 'agent', organisationId: otherMl.id },
        404,
        'ORGANISATION_NOT_FOUND',
      ],
      [
        { accountId: id.colleague, roleId: 'agent', organisationId: scene.network.id },
        404,
        'ORGANISATION_NOT_FOUND',
      ],
      [
        { accountId: id.colleague, roleId: 'no_such_role', organisationId: scene.structure.id },
        404,
        'ROLE_NOT_FOUND',
      ],
      [
        {
          accountId: id.colleague,
          roleId: 'agent',
          organisationId: scene.structure.id,
          expiresAt: '2020-01-01T00:00:00Z',
        },
        400,
        'EXPIRY_IN_PAST',
      ],
      [
        { accountId: id.colleague, roleId: 'Agent; drop table', organisationId: scene.structure.id },
        400,
        'VALIDATION_FAILED',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await grant(tok.manager, body);
      expect([res.statusCode, res.json().error.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect(await assignmentCount()).toBe(before);
  });

  it('holds a privileged grant pending until a distinct administrator approves it', async () => {
    const requested = await grant(scene.adminToken, {
      accountId: id.colleague,
      roleId: 'account_approver',
      organisationId: scene.structure.id,
    });
    expect(requested.statusCode).toBe(201);
    const assignment = requested.json();
    expect(assignment.status).toBe('pending_approval');
    const ev = await db()
      .selectFrom('events')
      .select(['kind', 'payload'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(ev.kind).toBe('role.grant_requested');
    // Pending means powerless: the colleague cannot list accounts yet.
    expect((await t.app.inject({ url: '/api/v1/accounts', headers: auth(tok.colleague) })).statusCode).toBe(
      403,
    );

    const self = await t.app.inject({
      method: 'POST',
      url: `/api/v1/roles/assignments/${assignment.id}/approve`,
      headers: auth(scene.adminToken),
    });
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe('APPROVER_IS_CREATOR');
    const byGrantee = await t.app.inject({
      method: 'POST',
      url: `/api/v1/roles/assignments/${assignment.id}/approve`,
      headers: auth(tok.colleague),
    });
    expect(byGrantee.statusCode).toBe(403);
    expect(byGrantee.json().error.code).toBe('APPROVER_IS_TARGET');
    const ok = await t.app.inject({
      method: 'POST',
      url: `/api/v1/roles/assignments/${assignment.id}/approve`,
      headers: auth(tok.admin2),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'active', grantedBy: scene.admin.id, approvedBy: id.admin2 });
    const refusals = await db()
      .selectFrom('events')
      .select('kind')
      .where('kind', '=', 'role.approval_refused')
      .execute();
    expect(refusals).toHaveLength(2);
    expect((await t.app.inject({ url: '/api/v1/accounts', headers: auth(tok.colleague) })).statusCode).toBe(
      200,
    );
  });

  it('lists the privileged inventory with who granted and approved, to the security readers only', async () => {
    const res = await t.app.inject({
      url: '/api/v1/inventory/privileged?limit=500',
      headers: auth(tok.auditor),
    });
    expect(res.statusCode).toBe(200);
    const row = res
      .json()
      .items.find(
        (r: { accountId: string; roleId: string }) =>
          r.accountId === id.colleague && r.roleId === 'account_approver',
      );
    expect(row).toMatchObject({
      grantedBy: scene.admin.id,
      approvedBy: id.admin2,
      assignmentStatus: 'active',
      accountStatus: 'active',
      mfaStrength: null,
    });
    expect(row.lastSeenAt).toEqual(expect.any(String));
    const roles = new Set(res.json().items.map((r: { roleId: string }) => r.roleId));
    expect(roles.has('agent')).toBe(false);
    expect(roles.has('platform_admin')).toBe(true);
    expect(
      (await t.app.inject({ url: '/api/v1/inventory/privileged', headers: auth(tok.manager) })).statusCode,
    ).toBe(403);
  });

  it('revokes what a manager may grant, and nothing more', async () => {
    const agent = (
      await t.app.inject({
        url: `/api/v1/roles/assignments?accountId=${id.colleague}&roleId=agent`,
        headers: auth(tok.manager),
      })
    ).json().items[0];
    const approver = (
      await t.app.inject({
        url: `/api/v1/roles/assignments?accountId=${id.colleague}&roleId=account_approver`,
        headers: auth(tok.manager),
      })
    ).json().items[0];
    const revoke = (aid: string, token = tok.manager) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/roles/assignments/${aid}/revoke`,
        headers: auth(token),
        payload: { reason: 'left the structure' },
      });
    expect((await revoke(approver.id)).json().error.code).toBe('ROLE_NOT_DELEGABLE');
    const ok = await revoke(agent.id);
    expect(ok.json()).toMatchObject({ status: 'revoked', revokedBy: id.manager });
    expect((await revoke(agent.id)).json().error.code).toBe('ASSIGNMENT_NOT_ACTIVE');
    expect((await revoke(approver.id, scene.adminToken)).json().status).toBe('revoked');
  });

  it('lets an expiring grant lapse on its own', async () => {
    const expiresAt = new Date(t.clock.now().getTime() + HOUR_MS).toISOString();
    const res = await grant(scene.adminToken, {
      accountId: id.colleague,
      roleId: 'auditor',
      organisationId: scene.structure.id,
      expiresAt,
    });
    expect(res.json()).toMatchObject({ status: 'active', expiresAt });
    expect((await t.app.inject({ url: '/api/v1/accounts', headers: auth(tok.colleague) })).statusCode).toBe(
      200,
    );
    t.clock.advance(2 * HOUR_MS);
    expect((await t.app.inject({ url: '/api/v1/accounts', headers: auth(tok.colleague) })).statusCode).toBe(
      403,
    );
  });
  it('describes every identity route in the OpenAPI document, tagged, without internal columns', async () => {
    const doc = (await t.app.inject({ url: '/api/docs/json' })).json();
    const prefixes = [
      '/api/v1/organisations',
      '/api/v1/accounts',
      '/api/v1/roles',
      '/api/v1/inventory',
      '/api/v1/tokens',
    ];
    const paths = Object.keys(doc.paths).filter((p) => prefixes.some((x) => p.startsWith(x)));
    expect(paths.length).toBeGreaterThanOrEqual(20);
    for (const p of paths) {
      for (const [method, op] of Object.entries(
        doc.paths[p] as Record<string, { tags?: string[]; responses: object }>,
      )) {
        expect(op.tags?.length, `${method} ${p}`).toBeGreaterThan(0);
        expect(Object.keys(op.responses), `${method} ${p}`).toContain('401');
      }
    }
    const mine = JSON.stringify(paths.map((p): unknown => doc.paths[p]));
    for (const internal of ['token_hash', 'tokenHash', '"path":{', 'organisation_path', 'secret']) {
      expect(mine.includes(internal), internal).toBe(internal === 'secret');
    }
  });
});
