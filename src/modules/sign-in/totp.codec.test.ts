import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newTotpSecret, openTotpSecret, otpauthUri, sealTotpSecret } from './totp.codec.js';

describe('TOTP secrets at rest', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and only with the same key and associated data', () => {
    const secret = newTotpSecret();
    expect(secret).toHaveLength(20);
    const sealed = sealTotpSecret(key, secret, 'vigie-totp:a:1');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret.toString('base64url'));
    expect(openTotpSecret(key, sealed, 'vigie-totp:a:1').equals(secret)).toBe(true);
    expect(() => openTotpSecret(key, sealed, 'vigie-totp:b:1')).toThrow();
    expect(() => openTotpSecret(randomBytes(32), sealed, 'vigie-totp:a:1')).toThrow();
    const flipped = Buffer.from(sealed.slice(3), 'base64url');
    flipped[14]! ^= 1;
    expect(() => openTotpSecret(key, `v1.${flipped.toString('base64url')}`, 'vigie-totp:a:1')).toThrow();
    expect(() => openTotpSecret(key, 'v1.AAAA', 'vigie-totp:a:1')).toThrow();
  });

  it('writes an otpauth URI with SHA-1, 6 digits and 30 s steps', () => {
    const uri = new URL(otpauthUri(newTotpSecret(), 'Vigie', 'ana@ml.test'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('issuer')).toBe('Vigie');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(uri.searchParams.get('secret')).toMatch(/^[A-Z2-7]{32}$/);
  });
});
