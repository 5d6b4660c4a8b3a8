import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, makeScene } from '../helpers/factories.js';
import {
  call,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
  signIn,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Hostile input at the sign-in edge (issue 10, items 1 and 4): oversized and poisoned bodies, a wrong
 * origin or RP, replayed challenges, another account's credential, a refused authenticator model,
 * and the lock after repeated failures — the same for unknown and known accounts.
 */
describe('sign-in under hostile input', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_SIGN_IN_LOCK_AFTER: '4', VIGIE_SIGN_IN_DELAY_AFTER: '2' },
      start: true,
    });
    scene = await makeScene(t.database.db);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  async function enrolled(email: string, authenticator = new SoftAuthenticator()) {
    const account = await createAccount(t, scene.adminToken, scene.structure.id, email);
    const link = await sink.linkFor(email);
    const browser = newBrowser();
    const { verify } = await enrolWithLink(t, browser, link.secret, authenticator);
    expect(verify!.statusCode).toBe(201);
    return { account, authenticator, browser, link };
  }

  it('refuses oversized and prototype-poisoning bodies with stable codes', async () => {
    const big = await call(t, newBrowser(), 'POST', '/api/v1/auth/sign-in/options', {
      email: 'a'.repeat(70_000),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/enrolment/options',
      headers: { 'content-type': 'application/json' },
      payload: '{"token":"x","__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().error.code).toBe('FORBIDDEN_KEY');
    const extra = await call(t, newBrowser(), 'POST', '/api/v1/auth/sign-in/options', {
      email: 'x@y.z',
      role: 'admin',
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('VALIDATION_FAILED');
    const notSecret = await call(t, newBrowser(), 'POST', '/api/v1/auth/enrolment/options', {
      token: '../../etc/passwd',
    });
    expect(notSecret.json().error.code).toBe('ENROLMENT_LINK_INVALID');
  });

  it('refuses a registration made for another origin or RP, and spends its challenge', async () => {
    await createAccount(t, scene.adminToken, scene.structure.id, 'origin@ml.test');
    const link = await sink.linkFor('origin@ml.test');
    const browser = newBrowser();
    for (const wrong of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }]) {
      const options = (
        await call(t, browser, 'POST', '/api/v1/auth/enrolment/options', { token: link.secret })
      ).json();
      const response = new SoftAuthenticator(wrong).register(options.options);
      const res = await call(t, browser, 'POST', '/api/v1/auth/enrolment/verify', {
        ceremonyId: options.ceremonyId,
        response,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('REGISTRATION_REJECTED');
      const replay = await call(t, browser, 'POST', '/api/v1/auth/enrolment/verify', {
        ceremonyId: options.ceremonyId,
        response: new SoftAuthenticator().register(options.options),
      });
      expect(replay.statusCode).toBe(400);
      expect(replay.json().error.code).toBe('CEREMONY_INVALID');
    }
    expect((await enrolWithLink(t, browser, link.secret)).verify!.statusCode).toBe(201);
  });

  it('refuses a replayed sign-in challenge and an expired one', async () => {
    const { authenticator } = await enrolled('replay@ml.test');
    const browser = newBrowser('192.0.2.50');
    const { ceremonyId, options } = (
      await call(t, browser, 'POST', '/api/v1/auth/sign-in/options', {})
    ).json();
    const response = authenticator.assert(options);
    expect(
      (await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', { ceremonyId, response })).statusCode,
    ).toBe(200);
    const replay = await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', { ceremonyId, response });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error.code).toBe('CEREMONY_INVALID');
    const late = (await call(t, browser, 'POST', '/api/v1/auth/sign-in/options', {})).json();
    t.clock.advance(5 * 60_000 + 1);
    const expired = await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', {
      ceremonyId: late.ceremonyId,
      response: authenticator.assert(late.options),
    });
    expect(expired.json().error.code).toBe('CEREMONY_INVALID');
  });

  it("refuses another account's credential id, an unknown one, and a forged signature, all alike", async () => {
    const victim = await enrolled('victim@ml.test');
    const attacker = await enrolled('attacker@ml.test');
    const browser = newBrowser('192.0.2.60');
    const { ceremonyId, options } = (
      await call(t, browser, 'POST', '/api/v1/auth/sign-in/options', {})
    ).json();
    const forged = attacker.authenticator.assert(options);
    forged.id = victim.authenticator.assert(options).id;
    forged.rawId = forged.id;
    const a = await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', { ceremonyId, response: forged });
    const second = (await call(t, browser, 'POST', '/api/v1/auth/sign-in/options', {})).json();
    const unknown = new SoftAuthenticator();
    unknown.register({
      rp: { id: 'localhost', name: 'x' },
      user: { id: 'AAAA', name: 'x', displayName: 'x' },
      challenge: 'AAAA',
      pubKeyCredParams: [],
    });
    const b = await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', {
      ceremonyId: second.ceremonyId,
      response: unknown.assert(second.options),
    });
    for (const res of [a, b]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toEqual({
        code: 'SIGN_IN_FAILED',
        message: 'sign-in failed; try again with one of your passkeys',
      });
    }
    const reasons = (await eventsOf(t, 'auth.sign_in'))
      .filter((e) => e.outcome === 'failure')
      .map((e) => e.reason);
    expect(reasons.slice(-2)).toEqual(['ASSERTION_INVALID', 'CREDENTIAL_UNKNOWN']);
    // The victim still signs in: a forged attempt is not its failure to pay for beyond the count.
    expect((await signIn(t, victim.browser, victim.authenticator)).statusCode).toBe(200);
  });

  it('locks a known account and an unknown e-mail alike after the configured failures, even a correct passkey', async () => {
    const { authenticator } = await enrolled('locked@ml.test');
    const stranger = new SoftAuthenticator();
    stranger.register({
      rp: { id: 'localhost', name: 'x' },
      user: { id: 'AAAA', name: 'x', displayName: 'x' },
      challenge: 'AAAA',
      pubKeyCredParams: [],
    });
    const answers = async (email: string) => {
      const out: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const res = await signIn(t, newBrowser(`198.51.100.${10 + i}`), stranger, { email });
        out.push(`${res.statusCode} ${res.json().error.code}`);
      }
      return out;
    };
    const started = Date.now();
    const known = await answers('locked@ml.test');
    // The third failure waited 250 ms (progressive delay); the fourth reached the lock.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const unknown = await answers('never-existed@ml.test');
    expect(known).toEqual([
      '401 SIGN_IN_FAILED',
      '401 SIGN_IN_FAILED',
      '401 SIGN_IN_FAILED',
      '429 SIGN_IN_LOCKED',
      '429 SIGN_IN_LOCKED',
    ]);
    expect(unknown).toEqual(known);
    const locked = await signIn(t, newBrowser(), authenticator);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    const denied = (await eventsOf(t, 'auth.sign_in')).filter((e) => e.reason === 'SIGN_IN_LOCKED');
    expect(denied.length).toBeGreaterThanOrEqual(5);
    t.clock.advance(15 * 60_000);
    expect((await signIn(t, newBrowser(), authenticator)).statusCode).toBe(200);
  });
});

