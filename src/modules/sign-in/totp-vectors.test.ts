import fs from 'node:fs';
import path from 'node:path';
import { HOTP, Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { TOTP_PARAMETERS, matchStep } from './totp.codec.js';

/**
 * The 10 HOTP values of RFC 4226 Appendix D and the 18 TOTP values of RFC 6238 Appendix B (with the
 * erratum on the SHA-256/512 seeds), from ../shared/vectors/otp (see SOURCE.md), computed by otpauth
 * as Vigie configures it; the SHA-1 six-digit values also go through Vigie's own matchStep.
 */
const file = path.resolve(process.cwd(), '../shared/vectors/otp/rfc4226-rfc6238.json');
const data = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  hotp: { secretAscii: string; algorithm: string; digits: number; codesByCounter: string[] };
  totp: {
    stepSeconds: number;
    digits: number;
    seedsAscii: Record<'SHA1' | 'SHA256' | 'SHA512', string>;
    cases: ({ time: number } & Record<'SHA1' | 'SHA256' | 'SHA512', string>)[];
    base32SeedSHA1: string;
  };
};
const ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;

describe('RFC 4226 and RFC 6238 test values through otpauth', () => {
  it('holds the 28 published values', () => {
    expect(data.hotp.codesByCounter).toHaveLength(10);
    expect(data.totp.cases.length * ALGORITHMS.length).toBe(18);
  });

  it.each(data.hotp.codesByCounter.map((code, counter) => [counter, code] as const))(
    'HOTP counter %i is %s',
    (counter, code) => {
      const secret = Secret.fromUTF8(data.hotp.secretAscii);
      expect(
        HOTP.generate({ secret, algorithm: data.hotp.algorithm, digits: data.hotp.digits, counter }),
      ).toBe(code);
    },
  );

  it.each(data.totp.cases.flatMap((c) => ALGORITHMS.map((a) => [c.time, a, c[a]] as const)))(
    'TOTP at %i s with %s is %s',
    (time, algorithm, code) => {
      const secret = Secret.fromUTF8(data.totp.seedsAscii[algorithm]);
      const options = { secret, algorithm, digits: data.totp.digits, period: data.totp.stepSeconds };
      expect(TOTP.generate({ ...options, timestamp: time * 1000 })).toBe(code);
      expect(TOTP.validate({ ...options, token: code, timestamp: time * 1000, window: 0 })).toBe(0);
    },
  );

  it('accepts through matchStep, at Vigie’s 6 digits, the low six digits of every SHA-1 value', () => {
    expect(TOTP_PARAMETERS).toEqual({ algorithm: 'SHA1', digits: 6, period: 30 });
    const secret = Buffer.from(data.totp.seedsAscii.SHA1, 'ascii');
    expect(Secret.fromBase32(data.totp.base32SeedSHA1).hex).toBe(secret.toString('hex'));
    for (const c of data.totp.cases) {
      const step = Math.floor(c.time / 30);
      expect(matchStep(secret, c.SHA1.slice(-6), c.time * 1000)).toBe(step);
      expect(matchStep(secret, c.SHA1.slice(-6), (c.time + 30) * 1000)).toBe(step);
      expect(matchStep(secret, c.SHA1.slice(-6), (c.time + 60) * 1000)).toBeUndefined();
    }
  });
});
