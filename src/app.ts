import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { Container } from './container.js';
import { createAuthFailureBrake } from './http/auth-brake.js';
import { installAuthentication } from './http/authenticate.js';
import { consolePages } from './http/console.js';
import { installErrorHandler } from './http/errors.js';
import { installJsonBodyParser } from './http/json-body.js';
import { installStepUpGate } from './http/step-up.js';
import { ErrorResponse } from './http/schemas.js';

export interface AppOptions {
  readonly logger?: boolean | { level: string; stream?: DestinationStream };
}

/**
 * What a log line may say about a request: its id, method and route pattern. Never the URL: its
 * path parameters and query string carry record ids and e-mail addresses, personal data.
 */
function requestForLog(request: FastifyRequest): Record<string, unknown> {
  return { id: request.id, method: request.method, route: request.routeOptions?.url ?? null };
}

/** Builds the HTTP adapter over the container's services. It never listens: main.ts or tests do. */
export async function buildApp(container: Container, options: AppOptions = {}): Promise<FastifyInstance> {
  const limits = container.core.config.http;
  const app = Fastify({
    logger:
      options.logger === undefined || options.logger === false
        ? false
        : {
            ...(typeof options.logger === 'object' ? options.logger : {}),
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            serializers: { req: requestForLog },
          },
    // Fastify's own request lines carry the URL; ours below carry the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Slow clients (a byte at a time) are cut off; the request timeout bounds receiving the request
    // only, so a long response such as the SSE alert stream is not cut by it.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default, longer than the timeouts).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    trustProxy: limits.trustProxy.length > 0 ? [...limits.trustProxy] : false,
    bodyLimit: 1024 * 1024,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: 'x-request-id',
    genReqId: () => container.core.ids.next(),
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.maxConnections = limits.maxConnections;

  app.addSchema(ErrorResponse);
  installErrorHandler(app);
  installJsonBodyParser(app);
  const brake = createAuthFailureBrake(container.core);
  app.addHook('onClose', () => brake.stop());
  installAuthentication(app, container.resolver, brake, {
    sessions: container.sessions,
    origin: container.core.config.signIn.origin,
  });
  installStepUpGate(app, { ...container.core, maxAgeMs: container.core.config.signIn.stepUpMaxAgeMs });
  // Callback hooks on every request, not async ones: no promise and no microtask turn per hook.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', String(request.id));
    done(null, payload);
  });
  // Sampled access log: two lines per request cost more than a decision itself. Every refusal,
  // error and slow request is logged; of the fast successful ones, one in `accessLogEvery`.
  let sinceLogged = 0;
  app.addHook('onResponse', (request, reply, done) => {
    const slow = reply.elapsedTime >= limits.accessLogSlowMs;
    if (reply.statusCode >= 400 || slow || ++sinceLogged >= limits.accessLogEvery) {
      sinceLogged = 0;
      request.log.info(
        { req: request, statusCode: reply.statusCode, durationMs: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vigie API',
        version: '0.1.0',
        description: 'Identity governance, access decisions and detection for shared information systems.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: '__Host-vigie_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
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
  consolePages(app);
  await app.ready();
  return app;
}
