import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPasskeyBrowser, skipBrowser, skipNote } from '../helpers/chromium.js';
import { freePort } from '../helpers/free-port.js';
import { SESSION_COOKIE } from '../../src/http/authenticate.js';
import { makeScene } from '../helpers/factories.js';
import { createAccount, eventsOf } from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The whole slice in Debian's Chromium (issue 10, item 7): a real Vigie on 127.0.0.1, an account
 * created through the API, the enrolment mail caught by a local SMTP sink, the link opened, a passkey
 * enrolled with a virtual authenticator (CDP WebAuthn domain), sign-out, sign-in, /account; then the
 * session cookie replayed from another network is refused. The other network: Vigie trusts
 * 127.0.0.1 as a proxy (VIGIE_HTTP_TRUST_PROXY) and the second browser sends X-Forwarded-For
 * 203.0.113.50, so the server sees another address, as behind a real reverse proxy.
 */
describe.skipIf(skipBrowser)(`passkeys in Chromium${skipNote}`, () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let origin = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    const port = await freePort();
    origin = `http://localhost:${port}`;
    t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_ORIGIN: origin, VIGIE_HTTP_TRUST_PROXY: '127.0.0.1' },
      start: true,
    });
    await t.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await t?.close();
    await sink?.close();
  });

  it(
    'enrols from the mailed link, signs out, signs in, shows /account, and refuses the cookie replayed from another network',
    { timeout: 90_000 },
    async () => {
      const scene = await makeScene(t.database.db);
      const account = await createAccount(t, scene.adminToken, scene.structure.id, 'chromium@ml.test');
      const link = await sink.linkFor('chromium@ml.test');
      expect(link.url.startsWith(`${origin}/enrol#`)).toBe(true);

      const { context, page, problems } = await openPasskeyBrowser();
      contexts.push(context);

      const enrolPage = await page.goto(link.url);
      expect(enrolPage!.headers()['content-security-policy']).toContain("default-src 'self'");
      expect(await page.locator('h1').innerText()).toContain('Enregistrer une clé d’accès');
      await page.getByLabel('Nom de la clé').fill('Chromium');
      await page.locator('#enrol-button').click();
      await page.waitForURL(`${origin}/account`);
      await expect.poll(() => page.locator('#who').innerText()).toBe('chromium@ml.test');
      await expect.poll(() => page.locator('#passkeys li').count()).toBe(1);
      expect(await page.locator('#passkeys li').innerText()).toContain('Chromium');

      await page.goto(`${origin}/sign-out`);
      await page.locator('#sign-out-button').click();
      await expect.poll(() => page.locator('#status').innerText()).toContain('Vous êtes déconnecté');
      await page.goto(`${origin}/account`);
      await page.waitForURL(`${origin}/sign-in`);

      await page.locator('#sign-in-button').click();
      await page.waitForURL(`${origin}/account`);
      await expect.poll(() => page.locator('#sessions li').count()).toBe(1);
      expect(await page.locator('#sessions li').innerText()).toMatch(/chrome · 127\.0\.0\.0\/24 · AAL[23]/);

      const cookie = (await context.cookies(origin)).find((c) => c.name === SESSION_COOKIE)!;
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });

      const elsewhere = await launchChromium({ 'x-forwarded-for': '203.0.113.50' });
      contexts.push(elsewhere);
      await elsewhere.addCookies([cookie]);
      const replayPage = elsewhere.pages()[0] ?? (await elsewhere.newPage());
      const replay = await replayPage.goto(`${origin}/api/v1/accounts/me`);
      expect(replay!.status()).toBe(401);
      expect((await replay!.json()).error.code).toBe('SESSION_CONTEXT_CHANGED');

      const changed = (await eventsOf(t, 'session.context_changed')).pop()!;
      expect(changed.data).toMatchObject({
        accountId: account.id,
        started: { networkPrefix: '127.0.0.0/24', browserFamily: 'chrome' },
        seen: { networkPrefix: '203.0.113.0/24', browserFamily: 'chrome' },
      });
      // The replay ended the session: the first browser is signed out too.
      await page.goto(`${origin}/account`);
      await page.waitForURL(`${origin}/sign-in`);
      expect(problems).toEqual([]);
    },
  );
});
