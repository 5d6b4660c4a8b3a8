import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, unauthenticated } from '../shared/errors.js';
import {
  canAnywhere,
  type AccountPrincipal,
  type ApplicationPrincipal,
  type Principal,
} from '../shared/principal.js';
import type { PrincipalResolver } from '../modules/identity/principal.service.js';
import { looksLikeToken } from '../modules/identity/token-secret.js';
import { AuthThrottledError, type AuthFailureBrake } from './auth-brake.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/**
 * Resolves `Authorization: Bearer <token>` into request.principal on every request. A missing or
 * unusable token leaves it undefined; routes then call one of the require* helpers below. With a
 * brake, every unusable token is counted against the client address and may be delayed or refused
 * with 429 AUTH_THROTTLED (and Retry-After) before any route runs; a valid token is never braked.
 */
export function installAuthentication(
  app: FastifyInstance,
  resolver: Pick<PrincipalResolver, 'resolve'>,
  brake?: Pick<AuthFailureBrake, 'onFailure'>,
): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return;
    const secret = header.slice('Bearer '.length).trim();
    request.principal = await resolver.resolve(secret);
    if (request.principal || !brake) return;
    try {
      await brake.onFailure(request.ip, looksLikeToken(secret) ? 'rejected' : 'malformed');
    } catch (error) {
      if (error instanceof AuthThrottledError) reply.header('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
  });
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
  return request.principal;
}

/**
 * An account holding `permission` somewhere; finer scope checks (which organisation) happen in the
 * service, which answers 404 for objects outside the caller's scope.
 */
export function requireAccount(request: FastifyRequest, permission?: string): AccountPrincipal {
  const principal = requirePrincipal(request);
  if (principal.kind !== 'account')
    throw forbidden('ACCOUNT_REQUIRED', 'this route is for accounts, not applications');
  if (permission && !canAnywhere(principal, permission)) {
    throw forbidden('PERMISSION_DENIED', `missing permission ${permission}`);
  }
  return principal;
}

export function requireApplication(request: FastifyRequest, scope: string): ApplicationPrincipal {
  const principal = requirePrincipal(request);
  if (principal.kind !== 'application')
    throw forbidden('APPLICATION_REQUIRED', 'this route is for registered applications');
  if (!principal.scopes.has(scope)) throw forbidden('SCOPE_DENIED', `missing scope ${scope}`);
  return principal;
}
