import { sql, type Kysely } from 'kysely';

/*
 * Access decisions' own state. The decisions themselves are events (the journal); these tables hold
 * what the PDP must rebuild on start: the disclosures inside the budget windows, the controls set by
 * the security team or detection (freezes, step-up flags), and four-eyes export approvals.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('access_disclosures')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('record_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('organisation_id', 'text')
    .addColumn('application_id', 'text')
    .addColumn('break_glass', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('justification', 'text')
    .execute();
  await db.schema.createIndex('access_disclosures_time').on('access_disclosures').column('time').execute();

  await db.schema
    .createTable('access_controls')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('cleared_by', 'text')
    .addColumn('cleared_at', 'text')
    .execute();
  await sql`create unique index access_controls_active on access_controls (kind, target_type, target_id) where cleared_at is null`.execute(
    db,
  );

  await db.schema
    .createTable('access_export_approvals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('requester_account_id', 'text', (c) => c.notNull())
    .addColumn('approver_account_id', 'text', (c) => c.notNull())
    .addColumn('max_records', 'integer', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['access_export_approvals', 'access_controls', 'access_disclosures']) {
    await db.schema.dropTable(table).execute();
  }
}
