import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { metaOf } from './request-meta.js';
import {
  CreateOrganisationBody,
  Errors,
  IdParams,
  Organisation,
  OrganisationQuery,
  Page,
  PageQuery,
  ReasonBody,
  UpdateOrganisationBody,
} from './identity.schemas.js';
import type { OrganisationService, OrganisationStatus } from './organisation.service.js';

const tags = ['organisations'];

/** /api/v1/organisations: the tree of operator, networks and partner structures. */
export function organisationRoutes(base: FastifyInstance, organisations: OrganisationService): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/v1/organisations',
    {
      schema: {
        tags,
        summary: 'Create an organisation under a parent',
        body: CreateOrganisationBody,
        response: { 201: Organisation, ...Errors },
      },
    },
    async (request, reply) => {
      const created = await organisations.create(requireAccount(request), request.body, metaOf(request));
      return reply.code(201).send(created);
    },
  );
  app.get(
    '/api/v1/organisations',
    {
      schema: {
        tags,
        summary: 'List the organisations within your scope',
        querystring: OrganisationQuery,
        response: { 200: Page(Organisation), ...Errors },
      },
    },
    (request) => organisations.list(requireAccount(request, 'organisation.read'), request.query),
  );
  app.get(
    '/api/v1/organisations/:id',
    {
      schema: {
        tags,
        summary: 'Read an organisation',
        params: IdParams,
        response: { 200: Organisation, ...Errors },
      },
    },
    (request) => organisations.get(requireAccount(request, 'organisation.read'), request.params.id),
  );
  app.get(
    '/api/v1/organisations/:id/subtree',
    {
      schema: {
        tags,
        summary: 'The organisation and everything under it',
        params: IdParams,
        querystring: Type.Composite([PageQuery], { additionalProperties: false }),
        response: { 200: Page(Organisation), ...Errors },
      },
    },
    (request) =>
      organisations.list(requireAccount(request, 'organisation.read'), {
        ...request.query,
        subtreeOf: request.params.id,
      }),
  );
  app.patch(
    '/api/v1/organisations/:id',
    {
      schema: {
        tags,
        summary: 'Rename, re-classify or move an organisation',
        params: IdParams,
        body: UpdateOrganisationBody,
        response: { 200: Organisation, ...Errors },
      },
    },
    (request) =>
      organisations.update(requireAccount(request), request.params.id, request.body, metaOf(request)),
  );
  const statusRoute = (action: string, to: OrganisationStatus, summary: string) =>
    app.post(
      `/api/v1/organisations/:id/${action}`,
      {
        schema: {
          tags,
          summary,
          params: IdParams,
          body: ReasonBody,
          response: { 200: Organisation, ...Errors },
        },
      },
      (request) =>
        organisations.setStatus(
          requireAccount(request),
          request.params.id,
          to,
          request.body.reason,
          metaOf(request),
        ),
    );
  statusRoute('suspend', 'suspended', 'Suspend an organisation');
  statusRoute('reactivate', 'active', 'Reactivate a suspended organisation');
  statusRoute('offboard', 'offboarded', 'Offboard an organisation (final)');
}
