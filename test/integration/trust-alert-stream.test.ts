import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The live alert stream cannot be starved (issue 8, item 6): one structure's auditor opened every
 * stream and the operator's analyst got 503. Streams are now capped per account, and the last share
 * of the global cap is kept for principals reading alerts over the operator. Real SSE connections on
 * 127.0.0.1; every one is closed by the test.
 */
describe('live alert stream limits', () => {
  let t: TestApp;
  let base = '';
  const tokens = { auditor: '', auditor2: '', analyst: '', analyst2: '', agent: '' };
  const open: AbortController[] = [];

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        VIGIE_ALERT_STREAM_MAX_CLIENTS: '8',
        VIGIE_ALERT_STREAM_MAX_PER_PRINCIPAL: '3',
        VIGIE_ALERT_STREAM_RESERVED_OPERATOR: '3',
      },
    });
    const db = t.database.db;
    const scene = await makeScene(db);
    const other = await makeOrganisation(db, { parent: scene.network, name: 'Mission Locale C' });
    const person = async (org: string, role: string) => {
      const a = await makeAccount(db, { organisationId: org });
      await grantRole(db, a.id, role, org);
      return issueToken(db, 'account', a.id);
    };
    tokens.auditor = await person(scene.structure.id, 'auditor');
    tokens.auditor2 = await person(other.id, 'auditor');
    tokens.analyst = await person(scene.operator.id, 'security_analyst');
    tokens.analyst2 = await person(scene.operator.id, 'auditor');
    tokens.agent = await person(scene.structure.id, 'agent');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const c of open) c.abort();
    await t.close();
  });

  /** Opens a stream; a 200 stays open (until aborted), anything else is read to its end. */
  async function connect(token: string) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    const res = await fetch(`${base}/api/v1/alerts/stream`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    clearTimeout(timer);
    if (res.status === 200) {
      const first = new TextDecoder().decode((await res.body!.getReader().read()).value);
      expect(first).toContain(': connected');
      open.push(controller);
      return { status: 200, close: () => controller.abort() };
    }
    const body = (await res.json()) as { error: { code: string; details?: Record<string, unknown> } };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), error: body.error };
  }

  const size = () =>
    (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service.stream.size;

  async function until(cond: () => boolean) {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(cond()).toBe(true);
  }

  it('caps the streams of one account, with 429 ALERT_STREAM_LIMIT and Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await connect(tokens.auditor)).status).toBe(200);
    const fourth = await connect(tokens.auditor);
    expect(fourth.status).toBe(429);
    expect(fourth.retryAfter).toBe('30');
    expect(fourth.error).toMatchObject({
      code: 'ALERT_STREAM_LIMIT',
      details: { limit: 'principal', max: 3 },
    });
    expect(size()).toBe(3);
  });

  it("keeps the operator's share: structures fill their part, the operator's analysts still connect", async () => {
    expect((await connect(tokens.auditor2)).status).toBe(200);
    expect((await connect(tokens.auditor2)).status).toBe(200);
    // 5 open = 8 - 3 reserved: no structure principal gets more, whatever its own count.
    const third = await connect(tokens.auditor2);
    expect(third.status).toBe(429);
    expect(third.error).toMatchObject({ code: 'ALERT_STREAM_LIMIT', details: { limit: 'global', max: 5 } });
    const analyst = [
      await connect(tokens.analyst),
      await connect(tokens.analyst),
      await connect(tokens.analyst),
    ];
    expect(analyst.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(size()).toBe(8);
    const beyond = await connect(tokens.analyst2);
    expect(beyond.status).toBe(429);
    expect(beyond.error).toMatchObject({ code: 'ALERT_STREAM_LIMIT', details: { limit: 'global', max: 8 } });

    // A closed stream frees its place, and its account's count.
    analyst[0]!.close!();
    await until(() => size() === 7);
    expect((await connect(tokens.analyst2)).status).toBe(200);
    expect((await connect(tokens.auditor)).status).toBe(429);
  });

  it('still refuses the unauthenticated and those without alert.read, before any limit', async () => {
    const anonymous = await fetch(`${base}/api/v1/alerts/stream`);
    expect(anonymous.status).toBe(401);
    await anonymous.text();
    const forged = await fetch(`${base}/api/v1/alerts/stream`, {
      headers: { authorization: 'Bearer vig_' + 'A'.repeat(43) },
    });
    expect(forged.status).toBe(401);
    await forged.text();
    const agent = await connect(tokens.agent);
    expect(agent.status).toBe(403);
    expect(agent.error?.code).toBe('PERMISSION_DENIED');
  });

  it('frees every place when the streams end', async () => {
    for (const c of open.splice(0)) c.abort();
    await until(() => size() === 0);
    for (let i = 0; i < 3; i++) expect((await connect(tokens.auditor)).status).toBe(200);
  });
});
