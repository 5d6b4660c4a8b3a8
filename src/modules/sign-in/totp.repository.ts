import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { TotpCredentialTable } from '../../db/schema.js';

export type TotpCredentialRow = Selectable<TotpCredentialTable>;

export async function insertTotpCredential(db: Executor, row: TotpCredentialRow): Promise<void> {
  await db.insertInto('totp_credentials').values(row).execute();
}

/** The account's live (pending or confirmed, not revoked) TOTP credential; at most one exists. */
export async function findLiveTotpCredential(
  db: Executor,
  accountId: string,
): Promise<TotpCredentialRow | undefined> {
  return db
    .selectFrom('totp_credentials')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Revokes a live credential; false when it had been revoked already. */
export async function revokeTotpCredential(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('totp_credentials')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Confirms a pending credential, spending the step of the confirming code; false if no longer pending. */
export async function confirmTotpCredential(
  db: Executor,
  id: string,
  step: number,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('totp_credentials')
    .set({ confirmed_at: at, last_used_step: step, last_used_at: at })
    .where('id', '=', id)
    .where('confirmed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Spends a time step: succeeds only when it is later than the last one spent, so that two requests
 * racing with the same code cannot both pass.
 */
export async function spendTotpStep(db: Executor, id: string, step: number, at: string): Promise<boolean> {
  const result = await db
    .updateTable('totp_credentials')
    .set({ last_used_step: step, last_used_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('confirmed_at', 'is not', null)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The kind of the account's own organisation (the TOTP policy reads it). */
export async function organisationKindOf(db: Executor, accountId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('accounts')
    .innerJoin('organisations', 'organisations.id', 'accounts.organisation_id')
    .select('organisations.kind')
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  return row?.kind;
}
