import type { Executor } from '../../db/database.js';
import type { DataSubjectTable } from '../../db/schema.js';

export type SubjectRow = DataSubjectTable;

/** SQLite binds at most 32,766 parameters per statement; stay well under it whatever the row width. */
export const MAX_BOUND_PARAMETERS = 30_000;

export async function findSubject(db: Executor, id: string): Promise<SubjectRow | undefined> {
  return db.selectFrom('data_subjects').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts one subject; false when the id is already taken. */
export async function insertSubject(db: Executor, row: SubjectRow): Promise<boolean> {
  const result = await db
    .insertInto('data_subjects')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * Inserts the subjects that are not there yet (bulk import): an existing subject keeps its kind and
 * flags, so a re-run or an overlapping file never changes a decoy or a sealed record. Returns how
 * many were created.
 */
export async function insertMissingSubjects(db: Executor, rows: readonly SubjectRow[]): Promise<number> {
  const chunk = Math.floor(MAX_BOUND_PARAMETERS / 5);
  let inserted = 0;
  for (let i = 0; i < rows.length; i += chunk) {
    const result = await db
      .insertInto('data_subjects')
      .values(rows.slice(i, i + chunk))
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    inserted += result.length;
  }
  return inserted;
}
