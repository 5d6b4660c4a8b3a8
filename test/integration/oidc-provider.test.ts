import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { SESSION_COOKIE } from '../../src/http/authenticate.js';
import { ACR_VALUES } from '../../src/modules/oidc-provider/oidc.acr.js';
import type { OidcProviderModule } from '../../src/modules/oidc-provider/index.js';
import { issueToken, makeAccount, makeApplication, makeScene } from '../helpers/factories.js';
import { CookieJar, pkcePair, startReceiver } from '../helpers/oidc-rp.js';
import {
  CHROME_UA,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
  signIn,
  type Browser,
} from '../helpers/sign-in-scene.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Vigie as OpenID Provider (issue 10, item 4), over real HTTP on 127.0.0.1: a real oidc-provider
 * inside Vigie's Fastify, a Vigie session opened by a passkey sign-in (soft authenticator), the
 * relying application played by this test with fetch and jose, its back-channel logout endpoint a
 * local HTTP receiver.
 */
let t: TestApp;
let origin = '';
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const logouts: string[] = [];
const hits = new Map<string, number>();
let scene: Awaited<ReturnType<typeof makeScene>>;
let oidc: OidcProviderModule;
let jwks: JSONWebKeySet;

beforeAll(async () => {
  sink = await startSmtpSink();
  receiver = await startReceiver((req, body, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    if (req.url === '/backchannel') logouts.push(new URLSearchParams(body).get('logout_token') ?? '');
    // /flaky fails its first delivery, /broken every one.
    const ok = req.url === '/backchannel' || (req.url === '/flaky' && hits.get('/flaky')! > 1);
    res.writeHead(ok ? 200 : 500).end();
  });
  const port = await freePort();
  origin = `http://localhost:${port}`;
  t = await createTestApp({
    env: {
      VIGIE_SMTP_URL: sink.url,
      VIGIE_ORIGIN: origin,
      VIGIE_OIDC_BACKCHANNEL_PRIVATE_NETWORKS: 'true',
    },
    start: true,
  });
  await t.app.listen({ host: '127.0.0.1', port });
  scene = await makeScene(t.database.db);
  oidc = t.container.modules.find((m): m is OidcProviderModule => m.name === 'oidc-provider')!;
  jwks = (await (await fetch(`${origin}/oidc/jwks`)).json()) as JSONWebKeySet;
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
  await receiver?.close();
});

const admin = (
  method: 'GET' | 'PUT' | 'DELETE' | 'POST',
  url: string,
  payload?: object,
  token = scene.adminToken,
) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload: payload as Record<string, unknown> } : {}),
  });

async function registerClient(body: Record<string, unknown>) {
  const app = await makeApplication(t.database.db, { organisationId: scene.structure.id, kind: 'business' });
  const res = await admin('PUT', `/api/v1/applications/${app.id}/oidc-client`, body);
  expect(res.statusCode, res.body).toBe(200);
  return { clientId: app.id, ...res.json<{ clientSecret?: string }>() };
}

/** An account with a passkey, signed in with it from 127.0.0.1 in Chrome: the browser holds the cookie. */
async function signedIn(email: string, authenticator = new SoftAuthenticator({ origin })) {
  const account = await createAccount(t, scene.adminToken, scene.structure.id, email);
  const link = await sink.linkFor(email);
  const browser: Browser = newBrowser('127.0.0.1', CHROME_UA);
  await enrolWithLink(t, browser, link.secret, authenticator);
  // Enrolment opened a session; the one under test is a plain passkey sign-in of a fresh browser.
  delete browser.cookie;
  const res = await signIn(t, browser, authenticator);
  expect(res.statusCode, res.body).toBe(200);
  return { account, browser, authenticator };
}

const REDIRECT = 'http://127.0.0.1:9/callback';

/**
 * Sends the browser to the authorisation endpoint and follows Vigie's redirects (with its cookies
 * and, when given, the Vigie session cookie) until it leaves Vigie or reaches /sign-in.
 */
