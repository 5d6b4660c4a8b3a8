import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { metaOf } from './request-meta.js';
import {
  Assignment,
  AssignmentQuery,
  Errors,
  GrantBody,
  IdParams,
  InventoryItem,
  Page,
  PageQuery,
  ReasonBody,
  Role,
} from './identity.schemas.js';
import type { InventoryService } from './inventory.service.js';
import type { RoleService } from './role.service.js';

const PageOnly = Type.Composite([PageQuery], { additionalProperties: false });

/** /api/v1/roles (catalogue and assignments) and /api/v1/inventory/privileged. */
export function roleRoutes(base: FastifyInstance, roles: RoleService, inventory: InventoryService): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['roles'];
  app.get(
    '/api/v1/roles',
    {
      schema: {
        tags,
        summary: 'The role catalogue',
        querystring: PageOnly,
        response: { 200: Page(Role), ...Errors },
      },
    },
    (request) => {
      requireAccount(request, 'role.read');
      return roles.listRoles(request.query);
    },
  );
  app.get(
    '/api/v1/roles/assignments',
    {
      schema: {
        tags,
        summary: 'Role assignments within your scope',
        querystring: AssignmentQuery,
        response: { 200: Page(Assignment), ...Errors },
      },
    },
    (request) => roles.listAssignments(requireAccount(request, 'role.read'), request.query),
  );
  app.post(
    '/api/v1/roles/assignments',
    {
      config: {
        stepUp: {
          act: 'role.grant_privileged',
          when: (request) => roles.isPrivilegedRole((request.body as { roleId: string }).roleId),
        },
      },
      schema: {
        tags,
        summary:
          'Grant a role over an organisation subtree (privileged roles wait for four-eyes, and need a step-up)',
        body: GrantBody,
        response: { 201: Assignment, ...Errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await roles.grant(requireAccount(request), request.body, metaOf(request))),
  );
  app.get(
    '/api/v1/roles/assignments/:id',
    {
      schema: {
        tags,
        summary: 'Read a role assignment',
        params: IdParams,
        response: { 200: Assignment, ...Errors },
      },
    },
    (request) => roles.getAssignment(requireAccount(request), request.params.id),
  );
  app.post(
    '/api/v1/roles/assignments/:id/approve',
    {
      config: { stepUp: 'role.grant_privileged' },
      schema: {
        tags,
        summary: 'Approve a privileged grant (four-eyes, step-up)',
        params: IdParams,
        response: { 200: Assignment, ...Errors },
      },
    },
    (request) => roles.approveGrant(requireAccount(request), request.params.id, metaOf(request)),
  );
  app.post(
    '/api/v1/roles/assignments/:id/revoke',
    {
      schema: {
        tags,
        summary: 'Revoke a role assignment',
        params: IdParams,
        body: ReasonBody,
        response: { 200: Assignment, ...Errors },
      },
    },
    (request) =>
      roles.revoke(requireAccount(request), request.params.id, request.body.reason, metaOf(request)),
  );
  app.get(
    '/api/v1/inventory/privileged',
    {
      schema: {
        tags: ['inventory'],
        summary: 'Every holder of a privileged role, who granted and approved it, last seen, MFA strength',
        querystring: PageOnly,
        response: { 200: Page(InventoryItem), ...Errors },
      },
    },
    (request) => inventory(requireAccount(request, 'inventory.read'), request.query),
  );
}
