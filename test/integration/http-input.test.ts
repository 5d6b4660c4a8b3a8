import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createContainer, type VigieModule } from '../../src/container.js';
import { ManualClock } from '../../src/shared/clock.js';
import { uuidv7Generator } from '../../src/shared/ids.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';
import { PageQuery } from '../../src/http/schemas.js';

describe('hostile bodies at the HTTP edge', () => {
  let app: FastifyInstance;
  let database: TestDatabase;
  let reached = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    const clock = new ManualClock();
    const container = createContainer({
      config: parseConfig({}),
      database,
      clock,
      ids: uuidv7Generator(clock),
      logger: pino({ level: 'silent' }),
    });
    const probe: VigieModule = {
      name: 'probe',
      routes: (a) => {
        a.post('/probe', () => {
          reached += 1;
          return { ok: true };
        });
        a.get('/probe', { schema: { querystring: PageQuery } }, (request) => ({
          limit: (request.query as { limit: number }).limit,
        }));
        return Promise.resolve();
      },
    };
    (container.modules as VigieModule[]).push(probe);
    app = await buildApp(container);
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/probe', headers: { 'content-type': contentType }, payload });

  it.each([
    ['a __proto__ key', '{"__proto__":{"admin":true}}', 400, 'FORBIDDEN_KEY'],
    [
      'a constructor.prototype pair',
      '{"a":{"constructor":{"prototype":{"admin":true}}}}',
      400,
      'FORBIDDEN_KEY',
    ],
    ['truncated JSON', '{"a":', 400, 'INVALID_BODY'],
    ['an empty body', '', 400, 'INVALID_BODY'],
    ['a number that overflows a double', '{"limit":1e400}', 400, 'INVALID_NUMBER'],
    ['a nested overflowing number', `{"a":[{"b":-${'9'.repeat(400)}}]}`, 400, 'INVALID_NUMBER'],
    ['a body over the limit', `{"a":"${'x'.repeat(1024 * 1024)}"}`, 413, 'BODY_TOO_LARGE'],
  ])('refuses %s with a stable code before any handler runs', async (_what, payload, status, code) => {
    const before = reached;
    const res = await post(payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(reached).toBe(before);
  });

  it('refuses an unsupported content type with 415', async () => {
    const res = await post('<a/>', 'text/xml');
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a query number that overflows to Infinity instead of letting it past the bounds', async () => {
    const res = await app.inject({ url: '/probe?limit=1e400' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_NUMBER');
    expect((await app.inject({ url: '/probe?limit=20' })).json()).toEqual({ limit: 20 });
    expect((await app.inject({ url: '/probe?limit=501' })).json().error.code).toBe('VALIDATION_FAILED');
  });

  it('lets an ordinary JSON body through', async () => {
    const res = await post('{"constructor":"Renault"}');
    expect(res.statusCode).toBe(200);
  });
});