async function authorize(params: Record<string, string>, vigieCookie?: string, jar = new CookieJar()) {
  return follow(new URL(`${origin}/oidc/auth?${new URLSearchParams(params).toString()}`), vigieCookie, jar);
}

async function follow(start: URL, vigieCookie: string | undefined, jar: CookieJar) {
  let url = start;
  for (let hop = 0; hop < 8; hop++) {
    const cookie = [jar.header(), vigieCookie ? `${SESSION_COOKIE}=${vigieCookie}` : '']
      .filter(Boolean)
      .join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: { 'user-agent': CHROME_UA, cookie } });
    jar.take(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { res, url, jar };
    url = new URL(location, origin);
    if (url.origin !== origin || url.pathname === '/sign-in') return { res, url, jar };
  }
  throw new Error('too many redirects');
}

function codeRequest(clientId: string, extra: Record<string, string> = {}) {
  const pkce = pkcePair();
  const nonce = `n-${Math.random().toString(36).slice(2)}`;
  const state = `s-${Math.random().toString(36).slice(2)}`;
  return {
    pkce,
    nonce,
    state,
    params: {
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
      nonce,
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...extra,
    },
  };
}

async function exchange(
  clientId: string,
  code: string,
  verifier: string,
  headers: Record<string, string> = {},
) {
  return fetch(`${origin}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      ...(headers.authorization ? {} : { client_id: clientId }),
    }),
  });
}

async function introspect(clientId: string, token: string) {
  const res = await fetch(`${origin}/oidc/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: clientId }),
  });
  return res.json() as Promise<Record<string, unknown>>;
}

