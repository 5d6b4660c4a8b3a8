import { URI, type TOTP } from 'otpauth';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPasskeyBrowser, skipBrowser, skipNote, type PasskeyBrowser } from '../helpers/chromium.js';
import { freePort } from '../helpers/free-port.js';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import { eventsOf } from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Step-up and recovery in Debian's Chromium (issue 10, items 2, 8 and 10): an administrator enrolled
 * with a virtual authenticator (CDP WebAuthn domain) attempts an approval, is answered
 * STEP_UP_REQUIRED, confirms on /step-up and returns, and the approval then succeeds; an agent
 * generates recovery codes on /account (through /step-up), and, its passkey gone, uses one on
 * /recovery to register a new passkey, then sets up an authenticator app on /totp.
 */
describe.skipIf(skipBrowser)(`step-up and recovery in Chromium${skipNote}`, () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let origin = '';
  let scene: Awaited<ReturnType<typeof makeScene>>;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    const port = await freePort();
    origin = `http://localhost:${port}`;
    t = await createTestApp({ env: { VIGIE_SMTP_URL: sink.url, VIGIE_ORIGIN: origin } });
    scene = await makeScene(t.database.db);
    await t.container.start();
    await t.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await t?.close();
    await sink?.close();
  });

  /** A fresh Chromium profile with one virtual authenticator that verifies the user. */
  async function open(): Promise<PasskeyBrowser> {
    const browser = await openPasskeyBrowser();
    contexts.push(browser.context);
    return browser;
  }

  /** Calls the API from the page itself, with its cookie and Origin, as the console will. */
  const fetchFrom = (page: Page, url: string) =>
    page.evaluate(async (u) => {
      const res = await fetch(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return {
        status: res.status,
        body: (await res.json()) as {
          error?: { code: string; details?: { page?: string } };
          status?: string;
        },
      };
    }, url);

  async function enrol(page: Page, email: string): Promise<void> {
    const link = await sink.linkFor(email);
    await page.goto(link.url);
    await page.locator('#enrol-button').click();
    await page.waitForURL(`${origin}/account`);
    await expect.poll(() => page.locator('#who').innerText()).toBe(email);
  }

  it(
    'refuses an approval without a step-up, confirms on /step-up, and then approves',
    { timeout: 90_000 },
    async () => {
      const db = t.database.db;
      const admin = await makeAccount(db, {
        organisationId: scene.operator.id,
        email: 'soc@op.test',
        createdAt: '2025-01-01T00:00:00.000Z',
      });
      await grantRole(db, admin.id, 'platform_admin', scene.operator.id);
      const manager = await makeAccount(db, { organisationId: scene.structure.id });
      await grantRole(db, manager.id, 'account_manager', scene.structure.id);
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/accounts',
        headers: { authorization: `Bearer ${await issueToken(db, 'account', manager.id)}` },
        payload: { organisationId: scene.structure.id, email: 'pending@ml.test', kind: 'human' },
      });
      const pendingId = created.json().id as string;
      const reissued = await t.app.inject({
        method: 'POST',
        url: `/api/v1/accounts/${admin.id}/enrolment-link`,
        headers: { authorization: `Bearer ${scene.adminToken}` },
      });
      expect(reissued.statusCode).toBe(202);

      const { page, problems } = await open();
      await enrol(page, 'soc@op.test');

      const refused = await fetchFrom(page, `/api/v1/accounts/${pendingId}/approve`);
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('STEP_UP_REQUIRED');
      const stepUpPage = refused.body.error!.details!.page!;
      expect(stepUpPage).toBe('/step-up');

      const shown = await page.goto(`${origin}${stepUpPage}?return=/account`);
      expect(shown!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(await page.locator('h1').innerText()).toContain('Confirmer avec ma clé d’accès');
      await page.locator('#step-up-button').click();
      await page.waitForURL(`${origin}/account`);

      const approved = await fetchFrom(page, `/api/v1/accounts/${pendingId}/approve`);
      expect(approved.status).toBe(200);
      expect(approved.body.status).toBe('active');
      const used = (await eventsOf(t, 'auth.step_up_used')).filter((e) => e.actor.id === admin.id);
      expect(used.map((e) => e.data?.act)).toEqual(['account.approve']);

      // A return path off the site is not followed.
      await page.goto(`${origin}/step-up?return=//evil.example/x`);
      await page.locator('#step-up-button').click();
      await page.waitForURL(`${origin}/account`);
      expect(problems).toEqual([]);
    },
  );

  it(
    'generates recovery codes through /step-up, a code on /recovery registers a new passkey, and /totp enrols an app',
    { timeout: 90_000 },
    async () => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/accounts',
        headers: { authorization: `Bearer ${scene.adminToken}` },
        payload: { organisationId: scene.structure.id, email: 'agent.codes@ml.test', kind: 'human' },
      });
      expect(created.statusCode).toBe(201);
      const { page, problems, cdp, authenticatorId } = await open();
      await enrol(page, 'agent.codes@ml.test');

      await page.locator('#recovery-generate').click();
      await page.waitForURL(/\/step-up\?return=\/account$/);
      await page.locator('#step-up-button').click();
      await page.waitForURL(`${origin}/account`);
      await page.locator('#recovery-generate').click();
      await expect.poll(() => page.locator('#recovery-codes li').count()).toBe(10);
      const code = await page.locator('#recovery-codes li').first().innerText();
      await expect.poll(() => page.locator('#recovery-status').innerText()).toContain('10');

      // The passkey is lost: the authenticator is gone, and so is the session.
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      await page.goto(`${origin}/sign-out`);
      await page.locator('#sign-out-button').click();
      await expect.poll(() => page.locator('#status').innerText()).toContain('Vous êtes déconnecté');

      await page.goto(`${origin}/recovery`);
      expect(await page.locator('h1').innerText()).toContain('Récupérer mon compte');
      await page.locator('#email').fill('agent.codes@ml.test');
      await page.locator('#code').fill(code);
      await page.locator('#recovery-button').click();
      await expect.poll(() => page.locator('#passkey-step').isVisible()).toBe(true);
      await page.locator('#passkey-name').fill('Clé de secours');
      await page.locator('#register-button').click();
      await page.waitForURL(`${origin}/account`);
      await expect.poll(() => page.locator('#passkeys li').count()).toBe(2);
      expect(await page.locator('#passkeys').innerText()).toContain('Clé de secours');
      await expect.poll(() => page.locator('#recovery-status').innerText()).toContain('9');

      // The authenticator-app page: enrolling TOTP goes through /step-up too.
      await page.goto(`${origin}/totp`);
      await page.locator('#totp-start').click();
      await page.waitForURL(/\/step-up\?return=\/totp$/);
      await page.locator('#step-up-button').click();
      await page.waitForURL(`${origin}/totp`);
      await page.locator('#totp-start').click();
      await expect.poll(() => page.locator('#totp-uri').innerText()).toMatch(/^otpauth:\/\/totp\//);
      const totp = URI.parse(await page.locator('#totp-uri').innerText()) as TOTP;
      expect(await page.locator('#totp-secret').innerText()).toBe(totp.secret.base32);
      await page.locator('#totp-code').fill(totp.generate({ timestamp: t.clock.now().getTime() }));
      await page.locator('#totp-confirm').click();
      await expect.poll(() => page.locator('#status').innerText()).toContain('Application activée');
      expect(await page.locator('#totp-secret').innerText()).toBe('');
      expect(problems).toEqual([]);
    },
  );
});
