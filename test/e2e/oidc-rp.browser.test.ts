import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPasskeyBrowser, skipBrowser, skipNote } from '../helpers/chromium.js';
import { freePort } from '../helpers/free-port.js';
import { makeApplication, makeScene } from '../helpers/factories.js';
import { pkcePair, startReceiver } from '../helpers/oidc-rp.js';
import { createAccount, eventsOf } from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Signing in to a relying business application through Vigie in Debian's Chromium (issue 10,
 * items 4 and 7): a tiny application on 127.0.0.1 (another site than Vigie's localhost) sends the
 * browser to Vigie's authorisation endpoint; the person signs in on Vigie's page with a passkey
 * (CDP virtual authenticator), comes back with a code, and the application exchanges it (PKCE),
 * verifies the ID token against Vigie's JWKS and shows its acr. A second visit, still signed in to
 * Vigie, comes back without a new sign-in.
 */
const escapeHtml = (v: unknown) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The relying application: /login starts a code + PKCE request, /callback finishes it. */
async function startRelyingApp(vigie: string, clientId: () => string) {
  const pending = new Map<string, { verifier: string; nonce: string }>();
  let redirectUri = '';
  const app = await startReceiver((req, _body, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/login') {
      const { verifier, challenge } = pkcePair();
      const state = randomBytes(16).toString('base64url');
      const nonce = randomBytes(16).toString('base64url');
      pending.set(state, { verifier, nonce });
      const to = new URL(`${vigie}/oidc/auth`);
      to.search = new URLSearchParams({
        client_id: clientId(),
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid email',
        state,
        nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();
      res.writeHead(302, { location: to.href }).end();
      return;
    }
    if (url.pathname === '/callback') {
      const state = url.searchParams.get('state') ?? '';
      const request = pending.get(state);
      pending.delete(state);
      const code = url.searchParams.get('code');
      if (!request || !code) {
        res
          .writeHead(400, { 'content-type': 'text/html' })
          .end(`<p id="error">${escapeHtml(url.searchParams.get('error'))}</p>`);
        return;
      }
      void (async () => {
        const token = await fetch(`${vigie}/oidc/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: redirectUri,
            client_id: clientId(),
            code_verifier: request.verifier,
          }),
        });
        const body = (await token.json()) as { id_token: string };
        const { payload } = await jwtVerify(
          body.id_token,
          createRemoteJWKSet(new URL(`${vigie}/oidc/jwks`)),
          {
            issuer: vigie,
            audience: clientId(),
          },
        );
        if (payload.nonce !== request.nonce) throw new Error('nonce mismatch');
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(
            `<p id="sub">${escapeHtml(payload.sub)}</p><p id="acr">${escapeHtml(payload.acr)}</p><p id="amr">${escapeHtml((payload.amr as string[]).join(' '))}</p>`,
          );
      })().catch((error: unknown) => res.writeHead(500).end(escapeHtml(error)));
      return;
    }
    res.writeHead(404).end();
  });
  redirectUri = `${app.url}/callback`;
  return { ...app, redirectUri };
}

describe.skipIf(skipBrowser)(`a relying application signs in through Vigie in Chromium${skipNote}`, () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let rp: Awaited<ReturnType<typeof startRelyingApp>>;
  let origin = '';
  let clientId = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    const port = await freePort();
    origin = `http://localhost:${port}`;
    t = await createTestApp({ env: { VIGIE_SMTP_URL: sink.url, VIGIE_ORIGIN: origin }, start: true });
    await t.app.listen({ host: '127.0.0.1', port });
    rp = await startRelyingApp(origin, () => clientId);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await t?.close();
    await sink?.close();
    await rp?.close();
  });

  it(
    'sends the browser to Vigie, signs in with a passkey, comes back with a code and shows the acr',
    { timeout: 90_000 },
    async () => {
      const scene = await makeScene(t.database.db);
      const application = await makeApplication(t.database.db, {
        organisationId: scene.structure.id,
        kind: 'business',
      });
      clientId = application.id;
      const registered = await t.app.inject({
        method: 'PUT',
        url: `/api/v1/applications/${application.id}/oidc-client`,
        headers: { authorization: `Bearer ${scene.adminToken}` },
        payload: { redirectUris: [rp.redirectUri], dpopRequired: false },
      });
      expect(registered.statusCode, registered.body).toBe(200);
      const account = await createAccount(t, scene.adminToken, scene.structure.id, 'rp-chromium@ml.test');
      const link = await sink.linkFor('rp-chromium@ml.test');

      const { context, page, problems } = await openPasskeyBrowser();
      contexts.push(context);

      // Enrol a passkey from the mailed link, then sign out of Vigie.
      await page.goto(link.url);
      await page.getByLabel('Nom de la clé').fill('Chromium');
      await page.locator('#enrol-button').click();
      await page.waitForURL(`${origin}/account`);
      await page.goto(`${origin}/sign-out`);
      await page.locator('#sign-out-button').click();
      await expect.poll(() => page.locator('#status').innerText()).toContain('Vous êtes déconnecté');

      // The application sends the browser to Vigie, which asks for a sign-in.
      await page.goto(`${rp.url}/login`);
      await page.waitForURL((url) => url.href.startsWith(`${origin}/sign-in?return=`));
      expect(new URL(page.url()).searchParams.get('return')).toMatch(/^\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
      await page.locator('#sign-in-button').click();
      await page.waitForURL((url) => url.href.startsWith(`${rp.url}/callback`));
      await expect.poll(() => page.locator('#acr').innerText()).toBe('urn:vigie:acr:phishing-resistant:aal3');
      expect(await page.locator('#sub').innerText()).toBe(account.id);
      expect(await page.locator('#amr').innerText()).toBe('hwk mfa user');

      // Still signed in to Vigie: a second visit comes back without a new sign-in.
      await page.goto(`${rp.url}/login`);
      await page.waitForURL((url) => url.href.startsWith(`${rp.url}/callback`));
      await expect.poll(() => page.locator('#acr').innerText()).toBe('urn:vigie:acr:phishing-resistant:aal3');

      const authorized = await eventsOf(t, 'oidc.authorized');
      expect(authorized).toHaveLength(2);
      expect(authorized[0]!.data).toMatchObject({ accountId: account.id, applicationId: application.id });
      expect(problems).toEqual([]);
    },
  );
});
