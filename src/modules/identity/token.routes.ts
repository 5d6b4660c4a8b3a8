import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { metaOf } from './request-meta.js';
import {
  ApiToken,
  Errors,
  IdParams,
  IssuedToken,
  IssueTokenBody,
  Page,
  PageQuery,
} from './identity.schemas.js';
import type { TokenService } from './token.service.js';

const tags = ['tokens'];

/** /api/v1/tokens: the caller's own API tokens. The secret is in the 201 answer and nowhere else. */
export function tokenRoutes(base: FastifyInstance, tokens: TokenService): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/v1/tokens',
    {
      // A session that could mint a token without a step-up would hand a thief a way around it.
      config: { stepUp: 'token.issue' },
      schema: {
        tags,
        summary:
          'Issue an API token for yourself (shown once; from a session, needs a step-up and may then perform step-up acts)',
        body: IssueTokenBody,
        response: { 201: IssuedToken, ...Errors },
      },
    },
    async (request, reply) => {
      const { token, secret } = await tokens.issue(requireAccount(request), request.body, metaOf(request));
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...token, secret });
    },
  );
  app.get(
    '/api/v1/tokens',
    {
      schema: {
        tags,
        summary: 'Your API tokens (never their secret nor hash)',
        querystring: Type.Composite([PageQuery], { additionalProperties: false }),
        response: { 200: Page(ApiToken), ...Errors },
      },
    },
    (request) => tokens.listOwn(requireAccount(request), request.query),
  );
  app.delete(
    '/api/v1/tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke one of your API tokens',
        params: IdParams,
        response: { 200: ApiToken, ...Errors },
      },
    },
    (request) => tokens.revokeOwn(requireAccount(request), request.params.id, metaOf(request)),
  );
}
