import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); no browser download is possible here. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether the browser tests are skipped: only on a developer's machine without Chromium. In CI
 * (`CI=true`) they run whatever, so a missing install fails loudly instead of hiding as a skip.
 */
export const skipBrowser = !fs.existsSync(CHROMIUM) && process.env.CI !== 'true';
export const skipNote = skipBrowser ? ` (skipped: ${CHROMIUM} is absent; apt-get install -y chromium)` : '';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  // WebAuthn needs a domain RP ID: the pages are served as http://localhost, resolved to 127.0.0.1.
  '--host-resolver-rules=MAP localhost 127.0.0.1',
];

/** A fresh Chromium profile (its own cookies), optionally sending extra headers on every request. */
export async function launchChromium(extraHTTPHeaders?: Record<string, string>): Promise<BrowserContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-chromium-'));
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    ...(extraHTTPHeaders ? { extraHTTPHeaders } : {}),
  });
}

export interface PasskeyBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Script errors and CSP refusals seen so far (an expected 401 or a missing favicon is none). */
  readonly problems: string[];
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
}

/**
 * A fresh Chromium profile with one virtual authenticator (CDP WebAuthn domain) that holds resident
 * keys and verifies the user, as a platform authenticator with a fingerprint reader does.
 */
export async function openPasskeyBrowser(): Promise<PasskeyBrowser> {
  const context = await launchChromium();
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, problems, cdp, authenticatorId };
}
