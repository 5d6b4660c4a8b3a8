import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeOrganisation,
  makeScene,
} from '../helpers/factories.js';

/**
 * Role × endpoint grid: which caller reaches what. Every built-in role is held by one account of the
 * same Mission Locale, over that Mission Locale; targets are fresh objects in it, built per call so
 * that no row depends on another. Expected statuses read left to right in CALLERS order.
 * Other modules extend GRID with their own rows (same shape).
 */
const CALLERS = [
  'none',
  'application',
  'agent',
  'account_manager',
  'account_approver',
  'security_analyst',
  'auditor',
  'platform_admin',
] as const;
type Caller = (typeof CALLERS)[number];

interface GridContext {
  readonly db: Db;
  readonly scene: Awaited<ReturnType<typeof makeScene>>;
  readonly ml: Awaited<ReturnType<typeof makeOrganisation>>;
  /** An independent manager and administrator whose creations and requests others approve. */
  readonly otherManagerId: string;
  readonly otherAdminId: string;
  /** The caller's own account, when the caller is an account. */
  readonly self: string | undefined;
}

interface GridRow {
  readonly name: string;
  readonly request: (c: GridContext) => InjectOptions | Promise<InjectOptions>;
  /** Expected status per caller, in CALLERS order, e.g. '401 403 403 200 200 200 200 200'. */
  readonly expect: string;
}

let seq = 0;
const freshAccount = (c: GridContext, status = 'active') =>
  makeAccount(c.db, { organisationId: c.ml.id, status });
const freshOrg = (c: GridContext) => makeOrganisation(c.db, { parent: c.ml, kind: 'agency' });
const assignment = async (c: GridContext, roleId: string, status: string, grantedBy: string) => {
  const acc = await freshAccount(c);
  const row = await grantRole(c.db, acc.id, roleId, c.ml.id);
  await c.db
    .updateTable('role_assignments')
    .set({ status, granted_by: grantedBy, approved_at: null })
    .where('id', '=', row.id)
    .execute();
  return row.id;
};
const reason = { reason: 'role grid check' };

