import type { Executor } from '../../db/database.js';

/** What ingestion needs to know about the accounts and organisations a batch names. */
export interface NamedAccount {
  readonly organisationId: string;
  readonly organisationPath: string;
}

/**
 * SQLite binds at most 32,766 parameters per statement: a batch names at most 20,000 users (actor
 * and target of 10,000 events), so this is one statement per batch in practice.
 */
const LOOKUP_CHUNK = 30_000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += LOOKUP_CHUNK) out.push(items.slice(i, i + LOOKUP_CHUNK));
  return out;
}

/** The accounts among `ids` with their organisation's path; ids that are no account are absent. */
export async function findNamedAccounts(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, NamedAccount>> {
  const out = new Map<string, NamedAccount>();
  for (const part of chunks(ids)) {
    const rows = await db
      .selectFrom('accounts as a')
      .innerJoin('organisations as o', 'o.id', 'a.organisation_id')
      .select(['a.id', 'a.organisation_id', 'o.path'])
      .where('a.id', 'in', part)
      .execute();
    for (const r of rows) out.set(r.id, { organisationId: r.organisation_id, organisationPath: r.path });
  }
  return out;
}

/** Paths of the organisations among `ids`. */
export async function findNamedOrganisations(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const part of chunks(ids)) {
    const rows = await db
      .selectFrom('organisations')
      .select(['id', 'path'])
      .where('id', 'in', part)
      .execute();
    for (const r of rows) out.set(r.id, r.path);
  }
  return out;
}
