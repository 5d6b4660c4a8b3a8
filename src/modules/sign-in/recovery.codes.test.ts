import { describe, expect, it } from 'vitest';
import { normaliseRecoveryCode } from './recovery.service.js';

describe('normaliseRecoveryCode', () => {
  it('reads a code as a person types it: case, spaces, dashes, and the Crockford look-alikes', () => {
    expect(normaliseRecoveryCode('abcd-efgh-jkmn-pqrs')).toBe('ABCDEFGHJKMNPQRS');
    expect(normaliseRecoveryCode(' 0o1i l234 5678 9XYZ ')).toBe('0011123456789XYZ');
  });

  it('refuses what cannot be a code', () => {
    for (const typed of [
      '',
      'ABCD-EFGH-JKMN-PQR',
      'ABCD-EFGH-JKMN-PQRSS',
      'UUUU-UUUU-UUUU-UUUU',
      '__proto__',
    ])
      expect(normaliseRecoveryCode(typed)).toBeUndefined();
  });
});
