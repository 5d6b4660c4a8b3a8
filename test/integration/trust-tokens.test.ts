import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCreate } from '../../src/cli/admin.js';
import { parseConfig } from '../../src/config.js';
import { DAY_MS, HOUR_MS } from '../../src/shared/clock.js';
import { makeApplication, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Every token expires (issue 8, item 5): account, application and bootstrap tokens get an expiry by
 * default, a longer one than the maximum is refused, a token never mints one that outlives it, and an
 * expired token stops working on time, cached or not.
 */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const iso = (ms: number) => new Date(ms).toISOString();

describe('token lifetimes', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let appId = '';

  beforeAll(async () => {
    t = await createTestApp({ env: { VIGIE_TOKEN_TTL_ACCOUNT_DAYS: '30' } });
    scene = await makeScene(t.database.db);
    appId = (await makeApplication(t.database.db, { organisationId: scene.structure.id, kind: 'business' }))
      .id;
  });
  afterAll(async () => {
    await t.close();
  });

  const issue = (bearer: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: auth(bearer), payload });
  const issueForApp = (bearer: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${appId}/tokens`,
      headers: auth(bearer),
      payload,
    });
  const tokenCount = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('api_tokens')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const issuedEvent = async (tokenId: string) => {
    const row = await t.database.db
      .selectFrom('events')
      .select(['payload', 'outcome'])
      .where('kind', '=', 'token.issued')
      .where('target_id', '=', tokenId)
      .executeTakeFirstOrThrow();
    return { outcome: row.outcome, payload: row.payload, data: JSON.parse(row.payload).data };
  };

  it('gives an account token the default lifetime and journals its expiry and the minting token', async () => {
    const now = t.clock.now().getTime();
    const res = await issue(scene.adminToken, { name: 'default' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.expiresAt).toBe(iso(now + 30 * DAY_MS));
    const minting = await t.database.db
      .selectFrom('api_tokens')
      .select('id')
      .where('principal_id', '=', scene.admin.id)
      .where('name', '=', 'test')
      .executeTakeFirstOrThrow();
    const event = await issuedEvent(body.id);
    expect(event.outcome).toBe('success');
    expect(event.data).toEqual({
      accountId: scene.admin.id,
      expiresAt: body.expiresAt,
      mintedWith: minting.id,
      // Minted by a token that may perform step-up acts (the operator's): so may this one.
      mintedVia: 'token',
      stepUp: true,
    });
    expect(event.payload).not.toContain(body.secret);
    expect(event.payload).not.toContain(body.secret.slice(4));
  });

  it('refuses an account token asked for longer than the maximum, writing nothing', async () => {
    const before = await tokenCount();
    const res = await issue(scene.adminToken, { name: 'too long', expiresInDays: 31 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'TOKEN_EXPIRY_TOO_LONG',
      details: { maxExpiresAt: iso(t.clock.now().getTime() + 30 * DAY_MS) },
    });
    expect(await tokenCount()).toBe(before);
    for (const hostile of [0, -1, 1e20, 'NaN', 3.5]) {
      const bad = await issue(scene.adminToken, { name: 'hostile', expiresInDays: hostile });
      expect(bad.statusCode, String(hostile)).toBe(400);
      expect(bad.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect(await tokenCount()).toBe(before);
  });

  it('never lets a token mint an account token that outlives it: refused when asked, clamped by default', async () => {
    const short = (await issue(scene.adminToken, { name: 'short', expiresInDays: 2 })).json();
    const longer = await issue(short.secret, { name: 'child', expiresInDays: 3 });
    expect(longer.statusCode).toBe(400);
    expect(longer.json().error).toMatchObject({
      code: 'TOKEN_OUTLIVES_PARENT',
      details: { parentExpiresAt: short.expiresAt },
    });
    const clamped = await issue(short.secret, { name: 'child' });
    expect(clamped.statusCode).toBe(201);
    expect(clamped.json().expiresAt).toBe(short.expiresAt);
    expect((await issuedEvent(clamped.json().id)).data).toMatchObject({ mintedWith: short.id });
    const shorter = await issue(short.secret, { name: 'child', expiresInDays: 1 });
    expect(shorter.statusCode).toBe(201);
    expect(shorter.json().expiresAt).toBe(iso(t.clock.now().getTime() + DAY_MS));
  });

  it('bounds application tokens by their maximum and by the account token that mints them', async () => {
    const now = t.clock.now().getTime();
    const byDefault = await issueForApp(scene.adminToken, { name: 'default' });
    expect(byDefault.statusCode).toBe(201);
    expect(byDefault.json().token.expiresAt).toBe(iso(now + 90 * DAY_MS));
    expect((await issuedEvent(byDefault.json().token.id)).data).toMatchObject({
      principalType: 'application',
      principalId: appId,
      expiresAt: iso(now + 90 * DAY_MS),
    });
    const tooLong = await issueForApp(scene.adminToken, { name: 'long', expiresAt: iso(now + 91 * DAY_MS) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.code).toBe('TOKEN_EXPIRY_TOO_LONG');

    const short = (await issue(scene.adminToken, { name: 'short-admin', expiresInDays: 2 })).json();
    const outlives = await issueForApp(short.secret, { name: 'child', expiresAt: iso(now + 3 * DAY_MS) });
    expect(outlives.statusCode).toBe(400);
    expect(outlives.json().error.code).toBe('TOKEN_OUTLIVES_PARENT');
    const refused = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'token.issued')
      .where('outcome', '<>', 'success')
      .where('target_id', '=', appId)
      .execute();
    expect(refused.map((r) => (JSON.parse(r.payload) as { reason: string }).reason)).toEqual([
      'TOKEN_EXPIRY_TOO_LONG',
      'TOKEN_OUTLIVES_PARENT',
    ]);
    const clamped = await issueForApp(short.secret, { name: 'child' });
    expect(clamped.statusCode).toBe(201);
    expect(clamped.json().token.expiresAt).toBe(short.expiresAt);
    expect((await issuedEvent(clamped.json().token.id)).data).toMatchObject({ mintedWith: short.id });
  });

  it('stops an expired token at its expiry, even while its principal is cached', async () => {
    const token = (await issue(scene.adminToken, { name: 'expiring', expiresInDays: 1 })).json();
    const me = () => t.app.inject({ url: '/api/v1/accounts/me', headers: auth(token.secret) });
    t.clock.set(new Date(Date.parse(token.expiresAt) - 10_000));
    expect((await me()).statusCode).toBe(200);
    t.clock.set(new Date(Date.parse(token.expiresAt) + 1));
    const expired = await me();
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('UNAUTHENTICATED');
    const mint = await issue(token.secret, { name: 'after expiry' });
    expect(mint.statusCode).toBe(401);
  });
});

describe('the bootstrap token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { VIGIE_TOKEN_TTL_BOOTSTRAP_HOURS: '24' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is printed with its expiry by vigie admin create and is refused once it has expired', async () => {
    const out: string[] = [];
    const before = Date.now();
    await adminCreate(
      parseConfig({ VIGIE_DATABASE_URL: t.database.url, VIGIE_LOG_LEVEL: 'silent' }),
      { email: 'founder@operator.test' },
      (line) => out.push(line),
    );
    const text = out.join('');
    const printed = /expires (\d{4}-\d\d-\d\dT[\d:.]+Z)\)/.exec(text)?.[1];
    expect(printed).toBeDefined();
    const expiresMs = Date.parse(printed!);
    expect(expiresMs).toBeGreaterThanOrEqual(before + 24 * HOUR_MS);
    expect(expiresMs).toBeLessThanOrEqual(Date.now() + 24 * HOUR_MS);
    const secret = /^(vig_[A-Za-z0-9_-]{43})$/m.exec(text)![1]!;
    const row = await t.database.db
      .selectFrom('api_tokens')
      .select(['id', 'expires_at'])
      .where('name', '=', 'bootstrap')
      .executeTakeFirstOrThrow();
    expect(row.expires_at).toBe(printed);
    const event = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'token.issued')
      .where('target_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(event.payload).data).toMatchObject({ expiresAt: printed, mintedWith: null });
    expect(event.payload).not.toContain(secret);

    const me = () => t.app.inject({ url: '/api/v1/accounts/me', headers: auth(secret) });
    t.clock.set(new Date(expiresMs - 1000));
    expect((await me()).statusCode).toBe(200);
    t.clock.set(new Date(expiresMs));
    expect((await me()).statusCode).toBe(401);
  });
});
