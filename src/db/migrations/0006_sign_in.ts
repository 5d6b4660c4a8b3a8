import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * Sign-in with passkeys. Nothing here is a secret in clear: challenges, enrolment link secrets and
 * session ids are stored as SHA-256 (hex); a passkey row holds only the public half of the key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('passkeys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    /** base64url of the credential id the authenticator chose (up to 1023 bytes). */
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    /** base64url of the COSE public key. */
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('aaguid', 'text', (c) => c.notNull())
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('user_verified', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('passkeys_account').on('passkeys').columns(['account_id', 'id']).execute();

  await db.schema
    .createTable('passkey_ceremonies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** 'registration' (signed in), 'enrolment' (through a link), 'sign_in'. */
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('challenge_hash', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('enrolment_id', 'text')
    /** What failures of this ceremony count against: an account, or the digest of an e-mail typed. */
    .addColumn('lock_key', 'text')
    .addColumn('user_verification', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema
    .createIndex('passkey_ceremonies_expiry')
    .on('passkey_ceremonies')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('enrolment_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createIndex('enrolment_links_account')
    .on('enrolment_links')
    .columns(['account_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('passkey_id', 'text', (c) => c.notNull())
    .addColumn('auth_level', 'text', (c) => c.notNull())
    .addColumn('aal', 'text', (c) => c.notNull())
    /** JSON array of RFC 8176 method references. */
    .addColumn('amr', 'text', (c) => c.notNull())
    /** The client's network when the session started: IPv4 /24 or IPv6 /48, never the address. */
    .addColumn('network_prefix', 'text', (c) => c.notNull())
    .addColumn('browser_family', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('absolute_expires_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('end_reason', 'text')
    .execute();
  await db.schema.createIndex('sessions_account').on('sessions').columns(['account_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('enrolment_links').execute();
  await db.schema.dropTable('passkey_ceremonies').execute();
  await db.schema.dropTable('passkeys').execute();
}
