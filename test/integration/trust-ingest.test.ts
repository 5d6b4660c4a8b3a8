import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import {
  MAX_EXTERNAL_PER_APPLICATION,
  type EntityDirectory,
} from '../../src/modules/detection/entity.directory.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeOrganisation,
  makeScene,
} from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Issue 8 replayed through the HTTP API: a training organisation's partner application, holding only
 * event.ingest, sends three forged sign-ins naming a platform administrator, one session, three
 * networks. Ingested events are claims bounded by their sender's reporting scope, and automatic
 * responses cannot be aimed at a privileged account, above the evidence, or at the last admin.
 */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const detectionOf = (t: TestApp) =>
  (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service;

/** Vigie's own events that the test rules answer with a suspension: evidence that is no claim. */
const TEST_RULES = [
  'id: test.token-issued-suspends',
  'title: A token issued by an account suspends it',
  'level: high',
  'tags: [attack.persistence, attack.t1098]',
  'type: match',
  'entity: account',
  'kinds: [token.issued]',
  'detection: { sel: { outcome: success }, condition: sel }',
  'responses:',
  '  - action: suspend_account',
  '---',
  'id: test.suspender-suspended',
  'title: An account suspending another is suspended',
  'level: high',
  'tags: [attack.impact, attack.t1531]',
  'type: match',
  'entity: account',
  'kinds: [account.suspended]',
  'detection: { sel: { actor.type: account }, condition: sel }',
  'responses:',
  '  - action: suspend_account',
  '---',
  'id: test.token-revoked-suspends-lineage',
  'title: An account revoking a token is suspended with its lineage',
  'level: high',
  'tags: [attack.defense_evasion, attack.t1070]',
  'type: match',
  'entity: account',
  'kinds: [token.revoked]',
  'detection: { sel: { outcome: success }, condition: sel }',
  'responses:',
  '  - action: suspend_lineage',
].join('\n');

describe('trust boundaries of ingestion and automatic responses', () => {
  let t: TestApp;
  let dir: string;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let training: Awaited<ReturnType<typeof makeOrganisation>>;
  let analystToken: string;
  let partnerId: string;
  let partnerToken: string;
  let gatewayId: string;
  let gatewayToken: string;
  let agent: Awaited<ReturnType<typeof makeAccount>>;
  let agentToken: string;
  let trainee: Awaited<ReturnType<typeof makeAccount>>;
  let directory: EntityDirectory;
  let now: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-trust-'));
    for (const f of fs.readdirSync('rules').filter((x) => x.endsWith('.yaml')))
      fs.copyFileSync(path.join('rules', f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'zz-test.yaml'), TEST_RULES);
    t = await createTestApp({ env: { VIGIE_RULES_DIR: dir } });
    const db = t.database.db;
    scene = await makeScene(db);
    training = await makeOrganisation(db, {
      parent: scene.network,
      name: 'Organisme de formation',
      kind: 'training_organisation',
    });
    const dsi = await makeOrganisation(db, { parent: scene.operator, name: 'DSI', kind: 'other' });
    const analyst = await makeAccount(db, { organisationId: scene.operator.id, approvedBy: scene.admin.id });
    await grantRole(db, analyst.id, 'auditor', scene.operator.id);
    analystToken = await issueToken(db, 'account', analyst.id);
    agent = await makeAccount(db, { organisationId: scene.structure.id, approvedBy: scene.admin.id });
    await grantRole(db, agent.id, 'agent', scene.structure.id);
    agentToken = await issueToken(db, 'account', agent.id);
    trainee = await makeAccount(db, { organisationId: training.id, approvedBy: scene.admin.id });
    const partner = await makeApplication(db, { organisationId: training.id, scopes: ['event.ingest'] });
    partnerId = partner.id;
    partnerToken = await issueToken(db, 'application', partner.id);
    await t.container.start();
    // The operator's sign-in gateway, registered through the API with a reporting scope over the root.
    const registered = await t.app.inject({
      method: 'POST',
      url: '/api/v1/applications',
      headers: auth(scene.adminToken),
      payload: {
        organisationId: dsi.id,
        name: 'Passerelle de connexion',
        kind: 'business',
        scopes: ['event.ingest'],
        reportingOrganisationId: scene.operator.id,
      },
    });
    expect(registered.statusCode).toBe(201);
    gatewayId = registered.json().id;
    gatewayToken = await issueToken(db, 'application', gatewayId);
    directory = detectionOf(t).directory;
    now = t.clock.now().getTime();
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = (token: string, payload: unknown[]) =>
    t.app.inject({ method: 'POST', url: '/api/v1/events', headers: auth(token), payload });
  const signIn = (uid: string, ip: string, i: number, extra: Record<string, unknown> = {}) => ({
    class_uid: 3002,
    activity_id: 1,
    status_id: 1,
    time: now + i * 1000,
    metadata: { uid: `${uid}-${ip}-${i}` },
    user: { uid, ...extra },
    src_endpoint: { ip },
    session: { uid: 'sess-forged-1' },
  });
  const forged = (uid: string, extra?: Record<string, unknown>) => [
    signIn(uid, '90.0.0.1', 0, extra),
    signIn(uid, '8.8.8.8', 1, extra),
    signIn(uid, '1.1.1.1', 2, extra),
  ];
  const adminStillWorks = async () =>
    (await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(scene.adminToken) })).statusCode;
  const alertsOf = async (ruleId: string, entityId: string) =>
    (
      await t.app.inject({
        url: `/api/v1/alerts?ruleId=${ruleId}&entityId=${encodeURIComponent(entityId)}`,
        headers: auth(analystToken),
      })
    ).json().items as Array<{ id: string; summary: Record<string, unknown>; organisationId: string | null }>;
  const responsesOf = async (alertId: string) =>
    (await t.app.inject({ url: `/api/v1/alerts/${alertId}/responses`, headers: auth(analystToken) })).json()
      .items as Array<{
      action: string;
      status: string;
      errorCode: string | null;
      result: Record<string, unknown>;
    }>;
  const responseEvents = async () =>
    (
      await t.database.db
        .selectFrom('events')
        .select(['kind', 'target_id', 'payload'])
        .where('kind', 'like', 'response.%')
        .orderBy('seq')
        .execute()
    ).map((e) => ({
      kind: e.kind,
      target_id: e.target_id,
      reason: (JSON.parse(e.payload) as { reason?: string }).reason,
    }));

  it("refuses a training organisation's partner app naming a platform admin: ACTOR_OUT_OF_SCOPE, nothing acts", async () => {
    const res = await post(partnerToken, forged(scene.admin.id));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toEqual([]);
    expect(body.inserted).toBe(0);
    expect(body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [0, 'ACTOR_OUT_OF_SCOPE'],
      [1, 'ACTOR_OUT_OF_SCOPE'],
      [2, 'ACTOR_OUT_OF_SCOPE'],
    ]);
    // The reason names no one: neither the account nor the application's view of it.
    expect(JSON.stringify(body.rejected)).not.toContain(scene.admin.id);
    await detectionOf(t).settled();
    expect(await adminStillWorks()).toBe(200);
    // Refused events reach no rule: no alert, not even an observation of the admin.
    expect(await alertsOf('vigie.privileged-impossible-travel', scene.admin.id)).toEqual([]);
    const observed = await t.app.inject({
      url: `/api/v1/risk/entities/${scene.admin.id}`,
      headers: auth(analystToken),
    });
    expect(observed.json().items).toEqual([]);
    expect(await responseEvents()).toEqual([]);
  });

  it('keeps the good events of a mixed batch and rejects the others by index', async () => {
    const res = await post(partnerToken, [
      signIn(trainee.id, '90.0.0.7', 0),
      signIn(agent.id, '90.0.0.7', 1),
      signIn(trainee.id, '90.0.0.7', 2, { org: { uid: scene.structure.id } }),
      { ...signIn('jdupont', '90.0.0.7', 3), user: { uid: 'jdupont', org: { uid: scene.operator.id } } },
      { ...signIn('jdupont', '90.0.0.7', 4), user: { uid: 'jdupont', org: { uid: training.id } } },
      { ...signIn('x', '90.0.0.7', 5), user: { uid: 'x', org: { uid: '../../etc' } } },
      {
        class_uid: 3005,
        activity_id: 1,
        time: now,
        metadata: { uid: 'grant-forged' },
        actor: { user: { uid: trainee.id } },
        user: { uid: scene.admin.id },
        privileges: ['platform_admin'],
      },
    ]);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted.map((a: { index: number }) => a.index)).toEqual([0, 4]);
    expect(body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'ACTOR_OUT_OF_SCOPE'],
      [2, 'ORGANISATION_MISMATCH'],
      [3, 'ACTOR_OUT_OF_SCOPE'],
      [5, 'ACTOR_OUT_OF_SCOPE'],
      [6, 'ACTOR_OUT_OF_SCOPE'],
    ]);
    const stored = await t.database.db
      .selectFrom('events')
      .select(['actor_type', 'actor_id', 'organisation_id', 'source'])
      .where(
        'id',
        'in',
        body.accepted.flatMap((a: { ids: string[] }) => a.ids),
      )
      .orderBy('actor_type')
      .execute();
    // The account's organisation comes from the directory; a name that is no account is external.
    expect(stored).toEqual([
      { actor_type: 'account', actor_id: trainee.id, organisation_id: training.id, source: partnerId },
      {
        actor_type: 'external',
        actor_id: `${partnerId}:jdupont`,
        organisation_id: training.id,
        source: partnerId,
      },
    ]);
  });

  it("accepts the same sign-ins from the operator's gateway, but withholds the response on the privileged admin for a person", async () => {
    const res = await post(gatewayToken, forged(scene.admin.id));
    expect(res.json().rejected).toEqual([]);
    expect(res.json().inserted).toBe(3);
    await detectionOf(t).settled();
    expect(await adminStillWorks()).toBe(200);
    // The session seen from a second network is a signal now: an observation of the admin, no alert.
    expect(await alertsOf('vigie.session-reuse-new-network', scene.admin.id)).toEqual([]);
    const observed = (
      await t.app.inject({ url: `/api/v1/risk/entities/${scene.admin.id}`, headers: auth(analystToken) })
    ).json<{ items: Array<{ ruleId: string; factors: string[] }> }>();
    expect(observed.items.map((i) => i.ruleId)).toContain('vigie.session-reuse-new-network');
    // Impossible travel (Paris, then the USA a second later) answers with a step-up: withheld, since
    // ingested claims alone never act on a privileged account.
    const [travel] = await alertsOf('vigie.privileged-impossible-travel', scene.admin.id);
    expect(travel!.organisationId).toBe(scene.operator.id);
    expect(travel!.summary.needsPerson).toMatchObject({
      code: 'RESPONSE_NEEDS_PERSON',
      withheld: [{ action: 'require_step_up', reasons: ['privileged_target'] }],
    });
    expect((await responsesOf(travel!.id)).map((r) => [r.action, r.status, r.errorCode, r.result])).toEqual([
      ['require_step_up', 'withheld', 'RESPONSE_NEEDS_PERSON', { withheld: ['privileged_target'] }],
    ]);
    const events = await responseEvents();
    expect(events).toEqual([
      { kind: 'response.withheld', target_id: scene.admin.id, reason: 'RESPONSE_NEEDS_PERSON' },
    ]);
    const revoked = await t.database.db
      .selectFrom('api_tokens')
      .select('id')
      .where('principal_id', '=', scene.admin.id)
      .where('revoked_at', 'is not', null)
      .execute();
    expect(revoked).toEqual([]);
    // A withheld response is no act to undo.
    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/v1/responses/${(await t.database.db.selectFrom('responses').select('id').executeTakeFirstOrThrow()).id}/undo`,
      headers: auth(scene.adminToken),
      payload: { reason: 'nothing was done' },
    });
    expect(undo.statusCode).toBe(409);
    expect(undo.json().error.code).toBe('RESPONSE_NOT_UNDOABLE');
  });

  it('maps root/admin of an SSH log as external principals: spraying from one IP still fires, no account state', async () => {
    const accountsBefore = directory.trackedAccounts;
    const names = ['root', 'admin', 'oracle', 'postgres', 'ubuntu', 'test', 'guest', 'git', 'pi', 'user'];
    const res = await post(
      partnerToken,
      names.map((name, i) => ({
        class_uid: 3002,
        activity_id: 1,
        status_id: 2,
        time: now + 10_000 + i,
        metadata: { uid: `ssh-${name}` },
        user: { name },
        src_endpoint: { ip: '203.0.113.66' },
      })),
    );
    expect(res.json().rejected).toEqual([]);
    expect(res.json().inserted).toBe(10);
    await detectionOf(t).settled();
    expect(directory.trackedAccounts).toBe(accountsBefore);
    expect(directory.account('root')).toBeUndefined();
    expect(directory.externalLastSeen(`${partnerId}:root`)).toBe(now + 10_000);
    const stored = await t.database.db
      .selectFrom('events')
      .select(['actor_type', 'actor_id'])
      .where('id', 'in', res.json().accepted[0].ids)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ actor_type: 'external', actor_id: `${partnerId}:root` });
    const [spraying] = await alertsOf('vigie.password-spraying', '203.0.113.66');
    expect(spraying).toBeDefined();
  });

  it('forgets the least recently seen external principals beyond the cap of one application', async () => {
    const before = directory.trackedExternalPrincipals;
    const flood = Array.from({ length: MAX_EXTERNAL_PER_APPLICATION + 50 }, (_, i) => ({
      class_uid: 3002,
      activity_id: 1,
      status_id: 2,
      time: now + 20_000,
      metadata: { uid: `flood-${i}` },
      user: { name: `u${i}` },
      src_endpoint: { ip: '203.0.113.67' },
    }));
    expect((await post(gatewayToken, flood)).json().inserted).toBe(flood.length);
    await detectionOf(t).settled();
    // The gateway's own names are capped; the partner's are untouched by its flood.
    expect(directory.trackedExternalPrincipals).toBe(before + MAX_EXTERNAL_PER_APPLICATION);
    expect(directory.externalLastSeen(`${gatewayId}:u0`)).toBeUndefined();
    expect(directory.externalLastSeen(`${gatewayId}:u${flood.length - 1}`)).toBe(now + 20_000);
    expect(directory.externalLastSeen(`${partnerId}:root`)).toBe(now + 10_000);
  });

  it("still contains an ordinary in-scope account automatically on Vigie's own evidence", async () => {
    const issued = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: auth(agentToken),
      payload: { name: 'laptop' },
    });
    expect(issued.statusCode).toBe(201);
    await detectionOf(t).settled();
    const [alert] = await alertsOf('test.token-issued-suspends', agent.id);
    expect((await responsesOf(alert!.id)).map((r) => [r.action, r.status])).toEqual([
      ['suspend_account', 'executed'],
    ]);
    expect(alert!.summary.needsPerson).toBeUndefined();
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(agentToken) })).statusCode).toBe(
      401,
    );
  });

  it('never suspends the last active platform administrator automatically, whatever the evidence', async () => {
    const issued = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: auth(scene.adminToken),
      payload: { name: 'second' },
    });
    expect(issued.statusCode).toBe(201);
    await detectionOf(t).settled();
    const [alert] = await alertsOf('test.token-issued-suspends', scene.admin.id);
    const [response] = await responsesOf(alert!.id);
    expect(response).toMatchObject({
      action: 'suspend_account',
      status: 'withheld',
      result: { withheld: ['last_platform_admin'] },
    });
    expect(alert!.summary.needsPerson).toMatchObject({ code: 'RESPONSE_NEEDS_PERSON' });
    expect(await adminStillWorks()).toBe(200);
  });

  it('never takes the last active platform administrator down with a lineage it approved', async () => {
    const db = t.database.db;
    // X approved the only platform administrator: suspending X's lineage would lock the operator out.
    const x = await makeAccount(db, { organisationId: scene.operator.id, approvedBy: scene.admin.id });
    const xToken = await issueToken(db, 'account', x.id);
    const spare = await makeAccount(db, { organisationId: scene.operator.id, createdBy: x.id });
    await db.updateTable('accounts').set({ approved_by: x.id }).where('id', '=', scene.admin.id).execute();
    try {
      const own = await db
        .selectFrom('api_tokens')
        .select('id')
        .where('principal_id', '=', x.id)
        .executeTakeFirstOrThrow();
      await issueToken(db, 'account', x.id);
      const revoked = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/tokens/${own.id}`,
        headers: auth(xToken),
      });
      expect(revoked.statusCode, revoked.body).toBe(200);
      await detectionOf(t).settled();
      const [alert] = await alertsOf('test.token-revoked-suspends-lineage', x.id);
      const [response] = await responsesOf(alert!.id);
      expect(response).toMatchObject({
        action: 'suspend_lineage',
        status: 'withheld',
        result: { withheld: ['last_platform_admin'] },
      });
      expect(await adminStillWorks()).toBe(200);
      const statuses = await db
        .selectFrom('accounts')
        .select(['id', 'status'])
        .where('id', 'in', [x.id, spare.id])
        .execute();
      expect(statuses.map((r) => r.status)).toEqual(['active', 'active']);
    } finally {
      await db.updateTable('accounts').set({ approved_by: null }).where('id', '=', scene.admin.id).execute();
    }
  });

  it("never suspends an account of a higher organisation than the evidence's", async () => {
    const db = t.database.db;
    const manager = await makeAccount(db, { organisationId: scene.network.id, approvedBy: scene.admin.id });
    await grantRole(db, manager.id, 'security_analyst', scene.network.id);
    const managerToken = await issueToken(db, 'account', manager.id);
    const target = await makeAccount(db, { organisationId: scene.structure.id, approvedBy: scene.admin.id });
    const suspended = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${target.id}/suspend`,
      headers: auth(managerToken),
      payload: { reason: 'left the structure' },
    });
    expect(suspended.statusCode).toBe(200);
    await detectionOf(t).settled();
    const [alert] = await alertsOf('test.suspender-suspended', manager.id);
    expect(alert!.organisationId).toBe(scene.structure.id);
    const [response] = await responsesOf(alert!.id);
    expect(response).toMatchObject({
      action: 'suspend_account',
      status: 'withheld',
      result: { withheld: ['above_evidence_organisation'] },
    });
    expect((await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(managerToken) })).statusCode).toBe(
      200,
    );
  });
});
