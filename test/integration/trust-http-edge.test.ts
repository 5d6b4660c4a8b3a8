import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTokenSecret } from '../../src/modules/identity/token-secret.js';
import type { VigieEvent } from '../../src/shared/event.js';
import { makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The HTTP edge (issue 8): failed bearer authentications meet a brake and become journaled
 * summaries that detection reads; bodies that are not UTF-8 are refused; request logs carry the
 * route pattern, never the URL's personal values.
 */
const BRAKE_ENV = {
  VIGIE_AUTH_FAILURE_DELAY_AFTER: '3',
  VIGIE_AUTH_FAILURE_DELAY_STEP_MS: '60',
  VIGIE_AUTH_FAILURE_MAX_DELAY_MS: '120',
  VIGIE_AUTH_FAILURE_LIMIT: '6',
  VIGIE_AUTH_FAILURE_WINDOW_MS: '60000',
  VIGIE_AUTH_FAILURE_MAX_ADDRESSES: '5',
};

const me = (t: TestApp, token: string, remoteAddress: string) =>
  t.app.inject({ url: '/api/v1/accounts/me', headers: { authorization: `Bearer ${token}` }, remoteAddress });

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

async function storedEvents(t: TestApp, kind: string): Promise<VigieEvent[]> {
  const rows = await t.container.core.db
    .selectFrom('events')
    .select('payload')
    .where('kind', '=', kind)
    .orderBy('seq')
    .execute();
  return rows.map((r) => JSON.parse(r.payload) as VigieEvent);
}

async function eventually<T>(probe: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('failed bearer authentications meet a brake', () => {
  let t: TestApp;
  let adminToken: string;

  const failureCount = async () => {
    const text = (await t.app.inject({ url: '/metrics' })).body;
    return [...text.matchAll(/^vigie_auth_failures_total\{reason="\w+"\} (\d+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  };

  beforeAll(async () => {
    t = await createTestApp({ env: BRAKE_ENV, start: true });
    adminToken = (await makeScene(t.database.db)).adminToken;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 401 at once, then after growing delays, then 429 AUTH_THROTTLED with Retry-After', async () => {
    const ip = '203.0.113.7';
    const guesses = [
      generateTokenSecret(),
      "' OR 1=1 --",
      'x'.repeat(4000),
      generateTokenSecret(),
      generateTokenSecret(),
      `vig_${'A'.repeat(43)}`,
    ];
    const answers = [];
    for (const guess of guesses) answers.push(await timed(() => me(t, guess, ip)));
    for (const a of answers) {
      expect(a.value.statusCode).toBe(401);
      expect(a.value.json().error.code).toBe('UNAUTHENTICATED');
    }
    // Failures 4, 5 and 6 wait 60, 120 (the cap) and 120 ms before their 401.
    expect(answers[3]!.ms).toBeGreaterThanOrEqual(55);
    expect(answers[4]!.ms).toBeGreaterThanOrEqual(115);
    expect(answers[5]!.ms).toBeGreaterThanOrEqual(115);

    const braked = await me(t, generateTokenSecret(), ip);
    expect(braked.statusCode).toBe(429);
    expect(braked.json().error.code).toBe('AUTH_THROTTLED');
    expect(braked.headers['retry-after']).toBe('60');
    expect(JSON.stringify(braked.json())).not.toContain('203.0.113.7');
  });

  it('lets a valid token through from a braked address, so a shared NAT is not locked out', async () => {
    const ip = '203.0.113.7';
    expect((await me(t, generateTokenSecret(), ip)).statusCode).toBe(429);
    const before = await failureCount();
    const ok = await me(t, adminToken, ip);
    expect(ok.statusCode).toBe(200);
    // Neither counted nor braked: the valid token is not a failure.
    expect(await failureCount()).toBe(before);
  });

  it('does not brake another address for the first one’s failures', async () => {
    const other = await me(t, generateTokenSecret(), '198.51.100.9');
    expect(other.statusCode).toBe(401);
    expect(other.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('counts IPv6 clients by their /64, so rotating addresses within it gains nothing', async () => {
    const codes: number[] = [];
    for (let i = 1; i <= 7; i += 1) {
      codes.push((await me(t, generateTokenSecret(), `2001:db8:a:b::${i.toString(16)}`)).statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 401, 401, 429]);
    expect((await me(t, generateTokenSecret(), '::ffff:192.0.2.44')).statusCode).toBe(401);
  });

  it('lifts the brake when the window ends on the injected clock', async () => {
    const ip = '192.0.2.200';
    for (let i = 0; i < 6; i += 1) await me(t, 'nope', ip);
    expect((await me(t, 'nope', ip)).statusCode).toBe(429);
    t.clock.advance(60_000);
    const after = await me(t, 'nope', ip);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('counts failures in metrics and tracks a bounded number of addresses', async () => {
    for (let i = 1; i <= 12; i += 1) await me(t, 'malformed', `10.9.0.${i}`);
    const text = (await t.app.inject({ url: '/metrics' })).body;
    const value = (line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);
    expect(value(/^vigie_auth_failures_total\{reason="malformed"\} (\d+)$/m)).toBeGreaterThanOrEqual(12);
    expect(value(/^vigie_auth_failures_total\{reason="rejected"\} (\d+)$/m)).toBeGreaterThanOrEqual(5);
    expect(value(/^vigie_auth_throttled_total (\d+)$/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^vigie_auth_tracked_addresses (\d+)$/m)).toBe(5);
  });

  it('journals one summary per address and minute, never the tokens, and detection raises an alert', async () => {
    const ip = '198.51.100.77';
    const guesses = Array.from({ length: 24 }, () => generateTokenSecret());
    t.clock.advance(120_000);
    for (const guess of guesses) await me(t, guess, ip);
    // A minute later, the next failure closes the first minute's summary.
    t.clock.advance(61_000);
    await me(t, 'late', ip);

    const summaries = await eventually(async () => {
      const found = (await storedEvents(t, 'auth.token_failures')).filter((e) => e.context?.ip === ip);
      return found.length > 0 ? found : undefined;
    });
    expect(summaries).toHaveLength(1);
    const [summary] = summaries;
    expect(summary!.actor).toEqual({ type: 'system', id: 'http-edge' });
    expect(summary!.outcome).toBe('failure');
    expect(summary!.data).toMatchObject({ failures: 24, rejected: 24, malformed: 0, throttled: 18 });
    expect(Date.parse(summary!.data!.lastAt as string)).toBeGreaterThan(
      Date.parse(summary!.data!.firstAt as string) - 1,
    );

    const everything = (await t.container.core.db.selectFrom('events').select('payload').execute()).map(
      (r) => r.payload,
    );
    for (const guess of guesses) {
      expect(everything.some((p) => p.includes(guess) || p.includes(guess.slice(4, 16)))).toBe(false);
    }

    const alert = await eventually(async () => {
      const list = await t.app.inject({
        url: '/api/v1/alerts?ruleId=vigie.bearer-token-guessing',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      const items = list.json().items as Array<{ entity: { type: string; id: string } }>;
      return items.find((a) => a.entity.id === ip);
    });
    expect(alert.entity).toEqual({ type: 'ip', id: ip });
  });

  it('writes the pending summaries when the server stops', async () => {
    const local = await createTestApp({ env: BRAKE_ENV });
    try {
      for (let i = 0; i < 3; i += 1) await me(local, generateTokenSecret(), '192.0.2.9');
      expect(await storedEvents(local, 'auth.token_failures')).toHaveLength(0);
      await local.app.close();
      const written = await storedEvents(local, 'auth.token_failures');
      expect(written).toHaveLength(1);
      expect(written[0]!.data).toMatchObject({ failures: 3, rejected: 3 });
    } finally {
      await local.close();
    }
  });
});

describe('bodies are checked byte by byte', () => {
  let t: TestApp;
  let adminToken: string;
  let operatorId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const scene = await makeScene(t.database.db);
    adminToken = scene.adminToken;
    operatorId = scene.operator.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const countOrganisations = async () =>
    Number(
      (
        await t.container.core.db
          .selectFrom('organisations')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it.each([
    ['a lone continuation byte', [0x80]],
    ['a truncated two-byte sequence', [0xc3]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
    ['a byte that never occurs in UTF-8', [0xff]],
  ])('refuses a JSON body holding %s with 400 INVALID_UTF8 and stores nothing', async (_what, bytes) => {
    const before = await countOrganisations();
    const payload = Buffer.concat([
      Buffer.from(`{"parentId":"${operatorId}","name":"Mission Locale `),
      Buffer.from(bytes),
      Buffer.from('","kind":"network"}'),
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/organisations',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_UTF8');
    expect(await countOrganisations()).toBe(before);
    expect(await storedEvents(t, 'organisation.created')).toHaveLength(0);
  });

  it('still accepts accents and emoji', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/organisations',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      payload: Buffer.from(`{"parentId":"${operatorId}","name":"Réseau Île-de-France 🚀","kind":"network"}`),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().name).toBe('Réseau Île-de-France 🚀');
  });
});

describe('request logs carry no personal value', () => {
  let t: TestApp;
  let adminToken: string;
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    t = await createTestApp({ app: { logger: { level: 'info', stream } } });
    adminToken = (await makeScene(t.database.db)).adminToken;
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs method, route pattern, status, duration and request id, never the path or query values', async () => {
    const probeId = '0195f3c2-8b1e-7c4a-9d2f-3e5a6b7c8d9e';
    const probeEmail = 'chloe.probe@example.test';
    const probeRecord = 'DE-2026-PROBE-417';
    const headers = { authorization: `Bearer ${adminToken}` };
    await t.app.inject({ url: `/api/v1/accounts/${probeId}?email=${probeEmail}`, headers });
    await t.app.inject({ url: `/api/v1/no-such-route/${probeRecord}?nir=1850575123456`, headers });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/organisations?name=${probeEmail}`,
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"broken":',
    });

    const all = lines.join('\n');
    for (const secret of [probeId, probeEmail, probeRecord, '1850575123456', adminToken]) {
      expect(all).not.toContain(secret);
    }
    const completed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request completed');
    expect(completed).toHaveLength(3);
    expect(completed[0]).toMatchObject({
      req: { method: 'GET', route: '/api/v1/accounts/:id' },
      statusCode: 404,
    });
    expect(typeof completed[0]!.reqId).toBe('string');
    expect(typeof completed[0]!.durationMs).toBe('number');
    expect(completed[1]).toMatchObject({ req: { method: 'GET', route: null }, statusCode: 404 });
    expect(completed[2]).toMatchObject({
      req: { method: 'POST', route: '/api/v1/organisations' },
      statusCode: 400,
    });
  });
});

describe('the access log is sampled on the hot path', () => {
  it('logs every refusal and error, and one in VIGIE_ACCESS_LOG_EVERY of the fast successful requests', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l));
        done();
      },
    });
    const t = await createTestApp({
      env: { VIGIE_ACCESS_LOG_EVERY: '10' },
      app: { logger: { level: 'info', stream } },
    });
    try {
      const { adminToken } = await makeScene(t.database.db);
      const headers = { authorization: `Bearer ${adminToken}` };
      for (let i = 0; i < 30; i++) {
        const ok = await t.app.inject({ url: '/api/v1/accounts/me', headers });
        expect(ok.statusCode).toBe(200);
      }
      for (let i = 0; i < 4; i++) {
        const refused = await t.app.inject({ url: '/api/v1/accounts/me' });
        expect(refused.statusCode).toBe(401);
      }
      const completed = lines.filter((l) => l.msg === 'request completed');
      expect(completed.filter((l) => l.statusCode === 200)).toHaveLength(3);
      expect(completed.filter((l) => l.statusCode === 401)).toHaveLength(4);
    } finally {
      await t.close();
    }
  });
});
