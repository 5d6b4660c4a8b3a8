import type { Executor } from '../../db/database.js';

/**
 * Read-only facts detection checks before an automatic response acts on an account: where the
 * account sits in the tree, whether it holds power, and whether it is the last platform
 * administrator. Nothing here writes; the response itself goes through identity's services.
 */
export interface AccountResponseFacts {
  readonly accountId: string;
  readonly status: string;
  readonly organisationId: string;
  readonly organisationPath: string;
  /** Holds an active assignment of any privileged role (expired or not: in doubt, a person decides). */
  readonly privileged: boolean;
  /** Holds an active, unexpired platform_admin assignment. */
  readonly platformAdmin: boolean;
}

const PLATFORM_ADMIN = 'platform_admin';

export async function findAccountResponseFacts(
  db: Executor,
  accountId: string,
  nowIso: string,
): Promise<AccountResponseFacts | undefined> {
  const account = await db
    .selectFrom('accounts as a')
    .innerJoin('organisations as o', 'o.id', 'a.organisation_id')
    .select(['a.id', 'a.status', 'a.organisation_id', 'o.path'])
    .where('a.id', '=', accountId)
    .executeTakeFirst();
  if (!account) return undefined;
  const grants = await db
    .selectFrom('role_assignments as ra')
    .innerJoin('roles as r', 'r.id', 'ra.role_id')
    .select(['ra.role_id', 'ra.expires_at', 'r.privileged'])
    .where('ra.account_id', '=', accountId)
    .where('ra.status', '=', 'active')
    .execute();
  return {
    accountId: account.id,
    status: account.status,
    organisationId: account.organisation_id,
    organisationPath: account.path,
    privileged: grants.some((g) => g.privileged === 1),
    platformAdmin: grants.some(
      (g) => g.role_id === PLATFORM_ADMIN && (g.expires_at === null || g.expires_at > nowIso),
    ),
  };
}

/**
 * Ids of the active accounts holding an active, unexpired platform_admin assignment: a handful, so
 * "would this suspension take the last one" is answered in memory against any set of accounts.
 */
export async function listActivePlatformAdminIds(db: Executor, nowIso: string): Promise<string[]> {
  const rows = await db
    .selectFrom('role_assignments as ra')
    .innerJoin('accounts as a', 'a.id', 'ra.account_id')
    .select('ra.account_id')
    .distinct()
    .where('ra.role_id', '=', PLATFORM_ADMIN)
    .where('ra.status', '=', 'active')
    .where((eb) => eb.or([eb('ra.expires_at', 'is', null), eb('ra.expires_at', '>', nowIso)]))
    .where('a.status', '=', 'active')
    .execute();
  return rows.map((r) => r.account_id);
}

export async function findOrganisationPath(
  db: Executor,
  organisationId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('organisations')
    .select('path')
    .where('id', '=', organisationId)
    .executeTakeFirst();
  return row?.path;
}
