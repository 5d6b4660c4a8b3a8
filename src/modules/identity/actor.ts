import type { Dialect, Executor } from '../../db/database.js';
import { isUuid } from '../../shared/ids.js';
import type { AccountPrincipal, Actor, SystemActor } from '../../shared/principal.js';
import { decodeCursor } from '../../http/schemas.js';
import { findAccount, lockAccount } from './account.repository.js';
import { identityErrors } from './identity.errors.js';

/**
 * How identity reads the acting party. Vigie itself (system actor: CLI bootstrap, detection
 * responses) may do anything; applications administer nothing here; accounts act through their grants.
 */
export type AdminActor = AccountPrincipal | SystemActor;

export function asAdminActor(actor: Actor): AdminActor {
  if (actor.kind === 'application') throw identityErrors.applicationNotAllowed();
  return actor;
}

/** True when the actor holds `permission` over the organisation whose materialised path is `path`. */
export function can(actor: AdminActor, permission: string, path: string): boolean {
  if (actor.kind === 'system') return true;
  return actor.grants.some((g) => g.permissions.has(permission) && path.startsWith(g.organisationPath));
}

/**
 * Platform administrators over `path` (and Vigie itself) are not delegated administrators there: what
 * they create is active at once. Everybody else goes through four-eyes, including a platform
 * administrator of one subtree acting through an account_manager grant on another.
 */
export function isPlatformAdminOver(actor: AdminActor, path: string): boolean {
  return (
    actor.kind === 'system' ||
    actor.grants.some((g) => g.roleId === 'platform_admin' && path.startsWith(g.organisationPath))
  );
}

/**
 * Re-reads the acting account inside the command's transaction (row-locked on PostgreSQL): a
 * principal resolved before its account was suspended must not complete a creation or a grant
 * after the suspension committed.
 */
export async function lockActiveActor(trx: Executor, dialect: Dialect, actor: AdminActor): Promise<void> {
  if (actor.kind !== 'account') return;
  await lockAccount(trx, dialect, actor.accountId);
  const row = await findAccount(trx, actor.accountId);
  if (!row || row.status !== 'active') throw identityErrors.actorNotActive();
}

export function actorAccountId(actor: AdminActor): string | null {
  return actor.kind === 'account' ? actor.accountId : null;
}

/**
 * The minimal set of subtree roots under which the actor holds `permission`; `null` means everywhere
 * (system actor). An empty array means nowhere.
 */
export function scopeRoots(actor: AdminActor, permission: string): string[] | null {
  if (actor.kind === 'system') return null;
  const paths = [
    ...new Set(actor.grants.filter((g) => g.permissions.has(permission)).map((g) => g.organisationPath)),
  ].sort((a, b) => a.length - b.length);
  const roots: string[] = [];
  for (const p of paths) if (!roots.some((r) => p.startsWith(r))) roots.push(p);
  return roots;
}

/** Lists page by id (UUIDv7, so creation order); a cursor is the last id handed out. */
export function cursorId(cursor: string | undefined): string | undefined {
  const id = decodeCursor(cursor);
  if (id === undefined) return undefined;
  if (!isUuid(id)) throw identityErrors.invalidCursor();
  return id;
}
