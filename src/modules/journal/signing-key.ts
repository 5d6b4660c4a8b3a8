import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import { privateKeyFromSeed, signerFromPrivateKey, type NoteSigner } from './signed-note.js';

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

type JournalKeyConfig = Pick<Config['journal'], 'origin' | 'signingKeyPath' | 'signingKey'>;

/**
 * The journal's Ed25519 signer, named after the origin. A key given in configuration
 * (VIGIE_JOURNAL_KEY) wins; otherwise the PKCS#8 PEM file at signingKeyPath is read, or created with
 * mode 0600 (its folder 0700) when `create` is set and it does not exist yet. A key file that others
 * may read is refused, as ssh does: the key is what makes checkpoints trustworthy.
 */
export async function loadSigningKey(
  config: JournalKeyConfig,
  options: { create: boolean },
): Promise<NoteSigner> {
  if (config.signingKey) return signerFromPrivateKey(config.origin, privateKeyFromSeed(config.signingKey));
  const file = config.signingKeyPath;
  let pem: string;
  try {
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0) {
      throw new SigningKeyError(
        `journal signing key ${file} is accessible to other users (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    pem = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!options.create) throw new SigningKeyError(`journal signing key ${file} does not exist`);
    pem = await createKeyFile(file);
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new SigningKeyError(`journal signing key ${file} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new SigningKeyError(`journal signing key ${file} is not Ed25519`);
  return signerFromPrivateKey(config.origin, key);
}

async function createKeyFile(file: string): Promise<string> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // Written aside then hard-linked into place: link() fails if the file exists, so two processes
  // starting together keep one key, and neither can read a half-written file.
  const aside = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(aside, pem, { mode: 0o600, flag: 'wx' });
  try {
    await fs.link(aside, file);
    return pem;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFile(file, 'utf8');
    throw error;
  } finally {
    await fs.unlink(aside).catch(() => undefined);
  }
}
