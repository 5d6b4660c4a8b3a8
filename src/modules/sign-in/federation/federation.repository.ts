import type { Selectable } from 'kysely';
import type { Executor } from '../../../db/database.js';
import type { FederatedIdentityTable, FederationTransactionTable } from '../../../db/schema.js';

export type FederatedIdentityRow = Selectable<FederatedIdentityTable>;
export type FederationTransactionRow = Selectable<FederationTransactionTable>;
export type FederationStage = 'authorize' | 'callback' | 'passkey' | 'passkey_check' | 'done' | 'failed';

export async function insertTransaction(db: Executor, row: FederationTransactionRow): Promise<void> {
  await db.insertInto('federation_transactions').values(row).execute();
}

/**
 * Moves the live transaction a browser cookie names from one stage to the next and returns it; none
 * when it is unknown, of another provider, expired or no longer at `from`. The move is the check:
 * two callbacks racing with one cookie cannot both pass.
 */
export async function takeTransaction(
  db: Executor,
  bindingHash: string,
  provider: string,
  from: FederationStage,
  to: FederationStage,
  at: string,
): Promise<FederationTransactionRow | undefined> {
  const moved = await db
    .updateTable('federation_transactions')
    .set({ stage: to })
    .where('binding_hash', '=', bindingHash)
    .where('provider', '=', provider)
    .where('stage', '=', from)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) return undefined;
  return db
    .selectFrom('federation_transactions')
    .selectAll()
    .where('binding_hash', '=', bindingHash)
    .executeTakeFirst();
}

export async function findLiveTransaction(
  db: Executor,
  bindingHash: string,
  stage: FederationStage,
  at: string,
): Promise<FederationTransactionRow | undefined> {
  return db
    .selectFrom('federation_transactions')
    .selectAll()
    .where('binding_hash', '=', bindingHash)
    .where('stage', '=', stage)
    .where('expires_at', '>', at)
    .executeTakeFirst();
}

export async function updateTransaction(
  db: Executor,
  id: string,
  patch: Partial<Omit<FederationTransactionRow, 'id' | 'binding_hash' | 'provider'>>,
): Promise<void> {
  await db.updateTable('federation_transactions').set(patch).where('id', '=', id).execute();
}

/** Forgets transactions that ended long enough ago to matter to nobody. */
export async function purgeTransactions(db: Executor, before: string): Promise<void> {
  await db.deleteFrom('federation_transactions').where('expires_at', '<', before).execute();
}

export async function findLinkBySubject(
  db: Executor,
  issuer: string,
  subject: string,
): Promise<FederatedIdentityRow | undefined> {
  return db
    .selectFrom('federated_identities')
    .selectAll()
    .where('issuer', '=', issuer)
    .where('subject', '=', subject)
    .executeTakeFirst();
}

export async function findLinkOfAccount(
  db: Executor,
  issuer: string,
  accountId: string,
): Promise<FederatedIdentityRow | undefined> {
  return db
    .selectFrom('federated_identities')
    .selectAll()
    .where('issuer', '=', issuer)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

export async function findLink(db: Executor, id: string): Promise<FederatedIdentityRow | undefined> {
  return db.selectFrom('federated_identities').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertLink(db: Executor, row: FederatedIdentityRow): Promise<void> {
  await db.insertInto('federated_identities').values(row).execute();
}

/** An account's federated identities, oldest first (revoked ones included). */
export async function listLinksOfAccount(db: Executor, accountId: string): Promise<FederatedIdentityRow[]> {
  return db
    .selectFrom('federated_identities')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('linked_at')
    .orderBy('id')
    .execute();
}

/** Marks a link revoked or restored; false when it already was (a concurrent command won). */
export async function setLinkRevoked(
  db: Executor,
  id: string,
  revoked: { at: string; by: string } | null,
): Promise<boolean> {
  const r = await db
    .updateTable('federated_identities')
    .set({ revoked_at: revoked?.at ?? null, revoked_by: revoked?.by ?? null })
    .where('id', '=', id)
    .where('revoked_at', revoked ? 'is' : 'is not', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touchLink(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('federated_identities').set({ last_login_at: at }).where('id', '=', id).execute();
}

/** What the linking rule reads about an account: its status, vetting and its organisation's SIRET. */
export interface LinkCandidate {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly approved_at: string | null;
  readonly organisation_id: string;
  readonly organisation_kind: string;
  readonly siret: string | null;
}

const candidateColumns = [
  'accounts.id',
  'accounts.kind',
  'accounts.status',
  'accounts.approved_at',
  'accounts.organisation_id',
  'organisations.kind as organisation_kind',
  'organisations.siret',
] as const;

export async function findCandidateByEmail(db: Executor, email: string): Promise<LinkCandidate | undefined> {
  return db
    .selectFrom('accounts')
    .innerJoin('organisations', 'organisations.id', 'accounts.organisation_id')
    .select(candidateColumns)
    .where('accounts.email', '=', email)
    .executeTakeFirst();
}

export async function findCandidate(db: Executor, accountId: string): Promise<LinkCandidate | undefined> {
  return db
    .selectFrom('accounts')
    .innerJoin('organisations', 'organisations.id', 'accounts.organisation_id')
    .select(candidateColumns)
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
}
