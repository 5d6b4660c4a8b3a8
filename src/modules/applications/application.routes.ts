import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAccount } from '../../http/authenticate.js';
import { pageLimit } from '../identity/identity.deps.js';
import { wirePage } from '../../http/pagination.js';
import { decodeCursor, ErrorResponses, Page } from '../../http/schemas.js';
import {
  ApplicationCreateBody,
  ApplicationListQuery,
  ApplicationParams,
  ApplicationResponse,
  IssuedTokenResponse,
  StatusChangeBody,
  TokenCreateBody,
  TokenListQuery,
  TokenParams,
  TokenResponse,
  TokenRevokeBody,
} from './application.schemas.js';
import type { ApplicationsService } from './application.service.js';

const tags = ['applications'];

/** /api/v1/applications: registration, status and tokens of service principals. */
export function applicationRoutes(service: ApplicationsService): FastifyPluginAsync {
  return (root) => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/applications',
      {
        schema: {
          tags,
          summary: 'Register a business or partner application',
          body: ApplicationCreateBody,
          response: { 201: ApplicationResponse, ...ErrorResponses },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await service.register(requireAccount(request, 'application.manage'), request.body)),
    );

    app.get(
      '/api/v1/applications',
      {
        schema: {
          tags,
          summary: 'Applications within your scope',
          querystring: ApplicationListQuery,
          response: { 200: Page(ApplicationResponse), ...ErrorResponses },
        },
      },
      async (request) => {
        const actor = requireAccount(request, 'application.read');
        const q = request.query;
        const after = decodeCursor(q.cursor);
        return wirePage(
          await service.list(actor, {
            limit: pageLimit(q.limit),
            ...(q.organisationId ? { organisationId: q.organisationId } : {}),
            ...(after ? { after } : {}),
          }),
        );
      },
    );

    app.get(
      '/api/v1/applications/:id',
      {
        schema: {
          tags,
          summary: 'Read an application',
          params: ApplicationParams,
          response: { 200: ApplicationResponse, ...ErrorResponses },
        },
      },
      async (request) => service.get(requireAccount(request, 'application.read'), request.params.id),
    );

    for (const [action, summary] of [
      ['suspend', 'Suspend an application: its tokens stop working at once'],
      ['reactivate', 'Reactivate a suspended application'],
    ] as const) {
      app.post(
        `/api/v1/applications/:id/${action}`,
        {
          schema: {
            tags,
            summary,
            params: ApplicationParams,
            body: StatusChangeBody,
            response: { 200: ApplicationResponse, ...ErrorResponses },
          },
        },
        async (request) =>
          service[action](
            requireAccount(request, 'application.manage'),
            request.params.id,
            request.body.reason,
          ),
      );
    }

    app.get(
      '/api/v1/applications/:id/tokens',
      {
        schema: {
          tags,
          summary: "An application's tokens (never their secrets)",
          params: ApplicationParams,
          querystring: TokenListQuery,
          response: { 200: Page(TokenResponse), ...ErrorResponses },
        },
      },
      async (request) => {
        const after = decodeCursor(request.query.cursor);
        return wirePage(
          await service.listTokens(requireAccount(request, 'application.read'), request.params.id, {
            limit: pageLimit(request.query.limit),
            ...(after ? { after } : {}),
          }),
        );
      },
    );

    app.post(
      '/api/v1/applications/:id/tokens',
      {
        schema: {
          tags,
          summary: 'Issue a token; its secret is shown once',
          params: ApplicationParams,
          body: TokenCreateBody,
          response: { 201: IssuedTokenResponse, ...ErrorResponses },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await service.issueToken(
              requireAccount(request, 'application.manage'),
              request.params.id,
              request.body,
            ),
          ),
    );

    app.post(
      '/api/v1/applications/:id/tokens/:tokenId/revoke',
      {
        schema: {
          tags,
          summary: 'Revoke a token',
          params: TokenParams,
          body: TokenRevokeBody,
          response: { 200: TokenResponse, ...ErrorResponses },
        },
      },
      async (request) =>
        service.revokeToken(
          requireAccount(request, 'application.manage'),
          request.params.id,
          request.params.tokenId,
          request.body.reason,
        ),
    );
    return Promise.resolve();
  };
}
