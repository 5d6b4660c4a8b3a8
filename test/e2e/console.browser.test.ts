import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import { consoleBuilt, consoleSuite, screen } from '../helpers/console-browser.js';
import { skipBrowser, skipNote, type PasskeyBrowser } from '../helpers/chromium.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';
import { eventsOf } from '../helpers/sign-in-scene.js';
import type { TestApp } from '../helpers/test-app.js';

/** An analyst of the operator, an agent of a partner structure, an ingesting application, a decoy record. */
async function setWorld(t: TestApp) {
  const db = t.database.db;
  const scene = await makeScene(db);
  const analyst = await makeAccount(db, {
    organisationId: scene.operator.id,
    email: 'analyst@op.test',
    approvedBy: scene.admin.id,
  });
  await grantRole(db, analyst.id, 'security_analyst', scene.operator.id);
  const agent = await makeAccount(db, {
    organisationId: scene.structure.id,
    approvedBy: scene.admin.id,
  });
  await grantRole(db, agent.id, 'agent', scene.structure.id);
  const ingester = await makeApplication(db, {
    organisationId: scene.structure.id,
    scopes: ['event.ingest'],
  });
  const appToken = await issueToken(db, 'application', ingester.id);
  const decoy = await makeSubject(db, { decoy: true });
  // Four-eyes: a manager's account, an approver the manager created (in its lineage), another outside it.
  const manager = await makeAccount(db, { organisationId: scene.structure.id, approvedBy: scene.admin.id });
  await grantRole(db, manager.id, 'account_manager', scene.structure.id);
  const insider = await makeAccount(db, {
    organisationId: scene.structure.id,
    email: 'insider@ml.test',
    createdBy: manager.id,
    approvedBy: scene.admin.id,
  });
  await grantRole(db, insider.id, 'account_approver', scene.structure.id);
  const approver = await makeAccount(db, {
    organisationId: scene.structure.id,
    email: 'approver@ml.test',
    approvedBy: scene.admin.id,
  });
  await grantRole(db, approver.id, 'account_approver', scene.structure.id);
  const managerToken = await issueToken(db, 'account', manager.id);
  return { scene, analyst, agent, appToken, decoy, manager, managerToken, insider, approver };
}

/**
 * The console (web/, served under /console) in Debian's Chromium with a virtual authenticator: an
 * analyst enrolled from the mailed link opens the console with its session cookie, sees an alert
 * arrive live over SSE, undoes the automatic suspension and suspends the lineage from the alert
 * (through /step-up and back), verifies an inclusion proof of the journal, and sees its own
 * sessions. Every screen is checked with axe-core and saved as a screenshot.
 */
