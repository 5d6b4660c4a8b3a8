import { sql, type Expression, type SqlBool } from 'kysely';
import type { Dialect, Executor } from '../../db/database.js';
import type { OrganisationTable } from '../../db/schema.js';

export type OrganisationRow = OrganisationTable;

/**
 * Upper bound of a subtree's range: paths are '/id/…/' and '0' follows '/' in byte order, so
 * [path, path-with-last-'/'-as-'0') holds exactly the subtree. PostgreSQL compares under the "C"
 * collation so that a locale-aware database collation cannot reorder the punctuation.
 */
export function subtreeUpperBound(path: string): string {
  return `${path.slice(0, -1)}0`;
}

/** `column` (a materialised path) lies in one of the subtrees `roots`; `null` roots mean everywhere. */
export function pathInSubtrees(
  dialect: Dialect,
  column: string,
  roots: readonly string[] | null,
): Expression<SqlBool> {
  if (roots === null) return sql<SqlBool>`1 = 1`;
  if (roots.length === 0) return sql<SqlBool>`1 = 0`;
  const ref = dialect === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql.ref(column);
  const ranges = roots.map((root) => sql`(${ref} >= ${root} and ${ref} < ${subtreeUpperBound(root)})`);
  return sql<SqlBool>`(${sql.join(ranges, sql` or `)})`;
}

export async function insertOrganisation(db: Executor, row: OrganisationRow): Promise<void> {
  await db.insertInto('organisations').values(row).execute();
}

export async function findOrganisation(db: Executor, id: string): Promise<OrganisationRow | undefined> {
  return db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findRoot(db: Executor): Promise<OrganisationRow | undefined> {
  return db.selectFrom('organisations').selectAll().where('parent_id', 'is', null).executeTakeFirst();
}

/**
 * Serialises changes to the shape of the tree on PostgreSQL (a move, a new node): each reads paths
 * and writes paths derived from them, so two at once could build a cycle or a stale path. The root
 * row is the mutex; such changes are rare administrator acts. SQLite has one writer anyway.
 */
export async function lockTree(db: Executor, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres')
    await sql`select id from organisations where parent_id is null for update`.execute(db);
}

export async function findBySiret(db: Executor, siret: string): Promise<OrganisationRow | undefined> {
  return db.selectFrom('organisations').selectAll().where('siret', '=', siret).executeTakeFirst();
}

export interface OrganisationFilter {
  readonly roots: readonly string[] | null;
  readonly subtreeOf?: string;
  readonly parentId?: string;
  readonly kind?: string;
  readonly status?: string;
  readonly afterId?: string;
  readonly limit: number;
}

export async function listOrganisations(
  db: Executor,
  dialect: Dialect,
  f: OrganisationFilter,
): Promise<OrganisationRow[]> {
  let q = db
    .selectFrom('organisations')
    .selectAll()
    .where(pathInSubtrees(dialect, 'path', f.roots))
    .orderBy('id')
    .limit(f.limit);
  if (f.subtreeOf !== undefined) {
    const subtree = f.subtreeOf;
    q = q.where(pathInSubtrees(dialect, 'path', [subtree]));
  }
  if (f.parentId !== undefined) q = q.where('parent_id', '=', f.parentId);
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
  return q.execute();
}

export async function updateOrganisation(
  db: Executor,
  id: string,
  patch: Partial<Pick<OrganisationRow, 'name' | 'kind' | 'siret' | 'status' | 'contract_end_date'>> & {
    updated_at: string;
  },
): Promise<void> {
  await db.updateTable('organisations').set(patch).where('id', '=', id).execute();
}

/**
 * Moves a whole subtree under a new parent in one statement: every path under `oldPath` gets its
 * prefix swapped and its depth shifted. The caller has already ruled out a cycle.
 */
export async function moveSubtree(
  db: Executor,
  dialect: Dialect,
  move: { id: string; newParentId: string; oldPath: string; newPath: string; depthDelta: number; at: string },
): Promise<void> {
  const keep = move.oldPath.length + 1;
  await db
    .updateTable('organisations')
    .set((eb) => ({
      path: sql<string>`${move.newPath} || substr(${sql.ref('path')}, ${keep})`,
      depth: eb('depth', '+', move.depthDelta),
    }))
    .where(pathInSubtrees(dialect, 'path', [move.oldPath]))
    .execute();
  await db
    .updateTable('organisations')
    .set({ parent_id: move.newParentId, updated_at: move.at })
    .where('id', '=', move.id)
    .execute();
}
