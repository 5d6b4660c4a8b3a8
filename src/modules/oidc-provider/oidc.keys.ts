import { createCipheriv, createDecipheriv, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.js';
import type { Clock } from '../../shared/clock.js';
import { insertSigningKey, listSigningKeys } from './oidc.repository.js';

const SEALED_PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function derive(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
}

/** The provider's cookie signing keys, derived from the key file: stable across restarts and processes. */
export function cookieKeysOf(master: Buffer): string[] {
  return [derive(master, 'vigie/oidc-provider/cookies/v1').toString('base64url')];
}

export function sealJwk(key: Buffer, jwk: object, kid: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

export function openJwk(key: Buffer, sealed: string, kid: string): Record<string, unknown> {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new Error(`signing key ${kid} is not sealed as v1`);
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const text = Buffer.concat([
    decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
    decipher.final(),
  ]);
  return JSON.parse(text.toString('utf8')) as Record<string, unknown>;
}

function newJwk(alg: 'ES256' | 'RS256'): Record<string, unknown> & { kid: string } {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(16).toString('base64url');
  return { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

/**
 * The private signing keys (ES256 and RS256), made on the first start and stored sealed under a key
 * derived from the key file; two processes starting together may both add a pair, and then both
 * pairs are served and used, which verifiers accept as a key set.
 */
export async function loadSigningKeys(deps: { db: Db; clock: Clock }, master: Buffer) {
  const key = derive(master, 'vigie/oidc-provider/signing-keys/v1');
  let rows = await listSigningKeys(deps.db);
  if (rows.length === 0) {
    const at = deps.clock.now().toISOString();
    for (const jwk of [newJwk('ES256'), newJwk('RS256')])
      await insertSigningKey(deps.db, {
        kid: jwk.kid,
        sealed_jwk: sealJwk(key, jwk, jwk.kid),
        created_at: at,
      });
    rows = await listSigningKeys(deps.db);
  }
  return rows.map((r) => openJwk(key, r.sealed_jwk, r.kid));
}
