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

/**
 * The seq from which the newest `limit` events since `since` start: the journal walked down from
 * its end on the primary key (one short index scan on a busy month), or its first event since then
 * when it holds fewer.
 */
export async function oldestReplayedSeq(
  db: Executor,
  since: string,
  limit: number,
): Promise<number | undefined> {
  const nth = await db
    .selectFrom('events')
    .select('seq')
    .where('time', '>=', since)
    .orderBy('seq', 'desc')
    .offset(limit - 1)
    .limit(1)
    .executeTakeFirst();
  if (nth) return Number(nth.seq);
  const first = await db
    .selectFrom('events')
    .select((eb) => eb.fn.min('seq').as('seq'))
    .where('time', '>=', since)
    .executeTakeFirst();
  return first?.seq === null || first?.seq === undefined ? undefined : Number(first.seq);
}

/** One page of events since `since` after `afterSeq`, in commit order, for the warm start. */
export function replayPage(db: Executor, since: string, afterSeq: number, limit: number) {
  return db
    .selectFrom('events')
    .select(['seq', 'payload'])
    .where('seq', '>', afterSeq)
    .where('time', '>=', since)
    .orderBy('seq')
    .limit(limit)
    .execute();
}
