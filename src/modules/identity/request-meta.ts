import type { FastifyRequest } from 'fastify';
import type { CommandMeta } from './identity.deps.js';

/**
 * What a request contributes to the events it causes: never a header value beyond these. A session
 * principal adds its session id and authentication level, so the journal says how the actor signed in.
 */
export function metaOf(request: FastifyRequest): CommandMeta {
  const p = request.principal;
  const session = p?.kind === 'account' ? p.session : undefined;
  return {
    requestId: String(request.id),
    ip: request.ip,
    channel: 'api',
    ...(session && p?.kind === 'account' ? { sessionId: session.id, authLevel: p.authLevel } : {}),
  };
}
