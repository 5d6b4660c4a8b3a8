import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeOrganisation,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Alerts and responses end to end, on the whole app and a real database: an ingested event meets
 * the default pack, the alert and its `alert.raised` event commit together, responses suspend the
 * account through identity, and an analyst reads, streams, exports, closes and undoes.
 */
const detectionOf = (t: TestApp) =>
  (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function setScene(t: TestApp) {
  const db = t.database.db;
  const scene = await makeScene(db);
  const analyst = await makeAccount(db, { organisationId: scene.operator.id, approvedBy: scene.admin.id });
  await grantRole(db, analyst.id, 'security_analyst', scene.operator.id);
  const agent = await makeAccount(db, { organisationId: scene.structure.id, approvedBy: scene.admin.id });
  await grantRole(db, agent.id, 'agent', scene.structure.id);
  const otherRoot = await makeOrganisation(db, { name: 'Other operator', kind: 'operator' });
  const outsider = await makeAccount(db, { organisationId: otherRoot.id, approvedBy: scene.admin.id });
  await grantRole(db, outsider.id, 'security_analyst', otherRoot.id);
  const app = await makeApplication(db, { organisationId: scene.structure.id, scopes: ['event.ingest'] });
  const decoy = await makeSubject(db, { decoy: true });
  return {
    ...scene,
    appId: app.id,
    analyst,
    agent,
    decoy,
    analystToken: await issueToken(db, 'account', analyst.id),
    agentToken: await issueToken(db, 'account', agent.id),
    outsiderToken: await issueToken(db, 'account', outsider.id),
    appToken: await issueToken(db, 'application', app.id),
  };
}

type Scene = Awaited<ReturnType<typeof setScene>>;

function readOf(t: TestApp, s: Scene, record: string, uid: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: auth(s.appToken),
    payload: [
      {
        class_uid: 6003,
        activity_id: 2,
        time: t.clock.now().getTime(),
        metadata: { uid },
        status_id: 1,
        actor: { user: { uid: s.agent.id, org: { uid: s.structure.id } } },
        api: { operation: 'GET /dossiers/{id}' },
        resources: [{ uid: record, type: 'record' }],
      },
    ],
  });
}

