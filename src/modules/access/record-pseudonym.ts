import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The keyed digest that stands in the journal for a record id Vigie does not know. An unknown id is
 * whatever the caller typed (in the probe, a NIR): the immutable journal must not keep it in clear,
 * yet the same probe repeated must be recognisable. HMAC-SHA256 rather than a salted SHA-256: the
 * NIR space is small enough to enumerate, so the digest is only as good as the secrecy of its key,
 * and HMAC is the construction made for a secret key. The key lives in a file beside the database
 * (mode 0600), not in it: a copy of the database or of the journal alone does not reverse a digest.
 */
export type RecordPseudonymiser = (recordId: string) => string;

export const RECORD_PSEUDONYM_PREFIX = 'hmac-sha256:';
const KEY_BYTES = 32;

export class RecordPseudonymKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordPseudonymKeyError';
  }
}

export function recordPseudonymiser(key: Buffer): RecordPseudonymiser {
  return (recordId) =>
    RECORD_PSEUDONYM_PREFIX + crypto.createHmac('sha256', key).update(recordId, 'utf8').digest('hex');
}

/**
 * Reads `<dataDir>/record-pseudonym.key` (32 random bytes, base64), creating it on first start.
 * A key file others may read is refused, as for the journal signing key.
 */
export async function loadRecordPseudonymKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, 'record-pseudonym.key');
  let text: string;
  try {
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0)
      throw new RecordPseudonymKeyError(`${file} is accessible to other users; chmod 600 it`);
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = await createKeyFile(file);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new RecordPseudonymKeyError(`${file} does not hold a 32-byte key`);
  return key;
}

async function createKeyFile(file: string): Promise<string> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const text = `${crypto.randomBytes(KEY_BYTES).toString('base64')}\n`;
  // Written aside then hard-linked into place: two processes starting together keep one key.
  const aside = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(aside, text, { mode: 0o600, flag: 'wx' });
  try {
    await fs.link(aside, file);
    return text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFile(file, 'utf8');
    throw error;
  } finally {
    await fs.unlink(aside).catch(() => undefined);
  }
}
