import type { Executor } from '../../db/database.js';
import type { FollowTable } from '../../db/schema.js';
import { MAX_BOUND_PARAMETERS } from './subject.repository.js';

export type FollowRow = FollowTable;
export type FollowWithPath = FollowRow & { organisation_path: string };

/** The organisation facts a scope check needs. */
export interface OrganisationScope {
  readonly id: string;
  readonly path: string;
  readonly status: string;
}

export async function findOrganisationScope(
  db: Executor,
  id: string,
): Promise<OrganisationScope | undefined> {
  return db
    .selectFrom('organisations')
    .select(['id', 'path', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findAccountOrganisation(
  db: Executor,
  accountId: string,
): Promise<{ id: string; organisation_id: string } | undefined> {
  return db
    .selectFrom('accounts')
    .select(['id', 'organisation_id'])
    .where('id', '=', accountId)
    .executeTakeFirst();
}

export async function findFollow(db: Executor, id: string): Promise<FollowWithPath | undefined> {
  return db
    .selectFrom('follows as f')
    .innerJoin('organisations as o', 'o.id', 'f.organisation_id')
    .selectAll('f')
    .select('o.path as organisation_path')
    .where('f.id', '=', id)
    .executeTakeFirst();
}

/**
 * Inserts follows, skipping any that duplicates an open one (same subject, organisation, account and
 * relation, no end date: the partial unique index of migration caseload). Returns the ids inserted.
 */
export async function insertFollows(db: Executor, rows: readonly FollowRow[]): Promise<string[]> {
  const inserted: string[] = [];
  const chunk = Math.floor(MAX_BOUND_PARAMETERS / 8);
  for (let i = 0; i < rows.length; i += chunk) {
    const result = await db
      .insertInto('follows')
      .values(rows.slice(i, i + chunk))
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    for (const r of result) inserted.push(r.id);
  }
  return inserted;
}

export async function setFollowEnd(db: Executor, id: string, until: string): Promise<void> {
  await db.updateTable('follows').set({ until }).where('id', '=', id).execute();
}

/** True when some follow of the subject is held by an organisation under one of these paths. */
export async function subjectFollowedUnder(
  db: Executor,
  subjectId: string,
  paths: readonly string[],
): Promise<boolean> {
  if (paths.length === 0) return false;
  const row = await db
    .selectFrom('follows as f')
    .innerJoin('organisations as o', 'o.id', 'f.organisation_id')
    .select('f.id')
    .where('f.subject_id', '=', subjectId)
    .where((eb) => eb.or(paths.map((p) => eb('o.path', 'like', `${p}%`))))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface FollowPageQuery {
  readonly subjectId?: string;
  readonly organisationId?: string;
  /** Restrict to organisations under these paths; undefined means no restriction. */
  readonly underPaths?: readonly string[];
  /** Only follows open at this instant. */
  readonly activeAt?: string;
  readonly afterId?: string;
  readonly limit: number;
}

/** Keyset page of follows ordered by id (UUIDv7, so by creation time). */
export async function listFollows(db: Executor, q: FollowPageQuery): Promise<FollowRow[]> {
  let query = db
    .selectFrom('follows as f')
    .innerJoin('organisations as o', 'o.id', 'f.organisation_id')
    .selectAll('f')
    .orderBy('f.id', 'asc')
    .limit(q.limit);
  if (q.subjectId !== undefined) query = query.where('f.subject_id', '=', q.subjectId);
  if (q.organisationId !== undefined) query = query.where('f.organisation_id', '=', q.organisationId);
  if (q.afterId !== undefined) query = query.where('f.id', '>', q.afterId);
  const paths = q.underPaths;
  if (paths !== undefined) {
    if (paths.length === 0) return [];
    query = query.where((eb) => eb.or(paths.map((p) => eb('o.path', 'like', `${p}%`))));
  }
  const at = q.activeAt;
  if (at !== undefined) {
    query = query
      .where('f.since', '<=', at)
      .where((eb) => eb.or([eb('f.until', 'is', null), eb('f.until', '>', at)]));
  }
  return query.execute();
}
