import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Caller, VigieClient } from './client.js';
import type { MailSink } from './mail-sink.js';
import { PasskeyAuthenticator } from './passkey-authenticator.js';

/**
 * A person's browser against Vigie's sign-in: the passkey they enrolled from the mailed link, the
 * session cookie Vigie set, the address and browser they come from.
 */
export interface Browser extends Caller {
  ip: string;
  userAgent: string;
  cookie?: string;
}

export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0',
] as const;

/** Opens the enrolment link mailed to `email` and registers a passkey; the browser holds the session after. */
export async function enrolFromMail(
  client: VigieClient,
  mail: MailSink,
  browser: Browser,
  email: string,
  authenticator: PasskeyAuthenticator,
): Promise<boolean> {
  const secret = await mail.enrolmentSecret(email);
  const options = await client.call<{ ceremonyId: string; options: PublicKeyCredentialCreationOptionsJSON }>(
    browser,
    'POST',
    '/api/v1/auth/enrolment/options',
    { token: secret },
  );
  if (options.status !== 200) return false;
  const verify = await client.call(browser, 'POST', '/api/v1/auth/enrolment/verify', {
    ceremonyId: options.body.ceremonyId,
    response: authenticator.register(options.body.options),
    name: 'Poste de travail',
  });
  if (verify.setCookie) browser.cookie = verify.setCookie;
  return verify.status >= 200 && verify.status < 300;
}

/** A passkey sign-in; returns the HTTP status and, on success, leaves the new session in the browser. */
export async function signInWithPasskey(
  client: VigieClient,
  browser: Browser,
  authenticator: PasskeyAuthenticator | undefined,
  email: string,
): Promise<{ status: number; code?: string }> {
  const start = await client.call<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }>(
    browser,
    'POST',
    '/api/v1/auth/sign-in/options',
    { email },
  );
  if (start.status !== 200) return { status: start.status, code: errorCode(start.body) };
  // Without the person's authenticator (a phished e-mail and password are all an attacker has), the
  // best it can send is an assertion from a key of its own: Vigie knows no such credential.
  const response = authenticator?.enrolled
    ? authenticator.assert(start.body.options)
    : new ForeignAssertion(start.body.options).response();
  const res = await client.call(browser, 'POST', '/api/v1/auth/sign-in/verify', {
    ceremonyId: start.body.ceremonyId,
    response,
  });
  if (res.setCookie) browser.cookie = res.setCookie;
  const ok = res.status >= 200 && res.status < 300;
  // 200 for every success, whatever Vigie's exact 2xx: callers compare with 200.
  return ok
    ? { status: 200 }
    : { status: res.status, ...(errorCode(res.body) ? { code: errorCode(res.body)! } : {}) };
}

/**
 * The step-up ceremony on the browser's session: a user-verified assertion by the person's passkey.
 * Without the authenticator (an attacker driving a stolen cookie), the best it can send is an
 * assertion from a key of its own, which Vigie refuses.
 */
export async function stepUp(
  client: VigieClient,
  browser: Browser,
  authenticator: PasskeyAuthenticator | undefined,
): Promise<{ status: number; code?: string }> {
  const start = await client.call<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }>(
    browser,
    'POST',
    '/api/v1/auth/step-up/options',
  );
  if (start.status !== 200) return { status: start.status, ...codeOf(start.body) };
  const response = authenticator?.enrolled
    ? authenticator.assert(start.body.options)
    : new ForeignAssertion(start.body.options).response();
  const res = await client.call(browser, 'POST', '/api/v1/auth/step-up/verify', {
    ceremonyId: start.body.ceremonyId,
    response,
  });
  return res.status >= 200 && res.status < 300
    ? { status: 200 }
    : { status: res.status, ...codeOf(res.body) };
}

/**
 * A privileged act through a session, as a person does it: on 403 STEP_UP_REQUIRED, step up with
 * the authenticator (if the caller has one) and try once more. `steppedUp` tells whether a step-up
 * was attempted and how it ended.
 */
export async function actWithStepUp<T = Record<string, unknown>>(
  client: VigieClient,
  browser: Browser,
  authenticator: PasskeyAuthenticator | undefined,
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T; code?: string; stepUp?: { status: number; code?: string } }> {
  const first = await client.call<T>(browser, method, url, body);
  if (first.status !== 403 || errorCode(first.body) !== 'STEP_UP_REQUIRED')
    return { status: first.status, body: first.body, ...codeOf(first.body) };
  const step = await stepUp(client, browser, authenticator);
  if (step.status !== 200)
    return { status: first.status, body: first.body, code: 'STEP_UP_REQUIRED', stepUp: step };
  const again = await client.call<T>(browser, method, url, body);
  return { status: again.status, body: again.body, ...codeOf(again.body), stepUp: step };
}

const codeOf = (body: unknown): { code?: string } => {
  const code = errorCode(body);
  return code ? { code } : {};
};

/** An assertion signed by a passkey the attacker registered nowhere. */
class ForeignAssertion {
  readonly #auth = new PasskeyAuthenticator('http://localhost:8080');
  constructor(readonly request: PublicKeyCredentialRequestOptionsJSON) {
    this.#auth.register({
      challenge: 'x',
      rp: { id: request.rpId ?? 'localhost', name: 'x' },
      user: { id: 'eA', name: 'x', displayName: 'x' },
      pubKeyCredParams: [],
    });
  }
  response() {
    return this.#auth.assert(this.request);
  }
}

/** The business application's check of the person's Vigie session (401 once it is over). */
export async function sessionAlive(client: VigieClient, browser: Browser): Promise<boolean> {
  if (!browser.cookie) return false;
  const res = await client.call(browser, 'GET', '/api/v1/accounts/me');
  return res.status === 200;
}

export function errorCode(body: unknown): string | undefined {
  const error = (body as { error?: { code?: string } } | undefined)?.error;
  return error?.code;
}
