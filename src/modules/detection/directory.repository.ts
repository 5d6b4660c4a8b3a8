import type { Executor } from '../../db/database.js';

/** What the detection engine needs to know about accounts, organisations and decoys at start. */
export interface DirectorySnapshot {
  readonly organisations: Array<{ id: string; path: string; kind: string }>;
  readonly accounts: Array<{
    id: string;
    organisationId: string;
    createdBy: string | null;
    createdAt: string;
    lastSeenAt: string | null;
  }>;
  readonly grants: Array<{ accountId: string; roleId: string; privileged: boolean }>;
  readonly privilegedRoles: string[];
  readonly decoys: string[];
}

export async function loadDirectorySnapshot(db: Executor): Promise<DirectorySnapshot> {
  const [organisations, accounts, grants, roles, decoys] = await Promise.all([
    db.selectFrom('organisations').select(['id', 'path', 'kind']).execute(),
    db
      .selectFrom('accounts')
      .select(['id', 'organisation_id', 'created_by', 'created_at', 'last_seen_at'])
      .execute(),
    db
      .selectFrom('role_assignments')
      .innerJoin('roles', 'roles.id', 'role_assignments.role_id')
      .select(['role_assignments.account_id', 'role_assignments.role_id', 'roles.privileged'])
      .where('role_assignments.status', '=', 'active')
      .execute(),
    db.selectFrom('roles').select(['id', 'privileged']).execute(),
    db.selectFrom('data_subjects').select('id').where('decoy', '=', 1).execute(),
  ]);
  return {
    organisations,
    accounts: accounts.map((a) => ({
      id: a.id,
      organisationId: a.organisation_id,
      createdBy: a.created_by,
      createdAt: a.created_at,
      lastSeenAt: a.last_seen_at,
    })),
    grants: grants.map((g) => ({
      accountId: g.account_id,
      roleId: g.role_id,
      privileged: g.privileged === 1,
    })),
    privilegedRoles: roles.filter((r) => r.privileged === 1).map((r) => r.id),
    decoys: decoys.map((d) => d.id),
  };
}
