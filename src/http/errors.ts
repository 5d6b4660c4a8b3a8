import type { FastifyError, FastifyInstance } from 'fastify';
import { VigieError } from '../shared/errors.js';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
  requestId: string;
}

const FASTIFY_CODES: Record<string, { code: string; status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', status: 413, message: 'request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    message: 'unsupported content type',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_BODY', status: 400, message: 'body must not be empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_BODY', status: 400, message: 'body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'INVALID_BODY',
    status: 400,
    message: 'invalid content length',
  },
};

/**
 * One mapper from errors to the wire: VigieError keeps its code; schema validation is 400
 * VALIDATION_FAILED with the offending paths; anything else is a 500 whose cause stays in the log only.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | VigieError | Error, request, reply) => {
    const requestId = String(request.id);
    if (error instanceof VigieError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message }, requestId };
      if (error.details) body.error.details = error.details;
      return reply.status(error.status).send(body);
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const issues = fe.validation.slice(0, 20).map((v) => ({
        path: `${fe.validationContext ?? 'body'}${v.instancePath}`,
        rule: v.keyword,
        message: v.message ?? 'invalid',
      }));
      return reply.status(400).send({
        error: {
          code: 'VALIDATION_FAILED',
          message: 'the request does not match the schema',
          details: { issues },
        },
        requestId,
      } satisfies ErrorBody);
    }
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (known) {
      return reply
        .status(known.status)
        .send({ error: { code: known.code, message: known.message }, requestId } satisfies ErrorBody);
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({
        error: { code: 'BAD_REQUEST', message: 'the request could not be processed' },
        requestId,
      } satisfies ErrorBody);
    }
    request.log.error(
      { err: { type: error.name, message: error.message, stack: error.stack } },
      'unhandled error',
    );
    return reply
      .status(500)
      .send({ error: { code: 'INTERNAL', message: 'internal error' }, requestId } satisfies ErrorBody);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'ROUTE_NOT_FOUND', message: 'no such route' },
      requestId: String(request.id),
    } satisfies ErrorBody),
  );
}