describe('authenticator allow-list', () => {
  it('refuses an authenticator model outside VIGIE_PASSKEY_AAGUID_ALLOWLIST and accepts one inside', async () => {
    const allowed = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';
    const sink = await startSmtpSink();
    const t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_PASSKEY_AAGUID_ALLOWLIST: allowed },
      start: true,
    });
    try {
      const scene = await makeScene(t.database.db);
      await createAccount(t, scene.adminToken, scene.structure.id, 'allow@ml.test');
      const link = await sink.linkFor('allow@ml.test');
      const other = await enrolWithLink(t, newBrowser(), link.secret, new SoftAuthenticator());
      expect(other.verify!.statusCode).toBe(403);
      expect(other.verify!.json().error.code).toBe('AUTHENTICATOR_NOT_ALLOWED');
      const ok = await enrolWithLink(
        t,
        newBrowser(),
        link.secret,
        new SoftAuthenticator({ aaguid: allowed }),
      );
      expect(ok.verify!.statusCode).toBe(201);
      expect(ok.verify!.json().passkey.aaguid).toBe(allowed);
    } finally {
      await t.close();
      await sink.close();
    }
  });
});

describe('authenticator allow-list per population', () => {
  it('holds privileged accounts to their own list while others register any model', async () => {
    const allowed = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';
    const sink = await startSmtpSink();
    const t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_PASSKEY_AAGUID_ALLOWLIST_PRIVILEGED: allowed },
      start: true,
    });
    try {
      const scene = await makeScene(t.database.db);
      await createAccount(t, scene.adminToken, scene.structure.id, 'plain@ml.test');
      const plain = await enrolWithLink(
        t,
        newBrowser(),
        (await sink.linkFor('plain@ml.test')).secret,
        new SoftAuthenticator(),
      );
      expect(plain.verify!.statusCode).toBe(201);

      const admin = await createAccount(t, scene.adminToken, scene.structure.id, 'priv@ml.test');
      await grantRole(t.database.db, admin.id, 'platform_admin', scene.operator.id);
      const link = await sink.linkFor('priv@ml.test');
      const other = await enrolWithLink(t, newBrowser(), link.secret, new SoftAuthenticator());
      expect(other.verify!.statusCode).toBe(403);
      expect(other.verify!.json().error.code).toBe('AUTHENTICATOR_NOT_ALLOWED');
      const ok = await enrolWithLink(
        t,
        newBrowser(),
        link.secret,
        new SoftAuthenticator({ aaguid: allowed }),
      );
      expect(ok.verify!.statusCode).toBe(201);
    } finally {
      await t.close();
      await sink.close();
    }
  });
});

describe('per-address sign-in brake', () => {
  it('delays then refuses failures from one address across e-mails, yet lets a correct passkey through', async () => {
    const sink = await startSmtpSink();
    const t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_AUTH_FAILURE_LIMIT: '3', VIGIE_AUTH_FAILURE_DELAY_AFTER: '1' },
      start: true,
    });
    try {
      const scene = await makeScene(t.database.db);
      await createAccount(t, scene.adminToken, scene.structure.id, 'nat@ml.test');
      const link = await sink.linkFor('nat@ml.test');
      const honest = await enrolWithLink(t, newBrowser('192.0.2.200'), link.secret);
      const stranger = new SoftAuthenticator();
      stranger.register({
        rp: { id: 'localhost', name: 'x' },
        user: { id: 'AAAA', name: 'x', displayName: 'x' },
        challenge: 'AAAA',
        pubKeyCredParams: [],
      });
      const codes: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const res = await signIn(t, newBrowser('203.0.113.9'), stranger, { email: `guess${i}@ml.test` });
        codes.push(`${res.statusCode} ${res.json().error.code}`);
      }
      expect(codes).toEqual([
        '401 SIGN_IN_FAILED',
        '401 SIGN_IN_FAILED',
        '401 SIGN_IN_FAILED',
        '429 SIGN_IN_LOCKED',
      ]);
      const sameNat = await signIn(t, newBrowser('203.0.113.9'), honest.authenticator);
      expect(sameNat.statusCode).toBe(200);
    } finally {
      await t.close();
      await sink.close();
    }
  });
});
