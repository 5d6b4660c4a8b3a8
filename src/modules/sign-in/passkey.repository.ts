import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { PasskeyTable } from '../../db/schema.js';

export type PasskeyRow = Selectable<PasskeyTable>;

export async function insertPasskey(db: Executor, row: PasskeyRow): Promise<void> {
  await db.insertInto('passkeys').values(row).execute();
}

export async function findPasskeyByCredentialId(
  db: Executor,
  credentialId: string,
): Promise<PasskeyRow | undefined> {
  return db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
}

export async function findPasskey(db: Executor, id: string): Promise<PasskeyRow | undefined> {
  return db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listLivePasskeys(db: Executor, accountId: string): Promise<PasskeyRow[]> {
  return db
    .selectFrom('passkeys')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
}

export async function countLivePasskeys(db: Executor, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('passkeys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Moves the counter forward only from the value the verification read: two assertions racing with
 * the same counter cannot both succeed.
 */
export async function recordPasskeyUse(
  db: Executor,
  id: string,
  expect: { counter: number },
  next: { counter: number; backedUp: boolean; at: string },
): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ counter: next.counter, backed_up: next.backedUp ? 1 : 0, last_used_at: next.at })
    .where('id', '=', id)
    .where('counter', '=', expect.counter)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function renamePasskey(db: Executor, id: string, name: string): Promise<void> {
  await db.updateTable('passkeys').set({ name }).where('id', '=', id).execute();
}

export async function revokePasskey(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('passkeys').set({ revoked_at: at }).where('id', '=', id).execute();
}
