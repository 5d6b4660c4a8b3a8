import type { Executor } from '../../db/database.js';
import type {
  OidcArtifactTable,
  OidcClientTable,
  OidcGrantSessionTable,
  OidcSigningKeyTable,
} from '../../db/schema.js';

export type ArtifactRow = OidcArtifactTable;
export type ClientRow = OidcClientTable;
export type GrantSessionRow = OidcGrantSessionTable;

export async function upsertArtifact(db: Executor, row: ArtifactRow): Promise<void> {
  await db
    .insertInto('oidc_artifacts')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['model', 'id_hash']).doUpdateSet({
        payload: row.payload,
        grant_id: row.grant_id,
        uid_hash: row.uid_hash,
        user_code_hash: row.user_code_hash,
        consumed_at: row.consumed_at,
        expires_at: row.expires_at,
      }),
    )
    .execute();
}

/** A live artefact by one of its hashed keys; expired rows are never returned. */
export async function findArtifact(
  db: Executor,
  model: string,
  key: { idHash: string } | { uidHash: string } | { userCodeHash: string },
  now: string,
): Promise<ArtifactRow | undefined> {
  let q = db.selectFrom('oidc_artifacts').selectAll().where('model', '=', model);
  if ('idHash' in key) q = q.where('id_hash', '=', key.idHash);
  else if ('uidHash' in key) q = q.where('uid_hash', '=', key.uidHash);
  else q = q.where('user_code_hash', '=', key.userCodeHash);
  return q
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

export async function consumeArtifact(
  db: Executor,
  model: string,
  idHash: string,
  at: number,
): Promise<void> {
  await db
    .updateTable('oidc_artifacts')
    .set({ consumed_at: at })
    .where('model', '=', model)
    .where('id_hash', '=', idHash)
    .execute();
}

export async function deleteArtifact(db: Executor, model: string, idHash: string): Promise<void> {
  await db.deleteFrom('oidc_artifacts').where('model', '=', model).where('id_hash', '=', idHash).execute();
}

export async function deleteArtifactsOfGrant(db: Executor, grantId: string): Promise<number> {
  const res = await db.deleteFrom('oidc_artifacts').where('grant_id', '=', grantId).executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function purgeExpiredArtifacts(db: Executor, now: string): Promise<number> {
  const res = await db.deleteFrom('oidc_artifacts').where('expires_at', '<=', now).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** The client of an application that is active; a suspended or unknown application has none. */
export async function findActiveClient(
  db: Executor,
  applicationId: string,
): Promise<(ClientRow & { name: string }) | undefined> {
  return db
    .selectFrom('oidc_clients as c')
    .innerJoin('applications as a', 'a.id', 'c.application_id')
    .selectAll('c')
    .select('a.name')
    .where('c.application_id', '=', applicationId)
    .where('a.status', '=', 'active')
    .executeTakeFirst();
}

export async function findClient(db: Executor, applicationId: string): Promise<ClientRow | undefined> {
  return db
    .selectFrom('oidc_clients')
    .selectAll()
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
}

export async function upsertClient(db: Executor, row: ClientRow): Promise<void> {
  await db
    .insertInto('oidc_clients')
    .values(row)
    .onConflict((oc) =>
      oc.column('application_id').doUpdateSet({
        redirect_uris: row.redirect_uris,
        post_logout_redirect_uris: row.post_logout_redirect_uris,
        backchannel_logout_uri: row.backchannel_logout_uri,
        dpop_required: row.dpop_required,
        secret_hash: row.secret_hash,
        default_acr: row.default_acr,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

export async function deleteClient(db: Executor, applicationId: string): Promise<boolean> {
  const res = await db
    .deleteFrom('oidc_clients')
    .where('application_id', '=', applicationId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function listSigningKeys(db: Executor): Promise<OidcSigningKeyTable[]> {
  return db.selectFrom('oidc_signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
}

export async function insertSigningKey(db: Executor, row: OidcSigningKeyTable): Promise<void> {
  await db
    .insertInto('oidc_signing_keys')
    .values(row)
    .onConflict((oc) => oc.column('kid').doNothing())
    .execute();
}

export async function insertGrantSession(db: Executor, row: GrantSessionRow): Promise<void> {
  await db.insertInto('oidc_grant_sessions').values(row).execute();
}

export async function setGrantSid(
  db: Executor,
  grantId: string,
  sid: string,
  providerSessionHash: string | null,
): Promise<void> {
  await db
    .updateTable('oidc_grant_sessions')
    .set({ sid, provider_session_hash: providerSessionHash })
    .where('grant_id', '=', grantId)
    .where('sid', 'is', null)
    .execute();
}

export async function findGrantSession(db: Executor, grantId: string): Promise<GrantSessionRow | undefined> {
  return db.selectFrom('oidc_grant_sessions').selectAll().where('grant_id', '=', grantId).executeTakeFirst();
}

/**
 * Marks the live grants of these sessions revoked and returns them, in one statement: of two
 * processes following the same session end, only one gets the rows (and sends the logout tokens).
 */
export async function revokeGrantsOfSessions(
  db: Executor,
  sessionIds: readonly string[],
  at: string,
): Promise<GrantSessionRow[]> {
  if (sessionIds.length === 0) return [];
  return db
    .updateTable('oidc_grant_sessions')
    .set({ revoked_at: at })
    .where('session_id', 'in', sessionIds)
    .where('revoked_at', 'is', null)
    .returningAll()
    .execute();
}

/** Ends the provider's own sessions (by hashed uid): the next authorisation starts afresh. */
export async function deleteProviderSessions(db: Executor, uidHashes: readonly string[]): Promise<void> {
  if (uidHashes.length === 0) return;
  await db
    .deleteFrom('oidc_artifacts')
    .where('model', '=', 'Session')
    .where('uid_hash', 'in', uidHashes)
    .execute();
}

export interface SessionFactsRow {
  id: string;
  account_id: string;
  created_at: string;
  ended_at: string | null;
}

/** The sign-in session's own row, for its start time (auth_time) and whether it still lives. */
export async function findSignInSession(db: Executor, id: string): Promise<SessionFactsRow | undefined> {
  return db
    .selectFrom('sessions')
    .select(['id', 'account_id', 'created_at', 'ended_at'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findAccountForClaims(
  db: Executor,
  id: string,
): Promise<{ id: string; email: string; status: string } | undefined> {
  return db.selectFrom('accounts').select(['id', 'email', 'status']).where('id', '=', id).executeTakeFirst();
}
