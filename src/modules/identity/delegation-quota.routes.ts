import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { countCreatedSince, countPendingCreatedBy } from './account.repository.js';
import { QUOTA_WINDOW_MS } from './delegation.policy.js';
import type { IdentityDeps } from './identity.deps.js';
import { Errors } from './identity.schemas.js';

const Quota = Type.Object({
  limit: Type.Integer(),
  used: Type.Integer(),
  remaining: Type.Integer(),
});

const QuotasResponse = Type.Object({
  daily: Quota,
  pending: Quota,
  windowHours: Type.Integer(),
  approverMinAgeDays: Type.Integer(),
});

/**
 * GET /api/v1/accounts/me/delegation-quotas: what the calling account manager may still create
 * (the same counts account.service checks in its transaction), read-only, for the console. The
 * quotas bind a delegated administrator; a platform administrator's creations over its own
 * subtree are not counted against them.
 */
export function delegationQuotaRoutes(
  base: FastifyInstance,
  deps: Pick<IdentityDeps, 'db' | 'clock' | 'delegation'>,
): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/v1/accounts/me/delegation-quotas',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Your delegation quotas: accounts created in the last 24 h and pending approval',
        response: { 200: QuotasResponse, ...Errors },
      },
    },
    async (request) => {
      const me = requireAccount(request, 'account.create');
      const since = new Date(deps.clock.now().getTime() - QUOTA_WINDOW_MS).toISOString();
      const [created, pending] = await Promise.all([
        countCreatedSince(deps.db, me.accountId, since),
        countPendingCreatedBy(deps.db, me.accountId),
      ]);
      const quota = (limit: number, used: number) => ({ limit, used, remaining: Math.max(0, limit - used) });
      return {
        daily: quota(deps.delegation.maxCreationsPerDay, created),
        pending: quota(deps.delegation.maxPending, pending),
        windowHours: QUOTA_WINDOW_MS / 3_600_000,
        approverMinAgeDays: deps.delegation.approverMinAgeDays,
      };
    },
  );
}