describe('alerts and responses (default pack)', () => {
  let t: TestApp;
  let s: Scene;
  let alertId: string;

  beforeAll(async () => {
    t = await createTestApp();
    s = await setScene(t);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('raises an alert with evidence when a decoy record is read, and suspends the reader', async () => {
    const ingested = await readOf(t, s, s.decoy.id, 'evt-1');
    expect(ingested.statusCode).toBe(200);
    await detectionOf(t).settled();

    const list = await t.app.inject({
      url: '/api/v1/alerts?ruleId=vigie.honeytoken-touched',
      headers: auth(s.analystToken),
    });
    expect(list.statusCode).toBe(200);
    const [alert] = list.json().items;
    expect(alert).toMatchObject({
      ruleId: 'vigie.honeytoken-touched',
      severity: 'critical',
      status: 'new',
      entity: { type: 'account', id: s.agent.id },
      organisationId: s.structure.id,
    });
    expect(alert.tags).toContain('attack.t1213');
    const evidenceId = ingested.json().accepted[0].ids[0];
    expect(alert.evidence).toEqual([
      { eventId: evidenceId, proof: `/api/v1/journal/proof/inclusion?eventId=${evidenceId}` },
    ]);
    alertId = alert.id;

    const raised = await t.database.db
      .selectFrom('events')
      .select(['kind', 'target_id'])
      .where('id', '=', alert.raisedEventId)
      .executeTakeFirst();
    expect(raised).toEqual({ kind: 'alert.raised', target_id: alert.id });

    const account = await t.database.db
      .selectFrom('accounts')
      .select('status')
      .where('id', '=', s.agent.id)
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('suspended');
    const refused = await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.agentToken) });
    expect(refused.statusCode).toBe(401);

    const responses = await t.app.inject({
      url: `/api/v1/alerts/${alertId}/responses`,
      headers: auth(s.analystToken),
    });
    expect(
      responses
        .json()
        .items.map((r: { action: string; status: string }) => [r.action, r.status])
        .sort(),
    ).toEqual([
      ['revoke_tokens', 'executed'],
      ['suspend_account', 'executed'],
    ]);
    const journaled = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', 'in', ['response.executed', 'account.suspended', 'token.revoked'])
      .execute();
    expect(journaled.map((e) => e.kind).sort()).toEqual([
      'account.suspended',
      'response.executed',
      'response.executed',
      'token.revoked',
    ]);
  });

  it('folds a repeat of the same rule and entity into the open alert', async () => {
    await readOf(t, s, s.decoy.id, 'evt-2');
    await detectionOf(t).settled();
    const list = await t.app.inject({
      url: '/api/v1/alerts?ruleId=vigie.honeytoken-touched',
      headers: auth(s.analystToken),
    });
    expect(list.json().items).toHaveLength(1);
    expect(list.json().items[0].occurrences).toBe(2);
  });

  it('lets an analyst undo the suspension but not the token revocation', async () => {
    const responses = (
      await t.app.inject({ url: `/api/v1/alerts/${alertId}/responses`, headers: auth(s.analystToken) })
    ).json().items;
    const suspend = responses.find((r: { action: string }) => r.action === 'suspend_account');
    const revoke = responses.find((r: { action: string }) => r.action === 'revoke_tokens');
    const notReversible = await t.app.inject({
      method: 'POST',
      url: `/api/v1/responses/${revoke.id}/undo`,
      headers: auth(s.analystToken),
      payload: { reason: 'false alarm' },
    });
    expect(notReversible.statusCode).toBe(409);
    expect(notReversible.json().error.code).toBe('RESPONSE_NOT_REVERSIBLE');
    const undone = await t.app.inject({
      method: 'POST',
      url: `/api/v1/responses/${suspend.id}/undo`,
      headers: auth(s.adminToken),
      payload: { reason: 'false alarm' },
    });
    expect(undone.statusCode).toBe(200);
    expect(undone.json().status).toBe('undone');
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/responses/${suspend.id}/undo`,
      headers: auth(s.adminToken),
      payload: { reason: 'false alarm' },
    });
    expect(again.json().error.code).toBe('RESPONSE_NOT_UNDOABLE');
    const account = await t.database.db
      .selectFrom('accounts')
      .select('status')
      .where('id', '=', s.agent.id)
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('active');
    const fresh = await issueToken(t.database.db, 'account', s.agent.id);
    expect((await t.app.inject({ url: '/api/v1/alerts', headers: auth(fresh) })).statusCode).toBe(403);
  });

  it('moves an alert through its statuses and refuses going back', async () => {
    const ack = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${alertId}`,
      headers: auth(s.analystToken),
      payload: { status: 'acknowledged' },
    });
    expect(ack.statusCode).toBe(200);
    const close = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${alertId}`,
      headers: auth(s.analystToken),
      payload: { status: 'closed_true_positive', comment: 'confirmed with the structure' },
    });
    expect(close.json()).toMatchObject({
      status: 'closed_true_positive',
      comment: 'confirmed with the structure',
      updatedBy: s.analyst.id,
    });
    const back = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${alertId}`,
      headers: auth(s.analystToken),
      payload: { status: 'acknowledged' },
    });
    expect(back.statusCode).toBe(409);
    expect(back.json().error.code).toBe('ALERT_TRANSITION_REFUSED');
    const bad = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/alerts/${alertId}`,
      headers: auth(s.analystToken),
      payload: { status: 'deleted' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('hides alerts from other tenants and from accounts without alert.read', async () => {
    expect(
      (await t.app.inject({ url: `/api/v1/alerts/${alertId}`, headers: auth(s.outsiderToken) })).json().error
        .code,
    ).toBe('ALERT_NOT_FOUND');
    expect(
      (await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.outsiderToken) })).json().items,
    ).toEqual([]);
    expect(
      (await t.app.inject({ url: `/api/v1/alerts/not-a-uuid`, headers: auth(s.analystToken) })).statusCode,
    ).toBe(400);
    expect((await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.appToken) })).json().error.code).toBe(
      'ACCOUNT_REQUIRED',
    );
  });

  it('exports an alert as an OCSF Detection Finding', async () => {
    const res = await t.app.inject({ url: `/api/v1/alerts/${alertId}/ocsf`, headers: auth(s.analystToken) });
    expect(res.json()).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      type_uid: 200403,
      severity_id: 5,
      status: 'Resolved',
      status_detail: 'True Positive',
      finding_info: { uid: alertId, analytic: { uid: 'vigie.honeytoken-touched', type: 'Rule' } },
      resources: [{ type: 'account', uid: s.agent.id }],
    });
    expect(res.json().finding_info.attacks[0].technique.uid).toBe('T1213');
  });

  it('pages through alerts with a cursor', async () => {
    for (const [i, ip] of ['203.0.113.1', '203.0.113.2', '203.0.113.3'].entries()) {
      const batch = Array.from({ length: 10 }, (_, k) => ({
        class_uid: 3002,
        activity_id: 1,
        time: t.clock.now().getTime(),
        metadata: { uid: `spray-${i}-${k}` },
        status_id: 2,
        user: { uid: `victim-${k}` },
        src_endpoint: { ip },
      }));
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/events',
        headers: auth(s.appToken),
        payload: batch,
      });
    }
    await detectionOf(t).settled();
    const first = (
      await t.app.inject({
        url: '/api/v1/alerts?ruleId=vigie.password-spraying&limit=2',
        headers: auth(s.analystToken),
      })
    ).json();
    expect(first.items).toHaveLength(2);
    const second = (
      await t.app.inject({
        url: `/api/v1/alerts?ruleId=vigie.password-spraying&limit=2&cursor=${first.nextCursor}`,
        headers: auth(s.analystToken),
      })
    ).json();
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(
      new Set([...first.items, ...second.items].map((a: { entity: { id: string } }) => a.entity.id)),
    ).toEqual(new Set(['203.0.113.1', '203.0.113.2', '203.0.113.3']));
  });

  it('lists the loaded rules and reloads them for an analyst holding rule.manage', async () => {
    const rules = (await t.app.inject({ url: '/api/v1/rules', headers: auth(s.analystToken) })).json().items;
    expect(rules.length).toBeGreaterThanOrEqual(21);
    expect(
      (
        await t.app.inject({ url: '/api/v1/rules/vigie.honeytoken-touched', headers: auth(s.analystToken) })
      ).json().type,
    ).toBe('honeytoken');
    expect(
      (await t.app.inject({ url: '/api/v1/rules/nope', headers: auth(s.analystToken) })).statusCode,
    ).toBe(404);
    const agentToken = await issueToken(t.database.db, 'account', s.agent.id);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/v1/rules/reload', headers: auth(agentToken) }))
        .statusCode,
    ).toBe(403);
    const reload = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rules/reload',
      headers: auth(s.analystToken),
    });
    expect(reload.json().count).toBe(rules.length);
  });
});

describe('responses that restore access when undone', () => {
  let t: TestApp;
  let s: Scene;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-rules-'));
    fs.writeFileSync(
      path.join(dir, 'decoy.yaml'),
      [
        'id: test.decoy-suspend',
        'title: Decoy read suspends the reader',
        'level: high',
        'tags: [attack.collection, attack.t1213]',
        'type: honeytoken',
        'entity: account',
        'kinds: [record.read]',
        'responses:',
        '  - action: suspend_account',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'freeze.yaml'),
      [
        'id: test.app-freeze',
        'title: A read of a marked record freezes the application',
        'level: high',
        'tags: [attack.collection, attack.t1213]',
        'type: match',
        'entity: application',
        'kinds: [record.read]',
        'detection: { sel: { target.id: FREEZE-ME }, condition: sel }',
        'responses:',
        '  - action: freeze_budgets',
        '  - action: require_step_up',
      ].join('\n'),
    );
    t = await createTestApp({ env: { VIGIE_RULES_DIR: dir } });
    s = await setScene(t);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('suspends the account, its token stops working, and undo brings the same token back', async () => {
    expect((await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.agentToken) })).statusCode).toBe(403);
    await readOf(t, s, s.decoy.id, 'decoy-1');
    await detectionOf(t).settled();
    expect((await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.agentToken) })).statusCode).toBe(401);
    const [alert] = (await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.analystToken) })).json()
      .items;
    const [response] = (
      await t.app.inject({ url: `/api/v1/alerts/${alert.id}/responses`, headers: auth(s.analystToken) })
    ).json().items;
    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/v1/responses/${response.id}/undo`,
      headers: auth(s.analystToken),
      payload: { reason: 'decoy read during a test' },
    });
    expect(undo.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/alerts', headers: auth(s.agentToken) })).statusCode).toBe(403);
    const undone = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', '=', 'response.undone')
      .execute();
    expect(undone).toHaveLength(1);
  });

  it('freezes an application through access controls, records a mismatched response as failed, and undoes the freeze', async () => {
    await readOf(t, s, 'FREEZE-ME', 'freeze-1');
    await detectionOf(t).settled();
    const [alert] = (
      await t.app.inject({ url: '/api/v1/alerts?ruleId=test.app-freeze', headers: auth(s.analystToken) })
    ).json().items;
    expect(alert.entity).toEqual({ type: 'application', id: s.appId });
    const responses = (
      await t.app.inject({ url: `/api/v1/alerts/${alert.id}/responses`, headers: auth(s.analystToken) })
    ).json().items;
    const freeze = responses.find((r: { action: string }) => r.action === 'freeze_budgets');
    const stepUp = responses.find((r: { action: string }) => r.action === 'require_step_up');
    expect(freeze).toMatchObject({ status: 'executed', target: { type: 'application', id: s.appId } });
    expect(stepUp).toMatchObject({ status: 'failed', errorCode: 'RESPONSE_TARGET_MISMATCH' });
    const frozen = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', '=', 'budget.frozen')
      .execute();
    expect(frozen).toHaveLength(1);
    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/v1/responses/${freeze.id}/undo`,
      headers: auth(s.adminToken),
      payload: { reason: 'checked with the partner' },
    });
    expect(undo.statusCode).toBe(200);
    expect(
      (
        await t.database.db
          .selectFrom('events')
          .select('kind')
          .where('kind', '=', 'budget.unfrozen')
          .execute()
      ).length,
    ).toBe(1);
  });

  it('refuses a rules reload with an error and keeps the running rule', async () => {
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'id: test.broken\ntitle: x\n');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/rules/reload',
      headers: auth(s.analystToken),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('RULES_INVALID');
    expect(res.json().error.details.problems[0].file).toBe('broken.yaml');
    const rules = (await t.app.inject({ url: '/api/v1/rules', headers: auth(s.analystToken) })).json().items;
    expect(rules.map((r: { id: string }) => r.id).sort()).toEqual(['test.app-freeze', 'test.decoy-suspend']);
  });
});
