import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAccount } from '../../http/authenticate.js';
import { pageLimit } from '../identity/identity.deps.js';
import { wirePage } from '../../http/pagination.js';
import { decodeCursor, ErrorResponses, Page } from '../../http/schemas.js';
import {
  FollowCreateBody,
  FollowEndBody,
  FollowListQuery,
  FollowParams,
  FollowResponse,
  SubjectCreateBody,
  SubjectFollowsQuery,
  SubjectParams,
  SubjectResponse,
} from './caseload.schemas.js';
import type { CaseloadService } from './caseload.service.js';

const tags = ['caseload'];

/** A follow list's query string as the service's page options (the cursor is decoded first). */
function followPageOptions(q: { limit?: number; cursor?: string; activeOnly?: boolean }) {
  const after = decodeCursor(q.cursor);
  return {
    limit: pageLimit(q.limit),
    ...(after ? { after } : {}),
    ...(q.activeOnly ? { activeOnly: true } : {}),
  };
}

/** /api/v1/subjects and /api/v1/follows: a thin adapter over the caseload service. */
export function caseloadRoutes(service: CaseloadService): FastifyPluginAsync {
  return (root) => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/subjects',
      {
        schema: {
          tags,
          summary: 'Register a data subject by its opaque id',
          body: SubjectCreateBody,
          response: { 201: SubjectResponse, ...ErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = requireAccount(request, 'caseload.manage');
        return reply.status(201).send(await service.createSubject(actor, request.body));
      },
    );

    app.get(
      '/api/v1/subjects/:id',
      {
        schema: {
          tags,
          summary: 'Read a data subject followed within your scope',
          params: SubjectParams,
          response: { 200: SubjectResponse, ...ErrorResponses },
        },
      },
      async (request) => service.getSubject(requireAccount(request, 'caseload.read'), request.params.id),
    );

    app.get(
      '/api/v1/subjects/:id/follows',
      {
        schema: {
          tags,
          summary: "A subject's follows held by organisations within your scope",
          params: SubjectParams,
          querystring: SubjectFollowsQuery,
          response: { 200: Page(FollowResponse), ...ErrorResponses },
        },
      },
      async (request) => {
        const actor = requireAccount(request, 'caseload.read');
        return wirePage(
          await service.listFollowsOfSubject(actor, request.params.id, followPageOptions(request.query)),
        );
      },
    );

    app.post(
      '/api/v1/follows',
      {
        schema: {
          tags,
          summary: 'Record that an organisation (or an account of it) follows a subject',
          body: FollowCreateBody,
          response: { 201: FollowResponse, ...ErrorResponses },
        },
      },
      async (request, reply) => {
        const actor = requireAccount(request, 'caseload.manage');
        return reply.status(201).send(await service.createFollow(actor, request.body));
      },
    );

    app.get(
      '/api/v1/follows',
      {
        schema: {
          tags,
          summary: 'Follows held by one organisation',
          querystring: FollowListQuery,
          response: { 200: Page(FollowResponse), ...ErrorResponses },
        },
      },
      async (request) => {
        const actor = requireAccount(request, 'caseload.read');
        const q = request.query;
        return wirePage(
          await service.listFollowsOfOrganisation(actor, q.organisationId, followPageOptions(q)),
        );
      },
    );

    app.get(
      '/api/v1/follows/:id',
      {
        schema: {
          tags,
          summary: 'Read one follow',
          params: FollowParams,
          response: { 200: FollowResponse, ...ErrorResponses },
        },
      },
      async (request) => service.getFollow(requireAccount(request, 'caseload.read'), request.params.id),
    );

    app.post(
      '/api/v1/follows/:id/end',
      {
        schema: {
          tags,
          summary: 'End a follow',
          params: FollowParams,
          body: FollowEndBody,
          response: { 200: FollowResponse, ...ErrorResponses },
        },
      },
      async (request) =>
        service.endFollow(requireAccount(request, 'caseload.manage'), request.params.id, request.body),
    );
    return Promise.resolve();
  };
}
