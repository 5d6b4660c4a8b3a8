import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * Vigie as the OpenID Provider of the business applications (oidc-provider). Its artefacts (codes,
 * tokens, grants, interactions, sessions, DPoP replay marks) live in one table keyed by the SHA-256
 * of their id, so a copy of the database holds no usable token; the signing keys are sealed under a
 * key kept in `<dataDir>/oidc-provider.key`, beside the database, not in it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_artifacts')
    .addColumn('model', 'text', (c) => c.notNull())
    /** base64url SHA-256 of the artefact's id (a token, a code, an interaction uid). */
    .addColumn('id_hash', 'text', (c) => c.notNull())
    /** The payload as oidc-provider hands it, without its id. */
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    /** base64url SHA-256 of a session's uid (the provider's session cookie). */
    .addColumn('uid_hash', 'text')
    .addColumn('user_code_hash', 'text')
    .addColumn('consumed_at', 'bigint')
    .addColumn('expires_at', 'text')
    .addPrimaryKeyConstraint('oidc_artifacts_pk', ['model', 'id_hash'])
    .execute();
  await db.schema.createIndex('oidc_artifacts_grant').on('oidc_artifacts').column('grant_id').execute();
  await db.schema.createIndex('oidc_artifacts_uid').on('oidc_artifacts').column('uid_hash').execute();
  await db.schema.createIndex('oidc_artifacts_expiry').on('oidc_artifacts').column('expires_at').execute();

  await db.schema
    .createTable('oidc_clients')
    .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
    /** JSON array of exact redirect URIs. */
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
    .addColumn('backchannel_logout_uri', 'text')
    .addColumn('dpop_required', 'integer', (c) => c.notNull())
    /** Null for a public client (PKCE alone); else base64url SHA-256 of its secret, never the secret. */
    .addColumn('secret_hash', 'text')
    .addColumn('default_acr', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    /** `v1.` + base64url(IV ‖ ciphertext ‖ GCM tag) of the private JWK, the kid as associated data. */
    .addColumn('sealed_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  /** Which Vigie session authorised which grant: ending the session revokes the grant. */
  await db.schema
    .createTable('oidc_grant_sessions')
    .addColumn('grant_id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    /** The `sid` the client's ID tokens carry, known once a code was issued. */
    .addColumn('sid', 'text')
    /** SHA-256 of the provider's own session uid (its `_session` cookie), ended with Vigie's. */
    .addColumn('provider_session_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createIndex('oidc_grant_sessions_session')
    .on('oidc_grant_sessions')
    .column('session_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_grant_sessions').execute();
  await db.schema.dropTable('oidc_signing_keys').execute();
  await db.schema.dropTable('oidc_clients').execute();
  await db.schema.dropTable('oidc_artifacts').execute();
}
