import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * Upstream federation (OpenID Connect relying party). A federated identity (issuer + subject) is
 * linked once to an existing Vigie account and never creates one. A sign-in through the upstream is
 * a short-lived transaction bound to the browser by a cookie: only the cookie secret's SHA-256 is
 * stored, and state, nonce and PKCE verifier are derived from that secret, so the database alone
 * can replay nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('federated_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** The configured provider's id (`proconnect`); the issuer is what the link is about. */
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    /** The operator rule that made the link (`email_siret`, `email`). */
    .addColumn('rule', 'text', (c) => c.notNull())
    /** The canonical e-mail claim at link time: a later login with another e-mail is refused. */
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('siret', 'text')
    .addColumn('linked_at', 'text', (c) => c.notNull())
    .addColumn('last_login_at', 'text')
    .execute();
  await db.schema
    .createIndex('federated_identities_subject')
    .on('federated_identities')
    .columns(['issuer', 'subject'])
    .unique()
    .execute();
  // One upstream identity per account and issuer: a second subject cannot take over a linked account.
  await db.schema
    .createIndex('federated_identities_account')
    .on('federated_identities')
    .columns(['issuer', 'account_id'])
    .unique()
    .execute();

  await db.schema
    .createTable('federation_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    /** SHA-256 of the browser cookie's secret. */
    .addColumn('binding_hash', 'text', (c) => c.notNull().unique())
    /** 'authorize' (at the upstream) → 'callback' (being checked) → 'passkey' (local passkey due) → 'done' | 'failed'. */
    .addColumn('stage', 'text', (c) => c.notNull())
    /** 1, or 2 when Vigie asked the upstream again for the acr the account's population needs. */
    .addColumn('round', 'integer', (c) => c.notNull())
    /** JSON array of the acr_values requested. */
    .addColumn('acr_values', 'text', (c) => c.notNull())
    /** Set on a second round, and once the upstream proof is accepted. */
    .addColumn('account_id', 'text')
    .addColumn('federated_identity_id', 'text')
    .addColumn('upstream_acr', 'text')
    /** JSON array of the upstream amr. */
    .addColumn('upstream_amr', 'text')
    /** SHA-256 of the WebAuthn challenge of the local passkey step. */
    .addColumn('challenge_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('federation_transactions_expiry')
    .on('federation_transactions')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('federation_transactions').execute();
  await db.schema.dropTable('federated_identities').execute();
}
