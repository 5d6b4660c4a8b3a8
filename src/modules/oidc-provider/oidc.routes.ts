import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type Provider from 'oidc-provider';
import { requireAccount } from '../../http/authenticate.js';
import { ErrorResponses } from '../../http/schemas.js';
import { OidcClientBody, OidcClientParams, OidcClientResponse } from './oidc-client.schemas.js';
import type { OidcClientService } from './oidc-client.service.js';
import type { createInteraction } from './oidc.interaction.js';
import { INTERACTION_PATH, OIDC_PREFIX } from './oidc.provider.js';

const tags = ['oidc-provider'];

/** The admin API: an application's registration as an OpenID Connect client. */
export function oidcClientRoutes(service: OidcClientService): FastifyPluginAsync {
  return (root) => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();
    const url = '/api/v1/applications/:id/oidc-client';
    app.put(
      url,
      {
        schema: {
          tags,
          summary: 'Make an application an OpenID Connect client of Vigie, or change its registration',
          params: OidcClientParams,
          body: OidcClientBody,
          response: { 200: OidcClientResponse, ...ErrorResponses },
        },
      },
      async (request) =>
        service.configure(requireAccount(request, 'application.manage'), request.params.id, request.body),
    );
    app.get(
      url,
      {
        schema: {
          tags,
          summary: "An application's OpenID Connect registration (never its secret)",
          params: OidcClientParams,
          response: { 200: OidcClientResponse, ...ErrorResponses },
        },
      },
      async (request) => service.get(requireAccount(request, 'application.read'), request.params.id),
    );
    app.delete(
      url,
      {
        schema: {
          tags,
          summary: 'End the registration: the client and its tokens stop working',
          params: OidcClientParams,
          response: { 204: Type.Null(), ...ErrorResponses },
        },
      },
      async (request, reply) => {
        await service.remove(requireAccount(request, 'application.manage'), request.params.id);
        return reply.status(204).send(null);
      },
    );
    return Promise.resolve();
  };
}

/**
 * The provider's own endpoints, handed to oidc-provider (Koa) untouched: no Fastify body parsing
 * (it reads its form and JSON bodies itself) and no Vigie authentication hook (its bearer and DPoP
 * tokens are not Vigie's, and must not feed the failed-token brake). The interaction route is
 * Vigie's: it reads the session cookie like any page.
 */
export function providerRoutes(
  provider: () => Promise<Provider>,
  interaction: ReturnType<typeof createInteraction>,
): FastifyPluginAsync {
  return (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    let callback: ReturnType<Provider['callback']> | undefined;
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      callback ??= (await provider()).callback();
      reply.hijack();
      await callback(request.raw, reply.raw);
    };
    for (const url of ['/.well-known/openid-configuration', `${OIDC_PREFIX}/*`])
      app.route({
        method: ['GET', 'POST', 'OPTIONS'],
        url,
        schema: { hide: true },
        config: { ownAuthentication: true },
        handler: forward,
      });
    app.get<{ Params: { uid: string } }>(
      `${INTERACTION_PATH}/:uid`,
      {
        schema: {
          hide: true,
          params: Type.Object({
            uid: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
          }),
        },
        config: { signInCeremony: true },
      },
      interaction,
    );
    return Promise.resolve();
  };
}
