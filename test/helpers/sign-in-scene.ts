import type { LightMyRequestResponse } from 'fastify';
import { SESSION_COOKIE } from '../../src/http/authenticate.js';
import type { SignInModule } from '../../src/modules/sign-in/index.js';
import type { TestApp } from './test-app.js';
import { SoftAuthenticator } from './soft-authenticator.js';
import type { startSmtpSink } from './smtp-sink.js';

/** The request facts of one browser: its address, User-Agent and, once signed in, its cookie. */
export interface Browser {
  ip: string;
  userAgent: string;
  cookie?: string;
}

export const ORIGIN = 'http://localhost:8080';
export const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36';
export const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

export const newBrowser = (ip = '192.0.2.10', userAgent = CHROME_UA): Browser => ({ ip, userAgent });

/** The session secret a response set, if any. */
export function sessionCookieOf(res: LightMyRequestResponse): string | undefined {
  const header = res.headers['set-cookie'];
  const lines = Array.isArray(header) ? header : header ? [header] : [];
  for (const line of lines) {
    const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** A JSON call as the browser would make it: its address, UA, cookie, and Origin on changes. */
export function call(
  t: TestApp,
  browser: Browser,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url,
    remoteAddress: browser.ip,
    headers: {
      'user-agent': browser.userAgent,
      ...(browser.cookie ? { cookie: `${SESSION_COOKIE}=${browser.cookie}` } : {}),
      ...(method === 'GET' ? {} : { origin: ORIGIN }),
      ...headers,
    },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

/** Creates a human account through the API: active when a platform administrator creates it. */
export async function createAccount(t: TestApp, adminToken: string, organisationId: string, email: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/accounts',
    headers: { authorization: `Bearer ${adminToken}` },
    payload: { organisationId, email, kind: 'human' },
  });
  if (res.statusCode !== 201) throw new Error(`account not created: ${res.body}`);
  return res.json<{ id: string; email: string }>();
}

/** Opens the mailed link and registers a passkey with it; the browser holds the session after. */
export async function enrolWithLink(
  t: TestApp,
  browser: Browser,
  secret: string,
  authenticator = new SoftAuthenticator(),
  name?: string,
) {
  const options = await call(t, browser, 'POST', '/api/v1/auth/enrolment/options', { token: secret });
  if (options.statusCode !== 200) return { options, verify: undefined, authenticator };
  const { ceremonyId, options: creation } = options.json();
  const verify = await call(t, browser, 'POST', '/api/v1/auth/enrolment/verify', {
    ceremonyId,
    response: authenticator.register(creation),
    ...(name ? { name } : {}),
  });
  const cookie = sessionCookieOf(verify);
  if (cookie) browser.cookie = cookie;
  return { options, verify, authenticator };
}

/** A usernameless (or e-mail first) sign-in; the browser holds the new session when it succeeds. */
export async function signIn(
  t: TestApp,
  browser: Browser,
  authenticator: SoftAuthenticator,
  options: { email?: string; assert?: Parameters<SoftAuthenticator['assert']>[1] } = {},
) {
  const start = await call(
    t,
    browser,
    'POST',
    '/api/v1/auth/sign-in/options',
    options.email ? { email: options.email } : {},
  );
  const { ceremonyId, options: request } = start.json();
  const res = await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', {
    ceremonyId,
    response: authenticator.assert(request, options.assert),
  });
  const cookie = sessionCookieOf(res);
  if (cookie) browser.cookie = cookie;
  return res;
}

/** Every stored event of these kinds, parsed. */
export async function eventsOf(t: TestApp, ...kinds: string[]) {
  const rows = await t.database.db
    .selectFrom('events')
    .select(['payload'])
    .where('kind', 'in', kinds)
    .orderBy('seq')
    .execute();
  return rows.map(
    (r) =>
      JSON.parse(r.payload) as {
        kind: string;
        outcome: string;
        reason?: string;
        data?: Record<string, unknown>;
        actor: { id: string };
        target?: { id: string };
      },
  );
}

export type Sink = Awaited<ReturnType<typeof startSmtpSink>>;

/** Waits until the enrolment links and mails under way are done (they run after commit). */
export async function settleMail(t: TestApp): Promise<void> {
  const m = t.container.modules.find((x): x is SignInModule => x.name === 'sign-in');
  await m!.enrolment.settle();
}

/** The step-up ceremony inside the browser's session: a user-verified assertion by its passkey. */
export async function stepUp(
  t: TestApp,
  browser: Browser,
  authenticator: SoftAuthenticator,
  assert: Parameters<SoftAuthenticator['assert']>[1] = {},
) {
  const start = await call(t, browser, 'POST', '/api/v1/auth/step-up/options');
  if (start.statusCode !== 200) return start;
  const { ceremonyId, options: request } = start.json();
  return call(t, browser, 'POST', '/api/v1/auth/step-up/verify', {
    ceremonyId,
    response: authenticator.assert(request, assert),
  });
}
