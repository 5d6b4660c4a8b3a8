import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A key file that is missing its 32 bytes or that other users may read. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

const KEY_BYTES = 32;

/**
 * Reads a 32-byte key (base64, one line) kept in a file beside the database, creating it on first
 * start. Beside, not in: a copy of the database alone does not give the key away. A key file others
 * may read is refused, as for the journal signing key.
 */
export async function loadKeyFile(file: string): Promise<Buffer> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0)
      throw new KeyFileError(`${file} is accessible to other users; chmod 600 it`);
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = await createKeyFile(file);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new KeyFileError(`${file} does not hold a 32-byte key`);
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
