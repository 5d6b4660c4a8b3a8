import type { Selectable } from 'kysely';
import type { Dialect, Executor } from '../../db/database.js';
import type { RecoveryCodeTable, ReenrolmentTable } from '../../db/schema.js';
import { pathInSubtrees } from '../identity/organisation.repository.js';

export type RecoveryCodeRow = Selectable<RecoveryCodeTable>;
export type ReenrolmentRow = Selectable<ReenrolmentTable>;

export async function insertRecoveryCodes(db: Executor, rows: readonly RecoveryCodeRow[]): Promise<void> {
  await db
    .insertInto('recovery_codes')
    .values([...rows])
    .execute();
}

/** Revokes the account's unused codes (a new set replaces them, or the account is re-enrolled). */
export async function revokeRecoveryCodes(db: Executor, accountId: string, at: string): Promise<number> {
  const r = await db
    .updateTable('recovery_codes')
    .set({ revoked_at: at })
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Spends a code: marks it used if it is the account's, unused and unrevoked, and returns it. The
 * update is conditional, so two requests racing with one code cannot both pass.
 */
export async function spendRecoveryCode(
  db: Executor,
  accountId: string,
  codeHash: string,
  at: string,
): Promise<RecoveryCodeRow | undefined> {
  const r = await db
    .updateTable('recovery_codes')
    .set({ used_at: at })
    .where('account_id', '=', accountId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return undefined;
  return db.selectFrom('recovery_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
}

export async function liveRecoveryCodes(
  db: Executor,
  accountId: string,
): Promise<{ count: number; generatedAt: string | null }> {
  const r = await db
    .selectFrom('recovery_codes')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('at')])
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { count: Number(r.n), generatedAt: r.at ?? null };
}

export async function insertReenrolment(db: Executor, row: ReenrolmentRow): Promise<void> {
  await db.insertInto('reenrolments').values(row).execute();
}

export async function findReenrolment(db: Executor, id: string): Promise<ReenrolmentRow | undefined> {
  return db.selectFrom('reenrolments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPendingReenrolment(
  db: Executor,
  accountId: string,
): Promise<ReenrolmentRow | undefined> {
  return db
    .selectFrom('reenrolments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
}

/** Moves a pending request to `status`; false when it was no longer pending. */
export async function decideReenrolment(
  db: Executor,
  id: string,
  decision: { status: 'approved' | 'cancelled'; by: string | null; at: string },
): Promise<boolean> {
  const r = await db
    .updateTable('reenrolments')
    .set({ status: decision.status, decided_by: decision.by, decided_at: decision.at })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Pending requests of accounts whose organisation lies under one of `roots` (materialised paths). */
export async function listPendingReenrolments(
  db: Executor,
  dialect: Dialect,
  roots: readonly string[],
  limit: number,
): Promise<(ReenrolmentRow & { organisation_path: string })[]> {
  return db
    .selectFrom('reenrolments as r')
    .innerJoin('organisations as o', 'o.id', 'r.organisation_id')
    .selectAll('r')
    .select('o.path as organisation_path')
    .where('r.status', '=', 'pending')
    .where(pathInSubtrees(dialect, 'o.path', roots))
    .orderBy('r.id')
    .limit(limit)
    .execute();
}

/** Revokes every live passkey of an account; returns their ids. */
export async function revokePasskeysOf(db: Executor, accountId: string, at: string): Promise<string[]> {
  const ids = (
    await db
      .selectFrom('passkeys')
      .select('id')
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .execute()
  ).map((r) => r.id);
  if (ids.length > 0)
    await db
      .updateTable('passkeys')
      .set({ revoked_at: at })
      .where('id', 'in', ids)
      .where('revoked_at', 'is', null)
      .execute();
  return ids;
}
