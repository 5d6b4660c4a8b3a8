import { sql, type Kysely } from 'kysely';

/*
 * At most one open follow per (subject, organisation, account or none, relation): an API call or an
 * import run twice then changes nothing, and a bulk import can skip duplicates with ON CONFLICT DO
 * NOTHING. Expression and partial indexes are portable between SQLite and PostgreSQL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create unique index follows_open_unique on follows (subject_id, organisation_id, relation, coalesce(account_id, '')) where until is null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index follows_open_unique`.execute(db);
}