const GRID: GridRow[] = [
  {
    name: 'GET /api/v1/organisations',
    request: () => ({ url: '/api/v1/organisations' }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'GET /api/v1/organisations/:id',
    request: (c) => ({ url: `/api/v1/organisations/${c.ml.id}` }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'GET /api/v1/organisations/:id/subtree',
    request: (c) => ({ url: `/api/v1/organisations/${c.ml.id}/subtree` }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'POST /api/v1/organisations',
    request: (c) => ({
      method: 'POST',
      url: '/api/v1/organisations',
      payload: { parentId: c.ml.id, name: 'Antenne', kind: 'agency' },
    }),
    expect: '401 403 404 403 403 403 403 201',
  },
  {
    name: 'PATCH /api/v1/organisations/:id',
    request: async (c) => ({
      method: 'PATCH',
      url: `/api/v1/organisations/${(await freshOrg(c)).id}`,
      payload: { name: 'Renamed' },
    }),
    expect: '401 403 404 403 403 403 403 200',
  },
  {
    name: 'POST /api/v1/organisations/:id/suspend',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/organisations/${(await freshOrg(c)).id}/suspend`,
      payload: reason,
    }),
    expect: '401 403 404 403 403 403 403 200',
  },
  {
    name: 'GET /api/v1/accounts',
    request: () => ({ url: '/api/v1/accounts' }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'GET /api/v1/accounts/me',
    request: () => ({ url: '/api/v1/accounts/me' }),
    expect: '401 403 200 200 200 200 200 200',
  },
  {
    name: 'GET /api/v1/accounts/:id',
    request: async (c) => ({ url: `/api/v1/accounts/${(await freshAccount(c)).id}` }),
    expect: '401 403 404 200 200 200 200 200',
  },
  {
    name: 'POST /api/v1/accounts',
    request: (c) => ({
      method: 'POST',
      url: '/api/v1/accounts',
      payload: { organisationId: c.ml.id, email: `grid${++seq}@ml.fr` },
    }),
    expect: '401 403 404 201 403 403 403 201',
  },
  {
    name: 'POST /api/v1/accounts/:id/approve',
    request: async (c) => {
      const pending = await makeAccount(c.db, {
        organisationId: c.ml.id,
        status: 'pending_approval',
        createdBy: c.otherManagerId,
      });
      return { method: 'POST', url: `/api/v1/accounts/${pending.id}/approve` };
    },
    expect: '401 403 404 403 200 403 403 200',
  },
  {
    name: 'POST /api/v1/accounts/:id/suspend',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/accounts/${(await freshAccount(c)).id}/suspend`,
      payload: reason,
    }),
    expect: '401 403 404 200 403 200 403 200',
  },
  {
    name: 'POST /api/v1/accounts/:id/suspend (lineage)',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/accounts/${(await freshAccount(c)).id}/suspend`,
      payload: { ...reason, lineage: true },
    }),
    expect: '401 403 404 403 403 200 403 200',
  },
  {
    name: 'POST /api/v1/accounts/:id/reactivate',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/accounts/${(await freshAccount(c, 'suspended')).id}/reactivate`,
      payload: reason,
    }),
    expect: '401 403 404 403 403 200 403 200',
  },
  {
    name: 'POST /api/v1/accounts/:id/disable',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/accounts/${(await freshAccount(c)).id}/disable`,
      payload: reason,
    }),
    expect: '401 403 404 200 403 200 403 200',
  },
  {
    name: 'POST /api/v1/accounts/:id/revoke-tokens',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/accounts/${(await freshAccount(c)).id}/revoke-tokens`,
      payload: reason,
    }),
    expect: '401 403 404 200 403 200 403 200',
  },
  {
    name: 'GET /api/v1/accounts/:id/lineage',
    request: async (c) => ({ url: `/api/v1/accounts/${(await freshAccount(c)).id}/lineage` }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'GET /api/v1/roles',
    request: () => ({ url: '/api/v1/roles' }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'GET /api/v1/roles/assignments',
    request: () => ({ url: '/api/v1/roles/assignments' }),
    expect: '401 403 403 200 200 200 200 200',
  },
  {
    name: 'POST /api/v1/roles/assignments (agent)',
    request: async (c) => ({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      payload: { accountId: (await freshAccount(c)).id, roleId: 'agent', organisationId: c.ml.id },
    }),
    expect: '401 403 404 201 403 403 403 201',
  },
  {
    name: 'POST /api/v1/roles/assignments (privileged: account_approver)',
    request: async (c) => ({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      payload: { accountId: (await freshAccount(c)).id, roleId: 'account_approver', organisationId: c.ml.id },
    }),
    expect: '401 403 404 403 403 403 403 201',
  },
  {
    name: 'POST /api/v1/roles/assignments/:id/approve',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/roles/assignments/${await assignment(c, 'account_approver', 'pending_approval', c.otherAdminId)}/approve`,
    }),
    expect: '401 403 404 403 200 403 403 200',
  },
  {
    name: 'POST /api/v1/roles/assignments/:id/revoke',
    request: async (c) => ({
      method: 'POST',
      url: `/api/v1/roles/assignments/${await assignment(c, 'agent', 'active', c.otherManagerId)}/revoke`,
      payload: reason,
    }),
    expect: '401 403 404 200 403 403 403 200',
  },
  {
    name: 'GET /api/v1/inventory/privileged',
    request: () => ({ url: '/api/v1/inventory/privileged' }),
    expect: '401 403 403 403 403 200 200 200',
  },
  {
    name: 'POST /api/v1/tokens',
    request: () => ({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'grid' } }),
    expect: '401 403 201 201 201 201 201 201',
  },
  {
    name: 'GET /api/v1/tokens',
    request: () => ({ url: '/api/v1/tokens' }),
    expect: '401 403 200 200 200 200 200 200',
  },
  {
    name: 'DELETE /api/v1/tokens/:id (own)',
    request: async (c) => {
      const own = c.self
        ? await c.db
            .selectFrom('api_tokens')
            .select('id')
            .where('principal_id', '=', c.self)
            .executeTakeFirstOrThrow()
        : { id: '00000000-0000-7000-8000-000000000000' };
      // Revoking the very token in use would end the caller's session: issue a spare one first.
      if (c.self) await issueToken(c.db, 'account', c.self);
      return { method: 'DELETE', url: `/api/v1/tokens/${own.id}` };
    },
    expect: '401 403 200 200 200 200 200 200',
  },
];

describe('role × endpoint grid (identity)', () => {
  let t: TestApp;
  let base: Omit<GridContext, 'self'>;
  const tokens = new Map<Caller, string | undefined>();
  const accounts = new Map<Caller, string>();

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    const db = t.database.db;
    const scene = await makeScene(db);
    const ml = scene.structure;
    const otherManager = await makeAccount(db, { organisationId: ml.id });
    await grantRole(db, otherManager.id, 'account_manager', ml.id);
    const otherAdmin = await makeAccount(db, { organisationId: scene.operator.id });
    await grantRole(db, otherAdmin.id, 'platform_admin', scene.operator.id);
    base = { db, scene, ml, otherManagerId: otherManager.id, otherAdminId: otherAdmin.id };
    tokens.set('none', undefined);
    const app = await makeApplication(db, { organisationId: ml.id });
    tokens.set('application', await issueToken(db, 'application', app.id));
    for (const role of CALLERS.slice(2)) {
      const acc = await makeAccount(db, { organisationId: ml.id, createdAt: '2025-01-01T00:00:00.000Z' });
      await grantRole(db, acc.id, role, ml.id);
      accounts.set(role, acc.id);
      tokens.set(role, await issueToken(db, 'account', acc.id));
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(GRID)('$name answers $expect', async (row) => {
    const actual: number[] = [];
    for (const caller of CALLERS) {
      const options = await row.request({ ...base, self: accounts.get(caller) });
      const token = tokens.get(caller);
      const res = await t.app.inject({
        ...options,
        headers: { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      expect(res.statusCode, `${caller}: ${res.body}`).toBeLessThan(500);
      actual.push(res.statusCode);
    }
    expect(CALLERS.map((c, i) => `${c}=${actual[i]}`).join(' ')).toBe(
      CALLERS.map((c, i) => `${c}=${row.expect.split(' ')[i]}`).join(' '),
    );
  });
});
