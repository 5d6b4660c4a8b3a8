import type { FastifyRequest } from 'fastify';
import type { CommandMeta } from './identity.deps.js';

/** What a request contributes to the events it causes: never a header value beyond these. */
export function metaOf(request: FastifyRequest): CommandMeta {
  return { requestId: String(request.id), ip: request.ip, channel: 'api' };
}
