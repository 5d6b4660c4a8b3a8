import type { Kysely } from 'kysely';
import { dialectOf } from '../database.js';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * Every full verification of the journal (`vigie journal verify`, or one started from the console)
 * leaves its outcome here, so that the security overview can say when the journal was last proven
 * whole, up to which size, and what the first problem was when it was not.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const bigint = postgres ? 'bigint' : 'integer';
  await db.schema
    .createTable('journal_verifications')
    // The order they were recorded in: a frozen or coarse clock gives several the same finished_at.
    .addColumn('seq', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('id', 'text', (c) => c.notNull().unique())
    /** 'api' (started by an account) or 'cli' (an operator on the server). */
    .addColumn('via', 'text', (c) => c.notNull())
    /** `account:<id>` or `cli`. */
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('tree_size', bigint, (c) => c.notNull())
    .addColumn('entries_checked', bigint, (c) => c.notNull())
    .addColumn('tiles_checked', bigint, (c) => c.notNull())
    .addColumn('checkpoint_size', bigint)
    .addColumn('problem_code', 'text')
    .addColumn('problem_index', bigint)
    .addColumn('problem_event_id', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('journal_verifications').execute();
}
