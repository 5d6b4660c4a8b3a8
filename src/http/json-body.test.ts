import { describe, expect, it } from 'vitest';
import { hasPoisonedKey } from './json-body.js';

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
