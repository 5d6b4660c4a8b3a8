import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/http/authenticate.js';
import { FEDERATION_COOKIE } from '../../src/modules/sign-in/federation/federation.routes.js';
import { grantRole, issueToken, makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';
import {
  CHROME_UA,
  ORIGIN,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startUpstream, type Upstream, type UpstreamLogin } from '../helpers/upstream-provider.js';

const PROVIDER = 'proconnect';
const CALLBACK = `${ORIGIN}/api/v1/auth/federation/${PROVIDER}/callback`;
const SIRET = '13002526500013';

/**
 * A browser driven by plain HTTP: Vigie through app.inject, the upstream through fetch, redirects
 * followed by hand, one cookie jar per site.
 */
class HttpBrowser {
  readonly vigieJar = new Map<string, string>();
  readonly upstreamJar = new Map<string, string>();
  /** The last Vigie callback URL the upstream sent this browser to. */
  callbackUrl: string | undefined;
  constructor(
    readonly t: TestApp,
    readonly ip: string,
  ) {}

  static #store(jar: Map<string, string>, lines: readonly string[]) {
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
  }

  static #header(jar: Map<string, string>) {
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async vigie(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
    const res = await this.t.app.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: {
        'user-agent': CHROME_UA,
        ...(this.vigieJar.size > 0 ? { cookie: HttpBrowser.#header(this.vigieJar) } : {}),
        ...(method === 'POST' ? { origin: ORIGIN } : {}),
      },
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
    const set = res.headers['set-cookie'];
    HttpBrowser.#store(this.vigieJar, Array.isArray(set) ? set : set ? [set] : []);
    return res;
  }

  async upstream(url: string): Promise<{ status: number; location: string | undefined }> {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: this.upstreamJar.size > 0 ? { cookie: HttpBrowser.#header(this.upstreamJar) } : {},
    });
    HttpBrowser.#store(this.upstreamJar, res.headers.getSetCookie());
    await res.arrayBuffer();
    const location = res.headers.get('location');
    return { status: res.status, location: location ? new URL(location, url).href : undefined };
  }

  /** Follows redirects from `url` until Vigie shows a page; returns that page's path and query. */
  async follow(url: string): Promise<string> {
    let next = url;
    for (let hop = 0; hop < 20; hop++) {
      if (next.startsWith(ORIGIN)) {
        const path = next.slice(ORIGIN.length);
        if (!path.startsWith('/api/')) return path;
        if (path.startsWith(`/api/v1/auth/federation/${PROVIDER}/callback`)) this.callbackUrl = next;
        const res = await this.vigie('GET', path);
        const location = res.headers.location;
        if (res.statusCode !== 303 || typeof location !== 'string')
          throw new Error(`Vigie answered ${res.statusCode}: ${res.body}`);
        next = new URL(location, ORIGIN).href;
      } else {
        const res = await this.upstream(next);
        if (!res.location) throw new Error(`the upstream answered ${res.status} at ${next}`);
        next = res.location;
      }
    }
    throw new Error('too many redirects');
  }

  signIn(): Promise<string> {
    return this.follow(`${ORIGIN}/api/v1/auth/federation/${PROVIDER}/start`);
  }

  get session(): string | undefined {
    return this.vigieJar.get(SESSION_COOKIE);
  }
}

describe('federated sign-in through a ProConnect-like upstream', () => {
  let t: TestApp;
  let upstream: Upstream;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let lastIp = 40;
  const browser = () => new HttpBrowser(t, `198.51.100.${++lastIp}`);

  beforeAll(async () => {
    upstream = await startUpstream({ redirectUri: CALLBACK });
    sink = await startSmtpSink();
    t = await createTestApp({
      env: {
        VIGIE_SMTP_URL: sink.url,
        VIGIE_SIGN_IN_LOCK_AFTER: '4',
        VIGIE_SIGN_IN_DELAY_AFTER: '4',
        VIGIE_FEDERATION_PROVIDERS: PROVIDER,
        VIGIE_FEDERATION_PROCONNECT_NAME: 'ProConnect (test)',
        VIGIE_FEDERATION_PROCONNECT_ISSUER: upstream.issuer,
        VIGIE_FEDERATION_PROCONNECT_CLIENT_ID: upstream.clientId,
        VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET: upstream.clientSecret,
        VIGIE_FEDERATION_PROCONNECT_ACR_VALUES: 'eidas1',
        VIGIE_FEDERATION_PROCONNECT_ACR_PARTNER: 'eidas2 eidas3',
        VIGIE_FEDERATION_PROCONNECT_PHISHING_RESISTANT_AMR: 'hwk',
      },
      start: true,
    });
    scene = await makeScene(t.database.db);
    await t.database.db
      .updateTable('organisations')
      .set({ siret: SIRET })
      .where('id', '=', scene.structure.id)
      .execute();
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await upstream?.close();
  });
  // openid-client judges token times at Vigie's clock; the upstream stamps them at the real one.
  beforeEach(() => t.clock.set(new Date()));

  /** A Vigie account with a passkey, and the upstream identity meant to link to it. */
  async function person(
    email: string,
    options: {
      role?: string;
      upstream?: Partial<{ siret: string; emailVerified: boolean; email: string }>;
    } = {},
  ) {
    const account = await createAccount(t, scene.adminToken, scene.structure.id, email);
    if (options.role) await grantRole(t.database.db, account.id, options.role, scene.structure.id);
    const link = await sink.linkFor(email);
    const authenticator = new SoftAuthenticator();
    const { verify } = await enrolWithLink(
      t,
      newBrowser(`203.0.113.${++lastIp}`),
      link.secret,
      authenticator,
    );
    expect(verify!.statusCode).toBe(201);
    const sub = `sub-${account.id}`;
    upstream.users.set(sub, { email, siret: SIRET, ...options.upstream });
    return { account, authenticator, sub };
  }

  const loginAs = (sub: string, acr: UpstreamLogin['acr'], amr: string[]) => {
    upstream.login = { sub, acr, amr };
  };

  const count = async (table: 'accounts' | 'role_assignments' | 'sessions' | 'federated_identities') =>
    Number(
      (
        await t.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  async function passkeyStep(b: HttpBrowser, authenticator: SoftAuthenticator, assert = {}) {
    const options = await b.vigie('POST', '/api/v1/auth/federation/passkey/options');
    expect(options.statusCode).toBe(200);
    return b.vigie('POST', '/api/v1/auth/federation/passkey/verify', {
      response: authenticator.assert(options.json().options, assert),
    });
  }

  it('opens a federated session for a phishing-resistant upstream proof, linking the identity once', async () => {
    const { account, sub } = await person('fed.ana@ml.test');
    loginAs(sub, 'eidas3', ['hwk', 'pin']);
    const b = browser();
    expect(await b.signIn()).toBe('/account');
    expect(b.session).toBeDefined();
    expect(b.vigieJar.has(FEDERATION_COOKIE)).toBe(false);
    // The claims came from a signed userinfo JWT, as ProConnect sends them.
    expect(upstream.userinfoTypes.at(-1)).toBe('application/jwt');
    const sessions = await b.vigie('GET', '/api/v1/auth/sessions');
    expect(sessions.statusCode).toBe(200);
    expect(sessions.json().items.find((x: { current: boolean }) => x.current)).toMatchObject({
      authLevel: 'phishing_resistant',
      aal: 'aal2',
    });
    const row = await t.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('account_id', '=', account.id)
      .where('method', '=', 'federated')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.amr)).toEqual(['fed', 'fed:hwk', 'fed:pin']);
    const links = await t.database.db
      .selectFrom('federated_identities')
      .selectAll()
      .where('account_id', '=', account.id)
      .execute();
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({
      issuer: upstream.issuer,
      subject: sub,
      rule: 'email_siret',
      email: 'fed.ana@ml.test',
    });
    const linked = (await eventsOf(t, 'federation.linked')).filter((e) => e.target?.id === account.id);
    expect(linked).toHaveLength(1);
    const signIns = (await eventsOf(t, 'auth.sign_in')).filter(
      (e) => e.data?.method === 'federated' && e.target?.id === account.id,
    );
    expect(signIns.at(-1)).toMatchObject({
      outcome: 'success',
      data: { issuer: upstream.issuer, phishingResistant: true, localPasskey: false },
    });
    // The PKCE, state and nonce went upstream; a second login uses the stored link and links nothing new.
    const again = browser();
    expect(await again.signIn()).toBe('/account');
    expect((await eventsOf(t, 'federation.linked')).filter((e) => e.target?.id === account.id)).toHaveLength(
      1,
    );
  });

  it('asks for a local passkey after a proof that is not phishing-resistant, and opens the session only then', async () => {
    const { account, sub, authenticator } = await person('fed.bea@ml.test');
    loginAs(sub, 'eidas1', ['pwd', 'otp']);
    const b = browser();
    const sessionsBefore = await count('sessions');
    expect(await b.signIn()).toBe('/sign-in/federation?step=passkey');
    expect(b.session).toBeUndefined();
    expect(await count('sessions')).toBe(sessionsBefore);
    const verify = await passkeyStep(b, authenticator);
    expect(verify.statusCode).toBe(200);
    expect(verify.json()).toMatchObject({ accountId: account.id });
    expect(b.session).toBeDefined();
    const row = await t.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', verify.json().sessionId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ method: 'federated', auth_level: 'phishing_resistant' });
    expect(JSON.parse(row.amr)).toEqual(expect.arrayContaining(['hwk', 'fed', 'fed:pwd', 'fed:otp']));
    const last = (await eventsOf(t, 'auth.sign_in')).at(-1)!;
    expect(last).toMatchObject({
      outcome: 'success',
      data: { method: 'federated', localPasskey: true, phishingResistant: false, acr: 'eidas1' },
    });
    // The step is spent: the same cookie opens nothing more.
    const replay = await b.vigie('POST', '/api/v1/auth/federation/passkey/options');
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error.code).toBe('FEDERATION_TRANSACTION_INVALID');
  });

  it('never gives a privileged account a session from a non-phishing-resistant federated login without its own passkey', async () => {
    const { account, sub, authenticator } = await person('fed.root@ml.test', { role: 'account_manager' });
    const other = await person('fed.other@ml.test');
    loginAs(sub, 'eidas1', ['pwd']);
    const b = browser();
    expect(await b.signIn()).toBe('/sign-in/federation?step=passkey');
    expect(b.session).toBeUndefined();
    const own = () =>
      t.database.db
        .selectFrom('sessions')
        .select('id')
        .where('account_id', '=', account.id)
        .where('method', '=', 'federated')
        .execute();
    expect(await own()).toHaveLength(0);
    // The session-only routes refuse this browser: it holds no session.
    expect((await b.vigie('GET', '/api/v1/auth/sessions')).statusCode).toBe(401);
    // Another account's passkey proves nothing for this one.
    const wrong = await passkeyStep(b, other.authenticator);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('SIGN_IN_FAILED');
    expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({
      outcome: 'failure',
      reason: 'ACCOUNT_MISMATCH',
    });
    expect(await own()).toHaveLength(0);
    // A passkey without user verification is not enough for a privileged account.
    const b2 = browser();
    expect(await b2.signIn()).toBe('/sign-in/federation?step=passkey');
    const unverified = await passkeyStep(b2, authenticator, { userVerified: false });
    expect(unverified.statusCode).toBe(401);
    expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({
      reason: 'USER_VERIFICATION_REQUIRED',
    });
    expect(await own()).toHaveLength(0);
    // Its own verified passkey, after the upstream proof, opens it.
    const b3 = browser();
    expect(await b3.signIn()).toBe('/sign-in/federation?step=passkey');
    expect((await passkeyStep(b3, authenticator)).statusCode).toBe(200);
    expect(await own()).toHaveLength(1);
  });

  it('counts failed federated sign-ins in the sign-in brake, which then holds even a correct passkey', async () => {
    const victim = await person('fed.gil@ml.test');
    const other = await person('fed.hal@ml.test');
    loginAs(victim.sub, 'eidas1', ['pwd']);
    const codes: (number | string)[] = [];
    for (let i = 0; i < 4; i++) {
      const b = browser();
      expect(await b.signIn()).toBe('/sign-in/federation?step=passkey');
      const res = await passkeyStep(b, other.authenticator);
      codes.push(res.json().error.code);
    }
    expect(codes).toEqual(['SIGN_IN_FAILED', 'SIGN_IN_FAILED', 'SIGN_IN_FAILED', 'SIGN_IN_LOCKED']);
    // Locked: the upstream login itself now ends on the page, and no session is opened.
    const b = browser();
    expect(await b.signIn()).toBe('/sign-in/federation?error=SIGN_IN_LOCKED');
    expect(b.session).toBeUndefined();
    expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({
      outcome: 'denied',
      reason: 'SIGN_IN_LOCKED',
      data: { method: 'federated' },
    });
  });

  it('keeps the transaction secrets out of the tables and the journal', async () => {
    const { sub } = await person('fed.ivy@ml.test');
    loginAs(sub, 'eidas1', ['pwd']);
    const b = browser();
    const start = await b.vigie('GET', `/api/v1/auth/federation/${PROVIDER}/start`);
    const setCookie = String(start.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^__Host-vigie_federation=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax/,
    );
    const secret = b.vigieJar.get(FEDERATION_COOKIE)!;
    const authorize = new URL(start.headers.location as string);
    const state = authorize.searchParams.get('state')!;
    const nonce = authorize.searchParams.get('nonce')!;
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('acr_values')).toBe('eidas1');
    let next = authorize.href;
    while (!next.startsWith(ORIGIN)) next = (await b.upstream(next)).location!;
    expect(await b.follow(next)).toBe('/sign-in/federation?step=passkey');
    const code = new URL(next).searchParams.get('code')!;
    const dump = JSON.stringify([
      await t.database.db.selectFrom('federation_transactions').selectAll().execute(),
      await t.database.db.selectFrom('events').select('payload').execute(),
    ]);
    for (const value of [secret, state, nonce, code]) expect(dump).not.toContain(value);
  });

  it('creates nothing and refuses FEDERATED_ACCOUNT_UNKNOWN for an upstream identity no Vigie account matches', async () => {
    upstream.users.set('sub-stranger', { email: 'stranger@ml.test', siret: SIRET });
    loginAs('sub-stranger', 'eidas3', ['hwk']);
    const before = await Promise.all(
      (['accounts', 'role_assignments', 'sessions', 'federated_identities'] as const).map(count),
    );
    const b = browser();
    expect(await b.signIn()).toBe('/sign-in/federation?error=FEDERATED_ACCOUNT_UNKNOWN');
    expect(b.session).toBeUndefined();
    const after = await Promise.all(
      (['accounts', 'role_assignments', 'sessions', 'federated_identities'] as const).map(count),
    );
    expect(after).toEqual(before);
    expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({
      outcome: 'failure',
      reason: 'FEDERATED_ACCOUNT_UNKNOWN',
      data: { method: 'federated', issuer: upstream.issuer },
    });
    const page = await b.vigie('GET', '/sign-in/federation?error=FEDERATED_ACCOUNT_UNKNOWN');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('lang="fr"');
  });

  it('links only an active, approved account whose organisation has the SIRET the upstream says', async () => {
    const pending = await person('fed.pending@ml.test');
    await t.database.db
      .updateTable('accounts')
      .set({ status: 'suspended' })
      .where('id', '=', pending.account.id)
      .execute();
    loginAs(pending.sub, 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_ACCOUNT_INACTIVE');
    const moved = await person('fed.moved@ml.test', { upstream: { siret: '11111111111111' } });
    loginAs(moved.sub, 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_SIRET_MISMATCH');
    const unverified = await person('fed.unverified@ml.test', { upstream: { emailVerified: false } });
    loginAs(unverified.sub, 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_EMAIL_UNVERIFIED');
    const links = await t.database.db
      .selectFrom('federated_identities')
      .select('id')
      .where('account_id', 'in', [pending.account.id, moved.account.id, unverified.account.id])
      .execute();
    expect(links).toEqual([]);
  });

  it('refuses a second subject for a linked account, and a linked subject whose e-mail changed', async () => {
    const { account, sub } = await person('fed.cleo@ml.test');
    loginAs(sub, 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/account');
    upstream.users.set('sub-impostor', { email: 'fed.cleo@ml.test', siret: SIRET });
    loginAs('sub-impostor', 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_ACCOUNT_ALREADY_LINKED');
    upstream.users.set(sub, { email: 'fed.cleo.new@ml.test', siret: SIRET });
    loginAs(sub, 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_EMAIL_CHANGED');
    const links = await t.database.db
      .selectFrom('federated_identities')
      .selectAll()
      .where('account_id', '=', account.id)
      .execute();
    expect(links.map((l) => l.subject)).toEqual([sub]);
  });

  it('lets an administrator list, revoke and restore a federated identity; a revoked one signs in nobody and links no other', async () => {
    const { account, sub } = await person('fed.flo@ml.test');
    loginAs(sub, 'eidas3', ['hwk']);
    const b = browser();
    expect(await b.signIn()).toBe('/account');
    const admin = { authorization: `Bearer ${scene.adminToken}` };
    const listed = await t.app.inject({
      url: `/api/v1/accounts/${account.id}/federated-identities`,
      headers: admin,
    });
    expect(listed.statusCode, listed.body).toBe(200);
    const [identity] = listed.json().items;
    expect(identity).toMatchObject({
      accountId: account.id,
      issuer: upstream.issuer,
      subject: sub,
      revokedAt: null,
    });

    // Someone of another structure, without account.suspend over this one, sees no such identity.
    const elsewhere = await makeOrganisation(t.database.db, {
      parent: scene.network,
      kind: 'mission_locale',
    });
    const outsider = await makeAccount(t.database.db, {
      organisationId: elsewhere.id,
      email: 'fed.outsider@ml.test',
    });
    await grantRole(t.database.db, outsider.id, 'account_manager', elsewhere.id);
    const outsiderAuth = {
      authorization: `Bearer ${await issueToken(t.database.db, 'account', outsider.id)}`,
    };
    const peek = await t.app.inject({
      url: `/api/v1/accounts/${account.id}/federated-identities`,
      headers: outsiderAuth,
    });
    expect(peek.statusCode).toBe(404);
    const meddle = await t.app.inject({
      method: 'POST',
      url: `/api/v1/federated-identities/${identity.id}/revoke`,
      headers: outsiderAuth,
      payload: { reason: 'not mine to revoke' },
    });
    expect([meddle.statusCode, meddle.json().error.code]).toEqual([404, 'FEDERATED_IDENTITY_NOT_FOUND']);
    expect((await eventsOf(t, 'federation.revoked')).at(-1)).toMatchObject({
      outcome: 'denied',
      reason: 'FEDERATED_IDENTITY_NOT_FOUND',
    });

    const revoked = await t.app.inject({
      method: 'POST',
      url: `/api/v1/federated-identities/${identity.id}/revoke`,
      headers: admin,
      payload: { reason: 'compte ProConnect compromis' },
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect((await eventsOf(t, 'federation.revoked')).at(-1)).toMatchObject({
      outcome: 'success',
      target: { type: 'account', id: account.id },
      data: { federatedIdentityId: identity.id },
    });
    // The federated session it had opened is over, at once.
    expect((await b.vigie('GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/federated-identities/${identity.id}/revoke`,
      headers: admin,
      payload: { reason: 'twice' },
    });
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'FEDERATED_IDENTITY_ALREADY_REVOKED']);

    // Its logins are refused, and no other upstream identity takes its place by the rule.
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_IDENTITY_REVOKED');
    upstream.users.set('sub-flo-bis', { email: 'fed.flo@ml.test', siret: SIRET });
    loginAs('sub-flo-bis', 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_ACCOUNT_ALREADY_LINKED');

    const restored = await t.app.inject({
      method: 'POST',
      url: `/api/v1/federated-identities/${identity.id}/restore`,
      headers: admin,
      payload: { reason: 'compte ProConnect rétabli' },
    });
    expect(restored.statusCode, restored.body).toBe(200);
    expect(restored.json().revokedAt).toBeNull();
    loginAs(sub, 'eidas3', ['hwk']);
    expect(await browser().signIn()).toBe('/account');
  });

  it('asks the upstream again for the acr a partner account needs, and refuses when it still falls short', async () => {
    const partnerOrg = await t.database.db
      .updateTable('organisations')
      .set({ kind: 'training_organisation' })
      .where('id', '=', scene.structure.id)
      .execute();
    expect(partnerOrg).toBeDefined();
    try {
      const { account, sub } = await person('fed.dora@ml.test');
      const before = upstream.requestedAcr.length;
      loginAs(sub, (requested) => (requested?.includes('eidas2') ? 'eidas2' : 'eidas1'), ['hwk']);
      expect(await browser().signIn()).toBe('/account');
      expect(upstream.requestedAcr.slice(before)).toEqual(['eidas1', 'eidas2 eidas3']);
      loginAs(sub, 'eidas1', ['hwk']);
      expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATED_ACR_INSUFFICIENT');
      const reasons = (await eventsOf(t, 'auth.sign_in'))
        .filter((e) => e.target?.id === account.id && e.data?.method === 'federated')
        .map((e) => e.reason ?? e.outcome);
      expect(reasons).toEqual([
        'FEDERATED_ACR_INSUFFICIENT',
        'success',
        'FEDERATED_ACR_INSUFFICIENT',
        'FEDERATED_ACR_INSUFFICIENT',
      ]);
    } finally {
      await t.database.db
        .updateTable('organisations')
        .set({ kind: 'mission_locale' })
        .where('id', '=', scene.structure.id)
        .execute();
    }
  });

  describe('the callback is checked in full', () => {
    let who: Awaited<ReturnType<typeof person>>;
    beforeAll(async () => {
      t.clock.set(new Date());
      who = await person('fed.eve@ml.test');
    });
    beforeEach(() => loginAs(who.sub, 'eidas3', ['hwk']));

    /** Drives the upstream part and stops at the callback, which it returns unvisited. */
    async function toCallback(b: HttpBrowser): Promise<string> {
      const start = await b.vigie('GET', `/api/v1/auth/federation/${PROVIDER}/start`);
      expect(start.statusCode).toBe(303);
      let next = start.headers.location as string;
      while (!next.startsWith(ORIGIN)) next = (await b.upstream(next)).location!;
      return next;
    }

    it('refuses a replayed callback', async () => {
      const b = browser();
      const callback = await toCallback(b);
      expect(await b.follow(callback)).toBe('/account');
      b.vigieJar.delete(SESSION_COOKIE);
      expect(await b.follow(callback)).toBe('/sign-in/federation?error=FEDERATION_TRANSACTION_INVALID');
    });

    it('refuses a tampered state, and the transaction is spent by it', async () => {
      const b = browser();
      const callback = new URL(await toCallback(b));
      const good = callback.href;
      callback.searchParams.set('state', 'x'.repeat(43));
      expect(await b.follow(callback.href)).toBe('/sign-in/federation?error=FEDERATION_RESPONSE_INVALID');
      expect(await b.follow(good)).toBe('/sign-in/federation?error=FEDERATION_TRANSACTION_INVALID');
      expect(b.session).toBeUndefined();
    });

    it('refuses a callback in a browser that did not start the sign-in', async () => {
      const callback = await toCallback(browser());
      const thief = browser();
      expect(await thief.follow(callback)).toBe('/sign-in/federation?error=FEDERATION_TRANSACTION_INVALID');
      expect(thief.session).toBeUndefined();
    });

    it('refuses an ID token with another nonce, even signed by the upstream', async () => {
      upstream.tamper = (claims) => ({ claims: { ...claims, nonce: 'another-nonce' }, key: 'upstream' });
      const b = browser();
      expect(await b.signIn()).toBe('/sign-in/federation?error=FEDERATION_RESPONSE_INVALID');
      expect(b.session).toBeUndefined();
    });

    it('refuses an ID token signed by another key', async () => {
      upstream.tamper = (claims) => ({ claims, key: 'other' });
      const b = browser();
      expect(await b.signIn()).toBe('/sign-in/federation?error=FEDERATION_RESPONSE_INVALID');
    });

    it('refuses an ID token for another audience or from another issuer', async () => {
      upstream.tamper = (claims) => ({ claims: { ...claims, aud: 'someone-else' }, key: 'upstream' });
      expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATION_RESPONSE_INVALID');
      upstream.tamper = (claims) => ({ claims: { ...claims, iss: 'https://evil.example' }, key: 'upstream' });
      expect(await browser().signIn()).toBe('/sign-in/federation?error=FEDERATION_RESPONSE_INVALID');
    });

    it('refuses an expired ID token, judged at Vigie’s clock', async () => {
      const b = browser();
      const callback = await toCallback(b);
      // Within the transaction's ten minutes, but past the token's exp (plus openid-client's 30 s tolerance).
      const exp = Math.floor(t.clock.now().getTime() / 1000) + 60;
      upstream.tamper = (claims) => ({ claims: { ...claims, exp }, key: 'upstream' });
      t.clock.advance(5 * 60_000);
      expect(await b.follow(callback)).toBe('/sign-in/federation?error=FEDERATION_RESPONSE_INVALID');
    });

    it('accepts the same token when Vigie’s clock is still before its exp', async () => {
      const b = browser();
      const callback = await toCallback(b);
      upstream.tamper = (claims) => ({
        claims: { ...claims, exp: Math.floor(t.clock.now().getTime() / 1000) + 60 },
        key: 'upstream',
      });
      expect(await b.follow(callback)).toBe('/account');
    });

    it('shows the upstream’s own refusal (error=access_denied) without writing anything', async () => {
      const b = browser();
      const start = await b.vigie('GET', `/api/v1/auth/federation/${PROVIDER}/start`);
      const state = new URL(start.headers.location as string).searchParams.get('state')!;
      const query = new URLSearchParams({ error: 'access_denied', state, iss: upstream.issuer });
      const links = await count('federated_identities');
      expect(await b.follow(`${CALLBACK}?${query.toString()}`)).toBe(
        '/sign-in/federation?error=FEDERATION_UPSTREAM_ERROR',
      );
      expect(await count('federated_identities')).toBe(links);
      expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({
        reason: 'FEDERATION_UPSTREAM_ERROR',
      });
    });

    it('answers an unknown provider with the page, never a 5xx', async () => {
      const res = await browser().vigie('GET', '/api/v1/auth/federation/nobody/start');
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/sign-in/federation?error=FEDERATION_PROVIDER_UNKNOWN');
      const hostile = await browser().vigie(
        'GET',
        `/api/v1/auth/federation/${PROVIDER}/callback?code=${'a'.repeat(5000)}`,
      );
      expect(hostile.statusCode).toBe(400);
      const proto = await browser().vigie(
        'GET',
        `/api/v1/auth/federation/${PROVIDER}/callback?__proto__=x&code=y&state=z`,
      );
      expect(proto.statusCode).toBe(303);
      expect(proto.headers.location).toBe('/sign-in/federation?error=FEDERATION_TRANSACTION_INVALID');
      const noCookie = await browser().vigie('POST', '/api/v1/auth/federation/passkey/verify', {
        response: {
          id: 'x',
          rawId: 'x',
          type: 'public-key',
          response: { clientDataJSON: 'x', authenticatorData: 'x', signature: 'x' },
          clientExtensionResults: {},
        },
      });
      expect(noCookie.statusCode).toBe(400);
      expect(noCookie.json().error.code).toBe('FEDERATION_TRANSACTION_INVALID');
    });

    it('journals every refused attempt with method federated and counts it against the address', async () => {
      const refusals = (await eventsOf(t, 'auth.sign_in')).filter((e) => e.outcome !== 'success');
      expect(refusals.length).toBeGreaterThan(5);
      for (const e of refusals) expect(e.data?.method).toBe('federated');
    });
  });
});

describe('federated sign-in with an unreachable upstream', () => {
  it('sends the browser to the page and writes no transaction', async () => {
    const t = await createTestApp({
      env: {
        VIGIE_FEDERATION_PROVIDERS: PROVIDER,
        // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
        VIGIE_FEDERATION_PROCONNECT_ISSUER: 'http://127.0.0.1:9',
        VIGIE_FEDERATION_PROCONNECT_CLIENT_ID: 'vigie',
        VIGIE_FEDERATION_PROCONNECT_CLIENT_SECRET: 'a-client-secret-for-tests',
      },
    });
    try {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/auth/federation/${PROVIDER}/start` });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/sign-in/federation?error=FEDERATION_PROVIDER_UNAVAILABLE');
      expect(await t.database.db.selectFrom('federation_transactions').selectAll().execute()).toEqual([]);
      const providers = await t.app.inject({ method: 'GET', url: '/api/v1/auth/federation/providers' });
      expect(providers.json()).toEqual({ items: [{ id: PROVIDER, name: PROVIDER }] });
    } finally {
      await t.close();
    }
  });
});
