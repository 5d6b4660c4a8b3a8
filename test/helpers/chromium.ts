import fs from 'node:fs';

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
