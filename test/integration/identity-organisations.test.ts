import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const VALID_SIRET = '73282932000074';
const OTHER_SIRET = '55203253400646';

describe('organisations', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let otherTenant: Awaited<ReturnType<typeof makeOrganisation>>;
  let managerToken: string;

  const count = async (table: 'organisations' | 'accounts') =>
    Number(
      (
        await t.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await createTestApp({ start: true });
    scene = await makeScene(t.database.db);
    otherTenant = await makeOrganisation(t.database.db, { parent: scene.network, name: 'Other ML' });
    const manager = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, manager.id, 'account_manager', scene.structure.id);
    managerToken = await issueToken(t.database.db, 'account', manager.id);
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>, token = scene.adminToken) =>
    t.app.inject({ method: 'POST', url: '/api/v1/organisations', headers: auth(token), payload: body });

  it('creates a structure under a network, with a validated SIRET, and journals it without its name', async () => {
    const res = await create({
      parentId: scene.network.id,
      name: 'Mission Locale Nord',
      kind: 'mission_locale',
      siret: '732 829 320 00074',
      contractEndDate: '2027-12-31',
    });
    expect(res.statusCode).toBe(201);
    const org = res.json();
    expect(org).toMatchObject({
      parentId: scene.network.id,
      depth: 2,
      siret: VALID_SIRET,
      status: 'active',
      contractEndDate: '2027-12-31',
    });
    expect(org).not.toHaveProperty('path');
    const event = await t.database.db
      .selectFrom('events')
      .selectAll()
      .where('kind', '=', 'organisation.created')
      .where('target_id', '=', org.id)
      .executeTakeFirstOrThrow();
    expect(event.outcome).toBe('success');
    expect(event.payload).not.toContain('Mission Locale Nord');
  });

  it('refuses a SIRET with a wrong check digit, and a duplicate SIRET, writing nothing', async () => {
    const before = await count('organisations');
    const bad = await create({
      parentId: scene.network.id,
      name: 'X',
      kind: 'agency',
      siret: '73282932000075',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_SIRET');
    const dup = await create({ parentId: scene.network.id, name: 'Y', kind: 'agency', siret: VALID_SIRET });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('SIRET_TAKEN');
    expect(await count('organisations')).toBe(before);
  });

  it('refuses a second operator and unknown kinds', async () => {
    const op = await create({ parentId: scene.operator.id, name: 'Op 2', kind: 'operator' });
    expect(op.json().error.code).toBe('ORGANISATION_KIND_INVALID');
    const unknown = await create({ parentId: scene.operator.id, name: 'Z', kind: 'bank' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('VALIDATION_FAILED');
  });

  it("lists only the caller's scope: an account manager sees its structure, never another tenant", async () => {
    const res = await t.app.inject({ url: '/api/v1/organisations?limit=500', headers: auth(managerToken) });
    expect(res.statusCode).toBe(200);
    const ids = res.json().items.map((o: { id: string }) => o.id);
    expect(ids).toEqual([scene.structure.id]);
    const other = await t.app.inject({
      url: `/api/v1/organisations/${otherTenant.id}`,
      headers: auth(managerToken),
    });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('ORGANISATION_NOT_FOUND');
  });

  it('pages through lists with an opaque cursor and rejects a forged one', async () => {
    const first = await t.app.inject({
      url: '/api/v1/organisations?limit=2',
      headers: auth(scene.adminToken),
    });
    const body = first.json();
    expect(body.items).toHaveLength(2);
    expect(body.nextCursor).toEqual(expect.any(String));
    const second = await t.app.inject({
      url: `/api/v1/organisations?limit=2&cursor=${body.nextCursor}`,
      headers: auth(scene.adminToken),
    });
    expect(second.json().items[0].id > body.items[1].id).toBe(true);
    const forged = await t.app.inject({
      url: '/api/v1/organisations?cursor=bm90LWFuLWlk',
      headers: auth(scene.adminToken),
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().error.code).toBe('INVALID_CURSOR');
  });

  it('reads a subtree as a range of paths', async () => {
    const res = await t.app.inject({
      url: `/api/v1/organisations/${scene.network.id}/subtree?limit=500`,
      headers: auth(scene.adminToken),
    });
    const ids = res.json().items.map((o: { id: string }) => o.id);
    expect(ids).toContain(scene.network.id);
    expect(ids).toContain(scene.structure.id);
    expect(ids).toContain(otherTenant.id);
    expect(ids).not.toContain(scene.operator.id);
  });

  it('moves an organisation with its subtree, and refuses a move under its own descendant', async () => {
    const a = (await create({ parentId: scene.operator.id, name: 'Net A', kind: 'network' })).json();
    const b = (await create({ parentId: a.id, name: 'ML B', kind: 'mission_locale' })).json();
    const c = (await create({ parentId: b.id, name: 'Agency C', kind: 'agency', siret: OTHER_SIRET })).json();
    const cycle = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/organisations/${a.id}`,
      headers: auth(scene.adminToken),
      payload: { parentId: c.id },
    });
    expect(cycle.statusCode).toBe(409);
    expect(cycle.json().error.code).toBe('ORGANISATION_CYCLE');
    const self = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/organisations/${a.id}`,
      headers: auth(scene.adminToken),
      payload: { parentId: a.id },
    });
    expect(self.json().error.code).toBe('ORGANISATION_CYCLE');
    expect(
      (await t.app.inject({ url: `/api/v1/organisations/${c.id}`, headers: auth(scene.adminToken) })).json()
        .depth,
    ).toBe(3);

    const moved = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/organisations/${b.id}`,
      headers: auth(scene.adminToken),
      payload: { parentId: scene.network.id },
    });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ parentId: scene.network.id, depth: 2 });
    const cAfter = (
      await t.app.inject({ url: `/api/v1/organisations/${c.id}`, headers: auth(scene.adminToken) })
    ).json();
    expect(cAfter.depth).toBe(3);
    const subtree = (
      await t.app.inject({
        url: `/api/v1/organisations/${scene.network.id}/subtree?limit=500`,
        headers: auth(scene.adminToken),
      })
    ).json();
    expect(subtree.items.map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining([b.id, c.id]));
    const row = await t.database.db
      .selectFrom('organisations')
      .select('path')
      .where('id', '=', c.id)
      .executeTakeFirstOrThrow();
    expect(row.path).toBe(`${scene.network.path}${b.id}/${c.id}/`);
  });

  it('suspends and reactivates a structure, refuses illegal transitions and protects the root', async () => {
    const org = (await create({ parentId: scene.network.id, name: 'To suspend', kind: 'cap_emploi' })).json();
    const post = (url: string) =>
      t.app.inject({
        method: 'POST',
        url,
        headers: auth(scene.adminToken),
        payload: { reason: 'contract paused' },
      });
    expect((await post(`/api/v1/organisations/${org.id}/suspend`)).json().status).toBe('suspended');
    const again = await post(`/api/v1/organisations/${org.id}/suspend`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'ILLEGAL_STATUS_TRANSITION',
      details: { from: 'suspended', to: 'suspended' },
    });
    expect((await post(`/api/v1/organisations/${org.id}/reactivate`)).json().status).toBe('active');
    expect((await post(`/api/v1/organisations/${org.id}/offboard`)).json().status).toBe('offboarded');
    expect((await post(`/api/v1/organisations/${org.id}/reactivate`)).json().error.code).toBe(
      'ILLEGAL_STATUS_TRANSITION',
    );
    expect((await post(`/api/v1/organisations/${scene.operator.id}/suspend`)).json().error.code).toBe(
      'ORGANISATION_IS_ROOT',
    );
    const kinds = await t.database.db
      .selectFrom('events')
      .select(['kind', 'outcome', 'payload'])
      .where('target_id', '=', org.id)
      .orderBy('seq')
      .execute();
    expect(kinds.map((k) => `${k.kind}:${k.outcome}`)).toEqual([
      'organisation.created:success',
      'organisation.suspended:success',
      'organisation.suspended:failure',
      'organisation.reactivated:success',
      'organisation.offboarded:success',
      'organisation.reactivated:failure',
    ]);
    expect(kinds.map((k) => k.payload).join()).not.toContain('contract paused');
  });

  it('lets an account manager neither create nor update organisations', async () => {
    const res = await create({ parentId: scene.structure.id, name: 'Sub', kind: 'agency' }, managerToken);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PERMISSION_DENIED');
    const outside = await create({ parentId: otherTenant.id, name: 'Sub', kind: 'agency' }, managerToken);
    expect(outside.statusCode).toBe(404);
  });

  it('answers malformed ids, unknown ids, unknown fields and __proto__ keys with 4xx codes', async () => {
    const before = await count('organisations');
    const malformed = await t.app.inject({
      url: '/api/v1/organisations/not-a-uuid',
      headers: auth(scene.adminToken),
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('VALIDATION_FAILED');
    const unknown = await t.app.inject({
      url: '/api/v1/organisations/00000000-0000-7000-8000-000000000000',
      headers: auth(scene.adminToken),
    });
    expect(unknown.statusCode).toBe(404);
    const extra = await create({ parentId: scene.network.id, name: 'E', kind: 'agency', path: '/x/' });
    expect(extra.statusCode).toBe(400);
    const proto = await t.app.inject({
      method: 'POST',
      url: '/api/v1/organisations',
      headers: { ...auth(scene.adminToken), 'content-type': 'application/json' },
      payload: `{"parentId":"${scene.network.id}","name":"P","kind":"agency","__proto__":{"admin":true}}`,
    });
    expect(proto.statusCode).toBe(400);
    expect(proto.json().error.code).toBe('FORBIDDEN_KEY');
    const huge = await create({ parentId: scene.network.id, name: 'n'.repeat(2_000_000), kind: 'agency' });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('BODY_TOO_LARGE');
    const long = await create({ parentId: scene.network.id, name: 'n'.repeat(201), kind: 'agency' });
    expect(long.statusCode).toBe(400);
    expect(await count('organisations')).toBe(before);
  });
});
