import type { FastifyInstance } from 'fastify';
import type { FederationProviderConfig } from '../../../config.sign-in.js';
import type { SignInBrake } from '../sign-in.brake.js';
import type { SignInDeps } from '../sign-in.deps.js';
import type { SessionService } from '../session.service.js';
import { createUpstreamClient } from './federation.client.js';
import { createFederationLinks } from './federation-links.service.js';
import { federationLinkRoutes } from './federation-links.routes.js';
import { createFederationPasskeyStep } from './federation-passkey.service.js';
import { federationRoutes } from './federation.routes.js';
import { createFederationService, type Upstream } from './federation.service.js';

/** The redirect URI registered with each upstream: Vigie's origin and the provider's callback. */
export const callbackUrlOf = (origin: string, providerId: string) =>
  `${origin}/api/v1/auth/federation/${providerId}/callback`;

/** Upstream federation (OpenID Connect relying party): one client per configured provider, its routes. */
export function createFederation(
  deps: SignInDeps,
  parts: { providers: readonly FederationProviderConfig[]; sessions: SessionService; brake: SignInBrake },
) {
  const upstreams = new Map<string, Upstream>(
    parts.providers.map((provider) => [
      provider.id,
      {
        provider,
        client: createUpstreamClient(provider, callbackUrlOf(deps.signIn.origin, provider.id), deps),
      },
    ]),
  );
  const federation = createFederationService(deps, {
    upstreams,
    sessions: parts.sessions,
    brake: parts.brake,
  });
  const passkeyStep = createFederationPasskeyStep(deps, {
    upstreams,
    sessions: parts.sessions,
    brake: parts.brake,
  });
  const links = createFederationLinks(deps);
  return {
    federation,
    passkeyStep,
    links,
    routes(app: FastifyInstance) {
      federationLinkRoutes(app, { links });
      federationRoutes(app, {
        federation,
        passkeyStep,
        sessions: parts.sessions,
        sessionAbsoluteMs: deps.signIn.sessionAbsoluteMs,
        origin: deps.signIn.origin,
        providers: parts.providers,
      });
    },
  };
}
