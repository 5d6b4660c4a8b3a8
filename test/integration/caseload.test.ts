import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeFollow,
  makeOrganisation,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';

async function makeRole(db: Db, id: string, permissions: string[]) {
  await db
    .insertInto('roles')
    .values({
      id,
      description: id,
      permissions: JSON.stringify(permissions),
      privileged: 0,
      delegable: 0,
      builtin: 0,
    })
    .execute();
}

async function eventsOf(db: Db, kind: string) {
  return db.selectFrom('events').selectAll().where('kind', '=', kind).orderBy('seq').execute();
}

describe('caseload routes: data subjects and who follows them', () => {
  let t: TestApp;
  let db: Db;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let otherStructure: Awaited<ReturnType<typeof makeOrganisation>>;
  let managerA: string;
  let readerA: string;
  let agentA: string;
  let analyst: string;
  let accountInA: string;
  let accountInB: string;
  const admin = () => ({ authorization: `Bearer ${scene.adminToken}` });
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await createTestApp();
    db = t.database.db;
    scene = await makeScene(db);
    otherStructure = await makeOrganisation(db, { parent: scene.network, name: 'Mission Locale B' });
    await makeRole(db, 'caseload_manager', ['caseload.read', 'caseload.manage']);
    const m = await makeAccount(db, { organisationId: scene.structure.id });
    await grantRole(db, m.id, 'caseload_manager', scene.structure.id);
    managerA = await issueToken(db, 'account', m.id);
    const r = await makeAccount(db, { organisationId: scene.structure.id });
    await grantRole(db, r.id, 'account_manager', scene.structure.id);
    readerA = await issueToken(db, 'account', r.id);
    const a = await makeAccount(db, { organisationId: scene.structure.id });
    await grantRole(db, a.id, 'agent', scene.structure.id);
    agentA = await issueToken(db, 'account', a.id);
    const s = await makeAccount(db, { organisationId: scene.operator.id });
    await grantRole(db, s.id, 'security_analyst', scene.operator.id);
    analyst = await issueToken(db, 'account', s.id);
    accountInA = (await makeAccount(db, { organisationId: scene.structure.id })).id;
    accountInB = (await makeAccount(db, { organisationId: otherStructure.id })).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('registers a subject by its opaque id and journals subject.created in the same transaction', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/subjects',
      headers: admin(),
      payload: { id: 'FT:123.abc-Z_9', kind: 'job_seeker' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: 'FT:123.abc-Z_9',
      kind: 'job_seeker',
      sealed: false,
      decoy: false,
    });
    const events = await eventsOf(db, 'subject.created');
    expect(events.map((e) => e.target_id)).toContain('FT:123.abc-Z_9');
  });

  it('refuses a second subject with the same id', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/subjects',
      headers: admin(),
      payload: { id: 'FT:123.abc-Z_9', kind: 'other' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('SUBJECT_EXISTS');
  });

  it.each([
    ['a NIR-looking extra field', { id: 'P-nir', kind: 'job_seeker', nir: '1 85 05 78 006 084 36' }],
    ['a name', { id: 'P-name', kind: 'job_seeker', name: 'Jeanne Dupont' }],
    ['an oversized id', { id: 'x'.repeat(65), kind: 'job_seeker' }],
    ['an id with a slash', { id: '../etc', kind: 'job_seeker' }],
    ['an empty id', { id: '', kind: 'job_seeker' }],
    ['an unknown kind', { id: 'P-kind', kind: 'citizen' }],
    ['a decoy flag that is not a boolean', { id: 'P-bool', kind: 'other', decoy: 'yes' }],
  ])('rejects %s with 400 and writes nothing', async (_label, payload) => {
    const before = (await db.selectFrom('data_subjects').select('id').execute()).length;
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/subjects', headers: admin(), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect((await db.selectFrom('data_subjects').select('id').execute()).length).toBe(before);
  });

  it('rejects a __proto__ key in the body', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/subjects',
      headers: { ...admin(), 'content-type': 'application/json' },
      payload: '{"id":"P-proto","kind":"other","__proto__":{"decoy":true}}',
    });
    expect(res.statusCode).toBe(400);
    expect(await db.selectFrom('data_subjects').select('id').where('id', '=', 'P-proto').execute()).toEqual(
      [],
    );
  });

  it('lets only an operator-wide caseload manager plant a decoy, and hides the flag from everyone else', async () => {
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/subjects',
      headers: as(managerA),
      payload: { id: 'DECOY-1', kind: 'young_person', decoy: true },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('DECOY_NOT_ALLOWED');
    const planted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/subjects',
      headers: admin(),
      payload: { id: 'DECOY-1', kind: 'young_person', decoy: true },
    });
    expect(planted.json().decoy).toBe(true);
    await makeFollow(db, { subjectId: 'DECOY-1', organisationId: scene.structure.id });
    const seen = await t.app.inject({ url: '/api/v1/subjects/DECOY-1', headers: as(readerA) });
    expect(seen.statusCode).toBe(200);
    expect(seen.json()).not.toHaveProperty('decoy');
  });

  it('creates a follow within the manager scope and journals follow.created', async () => {
    await makeSubject(db, { id: 'P-1', kind: 'young_person' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(managerA),
      payload: { subjectId: 'P-1', organisationId: scene.structure.id, accountId: accountInA },
    });
    expect(res.statusCode).toBe(201);
    const follow = res.json();
    expect(follow).toMatchObject({
      subjectId: 'P-1',
      organisationId: scene.structure.id,
      accountId: accountInA,
      relation: 'follows',
      since: '2026-03-02T09:00:00.000Z',
      until: null,
      active: true,
    });
    const [event] = (await eventsOf(db, 'follow.created')).filter((e) => e.target_id === follow.id);
    expect(event).toMatchObject({ organisation_id: scene.structure.id, outcome: 'success' });
  });

  it('refuses a duplicate open follow with 409', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(managerA),
      payload: { subjectId: 'P-1', organisationId: scene.structure.id, accountId: accountInA },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('FOLLOW_EXISTS');
  });

  it("answers 404 for another tenant's organisation and journals the refusal", async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(managerA),
      payload: { subjectId: 'P-1', organisationId: otherStructure.id },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ORGANISATION_NOT_FOUND');
    const refusals = (await eventsOf(db, 'follow.created')).filter((e) => e.outcome === 'denied');
    expect(refusals.length).toBeGreaterThan(0);
    expect(
      await db.selectFrom('follows').select('id').where('organisation_id', '=', otherStructure.id).execute(),
    ).toEqual([]);
  });

  it('refuses an account of another organisation as the caseload holder', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(managerA),
      payload: {
        subjectId: 'P-1',
        organisationId: scene.structure.id,
        accountId: accountInB,
        relation: 'enrolled',
      },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('refuses a period that ends before it starts, and an unknown subject', async () => {
    const period = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(managerA),
      payload: {
        subjectId: 'P-1',
        organisationId: scene.structure.id,
        since: '2026-01-01T00:00:00Z',
        until: '2025-01-01T00:00:00Z',
      },
    });
    expect(period.statusCode).toBe(400);
    expect(period.json().error.code).toBe('FOLLOW_INVALID_PERIOD');
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(managerA),
      payload: { subjectId: 'NOBODY', organisationId: scene.structure.id },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('SUBJECT_NOT_FOUND');
  });

  it('shows a subject only to those whose scope follows it', async () => {
    await makeSubject(db, { id: 'P-B-only' });
    await makeFollow(db, { subjectId: 'P-B-only', organisationId: otherStructure.id });
    const hidden = await t.app.inject({ url: '/api/v1/subjects/P-B-only', headers: as(readerA) });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error.code).toBe('SUBJECT_NOT_FOUND');
    const seen = await t.app.inject({ url: '/api/v1/subjects/P-B-only', headers: as(analyst) });
    expect(seen.statusCode).toBe(200);
    const mine = await t.app.inject({ url: '/api/v1/subjects/P-1', headers: as(readerA) });
    expect(mine.statusCode).toBe(200);
  });

  it("lists a subject's follows restricted to the caller's scope", async () => {
    await makeFollow(db, { subjectId: 'P-1', organisationId: otherStructure.id });
    const scoped = await t.app.inject({ url: '/api/v1/subjects/P-1/follows', headers: as(readerA) });
    expect(scoped.statusCode).toBe(200);
    expect(scoped.json().items.map((f: { organisationId: string }) => f.organisationId)).toEqual([
      scene.structure.id,
    ]);
    const all = await t.app.inject({ url: '/api/v1/subjects/P-1/follows', headers: as(analyst) });
    expect(all.json().items).toHaveLength(2);
  });

  it('pages the follows of an organisation with an opaque cursor', async () => {
    for (const id of ['P-2', 'P-3', 'P-4']) {
      await makeSubject(db, { id });
      await makeFollow(db, { subjectId: id, organisationId: scene.structure.id });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const url: string = `/api/v1/follows?organisationId=${scene.structure.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.app.inject({ url, headers: as(readerA) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((f: { id: string }) => f.id));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(5);
    const other = await t.app.inject({
      url: `/api/v1/follows?organisationId=${otherStructure.id}`,
      headers: as(readerA),
    });
    expect(other.statusCode).toBe(404);
  });

  it('ends a follow once, in scope only, and journals follow.ended', async () => {
    const follow = await makeFollow(db, { subjectId: 'P-2', organisationId: otherStructure.id });
    const foreign = await t.app.inject({
      method: 'POST',
      url: `/api/v1/follows/${follow.id}/end`,
      headers: as(managerA),
      payload: {},
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('FOLLOW_NOT_FOUND');

    const mine = (await db.selectFrom('follows').selectAll().where('subject_id', '=', 'P-3').execute())[0]!;
    const ended = await t.app.inject({
      method: 'POST',
      url: `/api/v1/follows/${mine.id}/end`,
      headers: as(managerA),
      payload: {},
    });
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ until: '2026-03-02T09:00:00.000Z', active: false });
    expect(
      (await eventsOf(db, 'follow.ended')).filter((e) => e.target_id === mine.id && e.outcome === 'success'),
    ).toHaveLength(1);
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/follows/${mine.id}/end`,
      headers: as(managerA),
      payload: {},
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('FOLLOW_ALREADY_ENDED');
    const active = await t.app.inject({
      url: `/api/v1/follows?organisationId=${scene.structure.id}&activeOnly=true&limit=500`,
      headers: as(readerA),
    });
    expect(active.json().items.map((f: { id: string }) => f.id)).not.toContain(mine.id);
  });

  it('refuses callers without the caseload permissions, and anonymous ones', async () => {
    const agent = await t.app.inject({ url: '/api/v1/subjects/P-1', headers: as(agentA) });
    expect(agent.statusCode).toBe(403);
    expect(agent.json().error.code).toBe('PERMISSION_DENIED');
    const reader = await t.app.inject({
      method: 'POST',
      url: '/api/v1/follows',
      headers: as(readerA),
      payload: { subjectId: 'P-1', organisationId: scene.structure.id },
    });
    expect(reader.statusCode).toBe(403);
    const anonymous = await t.app.inject({ url: '/api/v1/subjects/P-1' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('rejects malformed ids in paths and queries with 400', async () => {
    const longId = await t.app.inject({ url: `/api/v1/subjects/${'a'.repeat(65)}`, headers: admin() });
    expect(longId.statusCode).toBe(400);
    const badFollow = await t.app.inject({ url: '/api/v1/follows/not-a-uuid', headers: admin() });
    expect(badFollow.statusCode).toBe(400);
    const noOrg = await t.app.inject({ url: '/api/v1/follows', headers: admin() });
    expect(noOrg.statusCode).toBe(400);
    const nan = await t.app.inject({
      url: `/api/v1/follows?organisationId=${scene.structure.id}&limit=NaN`,
      headers: admin(),
    });
    expect(nan.statusCode).toBe(400);
  });
});
