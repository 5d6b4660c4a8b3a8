import crypto from 'node:crypto';
import path from 'node:path';
import { loadKeyFile } from '../../shared/key-file.js';

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

export function recordPseudonymiser(key: Buffer): RecordPseudonymiser {
  return (recordId) =>
    RECORD_PSEUDONYM_PREFIX + crypto.createHmac('sha256', key).update(recordId, 'utf8').digest('hex');
}

/** Reads `<dataDir>/record-pseudonym.key` (32 random bytes, base64, mode 0600), creating it on first start. */
export function loadRecordPseudonymKey(dataDir: string): Promise<Buffer> {
  return loadKeyFile(path.join(dataDir, 'record-pseudonym.key'));
}
