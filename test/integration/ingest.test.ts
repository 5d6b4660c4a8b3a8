import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import type { VigieEvent } from '../../src/shared/event.js';
import { issueToken, makeAccount, makeApplication, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/** POST /api/v1/events: OCSF and mapped legacy events from registered applications. */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('event ingestion', () => {
  let t: TestApp;
  let dir: string;
  let appToken: string;
  let appId: string;
  let adminToken: string;
  let noScopeToken: string;
  let agentId: string;
  let structureId: string;
  let now: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-ingest-'));
    fs.mkdirSync(path.join(dir, 'mappings'));
    fs.writeFileSync(
      path.join(dir, 'mappings', 'legacy.yaml'),
      [
        'name: legacy-crm',
        'kind: { field: action, map: { consult: record.read, export: record.exported, login: auth.login } }',
        'outcome: { field: result, map: { OK: success, KO: failure }, default: success }',
        'fields: { id: log_id, time: ts, timeFormat: epoch_s, actor: user.login, target: dossier, ip: client_ip }',
      ].join('\n'),
    );
    t = await createTestApp({ env: { VIGIE_RULES_DIR: dir } });
    const scene = await makeScene(t.database.db);
    adminToken = scene.adminToken;
    structureId = scene.structure.id;
    agentId = (await makeAccount(t.database.db, { organisationId: structureId })).id;
    const app = await makeApplication(t.database.db, {
      organisationId: scene.structure.id,
      scopes: ['event.ingest'],
    });
    appId = app.id;
    appToken = await issueToken(t.database.db, 'application', app.id);
    const other = await makeApplication(t.database.db, {
      organisationId: scene.structure.id,
      scopes: ['pdp.evaluate'],
    });
    noScopeToken = await issueToken(t.database.db, 'application', other.id);
    await t.container.start();
    now = t.clock.now().getTime();
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = (payload: unknown, token = appToken, url = '/api/v1/events') =>
    t.app.inject({ method: 'POST', url, headers: auth(token), payload: payload as object });
  const stored = async (ids: string[]) =>
    (await t.database.db.selectFrom('events').select('payload').where('id', 'in', ids).execute()).map(
      (r) => JSON.parse(r.payload) as VigieEvent,
    );

  it('is for applications holding event.ingest only', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/events', payload: [] })).statusCode).toBe(401);
    expect((await post([], adminToken)).json().error.code).toBe('APPLICATION_REQUIRED');
    expect((await post([], noScopeToken)).json().error.code).toBe('SCOPE_DENIED');
  });

  it('maps OCSF authentication, account change, access management and API activity', async () => {
    const res = await post([
      {
        class_uid: 3002,
        activity_id: 1,
        time: now,
        status_id: 2,
        status_code: 'bad_password',
        metadata: { uid: 'a-1' },
        user: { uid: agentId, name: 'Jeanne Martin', org: { uid: structureId } },
        src_endpoint: { ip: '90.0.0.1' },
        session: { uid: 'sess-1' },
        http_request: { user_agent: 'Firefox/140' },
      },
      {
        class_uid: 3001,
        activity_id: 10,
        time: new Date(now).toISOString(),
        metadata: { uid: 'a-2' },
        actor: { user: { uid: agentId } },
        user: { uid: agentId },
      },
      {
        class_uid: 3005,
        activity_id: 1,
        time: now,
        metadata: { uid: 'a-3' },
        actor: { user: { uid: 'acc-9' } },
        user: { uid: agentId },
        privileges: ['advisor', 'exporter'],
      },
      {
        class_uid: 6003,
        activity_id: 2,
        time: now,
        metadata: { uid: 'a-4' },
        actor: { user: { uid: agentId } },
        api: { operation: 'GET /dossiers' },
        resources: [{ uid: 'DE-1' }, { uid: 'DE-2' }, { uid: 'DE-3' }],
      },
      {
        class_uid: 6003,
        activity_id: 2,
        time: now,
        metadata: { uid: 'a-5' },
        actor: { user: { uid: agentId } },
        api: { operation: 'ExportCsv' },
        resources: [{ uid: 'DE-4' }],
      },
    ]);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.rejected).toEqual([]);
    expect(body.inserted).toBe(7);
    const events = await stored(body.accepted.flatMap((a: { ids: string[] }) => a.ids));
    const byKind = (k: string) => events.filter((e) => e.kind === k);
    expect(byKind('auth.login')[0]).toMatchObject({
      actor: { type: 'account', id: agentId },
      outcome: 'failure',
      reason: 'bad_password',
      organisationId: structureId,
      context: { ip: '90.0.0.1', sessionId: 'sess-1', userAgent: 'Firefox/140' },
      source: appId,
      data: { applicationId: appId },
    });
    expect(JSON.stringify(events)).not.toContain('Jeanne');
    expect(byKind('mfa.factor_enabled')[0]).toMatchObject({ target: { type: 'account', id: agentId } });
    // acc-9 is no Vigie account: an external principal of this application, not an account.
    expect(byKind('role.granted')[0]).toMatchObject({
      actor: { type: 'external', id: `${appId}:acc-9` },
      target: { type: 'account', id: agentId },
      organisationId: structureId,
      data: { privileges: ['advisor', 'exporter'] },
    });
    expect(
      byKind('record.read')
        .map((e) => e.target!.id)
        .sort(),
    ).toEqual(['DE-1', 'DE-2', 'DE-3']);
    expect(byKind('record.exported')[0]).toMatchObject({ target: { type: 'record', id: 'DE-4' } });
  });

  it('rejects each bad event with its index and reason and keeps the good ones', async () => {
    const good = {
      class_uid: 3002,
      activity_id: 1,
      time: now,
      metadata: { uid: 'b-ok' },
      user: { uid: 'acc-2' },
    };
    const res = await post([
      'not an object',
      good,
      { class_uid: 4001, time: now },
      { class_uid: 3002, activity_id: 1, time: now - 40 * 86_400_000, user: { uid: 'x' } },
      { class_uid: 3002, activity_id: 1, time: now + 3_600_000, user: { uid: 'x' } },
      { class_uid: 3002, activity_id: 1, time: 'yesterday', user: { uid: 'x' } },
      { class_uid: 3002, activity_id: 1, time: now },
      { class_uid: 3002, activity_id: 77, time: now, user: { uid: 'x' } },
      { class_uid: 6003, activity_id: 2, time: now, actor: { user: { uid: 'x' } }, resources: [] },
      { class_uid: 3002, activity_id: 1, time: now, user: { uid: 'a'.repeat(500) } },
      { kind: 'whatever' },
    ]);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted.map((a: { index: number }) => a.index)).toEqual([1]);
    expect(body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [0, 'NOT_AN_OBJECT'],
      [2, 'UNSUPPORTED_CLASS'],
      [3, 'TIME_TOO_OLD'],
      [4, 'TIME_IN_FUTURE'],
      [5, 'INVALID_TIME'],
      [6, 'MISSING_USER'],
      [7, 'UNSUPPORTED_ACTIVITY'],
      [8, 'MISSING_RESOURCES'],
      [9, 'MISSING_USER'],
      [10, 'UNKNOWN_FORMAT'],
    ]);
  });

  it('makes a resent batch harmless', async () => {
    const batch = [
      { class_uid: 3002, activity_id: 1, time: now, metadata: { uid: 'c-1' }, user: { uid: 'acc-3' } },
      { class_uid: 3002, activity_id: 2, time: now, user: { uid: 'acc-3' } },
    ];
    const first = (await post(batch)).json();
    expect(first).toMatchObject({ inserted: 2, duplicates: 0 });
    const again = (await post(batch)).json();
    expect(again).toMatchObject({ inserted: 0, duplicates: 2 });
    expect(again.accepted.map((a: { ids: string[] }) => a.ids)).toEqual(
      first.accepted.map((a: { ids: string[] }) => a.ids),
    );
  });

  it('reads NDJSON and rejects a line that does not parse by its index', async () => {
    const lines = [
      JSON.stringify({
        class_uid: 3002,
        activity_id: 1,
        time: now,
        metadata: { uid: 'n-1' },
        user: { uid: 'acc-4' },
      }),
      '{"class_uid": 3002,',
      JSON.stringify({
        class_uid: 3002,
        activity_id: 1,
        time: now,
        metadata: { uid: 'n-2' },
        user: { uid: 'acc-4' },
      }),
    ].join('\n');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...auth(appToken), 'content-type': 'application/x-ndjson' },
      payload: lines,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted.map((a: { index: number }) => a.index)).toEqual([0, 2]);
    expect(res.json().rejected).toEqual([
      { index: 1, code: 'INVALID_JSON', reason: 'line is not valid JSON' },
    ]);
  });

  it('refuses an NDJSON body that is not valid UTF-8 with 400 INVALID_UTF8 and stores nothing', async () => {
    const before = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const line = Buffer.from(
      JSON.stringify({ class_uid: 3002, activity_id: 1, time: now, metadata: { uid: 'bad-utf8' } }),
    );
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...auth(appToken), 'content-type': 'application/x-ndjson' },
      payload: Buffer.concat([line, Buffer.from([0x0a, 0x7b, 0xc3, 0x28, 0x7d])]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_UTF8');
    const after = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('maps a legacy application log through a mapping file', async () => {
    const res = await post(
      [
        {
          log_id: 'L1',
          ts: Math.floor(now / 1000),
          action: 'consult',
          result: 'OK',
          user: { login: 'acc-5' },
          dossier: 'DE-77',
          client_ip: '90.0.0.1',
        },
        { log_id: 'L2', ts: Math.floor(now / 1000), action: 'print', user: { login: 'acc-5' } },
      ],
      appToken,
      '/api/v1/events?mapping=legacy-crm',
    );
    const body = res.json();
    expect(body.rejected).toEqual([
      { index: 1, code: 'UNMAPPED_ACTION', reason: 'action has no mapping in legacy-crm' },
    ]);
    const [event] = await stored(body.accepted[0].ids);
    expect(event).toMatchObject({
      kind: 'record.read',
      actor: { type: 'external', id: `${appId}:acc-5` },
      target: { type: 'record', id: 'DE-77' },
      context: { ip: '90.0.0.1' },
      outcome: 'success',
    });
    expect((await post([], appToken, '/api/v1/events?mapping=nope')).json().error.code).toBe(
      'MAPPING_NOT_FOUND',
    );
  });

  it('refuses an oversized batch, a body that is not a list, and prototype poisoning', async () => {
    const big = Array.from({ length: 10_001 }, () => ({}));
    const res = await post(big);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('BATCH_TOO_LARGE');
    expect((await post({ class_uid: 3002 })).json().error.code).toBe('INVALID_BODY');
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...auth(appToken), 'content-type': 'application/json' },
      payload: '[{"__proto__":{"admin":true}}]',
    });
    expect(poisoned.statusCode).toBe(400);
  });

  it('answers 429 with Retry-After while detection is behind, and accepts again once it caught up', async () => {
    const detection = (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service;
    const filler: VigieEvent = {
      id: 'filler',
      time: new Date(now).toISOString(),
      kind: 'test.filler',
      actor: { type: 'system', id: 'test' },
      outcome: 'success',
    };
    detection.engine.enqueue(Array.from({ length: 200_000 }, () => filler));
    const res = await post([
      { class_uid: 3002, activity_id: 1, time: now, metadata: { uid: 'bp-1' }, user: { uid: 'acc-6' } },
    ]);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().error.code).toBe('INGEST_BACKPRESSURE');
    await detection.settled();
    const retried = await post([
      { class_uid: 3002, activity_id: 1, time: now, metadata: { uid: 'bp-1' }, user: { uid: 'acc-6' } },
    ]);
    expect(retried.json().inserted).toBe(1);
  });

  it('answers 429 with Retry-After while the database writer is backed up, before decisions wait', async () => {
    const event = (uid: string) => ({
      class_uid: 3002,
      activity_id: 1,
      time: now,
      metadata: { uid },
      user: { uid: 'acc-7' },
    });
    expect((await post([event('wb-0')])).statusCode).toBe(200); // the principal is cached from here
    // Nine writers hold or wait for a connection (SQLite: one holds, eight wait; PostgreSQL's pool of
    // five: five hold, four wait): the writer's queue is past its bound.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const writers = Array.from({ length: 9 }, () =>
      t.database.db.transaction().execute(async (trx) => {
        await trx.selectFrom('events').select('seq').limit(1).execute();
        await held;
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(t.database.writerBacklog().waiting).toBeGreaterThanOrEqual(4);
    const refused = await post([event('wb-1')]);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error.code).toBe('INGEST_BACKPRESSURE');
    release();
    await Promise.all(writers);
    const retried = await post([event('wb-1')]);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().inserted).toBe(1);
  });

  it('stores a large batch in several short transactions, every event once, with one summary', async () => {
    const items = Array.from({ length: 2_500 }, (_, i) => ({
      class_uid: 3002,
      activity_id: 1,
      time: now,
      metadata: { uid: `big-${i}` },
      user: { uid: `acc-${i % 50}` },
    }));
    const before = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'ingest.batch_accepted')
      .executeTakeFirstOrThrow();
    const res = await post(items);
    expect(res.statusCode).toBe(200);
    expect(res.json().inserted).toBe(2_500);
    const again = await post(items.slice(0, 1_200));
    expect(again.json()).toMatchObject({ inserted: 0, duplicates: 1_200 });
    const ids = res.json<{ accepted: Array<{ ids: string[] }> }>().accepted.flatMap((a) => a.ids);
    const n = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('id', 'in', ids.slice(0, 900))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(900);
    const summaries = await t.database.db
      .selectFrom('events')
      .select(['payload'])
      .where('kind', '=', 'ingest.batch_accepted')
      .orderBy('seq')
      .execute();
    expect(summaries.length - Number(before.n)).toBe(2);
    expect((JSON.parse(summaries.at(-2)!.payload) as VigieEvent).data).toMatchObject({
      received: 2_500,
      inserted: 2_500,
      duplicates: 0,
    });
  });

  it('journals each accepted batch', async () => {
    const rows = await t.database.db
      .selectFrom('events')
      .select(['actor_id', 'payload'])
      .where('kind', '=', 'ingest.batch_accepted')
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.every((r) => r.actor_id === appId)).toBe(true);
  });
});
