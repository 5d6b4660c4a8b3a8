import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * An application reports on the accounts and organisations of one subtree: its own organisation's
 * by default (null), or the subtree of an ancestor it was explicitly registered for (an operator's
 * sign-in gateway reports on everyone). Ingestion refuses any event naming someone outside it.
 * No foreign key: SQLite cannot drop a column that one names, and the service checks the organisation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applications').addColumn('reporting_organisation_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applications').dropColumn('reporting_organisation_id').execute();
}
