import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireApplication } from '../../http/authenticate.js';
import { decodeUtf8Body } from '../../http/json-body.js';
import { ErrorResponses } from '../../http/schemas.js';
import { invalid, VigieError } from '../../shared/errors.js';
import { MAX_BATCH, UnparsableItem, type IngestService } from './ingest.service.js';

const BODY_LIMIT = 16 * 1024 * 1024;
const MAX_LINE = 256 * 1024;

const IngestResponse = Type.Object({
  accepted: Type.Array(Type.Object({ index: Type.Integer(), ids: Type.Array(Type.String()) })),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), code: Type.String(), reason: Type.String() })),
  inserted: Type.Integer(),
  duplicates: Type.Integer(),
});

/**
 * NDJSON: one JSON object per line. A line that does not parse is kept as a marker so that it is
 * rejected with its own index instead of failing the whole batch.
 */
function parseNdjson(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (out.length >= MAX_BATCH + 1) break;
    if (trimmed.length > MAX_LINE) {
      out.push(new UnparsableItem('line is longer than 256 KiB'));
      continue;
    }
    try {
      const v: unknown = JSON.parse(trimmed, (k, val: unknown) => (k === '__proto__' ? undefined : val));
      out.push(v);
    } catch {
      out.push(new UnparsableItem('line is not valid JSON'));
    }
  }
  return out;
}

/** POST /api/v1/events: JSON array or NDJSON, for applications holding the event.ingest scope. */
export function ingestRoutes(ingest: IngestService): FastifyPluginAsync {
  return (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addContentTypeParser(
      'application/x-ndjson',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
      (_req, body, done) => {
        const text = decodeUtf8Body(body as Buffer);
        if (text instanceof VigieError) return done(text, undefined);
        done(null, parseNdjson(text));
      },
    );
    app.post(
      '/api/v1/events',
      {
        bodyLimit: BODY_LIMIT,
        schema: {
          tags: ['ingest'],
          description: 'Ingests up to 10,000 OCSF events (3001, 3002, 3005, 6003) or mapped legacy events',
          querystring: Type.Object({
            mapping: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{1,63}$' })),
          }),
          response: {
            200: IngestResponse,
            413: Type.Ref('ErrorResponse'),
            429: Type.Ref('ErrorResponse'),
            ...ErrorResponses,
          },
        },
      },
      async (request, reply) => {
        const app = requireApplication(request, 'event.ingest');
        const body: unknown = request.body;
        if (!Array.isArray(body)) throw invalid('INVALID_BODY', 'expected a JSON array of events or NDJSON');
        try {
          const result = await ingest.ingest(app.applicationId, body, request.query.mapping);
          return result;
        } catch (error) {
          if (error instanceof VigieError && error.status === 429) reply.header('retry-after', '1');
          throw error;
        }
      },
    );
    return Promise.resolve();
  };
}
