import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { PasskeyCeremonyTable } from '../../db/schema.js';

export type CeremonyRow = Selectable<PasskeyCeremonyTable>;
export type CeremonyPurpose = 'registration' | 'enrolment' | 'sign_in' | 'step_up';

export async function insertCeremony(db: Executor, row: CeremonyRow): Promise<void> {
  await db.insertInto('passkey_ceremonies').values(row).execute();
}

/**
 * Takes a ceremony for verification: marks it used if it is unused, unexpired and of this purpose,
 * and returns it; undefined otherwise. Used before the response is checked, so that a challenge is
 * spent even by a failed attempt and never answers twice.
 */
export async function takeCeremony(
  db: Executor,
  id: string,
  purpose: CeremonyPurpose,
  at: string,
): Promise<CeremonyRow | undefined> {
  const taken = await db
    .updateTable('passkey_ceremonies')
    .set({ used_at: at })
    .where('id', '=', id)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) !== 1) return undefined;
  return db.selectFrom('passkey_ceremonies').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Forgets ceremonies that ended long enough ago to matter to nobody. */
export async function purgeCeremonies(db: Executor, before: string): Promise<void> {
  await db.deleteFrom('passkey_ceremonies').where('expires_at', '<', before).execute();
}
