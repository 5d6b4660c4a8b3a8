import { describe, expect, it } from 'vitest';
import { canonicalEmail, normaliseEmail } from './email.js';

describe('e-mail normalisation', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Alice.Martin@Mission-Locale.FR \n')).toBe('alice.martin@mission-locale.fr');
  });

  it('composes Unicode to NFC so that two spellings of é are one address', () => {
    const decomposed = 'Ame\u0301lie@exemple.fr';
    const composed = 'am\u00e9lie@exemple.fr';
    expect(normaliseEmail(decomposed)).toBe(composed);
    expect(normaliseEmail(decomposed)).toBe(normaliseEmail(composed.toUpperCase()));
  });

  it('refuses what cannot be an address', () => {
    for (const bad of [
      '',
      'alice',
      'alice@',
      '@x.fr',
      'a b@x.fr',
      'a@b',
      'a@@b.fr',
      'a@b.fr\u200b',
      `${'a'.repeat(65)}@x.fr`,
      `a@${'b'.repeat(250)}.fr`,
    ]) {
      expect(canonicalEmail(bad), bad).toBeUndefined();
    }
  });

  it('returns the canonical form of a good address', () => {
    expect(canonicalEmail(' Bob@Exemple.FR ')).toBe('bob@exemple.fr');
  });
});