describe.skipIf(skipBrowser || !consoleBuilt)(
  `the console in Chromium${skipNote}${consoleBuilt ? '' : ' (web/dist not built)'}`,
  () => {
    const { suite: s, open } = consoleSuite(setWorld);

    it('serves the built files under a strict CSP, with the SPA fallback and 404 for a missing asset', async () => {
      const page = await s.t.app.inject({ url: '/console/alerts/abc' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect((await s.t.app.inject({ url: '/console/assets/nothing-here.js' })).statusCode).toBe(404);
      expect((await s.t.app.inject({ url: '/console' })).headers.location).toBe('/console/');
    });

    it(
      'signs in with a passkey, shows an alert live, undoes and suspends the lineage through step-up, verifies the journal',
      { timeout: 150_000 },
      async () => {
        const db = s.t.database.db;
        const { scene, analyst, agent, appToken, decoy } = s.world;
        const reissued = await s.t.app.inject({
          method: 'POST',
          url: `/api/v1/accounts/${analyst.id}/enrolment-link`,
          headers: { authorization: `Bearer ${scene.adminToken}` },
        });
        expect(reissued.statusCode).toBe(202);

        const { page, problems } = await open();
        // Not signed in: the console sends the person to Vigie's passkey sign-in, and back.
        await page.goto(`${s.origin}/console/`);
        await page.waitForURL(/\/sign-in\?return=%2Fconsole%2F$/);

        const link = await s.sink.linkFor('analyst@op.test');
        await page.goto(link.url);
        await page.locator('#enrol-button').click();
        await page.waitForURL(`${s.origin}/account`);

        const shown = await page.goto(`${s.origin}/console/`);
        expect(shown!.headers()['content-security-policy']).toContain("script-src 'self'");
        await expect.poll(() => page.locator('main h1').innerText()).toBe('Vue d’ensemble de la sécurité');
        await expect.poll(() => page.locator('#live-status').textContent()).toContain('connecté');
        await expect.poll(() => page.locator('#journal-size').innerText()).toMatch(/^\d+$/);

        // A decoy record read by the agent: the alert comes over the stream, without a reload.
        const ingested = await s.t.app.inject({
          method: 'POST',
          url: '/api/v1/events',
          headers: { authorization: `Bearer ${appToken}` },
          payload: [
            {
              class_uid: 6003,
              activity_id: 2,
              time: s.t.clock.now().getTime(),
              metadata: { uid: 'console-evt-1' },
              status_id: 1,
              actor: { user: { uid: agent.id, org: { uid: scene.structure.id } } },
              api: { operation: 'GET /dossiers/{id}' },
              resources: [{ uid: decoy.id, type: 'record' }],
            },
          ],
        });
        expect(ingested.statusCode).toBe(200);
        await (
          s.t.container.modules.find((m) => m.name === 'detection') as DetectionModule
        ).service.settled();
        const row = page.locator('#live-alerts [data-alert-id]').first();
        await row.waitFor({ timeout: 15_000 });
        await screen(page, 'overview');

        // English on demand, French again.
        await page.getByRole('button', { name: 'Switch to English' }).click();
        await expect.poll(() => page.locator('main h1').innerText()).toBe('Security overview');
        await page.getByRole('button', { name: 'Passer en français' }).click();
        await expect.poll(() => page.locator('main h1').innerText()).toBe('Vue d’ensemble de la sécurité');

        const alertId = await row.getAttribute('data-alert-id');
        await row.click();
        await page.waitForURL(`${s.origin}/console/alerts/${alertId}`);
        await expect.poll(() => page.locator('main h1').innerText()).toContain('Alerte');
        // The rule suspended the agent on its own: the page offers to undo it.
        const undo = page.getByRole('button', { name: /Annuler suspend/ });
        await undo.waitFor();
        await screen(page, 'alert');

        await page.locator('#reason').fill('Lecture d’un dossier leurre confirmée par le SOC');
        await undo.click();
        // A privileged act needs a fresh passkey confirmation: /step-up, then back to the alert.
        await page.waitForURL(/\/step-up\?return=/);
        await page.locator('#step-up-button').click();
        await page.waitForURL(`${s.origin}/console/alerts/${alertId}`);
        await expect
          .poll(() => page.locator('#reason').inputValue())
          .toBe('Lecture d’un dossier leurre confirmée par le SOC');
        await page.getByRole('button', { name: /Annuler suspend/ }).click();
        await expect.poll(() => page.locator('#act-result').innerText()).toContain('Fait');
        await expect
          .poll(
            async () =>
              (
                await s.t.app.inject({
                  url: `/api/v1/accounts/${agent.id}`,
                  headers: { authorization: `Bearer ${scene.adminToken}` },
                })
              ).json<{ status: string }>().status,
          )
          .toBe('active');

        await page.locator('#act-suspend-lineage').click();
        await expect.poll(() => page.locator('#act-result').innerText()).toMatch(/compte(s)? suspendu/);
        const suspended = await eventsOf(s.t, 'account.suspended');
        expect(suspended.some((e) => e.actor.id === analyst.id)).toBe(true);

        // Journal: the inclusion proof of the analyst's sign-in, recomputed in the browser.
        await page.getByRole('link', { name: 'Journal', exact: true }).click();
        await page.waitForURL(`${s.origin}/console/journal`);
        await expect.poll(() => page.locator('#checkpoint-size').innerText()).toMatch(/^\d+$/);
        // The checkpoint's Ed25519 signature, checked in the browser against the verifier key.
        await page.locator('#signature-button').click();
        await expect
          .poll(() => page.locator('#signature-result').innerText())
          .toContain('Signature vérifiée');
        // A checkpoint whose root was altered on the way does not verify.
        await page.route('**/api/v1/journal/checkpoint', async (route) => {
          const res = await route.fetch();
          const [origin, size, root, ...rest] = (await res.text()).split('\n');
          const flipped = (root!.startsWith('A') ? 'B' : 'A') + root!.slice(1);
          await route.fulfill({ response: res, body: [origin, size, flipped, ...rest].join('\n') });
        });
        await page.locator('#signature-button').click();
        await expect.poll(() => page.locator('#signature-result').innerText()).toContain('bad_signature');
        await page.unroute('**/api/v1/journal/checkpoint');
        const signIn = await db
          .selectFrom('events')
          .select('id')
          .where('kind', '=', 'auth.sign_in')
          .where('actor_id', '=', analyst.id)
          .executeTakeFirstOrThrow();
        await page.locator('#event-id').fill(signIn.id);
        // Read the answer before asking again: clicking restarts the lookup, so a click followed at
        // once by a read only ever sees it pending (the event may also wait to be integrated).
        await expect
          .poll(
            async () => {
              const text = await page.locator('#verify-result').innerText();
              if (!text.includes('Vérifié') && (await page.locator('#verify-button').isEnabled()))
                await page.locator('#verify-button').click();
              return text;
            },
            { timeout: 30_000, interval: 1_000 },
          )
          .toContain('Vérifié');
        // The whole journal verified on the server, from here; the overview then says when and how.
        await expect
          .poll(() => page.locator('#last-verification').innerText())
          .toContain('jamais été vérifié');
        await page.locator('#verify-all-button').click();
        await expect
          .poll(() => page.locator('#last-verification').innerText(), { timeout: 30_000 })
          .toContain('Dernière vérification complète');
        expect(await page.locator('#last-verification').innerText()).toContain('conformes');
        await screen(page, 'journal');
        await page.goto(`${s.origin}/console/`);
        await expect
          .poll(() => page.locator('#last-verification').innerText())
          .toMatch(/Dernière vérification complète.*depuis la console/);

        await page.getByRole('link', { name: 'Mon compte', exact: true }).click();
        await expect.poll(() => page.locator('#me-email').innerText()).toBe('analyst@op.test');
        await expect.poll(() => page.locator('table').innerText()).toContain('cette session');
        await screen(page, 'my-account');
        expect(problems).toEqual([]);
      },
    );

    /** Enrols the account from the link mailed to it, in a fresh browser, and returns that browser. */
    async function enrolled(accountId: string, email: string): Promise<PasskeyBrowser> {
      const reissued = await s.t.app.inject({
        method: 'POST',
        url: `/api/v1/accounts/${accountId}/enrolment-link`,
        headers: { authorization: `Bearer ${s.world.scene.adminToken}` },
      });
      expect(reissued.statusCode).toBe(202);
      const browser = await open();
      await browser.page.goto((await s.sink.linkFor(email)).url);
      await browser.page.locator('#enrol-button').click();
      await browser.page.waitForURL(`${s.origin}/account`);
      return browser;
    }

    /** Clicks Approve on the pending account's row, through /step-up and back the first time. */
    async function approve(page: Page, email: string): Promise<string> {
      await page.goto(`${s.origin}/console/accounts`);
      const button = page.locator(`[data-approve="${email}"]`);
      await button.click();
      await page.waitForURL(/\/step-up\?return=%2Fconsole%2Faccounts$/);
      await page.locator('#step-up-button').click();
      await page.waitForURL(`${s.origin}/console/accounts`);
      await page.locator(`[data-approve="${email}"]`).click();
      await expect.poll(() => page.locator('#approve-result').innerText()).not.toBe('');
      return page.locator('#approve-result').innerText();
    }

    it(
      'refuses, with the four-eyes rule explained, an approval by the creator’s lineage, then approves from outside it',
      { timeout: 150_000 },
      async () => {
        const { manager, managerToken, insider, approver } = s.world;
        const created = await s.t.app.inject({
          method: 'POST',
          url: '/api/v1/accounts',
          headers: { authorization: `Bearer ${managerToken}` },
          payload: { organisationId: s.world.scene.structure.id, email: 'newcomer@ml.test', kind: 'human' },
        });
        expect(created.statusCode).toBe(201);
        expect(created.json<{ status: string }>().status).toBe('pending_approval');

        const inside = await enrolled(insider.id, 'insider@ml.test');
        const refusal = await approve(inside.page, 'newcomer@ml.test');
        expect(refusal).toContain('quatre yeux');
        expect(refusal).toContain('créé ou approuvé par la lignée du créateur');
        expect(refusal).toContain('Référence à donner au support');
        await screen(inside.page, 'approval-refused');
        expect(inside.problems).toEqual([]);

        const outside = await enrolled(approver.id, 'approver@ml.test');
        expect(await approve(outside.page, 'newcomer@ml.test')).toContain('newcomer@ml.test approuvé');
        const account = await s.t.app.inject({
          url: `/api/v1/accounts/${created.json<{ id: string }>().id}`,
          headers: { authorization: `Bearer ${s.world.scene.adminToken}` },
        });
        expect(account.json<{ status: string }>().status).toBe('active');

        // Found by part of its address among the active accounts, searched by the API.
        await outside.page.goto(`${s.origin}/console/accounts`);
        await outside.page.selectOption('#status', 'active');
        await outside.page.locator('#search').fill('newcom');
        await expect.poll(() => outside.page.locator('main table').innerText()).toContain('newcomer@ml.test');
        await expect.poll(() => outside.page.locator('main table tbody tr').count()).toBe(1);

        // The manager's page: roles and the lineage graph (the insider and the newcomer it created).
        await outside.page.goto(`${s.origin}/console/accounts/${manager.id}`);
        await expect.poll(() => outside.page.locator('#lineage').innerText()).toContain(insider.id);
        await expect.poll(() => outside.page.locator('.vigie-lineage canvas').count()).toBeGreaterThan(0);
        await screen(outside.page, 'account');
        // The insider's page: its passkey and the session it opened to approve, seen by a reader of
        // its structure's accounts.
        await outside.page.goto(`${s.origin}/console/accounts/${insider.id}`);
        await expect.poll(() => outside.page.locator('#passkeys li').count()).toBe(1);
        await expect.poll(() => outside.page.locator('#sessions').innerText()).toMatch(/aal\d/);
        expect(outside.problems).toEqual([]);
      },
    );
  },
);
