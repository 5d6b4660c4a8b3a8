import type { Dialect, Executor } from '../../db/database.js';
import type { RoleAssignmentTable, RoleTable } from '../../db/schema.js';
import type { BuiltinRole } from './permissions.js';
import { pathInSubtrees } from './organisation.repository.js';

export type RoleRow = RoleTable;
export type AssignmentRow = RoleAssignmentTable;
export type AssignmentWithPath = AssignmentRow & { organisation_path: string };

/** Built-ins are code: on every start their catalogue rows are brought in line with permissions.ts. */
export async function upsertBuiltinRoles(db: Executor, roles: readonly BuiltinRole[]): Promise<void> {
  for (const r of roles) {
    const row = {
      description: r.description,
      permissions: JSON.stringify(r.permissions),
      privileged: r.privileged ? 1 : 0,
      delegable: r.delegable ? 1 : 0,
      builtin: 1,
    };
    await db
      .insertInto('roles')
      .values({ id: r.id, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }
}

export async function findRole(db: Executor, id: string): Promise<RoleRow | undefined> {
  return db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listRoles(db: Executor, page: { afterId?: string; limit: number }): Promise<RoleRow[]> {
  let q = db.selectFrom('roles').selectAll().orderBy('id').limit(page.limit);
  if (page.afterId !== undefined) q = q.where('id', '>', page.afterId);
  return q.execute();
}

export async function insertAssignment(db: Executor, row: AssignmentRow): Promise<void> {
  await db.insertInto('role_assignments').values(row).execute();
}

export async function findAssignment(db: Executor, id: string): Promise<AssignmentWithPath | undefined> {
  return db
    .selectFrom('role_assignments')
    .innerJoin('organisations', 'organisations.id', 'role_assignments.organisation_id')
    .selectAll('role_assignments')
    .select('organisations.path as organisation_path')
    .where('role_assignments.id', '=', id)
    .executeTakeFirst();
}

/** A grant of this role to this account over this organisation that is live or awaiting approval. */
export async function findLiveAssignment(
  db: Executor,
  key: { accountId: string; roleId: string; organisationId: string; now: string },
): Promise<AssignmentRow | undefined> {
  return db
    .selectFrom('role_assignments')
    .selectAll()
    .where('account_id', '=', key.accountId)
    .where('role_id', '=', key.roleId)
    .where('organisation_id', '=', key.organisationId)
    .where('status', 'in', ['active', 'pending_approval'])
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', key.now)]))
    .executeTakeFirst();
}

/** True when the account holds an active, unexpired grant of this role, over any organisation. */
export async function holdsActiveRole(
  db: Executor,
  accountId: string,
  roleId: string,
  now: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('role_assignments')
    .select('id')
    .where('account_id', '=', accountId)
    .where('role_id', '=', roleId)
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Moves an assignment on from the status it was read in; false when a concurrent command moved it
 * first (an approval must not revive a grant revoked meanwhile), and then nothing is written.
 */
export async function updateAssignment(
  db: Executor,
  id: string,
  fromStatus: string,
  patch: Partial<Pick<AssignmentRow, 'status' | 'approved_by' | 'approved_at' | 'revoked_by' | 'revoked_at'>>,
): Promise<boolean> {
  const r = await db
    .updateTable('role_assignments')
    .set(patch)
    .where('id', '=', id)
    .where('status', '=', fromStatus)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export interface AssignmentFilter {
  readonly roots: readonly string[] | null;
  readonly accountId?: string;
  readonly roleId?: string;
  readonly status?: string;
  readonly afterId?: string;
  readonly limit: number;
}

export async function listAssignments(
  db: Executor,
  dialect: Dialect,
  f: AssignmentFilter,
): Promise<AssignmentRow[]> {
  let q = db
    .selectFrom('role_assignments')
    .innerJoin('organisations', 'organisations.id', 'role_assignments.organisation_id')
    .selectAll('role_assignments')
    .where(pathInSubtrees(dialect, 'organisations.path', f.roots))
    .orderBy('role_assignments.id')
    .limit(f.limit);
  if (f.accountId !== undefined) q = q.where('role_assignments.account_id', '=', f.accountId);
  if (f.roleId !== undefined) q = q.where('role_assignments.role_id', '=', f.roleId);
  if (f.status !== undefined) q = q.where('role_assignments.status', '=', f.status);
  if (f.afterId !== undefined) q = q.where('role_assignments.id', '>', f.afterId);
  return q.execute();
}

export interface InventoryRow {
  assignment_id: string;
  account_id: string;
  role_id: string;
  organisation_id: string;
  assignment_status: string;
  granted_by: string | null;
  granted_at: string;
  approved_by: string | null;
  approved_at: string | null;
  expires_at: string | null;
  account_status: string;
  account_organisation_id: string;
  last_seen_at: string | null;
  mfa_strength: string | null;
}

/** Every live or requested grant of a privileged role inside the reader's scope. */
export async function privilegedInventory(
  db: Executor,
  dialect: Dialect,
  f: { roots: readonly string[] | null; afterId?: string; limit: number },
): Promise<InventoryRow[]> {
  let q = db
    .selectFrom('role_assignments as ra')
    .innerJoin('roles as r', 'r.id', 'ra.role_id')
    .innerJoin('accounts as a', 'a.id', 'ra.account_id')
    .innerJoin('organisations as o', 'o.id', 'ra.organisation_id')
    .select([
      'ra.id as assignment_id',
      'ra.account_id',
      'ra.role_id',
      'ra.organisation_id',
      'ra.status as assignment_status',
      'ra.granted_by',
      'ra.granted_at',
      'ra.approved_by',
      'ra.approved_at',
      'ra.expires_at',
      'a.status as account_status',
      'a.organisation_id as account_organisation_id',
      'a.last_seen_at',
      'a.mfa_strength',
    ])
    .where('r.privileged', '=', 1)
    .where('ra.status', 'in', ['active', 'pending_approval'])
    .where(pathInSubtrees(dialect, 'o.path', f.roots))
    .orderBy('ra.id')
    .limit(f.limit);
  if (f.afterId !== undefined) q = q.where('ra.id', '>', f.afterId);
  return q.execute();
}
