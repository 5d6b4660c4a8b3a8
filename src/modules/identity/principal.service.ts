import type { Db } from '../../db/database.js';
import type { Clock } from '../../shared/clock.js';
import type { Grant, Principal } from '../../shared/principal.js';
import { touchLastSeen } from './account.repository.js';
import { findTokenByHash, touchToken } from './token.repository.js';
import { hashTokenSecret, looksLikeToken, sameDigest } from './token-secret.js';

export interface PrincipalResolver {
  /** The principal a bearer secret stands for, or undefined for any unusable credential. */
  resolve(secret: string): Promise<Principal | undefined>;
  /**
   * The principal of a secret resolved less than 30 s ago and still valid, without waiting: the
   * request path of every AuthZEN call. Undefined means "not known here": call resolve().
   */
  cached(secret: string): Principal | undefined;
  /** Forgets cached principals; called whenever identity state changes. */
  invalidate(): void;
}

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;
const TOUCH_EVERY_MS = 60_000;

/**
 * True when the organisation at `path` and every organisation above it are active: suspending or
 * offboarding a network stops every structure under it, not only the network's own accounts.
 */
export async function organisationChainActive(db: Db, path: string): Promise<boolean> {
  const chain = path.split('/').filter((id) => id !== '');
  if (chain.length === 0) return false;
  const rows = await db.selectFrom('organisations').select('status').where('id', 'in', chain).execute();
  return rows.length === chain.length && rows.every((r) => r.status === 'active');
}

/**
 * Loads the live grants of an active account whose organisation chain is active; none otherwise.
 * `expiresAt` is the first expiry among them: a principal built from them is stale from then on.
 */
export async function loadAccountGrants(
  db: Db,
  accountId: string,
  now: string,
): Promise<{ organisationId: string; grants: Grant[]; expiresAt: string | null } | undefined> {
  const account = await db
    .selectFrom('accounts')
    .innerJoin('organisations', 'organisations.id', 'accounts.organisation_id')
    .select(['accounts.organisation_id', 'accounts.status', 'organisations.path'])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!account || account.status !== 'active') return undefined;
  if (!(await organisationChainActive(db, account.path))) return undefined;
  const rows = await db
    .selectFrom('role_assignments as ra')
    .innerJoin('roles as r', 'r.id', 'ra.role_id')
    .innerJoin('organisations as o', 'o.id', 'ra.organisation_id')
    .select(['ra.role_id', 'ra.organisation_id', 'ra.expires_at', 'o.path', 'r.permissions', 'r.privileged'])
    .where('ra.account_id', '=', accountId)
    .where('ra.status', '=', 'active')
    .where((eb) => eb.or([eb('ra.expires_at', 'is', null), eb('ra.expires_at', '>', now)]))
    .execute();
  return {
    organisationId: account.organisation_id,
    expiresAt: earliest(rows.map((r) => r.expires_at)),
    grants: rows.map((r) => ({
      roleId: r.role_id,
      organisationId: r.organisation_id,
      organisationPath: r.path,
      permissions: new Set(JSON.parse(r.permissions) as string[]),
      privileged: r.privileged === 1,
    })),
  };
}

function earliest(times: readonly (string | null)[]): string | null {
  let first: string | null = null;
  for (const t of times) if (t !== null && (first === null || t < first)) first = t;
  return first;
}

export function createPrincipalResolver(deps: { db: Db; clock: Clock }): PrincipalResolver {
  const cache = new Map<string, { principal: Principal; until: number }>();
  const lastTouch = new Map<string, number>();

  /** The principal and the instant it stops being true (its token's or a grant's expiry), if any. */
  async function load(
    digest: string,
  ): Promise<{ principal: Principal; expiresAt: string | null } | undefined> {
    const token = await findTokenByHash(deps.db, digest);
    if (!token || !sameDigest(token.token_hash, digest) || token.revoked_at !== null) return undefined;
    const now = deps.clock.now().toISOString();
    if (token.expires_at !== null && token.expires_at <= now) return undefined;
    if (token.principal_type === 'account') {
      const loaded = await loadAccountGrants(deps.db, token.principal_id, now);
      if (!loaded) return undefined;
      return {
        principal: {
          kind: 'account',
          accountId: token.principal_id,
          organisationId: loaded.organisationId,
          tokenId: token.id,
          grants: loaded.grants,
          authLevel: 'api_token',
          ...(token.step_up === 1 ? { tokenStepUp: true as const } : {}),
        },
        expiresAt: earliest([token.expires_at, loaded.expiresAt]),
      };
    }
    if (token.principal_type === 'application') {
      const app = await deps.db
        .selectFrom('applications')
        .innerJoin('organisations', 'organisations.id', 'applications.organisation_id')
        .select([
          'applications.organisation_id',
          'applications.status',
          'applications.scopes',
          'organisations.path',
        ])
        .where('applications.id', '=', token.principal_id)
        .executeTakeFirst();
      if (!app || app.status !== 'active' || !(await organisationChainActive(deps.db, app.path)))
        return undefined;
      return {
        principal: {
          kind: 'application',
          applicationId: token.principal_id,
          organisationId: app.organisation_id,
          tokenId: token.id,
          scopes: new Set(JSON.parse(app.scopes) as string[]),
        },
        expiresAt: token.expires_at,
      };
    }
    return undefined;
  }

  return {
    cached(secret) {
      if (!looksLikeToken(secret)) return undefined;
      const hit = cache.get(hashTokenSecret(secret));
      return hit && hit.until > deps.clock.now().getTime() ? hit.principal : undefined;
    },
    async resolve(secret) {
      if (!looksLikeToken(secret)) return undefined;
      // Keyed by digest so that no secret outlives the request that carried it.
      const digest = hashTokenSecret(secret);
      const nowMs = deps.clock.now().getTime();
      const hit = cache.get(digest);
      if (hit && hit.until > nowMs) return hit.principal;
      const loaded = await load(digest);
      if (!loaded) {
        cache.delete(digest);
        return undefined;
      }
      const { principal } = loaded;
      if (cache.size >= CACHE_MAX) cache.clear();
      // Never cached past an expiry: an expired token or grant must stop working on time.
      const expiresMs = loaded.expiresAt === null ? Infinity : Date.parse(loaded.expiresAt);
      cache.set(digest, { principal, until: Math.min(nowMs + CACHE_TTL_MS, expiresMs) });
      if ((lastTouch.get(principal.tokenId) ?? 0) + TOUCH_EVERY_MS < nowMs) {
        lastTouch.set(principal.tokenId, nowMs);
        const at = new Date(nowMs).toISOString();
        await touchToken(deps.db, principal.tokenId, at);
        if (principal.kind === 'account') await touchLastSeen(deps.db, principal.accountId, at);
      }
      return principal;
    },
    invalidate() {
      cache.clear();
    },
  };
}
