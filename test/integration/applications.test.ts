import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import { installAuthentication, requireApplication } from '../../src/http/authenticate.js';
import { installErrorHandler } from '../../src/http/errors.js';
import { hashTokenSecret } from '../../src/modules/identity/token-secret.js';
import { runAppCreate } from '../../src/cli/app.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';

async function eventsOf(db: Db, kind: string) {
  return db.selectFrom('events').selectAll().where('kind', '=', kind).orderBy('seq').execute();
}

describe('applications: service principals and their tokens', () => {
  let t: TestApp;
  let db: Db;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let otherStructure: Awaited<ReturnType<typeof makeOrganisation>>;
  let managerA: string;
  let agentA: string;
  /** A route guarded the way the PDP and ingest guard theirs, on the container's own resolver. */
  let probe: FastifyInstance;
  const admin = () => ({ authorization: `Bearer ${scene.adminToken}` });
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const callAsApplication = (secret: string, scope = 'pdp.evaluate') =>
    probe.inject({ url: `/probe?scope=${scope}`, headers: as(secret) });

  beforeAll(async () => {
    t = await createTestApp();
    db = t.database.db;
    scene = await makeScene(db);
    otherStructure = await makeOrganisation(db, { parent: scene.network, name: 'Mission Locale B' });
    await db
      .insertInto('roles')
      .values({
        id: 'app_manager',
        description: 'applications of one structure',
        permissions: JSON.stringify(['application.read', 'application.manage']),
        privileged: 0,
        delegable: 0,
        builtin: 0,
      })
      .execute();
    const m = await makeAccount(db, { organisationId: scene.structure.id });
    await grantRole(db, m.id, 'app_manager', scene.structure.id);
    managerA = await issueToken(db, 'account', m.id);
    const a = await makeAccount(db, { organisationId: scene.structure.id });
    await grantRole(db, a.id, 'agent', scene.structure.id);
    agentA = await issueToken(db, 'account', a.id);

    probe = Fastify();
    installErrorHandler(probe);
    installAuthentication(probe, t.container.resolver);
    probe.get<{ Querystring: { scope: string } }>('/probe', (request) => {
      const principal = requireApplication(request, request.query.scope);
      return { applicationId: principal.applicationId, organisationId: principal.organisationId };
    });
    await probe.ready();
  });
  afterAll(async () => {
    await probe.close();
    await t.close();
  });

  async function register(
    headers: Record<string, string>,
    organisationId: string,
    scopes = ['pdp.evaluate'],
  ) {
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/applications',
      headers,
      payload: { organisationId, name: 'Portail OF', kind: 'partner', scopes },
    });
  }

  it('registers an application and journals application.registered', async () => {
    const res = await register(admin(), scene.structure.id, ['pdp.evaluate', 'event.ingest']);
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app).toMatchObject({
      organisationId: scene.structure.id,
      status: 'active',
      scopes: ['event.ingest', 'pdp.evaluate'],
      createdBy: expect.any(String),
    });
    const events = await eventsOf(db, 'application.registered');
    expect(events.map((e) => e.target_id)).toContain(app.id);
  });

  it.each([
    ['an unknown scope', { scopes: ['admin.everything'] }],
    ['a repeated scope', { scopes: ['pdp.evaluate', 'pdp.evaluate'] }],
    ['no scope', { scopes: [] }],
    ['an extra field', { secret: 'x' }],
    ['a name with a control character', { name: 'bad\u0007name' }],
    ['an oversized name', { name: 'n'.repeat(121) }],
    ['an unknown kind', { kind: 'internal' }],
  ])('rejects %s with 400', async (_label, override) => {
    const before = (await db.selectFrom('applications').select('id').execute()).length;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/applications',
      headers: admin(),
      payload: {
        organisationId: scene.structure.id,
        name: 'X',
        kind: 'business',
        scopes: ['pdp.evaluate'],
        ...override,
      },
    });
    expect(res.statusCode).toBe(400);
    expect((await db.selectFrom('applications').select('id').execute()).length).toBe(before);
  });

  it('registers a reporting scope over an ancestor for someone who may register applications there, and journals it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/applications',
      headers: admin(),
      payload: {
        organisationId: scene.structure.id,
        name: 'Passerelle de connexion',
        kind: 'business',
        scopes: ['event.ingest'],
        reportingOrganisationId: scene.operator.id,
      },
    });
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app.reportingOrganisationId).toBe(scene.operator.id);
    expect(
      (await t.app.inject({ url: `/api/v1/applications/${app.id}`, headers: admin() })).json(),
    ).toMatchObject({ reportingOrganisationId: scene.operator.id });
    const [registered] = (await eventsOf(db, 'application.registered')).filter((e) => e.target_id === app.id);
    expect(JSON.parse(registered!.payload).data).toMatchObject({
      reportingOrganisationId: scene.operator.id,
    });
    // Without one, an application reports on its own organisation only.
    const plain = await register(admin(), scene.structure.id);
    expect(plain.json().reportingOrganisationId).toBe(scene.structure.id);
  });

  it("refuses a reporting scope wider than what the registrant manages (403) and one outside the application's ancestry (400), writing nothing", async () => {
    const before = (await db.selectFrom('applications').select('id').execute()).length;
    const attempt = (headers: Record<string, string>, reportingOrganisationId: unknown) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers,
        payload: {
          organisationId: scene.structure.id,
          name: 'Portail OF',
          kind: 'partner',
          scopes: ['event.ingest'],
          reportingOrganisationId,
        },
      });
    const wider = await attempt(as(managerA), scene.network.id);
    expect(wider.statusCode).toBe(403);
    expect(wider.json().error.code).toBe('REPORTING_SCOPE_DENIED');
    const sideways = await attempt(admin(), otherStructure.id);
    expect(sideways.statusCode).toBe(400);
    expect(sideways.json().error.code).toBe('REPORTING_SCOPE_INVALID');
    const unknown = await attempt(admin(), '01900000-0000-7000-8000-000000000000');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('REPORTING_SCOPE_INVALID');
    for (const bad of ['../..', { __proto__: null }, 'x'.repeat(5000)])
      expect((await attempt(admin(), bad)).statusCode).toBe(400);
    expect((await db.selectFrom('applications').select('id').execute()).length).toBe(before);
    const refused = (await eventsOf(db, 'application.registered')).filter((e) => e.outcome !== 'success');
    expect(refused.map((e) => (JSON.parse(e.payload) as { reason: string }).reason)).toEqual(
      expect.arrayContaining(['REPORTING_SCOPE_DENIED', 'REPORTING_SCOPE_INVALID']),
    );
    // Its own organisation as the scope is no widening: a structure's manager may name it.
    const own = await attempt(as(managerA), scene.structure.id);
    expect(own.statusCode).toBe(201);
    expect(own.json().reportingOrganisationId).toBe(scene.structure.id);
  });

  it('rejects a __proto__ key in the body', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/applications',
      headers: { ...admin(), 'content-type': 'application/json' },
      payload: `{"organisationId":"${scene.structure.id}","name":"P","kind":"partner","scopes":["pdp.evaluate"],"__proto__":{"status":"active"}}`,
    });
    expect(res.statusCode).toBe(400);
  });

  it("keeps a structure's manager inside its structure: another tenant's organisation and applications are 404", async () => {
    const foreign = await register(as(managerA), otherStructure.id);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('ORGANISATION_NOT_FOUND');
    const theirs = (await register(admin(), otherStructure.id)).json();
    const read = await t.app.inject({ url: `/api/v1/applications/${theirs.id}`, headers: as(managerA) });
    expect(read.statusCode).toBe(404);
    expect(read.json().error.code).toBe('APPLICATION_NOT_FOUND');
    const suspend = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${theirs.id}/suspend`,
      headers: as(managerA),
      payload: { reason: 'not mine' },
    });
    expect(suspend.statusCode).toBe(404);
    const mine = (await register(as(managerA), scene.structure.id)).json();
    const list = await t.app.inject({ url: '/api/v1/applications?limit=500', headers: as(managerA) });
    const ids = list.json().items.map((a: { id: string }) => a.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
  });

  it('refuses accounts without application permissions', async () => {
    const res = await register(as(agentA), scene.structure.id);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PERMISSION_DENIED');
  });

  it('issues a token shown once, stored hashed, that authenticates as the application principal', async () => {
    const app = (await register(admin(), scene.structure.id, ['pdp.evaluate'])).json();
    const issued = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/tokens`,
      headers: admin(),
      payload: { name: 'production' },
    });
    expect(issued.statusCode).toBe(201);
    const { secret, token } = issued.json();
    expect(secret).toMatch(/^vig_[A-Za-z0-9_-]{43}$/);
    const row = await db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', token.id)
      .executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashTokenSecret(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect((await eventsOf(db, 'token.issued')).map((e) => e.target_id)).toContain(token.id);

    const listed = await t.app.inject({ url: `/api/v1/applications/${app.id}/tokens`, headers: admin() });
    expect(listed.body).not.toContain(secret);
    expect(listed.body).not.toContain(row.token_hash);

    const ok = await callAsApplication(secret);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ applicationId: app.id, organisationId: scene.structure.id });
    const wrongScope = await callAsApplication(secret, 'event.ingest');
    expect(wrongScope.statusCode).toBe(403);
    expect(wrongScope.json().error.code).toBe('SCOPE_DENIED');
    const accountRoute = await t.app.inject({ url: '/api/v1/applications', headers: as(secret) });
    expect(accountRoute.statusCode).toBe(403);
    expect(accountRoute.json().error.code).toBe('ACCOUNT_REQUIRED');
  });

  it("refuses a suspended application's token at once, and accepts it again after reactivation", async () => {
    const app = (await register(admin(), scene.structure.id)).json();
    const { secret } = (
      await t.app.inject({
        method: 'POST',
        url: `/api/v1/applications/${app.id}/tokens`,
        headers: admin(),
        payload: { name: 'portal' },
      })
    ).json();
    expect((await callAsApplication(secret)).statusCode).toBe(200);

    const suspended = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/suspend`,
      headers: admin(),
      payload: { reason: 'Kairos-like misuse suspected' },
    });
    expect(suspended.statusCode).toBe(200);
    expect(suspended.json().status).toBe('suspended');
    expect((await eventsOf(db, 'application.suspended')).map((e) => e.target_id)).toContain(app.id);
    const refused = await callAsApplication(secret);
    expect(refused.statusCode).toBe(401);

    const twice = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/suspend`,
      headers: admin(),
      payload: { reason: 'again' },
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('ILLEGAL_STATUS_TRANSITION');
    const noToken = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/tokens`,
      headers: admin(),
      payload: { name: 'while suspended' },
    });
    expect(noToken.statusCode).toBe(409);
    expect(noToken.json().error.code).toBe('APPLICATION_NOT_ACTIVE');

    const back = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/reactivate`,
      headers: admin(),
      payload: { reason: 'cleared by the SOC' },
    });
    expect(back.json().status).toBe('active');
    expect((await callAsApplication(secret)).statusCode).toBe(200);
  });

  it('revokes a token once; a revoked token no longer authenticates', async () => {
    const app = (await register(admin(), scene.structure.id)).json();
    const other = (await register(admin(), scene.structure.id)).json();
    const { secret, token } = (
      await t.app.inject({
        method: 'POST',
        url: `/api/v1/applications/${app.id}/tokens`,
        headers: admin(),
        payload: { name: 'to revoke' },
      })
    ).json();
    expect((await callAsApplication(secret)).statusCode).toBe(200);
    const wrongApp = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${other.id}/tokens/${token.id}/revoke`,
      headers: admin(),
      payload: {},
    });
    expect(wrongApp.statusCode).toBe(404);
    expect(wrongApp.json().error.code).toBe('TOKEN_NOT_FOUND');
    const revoked = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/tokens/${token.id}/revoke`,
      headers: admin(),
      payload: { reason: 'rotated' },
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).toBe('2026-03-02T09:00:00.000Z');
    expect((await eventsOf(db, 'token.revoked')).map((e) => e.target_id)).toContain(token.id);
    expect((await callAsApplication(secret)).statusCode).toBe(401);
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/tokens/${token.id}/revoke`,
      headers: admin(),
      payload: {},
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('TOKEN_ALREADY_REVOKED');
  });

  it('refuses a token expiry in the past', async () => {
    const app = (await register(admin(), scene.structure.id)).json();
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${app.id}/tokens`,
      headers: admin(),
      payload: { name: 'old', expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('TOKEN_EXPIRY_INVALID');
  });

  it('vigie app create registers an application and prints a working one-time token', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      config: parseConfig({ VIGIE_DATABASE_URL: t.database.url, VIGIE_LOG_LEVEL: 'silent' }),
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
    };
    const code = await runAppCreate(
      {
        organisation: scene.structure.id,
        name: 'Portail formation',
        scopes: 'pdp.evaluate,event.ingest',
        kind: 'partner',
        tokenName: 'initial',
      },
      io,
    );
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const secret = /^(vig_[A-Za-z0-9_-]{43})$/m.exec(out.join(''))?.[1];
    expect(secret).toBeDefined();
    const ok = await callAsApplication(secret!, 'event.ingest');
    expect(ok.statusCode).toBe(200);
    const registered = await eventsOf(db, 'application.registered');
    expect(registered.at(-1)).toMatchObject({ actor_type: 'system', actor_id: 'cli' });

    const bad = await runAppCreate(
      { organisation: scene.structure.id, name: 'X', scopes: 'root', kind: 'partner', tokenName: 'initial' },
      io,
    );
    expect(bad).toBe(1);
    expect(err.join('')).toContain('scopes');
    const unknownOrg = await runAppCreate(
      {
        organisation: '01900000-0000-7000-8000-000000000000',
        name: 'X',
        scopes: 'pdp.evaluate',
        kind: 'partner',
        tokenName: 'initial',
      },
      io,
    );
    expect(unknownOrg).toBe(1);
    expect(err.join('')).toContain('ORGANISATION_NOT_FOUND');

    out.length = 0;
    const gateway = await runAppCreate(
      {
        organisation: scene.structure.id,
        name: 'Passerelle',
        scopes: 'event.ingest',
        kind: 'business',
        tokenName: 'initial',
        reportingScope: scene.operator.id,
        json: true,
      },
      io,
    );
    expect(gateway).toBe(0);
    expect(JSON.parse(out.join('')).application.reportingOrganisationId).toBe(scene.operator.id);
    const sideways = await runAppCreate(
      {
        organisation: scene.structure.id,
        name: 'X',
        scopes: 'event.ingest',
        kind: 'partner',
        tokenName: 'initial',
        reportingScope: otherStructure.id,
      },
      io,
    );
    expect(sideways).toBe(1);
    expect(err.join('')).toContain('REPORTING_SCOPE_INVALID');
  });
});
