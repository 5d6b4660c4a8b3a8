import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
import { VigieError } from '../shared/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /**
     * Sign-in ceremonies: a session cookie whose context changed is ended but does not refuse the
     * request, so that the browser can sign in again from its new network.
     */
    signInCeremony?: boolean;
    /**
     * Endpoints that authenticate their callers themselves (the OpenID Provider's): their bearer and
     * DPoP tokens are not Vigie's, so this hook neither resolves them nor counts them as failures.
     */
    ownAuthentication?: boolean;
  }
}

/** `__Host-`: Secure, Path=/, no Domain — a sibling subdomain can neither set nor read it. */
export const SESSION_COOKIE = '__Host-vigie_session';

/** Resolves a session cookie; the sign-in module provides it. */
export interface SessionAuthenticator {
  resolve(
    secret: string,
    request: {
      ip: string;
      userAgent: string | undefined;
      meta: { requestId: string; ip: string; channel: string };
    },
  ): Promise<{ kind: 'principal'; principal: Principal } | { kind: 'context_changed' } | { kind: 'none' }>;
}

/** The value of one cookie in a Cookie header, if present once. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
}

/**
 * Resolves `Authorization: Bearer <token>` into request.principal on every request. A missing or
 * unusable token leaves it undefined; routes then call one of the require* helpers below. With a
 * brake, every unusable token is counted against the client address and may be delayed or refused
 * with 429 AUTH_THROTTLED (and Retry-After) before any route runs; a valid token is never braked.
 * Without a bearer token, the session cookie is resolved instead (with `sessions`): a session whose
 * network or browser changed is ended and answered 401 SESSION_CONTEXT_CHANGED; a state-changing
 * request it authenticates must carry `Origin: <origin>` or gets 403 CSRF_ORIGIN_MISMATCH.
 */
export function installAuthentication(
  app: FastifyInstance,
  resolver: Pick<PrincipalResolver, 'resolve' | 'cached'>,
  brake?: Pick<AuthFailureBrake, 'onFailure'>,
  cookies?: { sessions: SessionAuthenticator; origin: string },
): void {
  app.decorateRequest('principal', undefined);
  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      if (cookies) await authenticateCookie(request, reply, cookies);
      return;
    }
    const secret = header.slice('Bearer '.length).trim();
    request.principal = await resolver.resolve(secret);
    if (request.principal || !brake) return;
    try {
      await brake.onFailure(request.ip, looksLikeToken(secret) ? 'rejected' : 'malformed');
    } catch (error) {
      if (error instanceof AuthThrottledError) reply.header('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
  }
  // A callback hook: a bearer token resolved moments ago (every AuthZEN call of an application)
  // passes without a promise or a microtask turn; anything else takes the asynchronous path.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.ownAuthentication) return done();
    const header = request.headers.authorization;
    if (typeof header === 'string' && header.startsWith('Bearer ')) {
      const known = resolver.cached(header.slice('Bearer '.length).trim());
      if (known) {
        request.principal = known;
        return done();
      }
    }
    authenticate(request, reply).then(() => done(), done);
  });
}

async function authenticateCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  cookies: { sessions: SessionAuthenticator; origin: string },
): Promise<void> {
  const secret = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (secret === undefined || secret === '') return;
  const userAgent = request.headers['user-agent'];
  const resolved = await cookies.sessions.resolve(secret, {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    meta: { requestId: String(request.id), ip: request.ip, channel: 'api' },
  });
  if (resolved.kind === 'context_changed') {
    reply.header('set-cookie', clearSessionCookie());
    if (request.routeOptions.config.signInCeremony) return;
    throw new VigieError(
      'SESSION_CONTEXT_CHANGED',
      401,
      'this session started on another network or browser and has been ended; sign in again',
    );
  }
  if (resolved.kind !== 'principal') return;
  if (!SAFE_METHODS.has(request.method) && request.headers.origin !== cookies.origin) {
    throw new VigieError(
      'CSRF_ORIGIN_MISMATCH',
      403,
      'a cookie-authenticated change must come from Vigie itself',
    );
  }
  request.principal = resolved.principal;
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