describe('Vigie as OpenID Provider', () => {
  it('serves discovery at /.well-known/openid-configuration, and a JWKS of public keys only', async () => {
    const res = await fetch(`${origin}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as Record<string, unknown>;
    expect(d).toMatchObject({
      issuer: origin,
      authorization_endpoint: `${origin}/oidc/auth`,
      token_endpoint: `${origin}/oidc/token`,
      jwks_uri: `${origin}/oidc/jwks`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      acr_values_supported: [...ACR_VALUES],
    });
    expect(d.dpop_signing_alg_values_supported).toContain('ES256');
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d');
  });

  it(
    'signs a person in with their Vigie session: code + PKCE, an ID token with acr, amr, sid and nonce',
    { timeout: 20_000 },
    async () => {
      const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
      const { account, browser } = await signedIn('rp-flow@ml.test');
      const { pkce, nonce, state, params } = codeRequest(clientId);

      // Without the session cookie (a SameSite=Strict cookie is not sent cross-site), to /sign-in and back.
      const first = await authorize(params);
      expect(first.url.pathname).toBe('/sign-in');
      const back = first.url.searchParams.get('return')!;
      expect(back).toMatch(/^\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
      expect(first.url.searchParams.has('reauth')).toBe(false);

      const jar = first.jar;
      const done = await authorize(params, browser.cookie, jar);
      expect(done.url.origin + done.url.pathname).toBe(REDIRECT);
      expect(done.url.searchParams.get('state')).toBe(state);
      const code = done.url.searchParams.get('code')!;
      expect(code).toMatch(/^[A-Za-z0-9_-]{20,}$/);

      const token = await exchange(clientId, code, pkce.verifier);
      expect(token.status).toBe(200);
      const body = (await token.json()) as { id_token: string; access_token: string; token_type: string };
      expect(body.token_type).toBe('Bearer');
      const { payload, protectedHeader } = await jwtVerify(body.id_token, createLocalJWKSet(jwks), {
        issuer: origin,
        audience: clientId,
      });
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload).toMatchObject({
        sub: account.id,
        nonce,
        acr: 'urn:vigie:acr:phishing-resistant:aal3',
        amr: ['hwk', 'mfa', 'user'],
      });
      expect(typeof payload.sid).toBe('string');
      expect(typeof payload.auth_time).toBe('number');

      const me = await fetch(`${origin}/oidc/me`, {
        headers: { authorization: `Bearer ${body.access_token}` },
      });
      const meBody = await me.text();
      expect(me.status, `${meBody} ${me.headers.get('www-authenticate')}`).toBe(200);
      expect(JSON.parse(meBody)).toMatchObject({ sub: account.id, email: 'rp-flow@ml.test' });

      const authorized = (await eventsOf(t, 'oidc.authorized')).pop()!;
      const sessionId = authorized.data!.sessionId as string;
      expect(authorized.data).toMatchObject({ accountId: account.id, applicationId: clientId });
      expect(await oidc.sessionOfAccessToken(body.access_token)).toEqual({ sessionId, clientId });
      expect(await oidc.sessionOfAccessToken('not-a-token')).toBeUndefined();

      // The code is single-use; a second exchange (a stolen code) revokes what the first one got.
      expect((await exchange(clientId, code, pkce.verifier)).status).toBe(400);
      expect(await introspect(clientId, body.access_token)).toEqual({ active: false });

      // Nothing a copy of the database could replay: the access token and code are stored as hashes.
      const rows = await t.database.db.selectFrom('oidc_artifacts').select(['id_hash', 'payload']).execute();
      for (const r of rows) {
        expect(r.id_hash).not.toBe(body.access_token);
        expect(r.payload).not.toContain(body.access_token);
        expect(r.payload).not.toContain(code);
      }
    },
  );

  it(
    'lets the PDP follow the access token an application received to the Vigie session behind it',
    { timeout: 20_000 },
    async () => {
      const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
      const { account, browser } = await signedIn('rp-pdp@ml.test');
      const { pkce, params } = codeRequest(clientId);
      const first = await authorize(params);
      const done = await authorize(params, browser.cookie, first.jar);
      const code = done.url.searchParams.get('code')!;
      const { access_token } = (await (await exchange(clientId, code, pkce.verifier)).json()) as {
        access_token: string;
      };
      const sessionId = (await eventsOf(t, 'oidc.authorized')).pop()!.data!.sessionId as string;
      const appToken = await issueToken(t.database.db, 'application', clientId);
      const evaluate = (subjectId: string) =>
        t.app.inject({
          method: 'POST',
          url: '/access/v1/evaluation',
          headers: { authorization: `Bearer ${appToken}` },
          payload: {
            subject: { type: 'account', id: subjectId },
            action: { name: 'read' },
            resource: { type: 'record', id: 'DE-PDP-1' },
            context: { access_token, auth_level: 'not_phishing_resistant' },
          },
        });
      expect((await evaluate(account.id)).statusCode).toBe(200);
      // Another subject presenting this person's token lends it nothing.
      const other = await evaluate(scene.admin.id);
      expect(other.statusCode).toBe(200);
      expect(other.json<{ decision: boolean }>().decision).toBe(false);

      let decisions: Awaited<ReturnType<typeof eventsOf>> = [];
      for (let i = 0; i < 50 && decisions.length < 2; i++) {
        decisions = (await eventsOf(t, 'access.decision')).filter((e) => e.data?.authSource === 'session');
        if (decisions.length < 2) await new Promise((r) => setTimeout(r, 100));
      }
      const [own, foreign] = decisions.slice(-2);
      // The session's strength replaced the body's claim, and the token itself is in no event.
      expect((own as unknown as { context: unknown }).context).toMatchObject({
        sessionId,
        authLevel: 'phishing_resistant',
      });
      expect(own!.data).toMatchObject({ authSource: 'session', networkPrefix: '127.0.0.0/24' });
      expect(foreign!.data).toMatchObject({
        authSource: 'session',
        sessionProblem: 'session_subject_mismatch',
      });
      expect(JSON.stringify(decisions)).not.toContain(access_token);
    },
  );

  it('refuses a request without PKCE and a wrong code_verifier', async () => {
    const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
    const { browser } = await signedIn('rp-pkce@ml.test');
    const { params } = codeRequest(clientId);
    const { code_challenge: _c, code_challenge_method: _m, ...withoutPkce } = params;
    const missing = await authorize(withoutPkce, browser.cookie);
    expect(missing.url.origin + missing.url.pathname).toBe(REDIRECT);
    expect(missing.url.searchParams.get('error')).toBe('invalid_request');

    const ok = codeRequest(clientId);
    const done = await authorize(ok.params, browser.cookie);
    const wrong = await exchange(clientId, done.url.searchParams.get('code')!, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('answers an unknown client, a redirect_uri not registered and a bogus interaction with a clean 4xx', async () => {
    const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
    const unknown = await authorize(codeRequest('0190f0a0-0000-7000-8000-000000000000').params);
    expect(unknown.res.status).toBe(400);
    expect(await unknown.res.text()).toContain('Connexion impossible');

    const badRedirect = await authorize({
      ...codeRequest(clientId).params,
      redirect_uri: 'https://evil.example/cb',
    });
    expect(badRedirect.res.status).toBe(400);
    expect(await badRedirect.res.text()).toContain('redirect_uri');

    const bogus = await fetch(`${origin}/oidc/interaction/nope`, { redirect: 'manual' });
    expect(bogus.status).toBe(400);
    expect(((await bogus.json()) as { error: { code: string } }).error.code).toBe(
      'OIDC_INTERACTION_NOT_FOUND',
    );

    const token = await fetch(`${origin}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=x&client_id=nobody&code_verifier=y&redirect_uri=z',
    });
    expect(token.status).toBe(401);

    // Hostile shapes: a repeated parameter, a body too large, a JSON body, a path the provider lacks.
    const repeated = await fetch(`${origin}/oidc/auth?client_id=${clientId}&client_id=x&response_type=code`, {
      redirect: 'manual',
    });
    expect(repeated.status).toBe(400);
    const big = await fetch(`${origin}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=authorization_code&code=${'a'.repeat(2_000_000)}`,
    });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
    const json = await fetch(`${origin}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"__proto__":{"polluted":true},"grant_type":"authorization_code"',
    });
    expect(json.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${origin}/oidc/nothing-here`)).status).toBe(404);

    // A suspended application is no client any more.
    await admin('POST', `/api/v1/applications/${clientId}/suspend`, { reason: 'test' });
    const suspended = await authorize(codeRequest(clientId).params);
    expect(suspended.res.status).toBe(400);
  });

  it('asks a weaker session to sign in again, then answers unmet_authentication_requirements', async () => {
    const { clientId } = await registerClient({
      redirectUris: [REDIRECT],
      dpopRequired: false,
      defaultAcr: 'urn:vigie:acr:phishing-resistant:aal2',
    });
    const { browser, authenticator } = await signedIn(
      'rp-weak@ml.test',
      new SoftAuthenticator({ origin, userVerified: false }),
    );
    const { params } = codeRequest(clientId);
    const first = await authorize(params, browser.cookie);
    expect(first.url.pathname).toBe('/sign-in');
    expect(first.url.searchParams.get('reauth')).toBe('1');
    const back = new URL(first.url.searchParams.get('return')!, origin);

    // The person signs in again, with the same one-factor passkey, and comes back: still too weak.
    delete browser.cookie;
    expect((await signIn(t, browser, authenticator)).statusCode).toBe(200);
    const end = await follow(back, browser.cookie, first.jar);
    expect(end.url.origin + end.url.pathname).toBe(REDIRECT);
    expect(end.url.searchParams.get('error')).toBe('unmet_authentication_requirements');
    const refused = (await eventsOf(t, 'oidc.authorized')).filter((e) => e.outcome === 'denied').pop()!;
    expect(refused).toMatchObject({
      reason: 'unmet_authentication_requirements',
      data: { applicationId: clientId, acr: 'urn:vigie:acr:phishing-resistant:aal1' },
    });

    // Signing in again with user verification this time meets it: the code comes back.
    const stepUp = codeRequest(clientId);
    const asked = await authorize(stepUp.params, browser.cookie);
    expect(asked.url.searchParams.get('reauth')).toBe('1');
    delete browser.cookie;
    expect((await signIn(t, browser, authenticator, { assert: { userVerified: true } })).statusCode).toBe(
      200,
    );
    const stepped = await follow(
      new URL(asked.url.searchParams.get('return')!, origin),
      browser.cookie,
      asked.jar,
    );
    const code = stepped.url.searchParams.get('code')!;
    const { id_token } = (await (await exchange(clientId, code, stepUp.pkce.verifier)).json()) as {
      id_token: string;
    };
    expect((await jwtVerify(id_token, createLocalJWKSet(jwks))).payload.acr).toBe(
      'urn:vigie:acr:phishing-resistant:aal3',
    );

    // acr_values naming a level the session meets is honoured over the client's default.
    const low = codeRequest(clientId, { acr_values: 'urn:vigie:acr:phishing-resistant:aal1' });
    const ok = await authorize(low.params, browser.cookie);
    expect(ok.url.searchParams.get('code')).toBeTruthy();
  });

  it('asks for a new sign-in on prompt=login and max_age, and accepts the fresh one', async () => {
    const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
    const { browser, authenticator } = await signedIn('rp-fresh@ml.test');
    const cases: Record<string, string>[] = [{ prompt: 'login' }, { max_age: '0' }];
    for (const extra of cases) {
      t.clock.advance(60_000);
      const request = codeRequest(clientId, extra);
      const asked = await authorize(request.params, browser.cookie);
      expect(asked.url.pathname).toBe('/sign-in');
      expect(asked.url.searchParams.get('reauth')).toBe('1');
      // Coming back without signing in again is refused…
      const stale = await follow(
        new URL(asked.url.searchParams.get('return')!, origin),
        browser.cookie,
        asked.jar,
      );
      expect(stale.url.searchParams.get('error')).toBe('login_required');
      // …and with a new sign-in, accepted.
      const again = await authorize(request.params, browser.cookie);
      delete browser.cookie;
      expect((await signIn(t, browser, authenticator)).statusCode).toBe(200);
      const fresh = await follow(
        new URL(again.url.searchParams.get('return')!, origin),
        browser.cookie,
        again.jar,
      );
      expect(fresh.url.searchParams.get('code')).toBeTruthy();
    }
  });

  it('binds access tokens with DPoP (RFC 9449): a proof is required, replayed or foreign proofs are refused', async () => {
    const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: true });
    const { browser } = await signedIn('rp-dpop@ml.test');
    const key = await generateKeyPair('ES256');
    const jwk = await exportJWK(key.publicKey);
    const proof = async (htm: string, htu: string, extra: Record<string, string> = {}, k = key) =>
      new SignJWT({ htm, htu, ...extra })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(k.publicKey) })
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .sign(k.privateKey);

    const a = codeRequest(clientId);
    const without = await exchange(
      clientId,
      (await authorize(a.params, browser.cookie)).url.searchParams.get('code')!,
      a.pkce.verifier,
    );
    expect(without.status).toBe(400);

    const b = codeRequest(clientId);
    const code = (await authorize(b.params, browser.cookie)).url.searchParams.get('code')!;
    const token = await exchange(clientId, code, b.pkce.verifier, {
      dpop: await proof('POST', `${origin}/oidc/token`),
    });
    expect(token.status).toBe(200);
    const body = (await token.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('DPoP');
    const ath = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body.access_token)),
    ).toString('base64url');

    const good = await proof('GET', `${origin}/oidc/me`, { ath });
    const me = await fetch(`${origin}/oidc/me`, {
      headers: { authorization: `DPoP ${body.access_token}`, dpop: good },
    });
    expect(me.status).toBe(200);
    const replay = await fetch(`${origin}/oidc/me`, {
      headers: { authorization: `DPoP ${body.access_token}`, dpop: good },
    });
    expect(replay.status).toBe(401);
    const other = await generateKeyPair('ES256');
    const foreign = await fetch(`${origin}/oidc/me`, {
      headers: {
        authorization: `DPoP ${body.access_token}`,
        dpop: await proof('GET', `${origin}/oidc/me`, { ath }, other),
      },
    });
    expect(foreign.status).toBe(401);
    const asBearer = await fetch(`${origin}/oidc/me`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(asBearer.status).toBe(401);

    const info = await introspect(clientId, body.access_token);
    expect(info).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: await calculateJwkThumbprint(jwk) },
    });
  });

  it("revoking an account's sessions makes its access tokens inactive and posts a back-channel logout token", async () => {
    const { clientId } = await registerClient({
      redirectUris: [REDIRECT],
      dpopRequired: false,
      backchannelLogoutUri: `${receiver.url}/backchannel`,
    });
    const { account, browser } = await signedIn('rp-revoke@ml.test');
    const { pkce, params } = codeRequest(clientId);
    const code = (await authorize(params, browser.cookie)).url.searchParams.get('code')!;
    const body = (await (await exchange(clientId, code, pkce.verifier)).json()) as {
      access_token: string;
      id_token: string;
    };
    const { payload: idToken } = await jwtVerify(body.id_token, createLocalJWKSet(jwks), { issuer: origin });
    expect(await introspect(clientId, body.access_token)).toMatchObject({ active: true, sub: account.id });

    const before = logouts.length;
    const res = await admin('POST', `/api/v1/accounts/${account.id}/revoke-tokens`, {
      reason: 'detection response',
    });
    expect(res.statusCode, res.body).toBe(200);
    await oidc.settle();

    expect(await introspect(clientId, body.access_token)).toEqual({ active: false });
    expect(await oidc.sessionOfAccessToken(body.access_token)).toBeUndefined();
    expect(logouts.length).toBe(before + 1);
    const { payload: logout } = await jwtVerify(logouts.at(-1)!, createLocalJWKSet(jwks), {
      issuer: origin,
      audience: clientId,
    });
    expect(logout).toMatchObject({
      sub: account.id,
      sid: idToken.sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    });
    expect(logout).not.toHaveProperty('nonce');
    const delivered = (await eventsOf(t, 'oidc.backchannel_logout')).pop()!;
    expect(delivered).toMatchObject({
      outcome: 'success',
      data: { applicationId: clientId, accountId: account.id, attempts: 1 },
    });
    expect(JSON.stringify(delivered)).not.toContain(logouts.at(-1)!);
    const revoked = (await eventsOf(t, 'oidc.grants_revoked')).pop()!;
    expect(revoked.data).toMatchObject({ accountId: account.id, applicationIds: [clientId] });

    // The browser's Vigie session is over: a new authorisation goes back to /sign-in.
    expect((await authorize(codeRequest(clientId).params, browser.cookie)).url.pathname).toBe('/sign-in');
  });

  it(
    'retries a back-channel logout a bounded number of times and journals the outcome',
    { timeout: 20_000 },
    async () => {
      const flaky = await registerClient({
        redirectUris: [REDIRECT],
        dpopRequired: false,
        backchannelLogoutUri: `${receiver.url}/flaky`,
      });
      const broken = await registerClient({
        redirectUris: [REDIRECT],
        dpopRequired: false,
        backchannelLogoutUri: `${receiver.url}/broken`,
      });
      const { account, browser } = await signedIn('rp-retry@ml.test');
      for (const { clientId } of [flaky, broken]) {
        const { pkce, params } = codeRequest(clientId);
        const code = (await authorize(params, browser.cookie)).url.searchParams.get('code')!;
        expect((await exchange(clientId, code, pkce.verifier)).status).toBe(200);
      }
      const res = await admin('POST', `/api/v1/accounts/${account.id}/revoke-tokens`, { reason: 'test' });
      expect(res.statusCode).toBe(200);
      await oidc.settle();
      expect(hits.get('/flaky')).toBe(2);
      expect(hits.get('/broken')).toBe(3);
      const outcomes = (await eventsOf(t, 'oidc.backchannel_logout')).filter(
        (e) => e.data?.accountId === account.id,
      );
      expect(outcomes.find((e) => e.data?.applicationId === flaky.clientId)).toMatchObject({
        outcome: 'success',
        data: { attempts: 2 },
      });
      expect(outcomes.find((e) => e.data?.applicationId === broken.clientId)).toMatchObject({
        outcome: 'failure',
        reason: 'unexpected_status',
        data: { attempts: 3 },
      });
    },
  );

  it("lets an application introspect its own tokens only, and browsers call from its redirect URIs' origins only", async () => {
    const mine = await registerClient({
      redirectUris: ['http://127.0.0.1:7/cb', REDIRECT],
      dpopRequired: false,
    });
    const other = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
    const { browser } = await signedIn('rp-own@ml.test');
    const { pkce, params } = codeRequest(mine.clientId);
    const code = (await authorize(params, browser.cookie)).url.searchParams.get('code')!;
    const { access_token } = (await (await exchange(mine.clientId, code, pkce.verifier)).json()) as {
      access_token: string;
    };
    expect(await introspect(mine.clientId, access_token)).toMatchObject({ active: true });
    expect(await introspect(other.clientId, access_token)).toEqual({ active: false });

    const preflight = (from: string) =>
      fetch(`${origin}/oidc/token`, {
        method: 'POST',
        headers: { origin: from, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: mine.clientId }),
      });
    expect((await preflight('http://127.0.0.1:7')).headers.get('access-control-allow-origin')).toBe(
      'http://127.0.0.1:7',
    );
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('starts afresh when another person signs in on the same browser, and after a sign-out', async () => {
    const { clientId } = await registerClient({ redirectUris: [REDIRECT], dpopRequired: false });
    const first = await signedIn('rp-first@ml.test');
    const second = await signedIn('rp-second@ml.test');
    const jar = new CookieJar();
    const a = codeRequest(clientId);
    const asFirst = await authorize(a.params, first.browser.cookie, jar);
    const tokenA = (await (
      await exchange(clientId, asFirst.url.searchParams.get('code')!, a.pkce.verifier)
    ).json()) as {
      id_token: string;
    };
    expect((await jwtVerify(tokenA.id_token, createLocalJWKSet(jwks))).payload.sub).toBe(first.account.id);

    // Same browser (same provider cookies), another person's Vigie session, the first one still live.
    const b = codeRequest(clientId);
    const asSecond = await authorize(b.params, second.browser.cookie, jar);
    expect(asSecond.url.origin + asSecond.url.pathname).toBe(REDIRECT);
    const tokenB = (await (
      await exchange(clientId, asSecond.url.searchParams.get('code')!, b.pkce.verifier)
    ).json()) as {
      id_token: string;
    };
    expect((await jwtVerify(tokenB.id_token, createLocalJWKSet(jwks))).payload.sub).toBe(second.account.id);

    // Signing out of Vigie ends the provider's session too.
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-out',
      remoteAddress: '127.0.0.1',
      headers: { 'user-agent': CHROME_UA, cookie: `${SESSION_COOKIE}=${second.browser.cookie}`, origin },
      payload: {},
    });
    expect(out.statusCode, out.body).toBeLessThan(300);
    await oidc.settle();
    const providerSessions = await t.database.db
      .selectFrom('oidc_grant_sessions as g')
      .innerJoin('oidc_artifacts as a', 'a.uid_hash', 'g.provider_session_hash')
      .select('a.model')
      .where('g.account_id', '=', second.account.id)
      .execute();
    expect(providerSessions).toEqual([]);
    expect((await authorize(codeRequest(clientId).params, second.browser.cookie, jar)).url.pathname).toBe(
      '/sign-in',
    );
  });

  it('registers confidential clients with a secret shown once and kept as a hash', async () => {
    const { clientId, clientSecret } = await registerClient({
      redirectUris: [REDIRECT],
      dpopRequired: false,
      confidential: true,
    });
    expect(clientSecret).toMatch(/^vcs_[A-Za-z0-9_-]{43}$/);
    const read = await admin('GET', `/api/v1/applications/${clientId}/oidc-client`);
    expect(read.json()).toMatchObject({ confidential: true });
    expect(read.body).not.toContain(clientSecret!);
    const stored = await t.database.db
      .selectFrom('oidc_clients')
      .selectAll()
      .where('application_id', '=', clientId)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(clientSecret!);

    const { browser } = await signedIn('rp-secret@ml.test');
    const basic = (secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
    const a = codeRequest(clientId);
    const code = (await authorize(a.params, browser.cookie)).url.searchParams.get('code')!;
    const wrong = await exchange(clientId, code, a.pkce.verifier, { authorization: basic('vcs_wrong') });
    expect(wrong.status).toBe(401);
    const b = codeRequest(clientId);
    const code2 = (await authorize(b.params, browser.cookie)).url.searchParams.get('code')!;
    const right = await exchange(clientId, code2, b.pkce.verifier, { authorization: basic(clientSecret!) });
    expect(right.status).toBe(200);
  });

  it('guards the admin API: bad URIs, hostile keys, unknown applications, missing permission; journaled', async () => {
    const app = await makeApplication(t.database.db, {
      organisationId: scene.structure.id,
      kind: 'business',
    });
    const url = `/api/v1/applications/${app.id}/oidc-client`;
    const bad = await admin('PUT', url, { redirectUris: ['http://example.com/cb'], dpopRequired: false });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_OIDC_URI');
    const fragment = await admin('PUT', url, {
      redirectUris: ['https://app.example/cb#x'],
      dpopRequired: false,
    });
    expect(fragment.statusCode).toBe(400);
    const poisoned = await t.app.inject({
      method: 'PUT',
      url,
      headers: { authorization: `Bearer ${scene.adminToken}`, 'content-type': 'application/json' },
      payload: '{"redirectUris":["https://app.example/cb"],"dpopRequired":false,"__proto__":{"x":1}}',
    });
    expect(poisoned.statusCode).toBe(400);
    const huge = await admin('PUT', url, {
      redirectUris: [`https://app.example/${'a'.repeat(3000)}`],
      dpopRequired: false,
    });
    expect(huge.statusCode).toBe(400);
    const missing = await admin(
      'PUT',
      '/api/v1/applications/0190f0a0-0000-7000-8000-000000000000/oidc-client',
      {
        redirectUris: ['https://app.example/cb'],
        dpopRequired: false,
      },
    );
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('APPLICATION_NOT_FOUND');
    expect((await admin('GET', url)).statusCode).toBe(404);

    const nobody = await makeAccount(t.database.db, {
      organisationId: scene.structure.id,
      email: 'nobody@ml.test',
    });
    const { issueToken } = await import('../helpers/factories.js');
    const nobodyToken = await issueToken(t.database.db, 'account', nobody.id);
    const denied = await admin(
      'PUT',
      url,
      { redirectUris: ['https://app.example/cb'], dpopRequired: false },
      nobodyToken,
    );
    expect(denied.statusCode).toBe(403);

    const ok = await admin('PUT', url, { redirectUris: ['https://app.example/cb'], dpopRequired: true });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      clientId: app.id,
      dpopRequired: true,
      confidential: false,
      backchannelLogoutUri: null,
    });
    const registered = (await eventsOf(t, 'oidc_client.registered')).pop()!;
    expect(registered).toMatchObject({ outcome: 'success', target: { id: app.id } });
    expect((await admin('DELETE', url)).statusCode).toBe(204);
    expect((await eventsOf(t, 'oidc_client.removed')).pop()).toMatchObject({ target: { id: app.id } });
  });

  it('describes the admin routes in the OpenAPI document', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const doc = res.json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(doc.paths['/api/v1/applications/{id}/oidc-client']!).sort()).toEqual([
      'delete',
      'get',
      'put',
    ]);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/oidc'))).toBe(false);
  });
});
