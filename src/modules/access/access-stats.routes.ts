import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAccount } from '../../http/authenticate.js';
import { ErrorResponses } from '../../http/schemas.js';
import { STATS_PERMISSION, type AccessStats } from './access-stats.service.js';
import {
  BudgetsResponse,
  ControlsResponse,
  DecisionsQuery,
  DecisionsResponse,
  DisclosuresQuery,
  DisclosuresResponse,
  StatsQuery,
  StatsResponse,
} from './access-stats.schemas.js';

const tags = ['access statistics'];

/** Read-only figures of disclosure for the console (docs/access.md, "Disclosure figures"). */
export function accessStatsRoutes(stats: AccessStats): FastifyPluginAsync {
  return (root) => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/access/stats',
      {
        schema: {
          tags,
          summary: 'Records disclosed per hour, denials by reason, top disclosers with their budget window',
          description:
            "Within the reader's account.read scope. `hours` at most 24 (denials are counted from the " +
            "journal's events of the window), `top` at most 50.",
          querystring: StatsQuery,
          response: { 200: StatsResponse, ...ErrorResponses },
        },
      },
      async (request) =>
        stats.overview(
          requireAccount(request, STATS_PERMISSION),
          request.query.hours ?? 24,
          request.query.top ?? 10,
        ),
    );

    app.get(
      '/api/v1/access/disclosures',
      {
        schema: {
          tags,
          summary: 'The records an account disclosed, newest first (opaque ids, never a justification)',
          description:
            "An account's own, or within the reader's account.read scope (another scope's account is 404). " +
            '`hours` at most 168, ' +
            '`limit` at most 500.',
          querystring: DisclosuresQuery,
          response: { 200: DisclosuresResponse, ...ErrorResponses },
        },
      },
      async (request) =>
        stats.disclosuresOf(
          requireAccount(request),
          request.query.accountId,
          request.query.hours ?? 24,
          request.query.limit ?? 100,
        ),
    );

    app.get(
      '/api/v1/access/decisions',
      {
        schema: {
          tags,
          summary: "An account's recent access decisions, allowed and denied, newest first",
          description:
            "An account's own, or within the reader's account.read scope (another scope's account is 404). " +
            "`hours` at most 24 (read from the journal's events of the window), `limit` at most 200.",
          querystring: DecisionsQuery,
          response: { 200: DecisionsResponse, ...ErrorResponses },
        },
      },
      async (request) =>
        stats.decisionsOf(
          requireAccount(request),
          request.query.accountId,
          request.query.hours ?? 24,
          request.query.limit ?? 50,
        ),
    );

    app.get(
      '/api/v1/access/policy/budgets',
      {
        schema: {
          tags,
          summary: "The active policy's disclosure budgets per role and per kind of organisation",
          response: { 200: BudgetsResponse, ...ErrorResponses },
        },
      },
      (request) => {
        requireAccount(request, 'policy.read');
        return stats.budgets();
      },
    );
    app.get(
      '/api/v1/access/controls',
      {
        schema: {
          tags,
          summary: 'Active freezes and step-up requirements, newest first (at most 500)',
          response: { 200: ControlsResponse, ...ErrorResponses },
        },
      },
      async (request) => {
        requireAccount(request, 'policy.read');
        return stats.activeControls();
      },
    );
    return Promise.resolve();
  };
}
