import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleInvitation } from '../../src/sim/console-invite.js';
import { defaultWorkDir } from '../../src/sim/demo.js';
import { runSimulation, type RunResult } from '../../src/sim/engine.js';
import type { VigieHost } from '../../src/sim/host.js';
import { loadScenarioDirectory } from '../../src/sim/scenario.js';
import { CONSOLE_ARTIFACTS, consoleBuilt, screen } from '../helpers/console-browser.js';
import { openPasskeyBrowser, skipBrowser, skipNote, type PasskeyBrowser } from '../helpers/chromium.js';
import { freePort } from '../helpers/free-port.js';

const root = path.resolve(import.meta.dirname, '..', '..');

/**
 * What `npm run demo` ends on, small: the simulator replays the December 2025 scenario (a Mission
 * Locale account manager taken over at night) against a small world, with an analyst watching the
 * console in Chromium from before the replay starts. The operator enrols from the link the demo
 * prints; the alert the attack raises arrives on the overview over the live stream, without a
 * reload; from the alert the analyst suspends the account's lineage through a passkey step-up.
 */
describe.skipIf(skipBrowser || !consoleBuilt)(
  `the demo's replay watched in the console${skipNote}${consoleBuilt ? '' : ' (web/dist not built)'}`,
  () => {
    let browser: PasskeyBrowser | undefined;
    let run: RunResult | undefined;
    let work = '';
    afterAll(async () => {
      await browser?.context.close();
      await run?.host?.close();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it(
      'shows the replayed incident’s alert live and suspends the lineage from it',
      { timeout: 420_000 },
      async () => {
        fs.mkdirSync(CONSOLE_ARTIFACTS, { recursive: true });
        const parent = path.dirname(defaultWorkDir(os.tmpdir()));
        work = fs.mkdtempSync(path.join(parent === '/dev/shm' ? parent : os.tmpdir(), 'vigie-demo-e2e-'));
        const december = loadScenarioDirectory(path.join(root, 'scenarios')).find(
          (s) => s.name === 'delegated-administrator-2025-12',
        )!;
        const port = await freePort();
        let origin = '';
        let page: Page | undefined;
        run = await runSimulation({
          seed: 5,
          scale: 0.01,
          days: 2,
          panelShare: 0.2,
          protect: true,
          // The shipped scenario as it is, moved to the first night of this two-day world.
          scenarios: [{ ...december, start: { day: 1, time: '02:10' } }],
          packageRoot: root,
          workDir: work,
          keepServing: true,
          port,
          onStarted: async (host: VigieHost) => {
            const invitation = await consoleInvitation(host, port);
            if (!('enrolUrl' in invitation)) throw new Error(invitation.unavailable);
            origin = host.origin;
            browser = await openPasskeyBrowser();
            page = browser.page;
            await page.goto(invitation.enrolUrl);
            await page.locator('#enrol-button').click();
            await page.waitForURL(`${origin}/account`);
            await page.goto(invitation.consoleUrl);
            await expect.poll(() => page!.locator('#live-status').textContent()).toContain('connecté');
            // Nothing has happened yet in this world.
            expect(await page.locator('#live-alerts [data-alert-id]').count()).toBe(0);
          },
        });
        const host = run.host!;
        const attack = run.outcomes.find((o) => o.scenario.name === december.name)!;
        expect(run.alerts.length, attack.log.map((l) => l.what).join('\n')).toBeGreaterThan(0);
        const p = page!;
        // Arrived over the stream while the replay ran: the page was never reloaded.
        const row = p.locator('#live-alerts [data-alert-id]').first();
        await row.waitFor({ timeout: 30_000 });
        await screen(p, 'demo-overview');

        const alertId = (await row.getAttribute('data-alert-id'))!;
        // Read from the API: detection may have raised it after the run listed its alerts.
        const alert = (await fetch(`${host.baseUrl}/api/v1/alerts/${alertId}`, {
          headers: { authorization: `Bearer ${host.operatorToken}` },
        }).then((r) => r.json())) as { entity: { type: string; id: string } };
        expect(alert.entity.type).toBe('account');
        // The replay moved Vigie's clock two days on, so the session it opened has idled out: the
        // analyst signs in again with the same passkey, as after a night away, and lands on the alert.
        await p.goto(`${origin}/sign-in?return=${encodeURIComponent(`/console/alerts/${alertId}`)}`);
        await p.locator('#sign-in-button').click();
        await p.waitForURL(`${origin}/console/alerts/${alertId}`);
        await expect.poll(() => p.locator('main h1').innerText()).toContain('Alerte');
        // What the lineage holds before the act: the accounts the named account created or approved.
        const api = async <T>(url: string): Promise<T> =>
          (await fetch(`${host.baseUrl}${url}`, {
            headers: { authorization: `Bearer ${host.operatorToken}` },
          }).then((r) => r.json())) as T;
        const lineage = () =>
          api<{ items: Array<{ accountId: string; status: string }> }>(
            `/api/v1/accounts/${alert.entity.id}/lineage?limit=100`,
          );
        const named = await api<{ status: string }>(`/api/v1/accounts/${alert.entity.id}`);
        const containable = (status: string) => status === 'active' || status === 'pending_approval';
        const expected =
          (containable(named.status) ? 1 : 0) +
          (await lineage()).items.filter((m) => containable(m.status)).length;
        await p.locator('#reason').fill('Compte de gestion pris la nuit depuis un réseau étranger');
        await p.locator('#act-suspend-lineage').click();
        // A privileged act wants a passkey confirmation of the last minutes: /step-up and back, unless
        // the sign-in just now counts as one.
        await expect
          .poll(async () =>
            p.url().includes('/step-up') ? 'step-up' : await p.locator('#act-result').innerText(),
          )
          .not.toBe('');
        if (p.url().includes('/step-up')) {
          await p.locator('#step-up-button').click();
          await p.waitForURL(`${origin}/console/alerts/${alertId}`);
          await p.locator('#act-suspend-lineage').click();
        }
        await expect.poll(() => p.locator('#act-result').innerText()).toMatch(/compte(s)? suspendu/);
        expect(await p.locator('#act-result').innerText()).toContain(`${expected} compte`);
        await screen(p, 'demo-alert');

        // The account the alert named and everything below it are contained now.
        expect((await api<{ status: string }>(`/api/v1/accounts/${alert.entity.id}`)).status).toBe(
          'suspended',
        );
        for (const m of (await lineage()).items) expect(['suspended', 'disabled']).toContain(m.status);
        expect(browser!.problems).toEqual([]);
      },
    );
  },
);
