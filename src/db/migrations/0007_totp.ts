import { sql, type Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * TOTP (RFC 6238) as a second sign-in method. The shared secret is stored encrypted (AES-256-GCM,
 * key in `<dataDir>/totp-secret.key`, not in the database); a session records how it was opened.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('totp_credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    /** `v1.` + base64url(IV ‖ ciphertext ‖ GCM tag), the account and row ids as associated data. */
    .addColumn('secret_ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    /** Null while the enrolment waits for its first valid code. */
    .addColumn('confirmed_at', 'text')
    /** The last RFC 6238 time step accepted: a code of that step or an earlier one is a replay. */
    .addColumn('last_used_step', 'bigint')
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  // One live (pending or confirmed) secret per account, even under two enrolments racing.
  await db.schema
    .createIndex('totp_credentials_live')
    .on('totp_credentials')
    .column('account_id')
    .unique()
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('method', 'text', (c) => c.notNull().defaultTo('passkey'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('method').execute();
  await db.schema.dropTable('totp_credentials').execute();
}
