import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, unauthenticated } from '../shared/errors.js';
import {
  canAnywhere,
  type AccountPrincipal,
  type ApplicationPrincipal,
  type Principal,
} from '../shared/principal.js';
import type { PrincipalResolver } from '../modules/identity/principal.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/**
 * Resolves `Authorization: Bearer <token>` into request.principal on every request. A missing or
 * unusable token leaves it undefined; routes then call one of the require* helpers below.
 */
export function installAuthentication(
  app: FastifyInstance,
  resolver: Pick<PrincipalResolver, 'resolve'>,
): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return;
    request.principal = await resolver.resolve(header.slice('Bearer '.length).trim());
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
