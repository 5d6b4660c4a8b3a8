import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { EnrolmentLinkTable } from '../../db/schema.js';

export type EnrolmentLinkRow = Selectable<EnrolmentLinkTable>;

export async function insertEnrolmentLink(db: Executor, row: EnrolmentLinkRow): Promise<void> {
  await db.insertInto('enrolment_links').values(row).execute();
}

/** Revokes the account's links still open; returns how many. */
export async function revokeOpenLinks(db: Executor, accountId: string, at: string): Promise<number> {
  const result = await db
    .updateTable('enrolment_links')
    .set({ revoked_at: at })
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The link a secret's digest names, if it is still usable at `at`. */
export async function findUsableLink(
  db: Executor,
  secretHash: string,
  at: string,
): Promise<EnrolmentLinkRow | undefined> {
  return db
    .selectFrom('enrolment_links')
    .selectAll()
    .where('secret_hash', '=', secretHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
}

/** Spends a link once: false when it was used, revoked or expired meanwhile. */
export async function markLinkUsed(db: Executor, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('enrolment_links')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
