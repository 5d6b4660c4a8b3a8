import type { Executor } from '../../db/database.js';
import type { ApplicationTable } from '../../db/schema.js';

export type ApplicationRow = ApplicationTable;
export type ApplicationWithPath = ApplicationRow & { organisation_path: string };

export async function insertApplication(db: Executor, row: ApplicationRow): Promise<void> {
  await db.insertInto('applications').values(row).execute();
}

export async function findApplication(db: Executor, id: string): Promise<ApplicationWithPath | undefined> {
  return db
    .selectFrom('applications as a')
    .innerJoin('organisations as o', 'o.id', 'a.organisation_id')
    .selectAll('a')
    .select('o.path as organisation_path')
    .where('a.id', '=', id)
    .executeTakeFirst();
}

export async function setApplicationStatus(
  db: Executor,
  id: string,
  status: string,
  at: string,
): Promise<void> {
  await db.updateTable('applications').set({ status, updated_at: at }).where('id', '=', id).execute();
}

/** Keyset page by id, restricted to organisations under `underPaths` (undefined: everywhere). */
export async function listApplications(
  db: Executor,
  q: { organisationId?: string; underPaths?: readonly string[]; afterId?: string; limit: number },
): Promise<ApplicationRow[]> {
  let query = db
    .selectFrom('applications as a')
    .innerJoin('organisations as o', 'o.id', 'a.organisation_id')
    .selectAll('a')
    .orderBy('a.id', 'asc')
    .limit(q.limit);
  if (q.organisationId !== undefined) query = query.where('a.organisation_id', '=', q.organisationId);
  if (q.afterId !== undefined) query = query.where('a.id', '>', q.afterId);
  const paths = q.underPaths;
  if (paths !== undefined) {
    if (paths.length === 0) return [];
    query = query.where((eb) => eb.or(paths.map((p) => eb('o.path', 'like', `${p}%`))));
  }
  return query.execute();
}

/** The subtree an application may report on: its reporting organisation, else its own. */
export interface ReportingScope {
  readonly applicationId: string;
  readonly organisationId: string;
  readonly path: string;
}

/** Reporting scopes of several applications in one query (ingestion, detection responses). */
export async function findReportingScopes(
  db: Executor,
  applicationIds: readonly string[],
): Promise<Map<string, ReportingScope>> {
  const out = new Map<string, ReportingScope>();
  if (applicationIds.length === 0) return out;
  const rows = await db
    .selectFrom('applications as a')
    .innerJoin('organisations as o', (j) =>
      j.on((eb) => eb('o.id', '=', eb.fn.coalesce('a.reporting_organisation_id', 'a.organisation_id'))),
    )
    .select(['a.id', 'o.id as organisation_id', 'o.path'])
    .where('a.id', 'in', [...new Set(applicationIds)])
    .execute();
  for (const r of rows)
    out.set(r.id, { applicationId: r.id, organisationId: r.organisation_id, path: r.path });
  return out;
}
