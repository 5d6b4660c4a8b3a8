import { sql, type Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * Step-up, recovery codes and re-enrolment approved by a second person (issue 10, items 2, 8, 10).
 * - sessions.step_up_at: the last user-verified passkey assertion made in this session.
 * - api_tokens.minted_via / step_up: how a token was minted, and whether it may perform the acts
 *   that need a step-up. Tokens written before this migration by Vigie itself (created_by null:
 *   the CLI, the bootstrap) were the operator's; the others could have been minted by a session
 *   without any step-up, so they may not (mint a new one).
 * - recovery_codes: one-time codes, only their HMAC-SHA-256 under a key kept beside the database.
 * - reenrolments: a request to re-enrol an account that lost every authenticator, and its approval.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('step_up_at', 'text').execute();
  await db.schema
    .alterTable('api_tokens')
    .addColumn('minted_via', 'text', (c) => c.notNull().defaultTo('legacy'))
    .execute();
  await db.schema
    .alterTable('api_tokens')
    .addColumn('step_up', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update api_tokens set minted_via = 'operator', step_up = 1
             where created_by is null and principal_type = 'account'`.execute(db);
  await sql`update api_tokens set minted_via = 'application' where principal_type = 'application'`.execute(
    db,
  );

  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    /** The set it was generated with: generating a new set revokes the previous one. */
    .addColumn('batch_id', 'text', (c) => c.notNull())
    /** HMAC-SHA-256 (hex) of account id and normalised code, under <dataDir>/recovery-code.key. */
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('recovery_codes_account').on('recovery_codes').column('account_id').execute();

  await db.schema
    .createTable('reenrolments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull())
    /** The administrator who started it; null when the holder asked from the recovery page. */
    .addColumn('requested_by', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    /** 'pending' | 'approved' | 'cancelled'. */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .execute();
  // One pending request per account, even under two requests racing.
  await db.schema
    .createIndex('reenrolments_pending')
    .on('reenrolments')
    .column('account_id')
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reenrolments').execute();
  await db.schema.dropTable('recovery_codes').execute();
  await db.schema.alterTable('api_tokens').dropColumn('step_up').execute();
  await db.schema.alterTable('api_tokens').dropColumn('minted_via').execute();
  await db.schema.alterTable('sessions').dropColumn('step_up_at').execute();
}
