import { createHash, randomBytes } from 'node:crypto';
import { sameDigest } from '../identity/token-secret.js';

/**
 * Challenges, enrolment link secrets and session secrets are 256 random bits in base64url; only
 * their SHA-256 is stored. A fast hash is right: full-entropy secrets leave a slow hash nothing to do.
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function digestOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function matchesDigest(secret: string, digest: string): boolean {
  return sameDigest(digestOf(secret), digest);
}

/** A secret as newSecret() makes it: anything else is refused before any lookup. */
export function looksLikeSecret(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}
