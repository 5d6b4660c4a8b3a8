import { sql } from 'kysely';
import type { Dialect, Executor } from '../../db/database.js';
import type { AccountTable } from '../../db/schema.js';
import { pathInSubtrees } from './organisation.repository.js';

export type AccountRow = AccountTable;
export type AccountWithPath = AccountRow & { organisation_path: string };

export async function insertAccount(db: Executor, row: AccountRow): Promise<void> {
  await db.insertInto('accounts').values(row).execute();
}

/** The account with its organisation's path, which every scope check needs. */
export async function findAccount(db: Executor, id: string): Promise<AccountWithPath | undefined> {
  return db
    .selectFrom('accounts')
    .innerJoin('organisations', 'organisations.id', 'accounts.organisation_id')
    .selectAll('accounts')
    .select('organisations.path as organisation_path')
    .where('accounts.id', '=', id)
    .executeTakeFirst();
}

export async function findAccountByEmail(
  db: Executor,
  email: string,
): Promise<{ id: string; status: string } | undefined> {
  return db.selectFrom('accounts').select(['id', 'status']).where('email', '=', email).executeTakeFirst();
}

export async function emailExists(db: Executor, email: string): Promise<boolean> {
  const row = await db.selectFrom('accounts').select('id').where('email', '=', email).executeTakeFirst();
  return row !== undefined;
}

/**
 * Serialises concurrent commands of one administrator (quota counts, approvals) on PostgreSQL.
 * SQLite needs nothing: it has one writer and Kysely runs its transactions one at a time.
 */
export async function lockAccount(db: Executor, dialect: Dialect, id: string): Promise<void> {
  await lockAccounts(db, dialect, [id]);
}

/** Locks several accounts in id order, so that two commands locking overlapping sets cannot deadlock. */
export async function lockAccounts(db: Executor, dialect: Dialect, ids: readonly string[]): Promise<void> {
  if (dialect !== 'postgres' || ids.length === 0) return;
  const sorted = [...new Set(ids)].sort();
  for (let i = 0; i < sorted.length; i += 500) {
    await sql`select id from accounts where id in (${sql.join(sorted.slice(i, i + 500))})
      order by id for update`.execute(db);
  }
}

export interface AccountFilter {
  readonly roots: readonly string[] | null;
  readonly organisationId?: string;
  readonly status?: string;
  readonly kind?: string;
  readonly createdBy?: string;
  /** Part of an e-mail address (stored lower-cased), or a whole account id. */
  readonly search?: string;
  readonly afterId?: string;
  readonly limit: number;
}

/** `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listAccounts(db: Executor, dialect: Dialect, f: AccountFilter): Promise<AccountRow[]> {
  let q = db
    .selectFrom('accounts')
    .innerJoin('organisations', 'organisations.id', 'accounts.organisation_id')
    .selectAll('accounts')
    .where(pathInSubtrees(dialect, 'organisations.path', f.roots))
    .orderBy('accounts.id')
    .limit(f.limit);
  if (f.organisationId !== undefined) q = q.where('accounts.organisation_id', '=', f.organisationId);
  if (f.status !== undefined) q = q.where('accounts.status', '=', f.status);
  if (f.kind !== undefined) q = q.where('accounts.kind', '=', f.kind);
  if (f.createdBy !== undefined) q = q.where('accounts.created_by', '=', f.createdBy);
  if (f.search !== undefined) {
    const pattern = containing(f.search.toLowerCase());
    const id = f.search;
    q = q.where((eb) =>
      eb.or([sql<boolean>`accounts.email like ${pattern} escape '\\'`, eb('accounts.id', '=', id)]),
    );
  }
  if (f.afterId !== undefined) q = q.where('accounts.id', '>', f.afterId);
  return q.execute();
}

export async function setAccountStatus(
  db: Executor,
  ids: readonly string[],
  change: { status: string; reason: string | null; at: string; fromStatuses: readonly string[] },
): Promise<number> {
  let updated = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const r = await db
      .updateTable('accounts')
      .set({
        status: change.status,
        status_reason: change.reason,
        status_changed_at: change.at,
        updated_at: change.at,
      })
      .where('id', 'in', ids.slice(i, i + 500))
      .where('status', 'in', [...change.fromStatuses])
      .executeTakeFirst();
    updated += Number(r.numUpdatedRows);
  }
  return updated;
}

/** Activates a pending account; false when it is no longer pending (nothing is written then). */
export async function markApproved(
  db: Executor,
  id: string,
  approverId: string,
  at: string,
): Promise<boolean> {
  const r = await db
    .updateTable('accounts')
    .set({
      status: 'active',
      approved_by: approverId,
      approved_at: at,
      status_changed_at: at,
      updated_at: at,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending_approval')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Accounts `creatorId` created since `since` (the rolling-window quota). */
export async function countCreatedSince(db: Executor, creatorId: string, since: string): Promise<number> {
  const r = await db
    .selectFrom('accounts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_by', '=', creatorId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function countPendingCreatedBy(db: Executor, creatorId: string): Promise<number> {
  const r = await db
    .selectFrom('accounts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_by', '=', creatorId)
    .where('status', '=', 'pending_approval')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function touchLastSeen(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('accounts').set({ last_seen_at: at }).where('id', '=', id).execute();
}
