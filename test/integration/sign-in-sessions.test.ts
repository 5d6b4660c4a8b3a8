import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';
import {
  call,
  createAccount,
  enrolWithLink,
  eventsOf,
  FIREFOX_UA,
  newBrowser,
  signIn,
  stepUp,
  type Browser,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Passkey sign-in and sessions (issue 10, items 1 and 3): usernameless and e-mail first, the same
 * answer for any e-mail, cookies that authenticate every API route, an Origin check on changes,
 * binding to network and browser, timeouts, sign-out, and containment ending sessions.
 */
describe('passkey sign-in and sessions', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { VIGIE_SMTP_URL: sink.url }, start: true });
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
    return { account, authenticator, browser };
  }

  it('signs in usernameless and e-mail first, rotating the session id each time', async () => {
    const { account, authenticator, browser } = await enrolled('sign.in@ml.test');
    const enrolSession = browser.cookie;
    const usernameless = await signIn(t, browser, authenticator);
    expect(usernameless.statusCode).toBe(200);
    expect(usernameless.json()).toMatchObject({ accountId: account.id, aal: 'aal3' });
    expect(browser.cookie).not.toBe(enrolSession);
    const stale = await call(t, { ...browser, cookie: enrolSession! }, 'GET', '/api/v1/accounts/me');
    expect(stale.statusCode).toBe(401);
    const emailFirst = await signIn(t, browser, authenticator, { email: ' Sign.In@ML.test ' });
    expect(emailFirst.statusCode).toBe(200);
    const me = await call(t, browser, 'GET', '/api/v1/accounts/me');
    expect(me.json().id).toBe(account.id);
    const events = (await eventsOf(t, 'auth.sign_in')).filter((e) => e.actor.id === account.id);
    expect(events.map((e) => [e.outcome, e.data?.method, e.data?.aal])).toEqual([
      ['success', 'passkey', 'aal3'],
      ['success', 'passkey', 'aal3'],
      ['success', 'passkey', 'aal3'],
    ]);
  });

  it('answers the same options for a known e-mail, an unknown one and none', async () => {
    await enrolled('known@ml.test');
    const shape = async (payload: Record<string, unknown>) => {
      const res = await call(t, newBrowser(), 'POST', '/api/v1/auth/sign-in/options', payload);
      expect(res.statusCode).toBe(200);
      const { ceremonyId, options } = res.json();
      expect(ceremonyId).toMatch(/^[0-9a-f-]{36}$/);
      expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      return JSON.stringify({ ...options, challenge: '' });
    };
    const known = await shape({ email: 'known@ml.test' });
    expect(await shape({ email: 'nobody@ml.test' })).toBe(known);
    expect(await shape({})).toBe(known);
    expect(JSON.parse(known)).toMatchObject({
      rpId: 'localhost',
      userVerification: 'preferred',
      allowCredentials: [],
    });
  });

  it('refuses with one answer a passkey used under another e-mail, and journals why', async () => {
    const { authenticator } = await enrolled('owner@ml.test');
    await enrolled('other@ml.test');
    const res = await signIn(t, newBrowser(), authenticator, { email: 'other@ml.test' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('SIGN_IN_FAILED');
    const unknown = await signIn(t, newBrowser(), authenticator, { email: 'ghost@ml.test' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error).toEqual(res.json().error);
    const failures = (await eventsOf(t, 'auth.sign_in')).filter((e) => e.outcome === 'failure');
    expect(failures.slice(-2).map((e) => e.reason)).toEqual(['ACCOUNT_MISMATCH', 'ACCOUNT_MISMATCH']);
  });

  it('refuses an assertion whose counter did not grow', async () => {
    const { authenticator, account } = await enrolled('counter@ml.test');
    expect((await signIn(t, newBrowser(), authenticator, { assert: { counter: 5 } })).statusCode).toBe(200);
    const replay = await signIn(t, newBrowser(), authenticator, { assert: { counter: 5 } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('SIGN_IN_FAILED');
    const last = (await eventsOf(t, 'auth.sign_in')).filter((e) => e.target?.id === account.id).pop();
    expect(last).toMatchObject({ outcome: 'failure', reason: 'COUNTER_REGRESSION' });
  });

  it('maps strength honestly: a synced passkey is AAL2, one without user verification AAL1', async () => {
    const synced = await enrolled('synced@ml.test', new SoftAuthenticator({ synced: true }));
    expect((await signIn(t, synced.browser, synced.authenticator)).json().aal).toBe('aal2');
    const noUv = await enrolled('nouv@ml.test', new SoftAuthenticator({ userVerified: false }));
    expect((await signIn(t, noUv.browser, noUv.authenticator)).json().aal).toBe('aal1');
    const sessions = await call(t, noUv.browser, 'GET', '/api/v1/auth/sessions');
    expect(sessions.json().items.find((s: { current: boolean }) => s.current)).toMatchObject({
      aal: 'aal1',
      authLevel: 'phishing_resistant_single_factor',
      networkPrefix: '192.0.2.0/24',
      browserFamily: 'chrome',
    });
  });

  it('requires user verification from an account holding a privileged role', async () => {
    const browser: Browser = newBrowser();
    const admin = new SoftAuthenticator({ userVerified: false });
    const options = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys/registration/options',
      headers: { authorization: `Bearer ${scene.adminToken}` },
    });
    expect(options.statusCode).toBe(200);
    const { ceremonyId, options: creation } = options.json();
    expect(creation.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys/registration/verify',
      headers: { authorization: `Bearer ${scene.adminToken}` },
      payload: { ceremonyId, response: admin.register(creation) },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('REGISTRATION_REJECTED');
    const again = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/passkeys/registration/options',
        headers: { authorization: `Bearer ${scene.adminToken}` },
      })
    ).json();
    const withUv = new SoftAuthenticator();
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/passkeys/registration/verify',
      headers: { authorization: `Bearer ${scene.adminToken}` },
      payload: {
        ceremonyId: again.ceremonyId,
        response: withUv.register(again.options),
        name: 'Clé de secours',
      },
    });
    expect(ok.statusCode).toBe(201);
    const noUv = await signIn(t, browser, withUv, { assert: { userVerified: false } });
    expect(noUv.statusCode).toBe(401);
    const last = (await eventsOf(t, 'auth.sign_in')).filter((e) => e.target?.id === scene.admin.id).pop();
    expect(last).toMatchObject({ outcome: 'failure', reason: 'USER_VERIFICATION_REQUIRED' });
    expect((await signIn(t, browser, withUv)).statusCode).toBe(200);
  });

  it('demands the configured Origin on a cookie-authenticated change', async () => {
    const { browser, authenticator } = await enrolled('csrf@ml.test');
    const noOrigin = await call(t, browser, 'POST', '/api/v1/auth/sign-out', undefined, { origin: '' });
    expect(noOrigin.statusCode).toBe(403);
    expect(noOrigin.json().error.code).toBe('CSRF_ORIGIN_MISMATCH');
    const evil = await call(
      t,
      browser,
      'POST',
      '/api/v1/tokens',
      { name: 'x' },
      { origin: 'https://evil.example' },
    );
    expect(evil.statusCode).toBe(403);
    expect(evil.json().error.code).toBe('CSRF_ORIGIN_MISMATCH');
    // Minting a token from a session needs a step-up (docs/sign-in.md, Step-up).
    expect((await stepUp(t, browser, authenticator)).statusCode).toBe(200);
    const token = await call(t, browser, 'POST', '/api/v1/tokens', { name: 'from a session' });
    expect(token.statusCode).toBe(201);
    const out = await call(t, browser, 'POST', '/api/v1/auth/sign-out');
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
  });

  it('ends a session replayed from another network or another browser, and journals the prefixes', async () => {
    const { browser, account } = await enrolled('bound@ml.test');
    expect((await call(t, { ...browser, ip: '192.0.2.77' }, 'GET', '/api/v1/accounts/me')).statusCode).toBe(
      200,
    );
    const elsewhere = await call(t, { ...browser, ip: '198.51.100.7' }, 'GET', '/api/v1/accounts/me');
    expect(elsewhere.statusCode).toBe(401);
    expect(elsewhere.json().error.code).toBe('SESSION_CONTEXT_CHANGED');
    expect((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    const changed = (await eventsOf(t, 'session.context_changed')).pop()!;
    expect(changed.data).toEqual({
      accountId: account.id,
      started: { networkPrefix: '192.0.2.0/24', browserFamily: 'chrome' },
      seen: { networkPrefix: '198.51.100.0/24', browserFamily: 'chrome' },
    });
    expect(JSON.stringify(changed)).not.toContain('198.51.100.7');

    const again = await enrolled('bound2@ml.test');
    const firefox = await call(
      t,
      { ...again.browser, userAgent: FIREFOX_UA },
      'GET',
      '/api/v1/auth/passkeys',
    );
    expect(firefox.json().error.code).toBe('SESSION_CONTEXT_CHANGED');
  });

  it('ends a session after 30 idle minutes, and after 12 hours however active', async () => {
    const { browser, authenticator } = await enrolled('timeouts@ml.test');
    t.clock.advance(29 * 60_000);
    expect((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(200);
    t.clock.advance(29 * 60_000);
    expect((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(200);
    t.clock.advance(31 * 60_000);
    expect((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    expect((await signIn(t, browser, authenticator)).statusCode).toBe(200);
    for (let i = 0; i < 26; i += 1) {
      t.clock.advance(29 * 60_000);
      if ((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode !== 200) break;
    }
    expect((await call(t, browser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    const ended = (await eventsOf(t, 'session.ended')).map((e) => e.data?.reason);
    expect(ended).toContain('idle_timeout');
    expect(ended).toContain('absolute_timeout');
  });

  it('lists, renames and revokes own passkeys; revoking ends the sessions it opened; others are 404', async () => {
    const { browser, authenticator } = await enrolled('keys@ml.test');
    const other = await enrolled('keys.other@ml.test');
    const list = await call(t, browser, 'GET', '/api/v1/auth/passkeys');
    const [mine] = list.json().items;
    const renamed = await call(t, browser, 'PATCH', `/api/v1/auth/passkeys/${mine.id}`, {
      name: 'Téléphone',
    });
    expect(renamed.json().name).toBe('Téléphone');
    const theirs = (await call(t, other.browser, 'GET', '/api/v1/auth/passkeys')).json().items[0];
    for (const res of [
      await call(t, browser, 'PATCH', `/api/v1/auth/passkeys/${theirs.id}`, { name: 'mine now' }),
      await call(t, browser, 'DELETE', `/api/v1/auth/passkeys/${theirs.id}`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('PASSKEY_NOT_FOUND');
    }
    const revoked = await call(t, browser, 'DELETE', `/api/v1/auth/passkeys/${mine.id}`);
    expect(revoked.statusCode).toBe(200);
    expect((await call(t, browser, 'GET', '/api/v1/auth/passkeys')).statusCode).toBe(401);
    expect((await signIn(t, newBrowser(), authenticator)).statusCode).toBe(401);
    const kinds = (await eventsOf(t, 'passkey.renamed', 'passkey.revoked', 'session.revoked')).map(
      (e) => e.kind,
    );
    expect(kinds).toEqual(expect.arrayContaining(['passkey.renamed', 'passkey.revoked', 'session.revoked']));
  });

  it('signs out everywhere, and the containment response that revokes tokens ends sessions too', async () => {
    const { browser, authenticator, account } = await enrolled('everywhere@ml.test');
    const second = newBrowser('203.0.113.5');
    expect((await signIn(t, second, authenticator)).statusCode).toBe(200);
    const all = await call(t, browser, 'POST', '/api/v1/auth/sign-out-everywhere');
    expect(all.json()).toEqual({ ended: 2 });
    expect((await call(t, second, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);

    expect((await signIn(t, second, authenticator)).statusCode).toBe(200);
    const revoke = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${account.id}/revoke-tokens`,
      headers: { authorization: `Bearer ${scene.adminToken}` },
      payload: { reason: 'suspected compromise' },
    });
    expect(revoke.json()).toEqual({ revoked: 0, sessionsEnded: 1 });
    expect((await call(t, second, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    const revokedEvent = (await eventsOf(t, 'session.revoked')).pop()!;
    expect(revokedEvent).toMatchObject({
      actor: { id: scene.admin.id },
      target: { id: account.id },
      data: { count: 1 },
    });
  });

  it('shows an account’s passkeys and live sessions to whoever may read it, and 404 to anyone else', async () => {
    const { account, browser } = await enrolled('looked.at@ml.test');
    const admin = { authorization: `Bearer ${scene.adminToken}` };
    const keys = await t.app.inject({ url: `/api/v1/accounts/${account.id}/passkeys`, headers: admin });
    expect(keys.statusCode).toBe(200);
    expect(keys.json().items).toHaveLength(1);
    expect(Object.keys(keys.json().items[0])).not.toContain('publicKey');
    const sessions = await t.app.inject({ url: `/api/v1/accounts/${account.id}/sessions`, headers: admin });
    expect(sessions.statusCode).toBe(200);
    expect(sessions.json().items).toHaveLength(1);
    expect(sessions.json().items[0]).toMatchObject({ current: false, networkPrefix: expect.any(String) });
    // The account itself sees its own, this session marked current.
    const own = await call(t, browser, 'GET', `/api/v1/accounts/${account.id}/sessions`);
    expect(own.json().items[0].current).toBe(true);
    // A colleague without account.read, and an agent of another structure, learn nothing: 404.
    const colleague = await enrolled('colleague@ml.test');
    const elsewhere = await makeOrganisation(t.database.db, {
      parent: scene.network,
      kind: 'mission_locale',
    });
    const outsider = await makeAccount(t.database.db, {
      organisationId: elsewhere.id,
      approvedBy: scene.admin.id,
    });
    await grantRole(t.database.db, outsider.id, 'account_manager', elsewhere.id);
    const outsiderToken = await issueToken(t.database.db, 'account', outsider.id);
    for (const res of [
      await call(t, colleague.browser, 'GET', `/api/v1/accounts/${account.id}/passkeys`),
      await call(t, colleague.browser, 'GET', `/api/v1/accounts/${account.id}/sessions`),
      await t.app.inject({
        url: `/api/v1/accounts/${account.id}/sessions`,
        headers: { authorization: `Bearer ${outsiderToken}` },
      }),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('ACCOUNT_NOT_FOUND');
    }
  });
});
