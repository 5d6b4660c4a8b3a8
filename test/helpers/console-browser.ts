import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { seriousViolations } from './axe.js';
import { openPasskeyBrowser, type PasskeyBrowser } from './chromium.js';
import { freePort } from './free-port.js';
import { startSmtpSink } from './smtp-sink.js';
import { createTestApp, type TestApp } from './test-app.js';

/** Where the console's browser tests save their screenshots (test artifacts, not committed). */
export const CONSOLE_ARTIFACTS = path.resolve('test-artifacts/console');

/** Whether the console was built (web/dist): its browser tests need the files Vigie serves. */
export const consoleBuilt = fs.existsSync(path.resolve('web/dist/index.html'));

export interface ConsoleSuite<W> {
  t: TestApp;
  sink: Awaited<ReturnType<typeof startSmtpSink>>;
  /** http://localhost:<port>: passkeys are bound to it. */
  origin: string;
  world: W;
}

/**
 * A console browser suite: Vigie listening on localhost with an SMTP sink for enrolment links and
 * the world `setWorld` makes (before the modules start: detection reads decoys when it starts),
 * Chromium profiles with a passkey each, closed with the suite, and `screen`, which checks a page
 * with axe-core (no serious violation) and saves its screenshot.
 */
export function consoleSuite<W>(setWorld: (t: TestApp) => Promise<W>) {
  const suite = { origin: '' } as ConsoleSuite<W>;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    fs.mkdirSync(CONSOLE_ARTIFACTS, { recursive: true });
    suite.sink = await startSmtpSink();
    const port = await freePort();
    suite.origin = `http://localhost:${port}`;
    suite.t = await createTestApp({ env: { VIGIE_SMTP_URL: suite.sink.url, VIGIE_ORIGIN: suite.origin } });
    suite.world = await setWorld(suite.t);
    await suite.t.container.start();
    await suite.t.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await suite.t?.close();
    await suite.sink?.close();
  });
  return {
    suite,
    open: async (): Promise<PasskeyBrowser> => {
      const browser = await openPasskeyBrowser();
      contexts.push(browser.context);
      return browser;
    },
    screen,
  };
}

export async function screen(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
  await page.screenshot({ path: path.join(CONSOLE_ARTIFACTS, `${name}.png`), fullPage: true });
}
