import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { VigieError } from '../shared/errors.js';

/** True when a parsed JSON value holds a `__proto__` key or a `constructor.prototype` pair anywhere. */
export function hasPoisonedKey(value: unknown, depth = 0): boolean {
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasPoisonedKey(v, depth + 1));
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return true;
    const child = (value as Record<string, unknown>)[key];
    if (
      key === 'constructor' &&
      child !== null &&
      typeof child === 'object' &&
      Object.hasOwn(child, 'prototype')
    )
      return true;
    if (hasPoisonedKey(child, depth + 1)) return true;
  }
  return false;
}

/** True when a value holds a number JSON.parse or query coercion turned into ±Infinity (e.g. 1e400). */
export function hasNonFiniteNumber(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  const values = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  return values.some((v) => hasNonFiniteNumber(v, depth + 1));
}

/** A digit run long enough, or an exponent large enough, to overflow a double. */
const MAYBE_OVERFLOW = /[eE][+]?\d{3}|\d{300}/;

/**
 * A body's bytes as text, or a 400 INVALID_UTF8 when they are not valid UTF-8. Decoding leniently
 * would store U+FFFD in place of the bad bytes: a value nobody sent, that no longer matches what the
 * sender's own system holds.
 */
export function decodeUtf8Body(bytes: Buffer): string | VigieError {
  if (!isUtf8(bytes)) return new VigieError('INVALID_UTF8', 400, 'body is not valid UTF-8');
  return bytes.toString('utf8');
}

/**
 * JSON bodies: refused with a stable code when not UTF-8 (INVALID_UTF8), malformed (INVALID_BODY)
 * or when they carry a key that could poison prototypes downstream (FORBIDDEN_KEY), instead of
 * Fastify's generic error.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const text = decodeUtf8Body(body as Buffer);
    if (text instanceof VigieError) return done(text, undefined);
    if (text.length === 0)
      return done(new VigieError('INVALID_BODY', 400, 'body must not be empty'), undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return done(new VigieError('INVALID_BODY', 400, 'body is not valid JSON'), undefined);
    }
    if ((text.includes('__proto__') || text.includes('constructor')) && hasPoisonedKey(parsed)) {
      return done(
        new VigieError(
          'FORBIDDEN_KEY',
          400,
          'body holds a forbidden key (__proto__ or constructor.prototype)',
        ),
        undefined,
      );
    }
    if (MAYBE_OVERFLOW.test(text) && hasNonFiniteNumber(parsed)) {
      return done(
        new VigieError('INVALID_NUMBER', 400, 'body holds a number too large to represent'),
        undefined,
      );
    }
    done(null, parsed);
  });
  // Query strings are coerced by the schema validator; ajv skips its bounds for ±Infinity, so an
  // overflowing number would otherwise pass `maximum` and reach SQL.
  app.addHook('preHandler', (request, _reply, next) => {
    if (request.query !== null && typeof request.query === 'object' && hasNonFiniteNumber(request.query)) {
      return next(new VigieError('INVALID_NUMBER', 400, 'query holds a number too large to represent'));
    }
    next();
  });
}
