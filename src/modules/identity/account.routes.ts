import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { metaOf } from './request-meta.js';
import type { AccountService } from './account.service.js';
import type { AccountStatusService } from './account-status.service.js';
import {
  Account,
  AccountQuery,
  CreateAccountBody,
  Errors,
  IdParams,
  LineagePage,
  Page,
  PageQuery,
  ReasonBody,
  SuspendBody,
  SuspendResult,
} from './identity.schemas.js';

const tags = ['accounts'];
const PageOnly = Type.Composite([PageQuery], { additionalProperties: false });

/** /api/v1/accounts: creation under four-eyes, approval, life cycle and lineage. */
export function accountRoutes(
  base: FastifyInstance,
  accounts: AccountService,
  status: AccountStatusService,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/v1/accounts',
    {
      schema: {
        tags,
        summary: 'Create an account (pending approval when created by a delegated administrator)',
        body: CreateAccountBody,
        response: { 201: Account, ...Errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await accounts.create(
        requireAccount(request),
        {
          organisationId: body.organisationId,
          email: body.email,
          kind: body.kind ?? 'human',
          ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
        },
        metaOf(request),
      );
      return reply.code(201).send(created);
    },
  );
  app.get(
    '/api/v1/accounts',
    {
      schema: {
        tags,
        summary: 'List the accounts within your scope',
        querystring: AccountQuery,
        response: { 200: Page(Account), ...Errors },
      },
    },
    (request) => accounts.list(requireAccount(request, 'account.read'), request.query),
  );
  app.get(
    '/api/v1/accounts/me',
    { schema: { tags, summary: 'The calling account', response: { 200: Account, ...Errors } } },
    (request) => {
      const me = requireAccount(request);
      return accounts.get(me, me.accountId);
    },
  );
  app.get(
    '/api/v1/accounts/:id',
    { schema: { tags, summary: 'Read an account', params: IdParams, response: { 200: Account, ...Errors } } },
    (request) => accounts.get(requireAccount(request), request.params.id),
  );
  app.post(
    '/api/v1/accounts/:id/approve',
    {
      config: { stepUp: 'account.approve' },
      schema: {
        tags,
        summary: 'Approve a pending account (four-eyes, step-up)',
        params: IdParams,
        response: { 200: Account, ...Errors },
      },
    },
    (request) => accounts.approve(requireAccount(request), request.params.id, metaOf(request)),
  );
  app.post(
    '/api/v1/accounts/:id/suspend',
    {
      config: { stepUp: 'account.suspend' },
      schema: {
        tags,
        summary: 'Suspend an account, or with lineage:true the account and its whole lineage (step-up)',
        params: IdParams,
        body: SuspendBody,
        response: { 200: SuspendResult, ...Errors },
      },
    },
    async (request) => {
      const actor = requireAccount(request);
      const { reason, lineage } = request.body;
      if (lineage) {
        const r = await status.suspendLineage(actor, request.params.id, reason, metaOf(request));
        return { account: r.root, suspended: r.suspended };
      }
      const account = await status.suspendAccount(actor, request.params.id, reason, metaOf(request));
      return { account, suspended: [account.id] };
    },
  );
  app.post(
    '/api/v1/accounts/:id/reactivate',
    {
      config: { stepUp: 'account.suspend' },
      schema: {
        tags,
        summary: 'Reactivate a suspended account (a never-approved one returns to pending; step-up)',
        params: IdParams,
        body: ReasonBody,
        response: { 200: Account, ...Errors },
      },
    },
    (request) =>
      status.reactivateAccount(
        requireAccount(request),
        request.params.id,
        request.body.reason,
        metaOf(request),
      ),
  );
  app.post(
    '/api/v1/accounts/:id/disable',
    {
      config: { stepUp: 'account.suspend' },
      schema: {
        tags,
        summary: 'Disable an account (final; step-up)',
        params: IdParams,
        body: ReasonBody,
        response: { 200: Account, ...Errors },
      },
    },
    (request) =>
      status.disableAccount(requireAccount(request), request.params.id, request.body.reason, metaOf(request)),
  );
  app.post(
    '/api/v1/accounts/:id/revoke-tokens',
    {
      schema: {
        tags,
        summary: 'Revoke every API token of an account and end its signed-in sessions',
        params: IdParams,
        body: ReasonBody,
        response: {
          200: Type.Object({ revoked: Type.Integer(), sessionsEnded: Type.Integer() }),
          ...Errors,
        },
      },
    },
    (request) =>
      status.revokeAccountTokens(
        requireAccount(request),
        request.params.id,
        request.body.reason,
        metaOf(request),
      ),
  );
  app.get(
    '/api/v1/accounts/:id/lineage',
    {
      schema: {
        tags,
        summary: 'Everything this account created or approved, transitively',
        params: IdParams,
        querystring: PageOnly,
        response: { 200: LineagePage, ...Errors },
      },
    },
    async (request) => {
      const result = await status.readLineage(
        requireAccount(request, 'lineage.read'),
        request.params.id,
        request.query,
      );
      return { ...result, rootId: request.params.id };
    },
  );
}
