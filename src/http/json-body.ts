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

/**
 * JSON bodies: refused with a stable code when malformed (INVALID_BODY) or when they carry a key
 * that could poison prototypes downstream (FORBIDDEN_KEY), instead of Fastify's generic error.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
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
    done(null, parsed);
  });
}
