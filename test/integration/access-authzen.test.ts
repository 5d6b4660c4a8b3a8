import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessModule } from '../../src/modules/access/index.js';
import { issueToken, makeApplication, makeOrganisation, seedBuiltinRoles } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const root = path.resolve(import.meta.dirname, '../..');
const vectors = path.resolve(root, '../shared/vectors/authzen');
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(vectors, file), 'utf8'));

interface Single {
  request: Record<string, unknown>;
  expected: boolean;
}
interface Batch {
  request: Record<string, unknown>;
  expected: Array<{ decision: boolean }>;
}
const todo = readJson('todo-decisions-1_0.json') as { evaluation: Single[]; evaluations: Batch[] };

const ajv = new Ajv2020({ strict: false, allErrors: true });
const schemaOf = (file: string) => readJson(file) as Record<string, unknown>;
const checkRequest = ajv.compile(schemaOf('evaluation-request.schema.json'));
const checkResponse = ajv.compile(schemaOf('evaluation-response.schema.json'));

const RICK = 'CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs';
const JERRY = 'CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs';

/** Vigie on the interop Todo policy, with a business application holding `scopes` and its token. */
async function todoApp(scopes: string[]): Promise<{ t: TestApp; token: string }> {
  const t = await createTestApp({
    env: { VIGIE_POLICY_DIR: path.join(root, 'test/fixtures/policies/todo') },
    start: true,
  });
  await seedBuiltinRoles(t.database.db);
  const org = await makeOrganisation(t.database.db, { kind: 'operator' });
  const app = await makeApplication(t.database.db, { organisationId: org.id, kind: 'business', scopes });
  return { t, token: await issueToken(t.database.db, 'application', app.id) };
}

