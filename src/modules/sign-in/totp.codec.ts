import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/**
 * TOTP as Vigie configures it (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps from T0 = 0. SHA-1
 * because it is the one algorithm every authenticator app honours (several ignore `algorithm=` in
 * the URI and would compute other codes); HMAC-SHA-1 stays sound as a PRF. A 160-bit secret, the
 * length RFC 4226 §4 recommends.
 */
export const TOTP_PARAMETERS = Object.freeze({ algorithm: 'SHA1', digits: 6, period: 30 });
const SECRET_BYTES = 20;
/** ±1 step: a code from the step before or after now is accepted (clock drift, typing time). */
export const TOTP_WINDOW = 1;

export function newTotpSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

/** The `otpauth://totp/…` URI an authenticator app reads (usually from a QR code). */
export function otpauthUri(secret: Buffer, issuer: string, label: string): string {
  return new TOTP({
    ...TOTP_PARAMETERS,
    issuer,
    label,
    secret: new Secret({ buffer: bufferOf(secret) }),
  }).toString();
}

/**
 * The RFC 6238 time step a code belongs to, within ±TOTP_WINDOW of `nowMs`; undefined when it
 * matches none. The caller refuses a step not greater than the last one accepted (a replay).
 */
export function matchStep(secret: Buffer, code: string, nowMs: number): number | undefined {
  const delta = TOTP.validate({
    ...TOTP_PARAMETERS,
    token: code,
    secret: new Secret({ buffer: bufferOf(secret) }),
    timestamp: nowMs,
    window: TOTP_WINDOW,
  });
  if (delta === null) return undefined;
  return TOTP.counter({ period: TOTP_PARAMETERS.period, timestamp: nowMs }) + delta;
}

function bufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const SEALED_PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a fresh 96-bit IV; the associated data binds the ciphertext to its account and
 * row, so a ciphertext copied onto another account's row does not open.
 */
export function sealTotpSecret(key: Buffer, secret: Buffer, associatedData: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The secret sealed by sealTotpSecret; throws when the key, the associated data or a byte differs. */
export function openTotpSecret(key: Buffer, sealed: string, associatedData: string): Buffer {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new Error('unknown TOTP secret format');
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
  if (bytes.length < IV_BYTES + TAG_BYTES + 1) throw new Error('truncated TOTP secret');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
    decipher.final(),
  ]);
}
