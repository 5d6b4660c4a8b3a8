import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * A federated identity can be revoked by an administrator (an upstream account taken over, a person
 * who left): the link stays, marked, so that the same upstream subject cannot be linked again by the
 * operator's rule on its next login, and so that the account cannot get another identity of that
 * issuer linked in its place, until an administrator restores it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('federated_identities').addColumn('revoked_at', 'text').execute();
  await db.schema.alterTable('federated_identities').addColumn('revoked_by', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('federated_identities').dropColumn('revoked_by').execute();
  await db.schema.alterTable('federated_identities').dropColumn('revoked_at').execute();
}