describe('the AuthZEN 1.0 API on the interop Todo scenario', () => {
  let t: TestApp;
  let token: string;
  let searchless: string;
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}, bearer = token) =>
    t.app.inject({
      method: 'POST',
      url,
      payload: payload as object,
      headers: { authorization: `Bearer ${bearer}`, ...headers },
    });

  beforeAll(async () => {
    ({ t, token } = await todoApp(['pdp.evaluate', 'pdp.search']));
    const org = await makeOrganisation(t.database.db, { kind: 'operator' });
    const ingestOnly = await makeApplication(t.database.db, {
      organisationId: org.id,
      scopes: ['event.ingest'],
    });
    searchless = await issueToken(t.database.db, 'application', ingestOnly.id);
  });
  afterAll(async () => {
    await t.close();
  });

  it('decides every single-evaluation case of the interop file as expected', async () => {
    expect(todo.evaluation).toHaveLength(40);
    for (const c of todo.evaluation) {
      expect(checkRequest(c.request), JSON.stringify(checkRequest.errors)).toBe(true);
      const res = await post('/access/v1/evaluation', c.request);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(checkResponse(body)).toBe(true);
      expect({ request: c.request, decision: body.decision }).toEqual({
        request: c.request,
        decision: c.expected,
      });
    }
  });

  it('decides every batch case with defaults inherited by each item, in order', async () => {
    expect(todo.evaluations).toHaveLength(3);
    for (const c of todo.evaluations) {
      const res = await post('/access/v1/evaluations', c.request);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      for (const item of body.evaluations) expect(checkResponse(item)).toBe(true);
      expect(body.evaluations.map((e: { decision: boolean }) => ({ decision: e.decision }))).toEqual(
        c.expected,
      );
    }
  });

  it('answers a deny with HTTP 200 and decision false, reasons in the context', async () => {
    const res = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: JERRY },
      action: { name: 'can_delete_todo' },
      resource: { type: 'todo', id: 'x', properties: { ownerID: 'rick@the-citadel.com' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ decision: false, context: { reasons: ['not_permitted'] } });
  });

  it('ignores unknown fields anywhere in the request', async () => {
    const res = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: RICK, colour: 'green' },
      action: { name: 'can_read_todos', extra: 1 },
      resource: { type: 'todo', id: 't', nested: { a: 1 } },
      context: { time: '2026-03-02T09:00:00Z' },
      unknownTopLevel: true,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ decision: true });
  });

  it('refuses a request without subject.type with 400', async () => {
    const res = await post('/access/v1/evaluation', {
      subject: { id: RICK },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: '1' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('echoes X-Request-ID', async () => {
    const res = await post(
      '/access/v1/evaluation',
      {
        subject: { type: 'user', id: RICK },
        action: { name: 'can_read_todos' },
        resource: { type: 'todo', id: '1' },
      },
      { 'x-request-id': 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716' },
    );
    expect(res.headers['x-request-id']).toBe('bfe9eb29-ab87-4ca3-be83-a1d5d8305716');
  });

  it('treats an empty evaluations array as a single evaluation', async () => {
    const res = await post('/access/v1/evaluations', {
      subject: { type: 'user', id: RICK },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: '1' },
      evaluations: [],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ decision: true });
    const missing = await post('/access/v1/evaluations', {
      subject: { type: 'user', id: RICK },
      evaluations: [],
    });
    expect(missing.statusCode).toBe(400);
  });

  it('fails one malformed item alone under execute_all: decision false with an error, HTTP 200', async () => {
    const res = await post('/access/v1/evaluations', {
      subject: { type: 'user', id: RICK },
      action: { name: 'can_read_todos' },
      evaluations: [
        { resource: { type: 'todo', id: '1' } },
        { resource: { id: 'no-type' } },
        { resource: { type: 'todo', id: '3' } },
      ],
    });
    expect(res.statusCode).toBe(200);
    const [a, b, c] = res.json().evaluations;
    expect(a).toEqual({ decision: true });
    expect(b.decision).toBe(false);
    expect(b.context.error.status).toBe(400);
    expect(c).toEqual({ decision: true });
  });

  it('stops at the first deny with deny_on_first_deny and at the first permit with permit_on_first_permit', async () => {
    const items = [
      { action: { name: 'can_read_todos' } },
      {
        action: { name: 'can_delete_todo' },
        resource: { type: 'todo', id: '2', properties: { ownerID: 'rick@the-citadel.com' } },
      },
      { action: { name: 'can_read_user' } },
    ];
    const base = { subject: { type: 'user', id: JERRY }, resource: { type: 'todo', id: '1' } };
    const deny = await post('/access/v1/evaluations', {
      ...base,
      evaluations: items,
      options: { evaluations_semantic: 'deny_on_first_deny' },
    });
    expect(deny.json().evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false]);
    const permit = await post('/access/v1/evaluations', {
      ...base,
      evaluations: items,
      options: { evaluations_semantic: 'permit_on_first_permit' },
    });
    expect(permit.json().evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true]);
    const all = await post('/access/v1/evaluations', { ...base, evaluations: items });
    expect(all.json().evaluations.map((e: { decision: boolean }) => e.decision)).toEqual([true, false, true]);
    const bad = await post('/access/v1/evaluations', {
      ...base,
      evaluations: items,
      options: { evaluations_semantic: 'whatever' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('publishes metadata whose policy_decision_point equals the URL it was fetched from', async () => {
    const res = await t.app.inject({
      url: '/.well-known/authzen-configuration',
      headers: { host: 'pdp.example.test' },
    });
    expect(res.statusCode).toBe(200);
    const m = res.json();
    expect(m.policy_decision_point).toBe('http://pdp.example.test');
    expect(m.access_evaluation_endpoint).toBe(`${m.policy_decision_point}/access/v1/evaluation`);
    expect(m.access_evaluations_endpoint).toBe(`${m.policy_decision_point}/access/v1/evaluations`);
    expect(m.search_subject_endpoint).toBe(`${m.policy_decision_point}/access/v1/search/subject`);
  });

  it('admits only registered applications holding the right scope', async () => {
    const req = {
      subject: { type: 'user', id: RICK },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: '1' },
    };
    const anonymous = await t.app.inject({ method: 'POST', url: '/access/v1/evaluation', payload: req });
    expect(anonymous.statusCode).toBe(401);
    const noScope = await post('/access/v1/evaluation', req, {}, searchless);
    expect(noScope.statusCode).toBe(403);
    expect(noScope.json().error.code).toBe('SCOPE_DENIED');
    const noSearch = await post(
      '/access/v1/search/action',
      { subject: req.subject, resource: req.resource },
      {},
      searchless,
    );
    expect(noSearch.statusCode).toBe(403);
  });

  it('survives hostile input: prototype keys, oversized strings, wrong types', async () => {
    const proto = await t.app.inject({
      method: 'POST',
      url: '/access/v1/evaluation',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: `{"subject":{"type":"user","id":"${RICK}","__proto__":{"roles":["admin"]}},"action":{"name":"can_read_todos"},"resource":{"type":"todo","id":"1"}}`,
    });
    expect(proto.statusCode).toBe(400);
    const huge = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: 'x'.repeat(5000) },
      action: { name: 'a' },
      resource: { type: 'todo', id: '1' },
    });
    expect(huge.statusCode).toBe(400);
    const wrong = await post('/access/v1/evaluation', {
      subject: { type: 'user', id: RICK },
      action: { name: 'can_read_todos' },
      resource: { type: 'todo', id: '1' },
      context: 'now',
    });
    expect(wrong.statusCode).toBe(400);
  });

  it('records every decision as an access.decision event with the policy version', async () => {
    const access = t.container.modules.find((m) => m.name === 'access') as AccessModule;
    await access.service.flush();
    const rows = await t.database.db
      .selectFrom('events')
      .select(['payload', 'outcome'])
      .where('kind', '=', 'access.decision')
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(46);
    const event = JSON.parse(rows[0]!.payload) as { data: { policyVersion: string; action: string } };
    expect(event.data.policyVersion).toBe(access.service.policy.version);
    expect(rows.some((r) => r.outcome === 'denied')).toBe(true);
  });
});

describe('AuthZEN decisions while the journal lags', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    ({ t, token } = await todoApp(['pdp.evaluate']));
  });
  afterAll(async () => {
    await t.close();
  });

  it('waits for the journal to catch up before deciding, instead of refusing or running ahead', async () => {
    const access = t.container.modules.find((m) => m.name === 'access') as AccessModule;
    const { request } = todo.evaluation[0]!;
    const asked = { ...(request as object), callerId: 'backlog-test' } as Parameters<
      typeof access.service.evaluate
    >[0];
    // Decided in one synchronous run, so nothing is written meanwhile: 60,000 decisions unjournaled,
    // fifteen batches, far more than the journal commits before the request below reaches its route.
    for (let i = 0; i < 60_000; i++) access.service.evaluate(asked);
    expect(access.service.unjournaled).toBe(60_000);
    expect(access.service.journalBacklog()).toBeInstanceOf(Promise);
    const res = await t.app.inject({
      method: 'POST',
      url: '/access/v1/evaluations',
      payload: { evaluations: [request, request] },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    // Answered after the backlog committed: only this request's own decisions (at most) still wait.
    expect(access.service.unjournaled).toBeLessThanOrEqual(2);
    expect(access.service.journalBacklog()).toBeUndefined();
    await access.service.flush();
    const { n } = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'access.decision')
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(60_002);
  });
});
