import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens are 256 random bits, shown once as `vig_<base64url>`; only their SHA-256 is stored. A
 * fast hash is right here: the secret has full entropy, so there is nothing for a slow hash to protect.
 */
export const TOKEN_PREFIX = 'vig_';

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function looksLikeToken(secret: string): boolean {
  return secret.length === TOKEN_PREFIX.length + 43 && secret.startsWith(TOKEN_PREFIX);
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
