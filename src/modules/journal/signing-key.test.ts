import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config.js';
import { formatVerifierKey } from './signed-note.js';
import { SigningKeyError, loadSigningKey } from './signing-key.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-key-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the journal signing key', () => {
  it('is created on first start, owner-only, in a created folder, and the same afterwards', async () => {
    const file = path.join(dir, 'nested', 'data', 'journal.key');
    const config = { origin: 'vigie.test/journal', signingKeyPath: file };
    await expect(loadSigningKey(config, { create: false })).rejects.toThrow(SigningKeyError);
    const first = await loadSigningKey(config, { create: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const again = await loadSigningKey(config, { create: false });
    expect(formatVerifierKey(again)).toBe(formatVerifierKey(first));
    expect(first.name).toBe('vigie.test/journal');
  });

  it('is one key when several starts create it at the same time', async () => {
    const config = { origin: 'vigie.test/journal', signingKeyPath: path.join(dir, 'race', 'journal.key') };
    const signers = await Promise.all(
      Array.from({ length: 8 }, () => loadSigningKey(config, { create: true })),
    );
    expect(new Set(signers.map(formatVerifierKey)).size).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'race'))).toEqual(['journal.key']);
  });

  it('is refused when other users may read its file', async () => {
    const file = path.join(dir, 'loose.key');
    const config = { origin: 'vigie.test/journal', signingKeyPath: file };
    await loadSigningKey(config, { create: true });
    fs.chmodSync(file, 0o644);
    await expect(loadSigningKey(config, { create: true })).rejects.toThrow(/chmod 600/);
  });

  it('is refused when the file is not an Ed25519 PEM key', async () => {
    const file = path.join(dir, 'garbage.key');
    fs.writeFileSync(file, 'not a key', { mode: 0o600 });
    await expect(
      loadSigningKey({ origin: 'vigie.test/journal', signingKeyPath: file }, { create: true }),
    ).rejects.toThrow(/not a PEM private key/);
  });

  it('may come from VIGIE_JOURNAL_KEY instead, which must be a base64 32-byte seed', async () => {
    const seed = Buffer.alloc(32, 9).toString('base64');
    const config = parseConfig({ VIGIE_JOURNAL_KEY: seed, VIGIE_DATA_DIR: dir });
    const signer = await loadSigningKey(config.journal, { create: false });
    const same = await loadSigningKey(parseConfig({ VIGIE_JOURNAL_KEY: seed }).journal, { create: false });
    expect(formatVerifierKey(signer)).toBe(formatVerifierKey(same));
    expect(fs.existsSync(config.journal.signingKeyPath)).toBe(false);
    for (const bad of ['short', Buffer.alloc(31).toString('base64'), `${seed}x`]) {
      expect(() => parseConfig({ VIGIE_JOURNAL_KEY: bad })).toThrow(ConfigError);
    }
  });
});
