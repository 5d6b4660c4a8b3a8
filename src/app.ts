import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { Container } from './container.js';
import { installAuthentication } from './http/authenticate.js';
import { installErrorHandler } from './http/errors.js';
import { installJsonBodyParser } from './http/json-body.js';
import { ErrorResponse } from './http/schemas.js';

export interface AppOptions {
  readonly logger?: boolean | { level: string };
  /** Fastify's per-request log lines; on unless turned off (the HTTP bench's own server does). */
  readonly requestLogging?: boolean;
}

/** Builds the HTTP adapter over the container's services. It never listens: main.ts or tests do. */
export async function buildApp(container: Container, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === undefined || options.logger === false
        ? false
        : {
            ...(typeof options.logger === 'object' ? options.logger : {}),
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
    ...(options.requestLogging === false
      ? { logController: new LogController({ disableRequestLogging: true }) }
      : {}),
    bodyLimit: 1024 * 1024,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: 'x-request-id',
    genReqId: () => container.core.ids.next(),
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorResponse);
  installErrorHandler(app);
  installJsonBodyParser(app);
  installAuthentication(app, container.resolver);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', String(request.id));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vigie API',
        version: '0.1.0',
        description: 'Identity governance, access decisions and detection for shared information systems.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(container.core.db);
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', container.core.metrics.contentType);
    return container.core.metrics.metrics();
  });

  for (const m of container.modules) if (m.routes) await app.register(m.routes);
  await app.ready();
  return app;
}
