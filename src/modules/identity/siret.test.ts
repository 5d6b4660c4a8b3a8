import { describe, expect, it } from 'vitest';
import { isValidSiret, normaliseSiret } from './siret.js';

describe('SIRET validation', () => {
  it('accepts SIRETs whose Luhn check digit holds', () => {
    expect(isValidSiret('73282932000074')).toBe(true);
    expect(isValidSiret('55203253400646')).toBe(true);
  });

  it('refuses a wrong check digit, a wrong length and anything but digits', () => {
    expect(isValidSiret('73282932000075')).toBe(false);
    expect(isValidSiret('7328293200007')).toBe(false);
    expect(isValidSiret('732829320000740')).toBe(false);
    expect(isValidSiret('7328293200007a')).toBe(false);
    expect(isValidSiret('')).toBe(false);
    expect(isValidSiret('７３２８２９３２０００００７４')).toBe(false);
  });

  it("accepts La Poste's establishments by their digit sum, which fails Luhn", () => {
    expect(isValidSiret('35600000049837')).toBe(true);
    expect(isValidSiret('35600000000048')).toBe(true);
    expect(isValidSiret('35600000049838')).toBe(false);
  });

  it("does not extend La Poste's rule to other SIRENs", () => {
    expect(isValidSiret('12345678901234')).toBe(false);
  });

  it('normalises the usual written forms with spaces or dots', () => {
    expect(normaliseSiret('732 829 320 00074')).toBe('73282932000074');
    expect(normaliseSiret('732.829.320.00074')).toBe('73282932000074');
    expect(normaliseSiret('732 829 320 00075')).toBeUndefined();
  });
});
