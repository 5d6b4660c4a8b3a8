import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../../http/authenticate.js';
import { Id, Timestamp } from '../../../http/schemas.js';
import { Errors, IdParams, ReasonBody } from '../../identity/identity.schemas.js';
import { metaOf } from '../../identity/request-meta.js';
import type { FederationLinks } from './federation-links.service.js';

const tags = ['sign-in'];
const FederatedIdentity = Type.Object({
  id: Id,
  accountId: Id,
  provider: Type.String(),
  issuer: Type.String(),
  subject: Type.String({ description: 'The upstream `sub`: a pseudonymous identifier, not a name' }),
  rule: Type.String({ description: 'The linking rule that made the link (email, email_siret)' }),
  linkedAt: Timestamp,
  lastLoginAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});

/** Administrators' view of the federated identities linked to accounts (docs/sign-in.md). */
export function federationLinkRoutes(app: FastifyInstance, deps: { links: FederationLinks }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/api/v1/accounts/:id/federated-identities',
    {
      schema: {
        tags,
        summary: 'The federated identities linked to an account (account.read over its organisation)',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(FederatedIdentity) }), ...Errors },
      },
    },
    async (request) => ({ items: await deps.links.list(requireAccount(request), request.params.id) }),
  );
  r.post(
    '/api/v1/federated-identities/:id/revoke',
    {
      schema: {
        tags,
        summary:
          'Revoke a federated identity: its logins are refused, it cannot be linked again, and the account’s federated sessions end (account.suspend; no step-up: containment)',
        params: IdParams,
        body: ReasonBody,
        response: { 200: FederatedIdentity, ...Errors },
      },
    },
    (request) =>
      deps.links.revoke(requireAccount(request), request.params.id, request.body.reason, metaOf(request)),
  );
  r.post(
    '/api/v1/federated-identities/:id/restore',
    {
      config: { stepUp: 'account.suspend' },
      schema: {
        tags,
        summary: 'Restore a revoked federated identity (account.suspend; step-up: lifting a containment)',
        params: IdParams,
        body: ReasonBody,
        response: { 200: FederatedIdentity, ...Errors },
      },
    },
    (request) =>
      deps.links.restore(requireAccount(request), request.params.id, request.body.reason, metaOf(request)),
  );
}
