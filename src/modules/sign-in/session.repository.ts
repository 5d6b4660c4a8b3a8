import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { SessionTable } from '../../db/schema.js';

export type SessionRow = Selectable<SessionTable>;

export async function insertSession(db: Executor, row: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

export async function findSessionByHash(db: Executor, secretHash: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
}

export async function findSession(db: Executor, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Records a user-verified passkey assertion made in a live session (step-up). */
export async function recordStepUp(db: Executor, id: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('sessions')
    .set({ step_up_at: at })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touchSession(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
}

/** Ends one live session; false when it had ended already. */
export async function endSession(db: Executor, id: string, at: string, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ ended_at: at, end_reason: reason })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Ends the live sessions of an account (optionally only those opened with one credential — a passkey
 * or a TOTP secret — or all but one); returns their ids. Identity's containment calls it too, inside its own transaction.
 */
export async function endSessionsOf(
  db: Executor,
  accountId: string,
  at: string,
  reason: string,
  filter: { credentialId?: string; exceptId?: string; method?: string } = {},
): Promise<string[]> {
  let query = db
    .selectFrom('sessions')
    .select('id')
    .where('account_id', '=', accountId)
    .where('ended_at', 'is', null);
  if (filter.credentialId !== undefined) query = query.where('passkey_id', '=', filter.credentialId);
  if (filter.exceptId !== undefined) query = query.where('id', '<>', filter.exceptId);
  if (filter.method !== undefined) query = query.where('method', '=', filter.method);
  const ids = (await query.execute()).map((r) => r.id);
  if (ids.length === 0) return [];
  await db
    .updateTable('sessions')
    .set({ ended_at: at, end_reason: reason })
    .where('id', 'in', ids)
    .where('ended_at', 'is', null)
    .execute();
  return ids;
}

export async function listLiveSessions(db: Executor, accountId: string, at: string): Promise<SessionRow[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('ended_at', 'is', null)
    .where('absolute_expires_at', '>', at)
    .orderBy('id')
    .limit(100)
    .execute();
}
