import { describe, expect, it } from 'vitest';
import { VigieError } from '../shared/errors.js';
import { decodeUtf8Body, hasPoisonedKey } from './json-body.js';

describe('hasPoisonedKey', () => {
  it('finds __proto__ at any depth, in objects and arrays', () => {
    expect(hasPoisonedKey(JSON.parse('{"__proto__":{"admin":true}}'))).toBe(true);
    expect(hasPoisonedKey(JSON.parse('{"a":[{"b":{"__proto__":1}}]}'))).toBe(true);
  });

  it('finds constructor.prototype but lets a plain "constructor" field through', () => {
    expect(hasPoisonedKey(JSON.parse('{"constructor":{"prototype":{"x":1}}}'))).toBe(true);
    expect(hasPoisonedKey({ constructor: 'Renault' })).toBe(false);
  });

  it('accepts ordinary bodies', () => {
    expect(hasPoisonedKey({ email: 'a@b.test', roles: ['agent'], n: 1, z: null })).toBe(false);
  });
});

describe('decodeUtf8Body', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them with U+FFFD', () => {
    const bad = decodeUtf8Body(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
    expect(bad).toBeInstanceOf(VigieError);
    expect((bad as VigieError).code).toBe('INVALID_UTF8');
    expect((bad as VigieError).status).toBe(400);
    // An overlong encoding of '/' and a lone surrogate are not UTF-8 either.
    expect(decodeUtf8Body(Buffer.from([0xc0, 0xaf]))).toBeInstanceOf(VigieError);
    expect(decodeUtf8Body(Buffer.from([0xed, 0xa0, 0x80]))).toBeInstanceOf(VigieError);
  });

  it('decodes valid UTF-8, accents and emoji included', () => {
    expect(decodeUtf8Body(Buffer.from('{"n":"Chloé 🚀"}', 'utf8'))).toBe('{"n":"Chloé 🚀"}');
  });
});
