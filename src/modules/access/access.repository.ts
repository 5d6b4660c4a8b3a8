import type { Executor } from '../../db/database.js';
import type {
  AccessControlTable,
  AccessDisclosureTable,
  AccessExportApprovalTable,
  AccountTable,
  ApplicationTable,
  FollowTable,
  OrganisationTable,
} from '../../db/schema.js';

/*
 * The only SQL of the access module. Bulk loads go in keyset pages so that 1.6 M follow rows never
 * sit in memory as row objects all at once: each page is folded into the typed arrays and dropped.
 */

const PAGE = 5000;
const INSERT_CHUNK = 400;

async function eachPage<T>(
  fetch: (after: string | undefined) => Promise<T[]>,
  keyOf: (row: T) => string,
  visit: (rows: T[]) => void,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length === 0) return;
    visit(rows);
    if (rows.length < PAGE) return;
    after = keyOf(rows[rows.length - 1]!);
  }
}

export type OrganisationRow = Pick<OrganisationTable, 'id' | 'status' | 'kind' | 'path'>;
export type AccountRow = Pick<
  AccountTable,
  'id' | 'organisation_id' | 'status' | 'kind' | 'approved_at' | 'created_at'
>;
export type ApplicationRow = Pick<ApplicationTable, 'id' | 'organisation_id' | 'status' | 'kind'>;
export type FollowRow = Pick<
  FollowTable,
  'id' | 'subject_id' | 'organisation_id' | 'account_id' | 'relation' | 'until'
>;
export interface AssignmentRow {
  id: string;
  account_id: string;
  role_id: string;
  organisation_id: string;
  expires_at: string | null;
}

export function loadOrganisations(db: Executor, visit: (rows: OrganisationRow[]) => void): Promise<void> {
  return eachPage(
    (after) => {
      let q = db
        .selectFrom('organisations')
        .select(['id', 'status', 'kind', 'path'])
        .orderBy('id')
        .limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      return q.execute();
    },
    (r) => r.id,
    visit,
  );
}

const ACCOUNT_COLUMNS = ['id', 'organisation_id', 'status', 'kind', 'approved_at', 'created_at'] as const;

export function loadAccounts(db: Executor, visit: (rows: AccountRow[]) => void): Promise<void> {
  return eachPage(
    (after) => {
      let q = db.selectFrom('accounts').select(ACCOUNT_COLUMNS).orderBy('id').limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      return q.execute();
    },
    (r) => r.id,
    visit,
  );
}

/** Live role assignments (active, not expired at `now`). */
export function loadAssignments(
  db: Executor,
  now: string,
  visit: (rows: AssignmentRow[]) => void,
): Promise<void> {
  return eachPage(
    (after) => {
      let q = db
        .selectFrom('role_assignments')
        .select(['id', 'account_id', 'role_id', 'organisation_id', 'expires_at'])
        .where('status', '=', 'active')
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .orderBy('id')
        .limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      return q.execute();
    },
    (r) => r.id,
    visit,
  );
}

export function loadApplications(db: Executor, visit: (rows: ApplicationRow[]) => void): Promise<void> {
  return eachPage(
    (after) => {
      let q = db
        .selectFrom('applications')
        .select(['id', 'organisation_id', 'status', 'kind'])
        .orderBy('id')
        .limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      return q.execute();
    },
    (r) => r.id,
    visit,
  );
}

export function loadSubjects(
  db: Executor,
  visit: (rows: Array<{ id: string; decoy: number; sealed: number }>) => void,
): Promise<void> {
  return eachPage(
    (after) => {
      let q = db.selectFrom('data_subjects').select(['id', 'decoy', 'sealed']).orderBy('id').limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      return q.execute();
    },
    (r) => r.id,
    visit,
  );
}

/** Follow relations that still hold at `now` (ended ones can never allow anything again). */
export function loadFollows(db: Executor, now: string, visit: (rows: FollowRow[]) => void): Promise<void> {
  return eachPage(
    (after) => {
      let q = db
        .selectFrom('follows')
        .select(['id', 'subject_id', 'organisation_id', 'account_id', 'relation', 'until'])
        .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', now)]))
        .orderBy('id')
        .limit(PAGE);
      if (after !== undefined) q = q.where('id', '>', after);
      return q.execute();
    },
    (r) => r.id,
    visit,
  );
}

export async function findOrganisation(db: Executor, id: string): Promise<OrganisationRow | undefined> {
  return db
    .selectFrom('organisations')
    .select(['id', 'status', 'kind', 'path'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findAccount(db: Executor, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').select(ACCOUNT_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function findAssignmentsOf(
  db: Executor,
  accountId: string,
  now: string,
): Promise<AssignmentRow[]> {
  return db
    .selectFrom('role_assignments')
    .select(['id', 'account_id', 'role_id', 'organisation_id', 'expires_at'])
    .where('account_id', '=', accountId)
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
}

export async function findApplication(db: Executor, id: string): Promise<ApplicationRow | undefined> {
  return db
    .selectFrom('applications')
    .select(['id', 'organisation_id', 'status', 'kind'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findSubject(
  db: Executor,
  id: string,
): Promise<{ id: string; decoy: number; sealed: number } | undefined> {
  return db
    .selectFrom('data_subjects')
    .select(['id', 'decoy', 'sealed'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function findFollowsOf(db: Executor, subjectId: string, now: string): Promise<FollowRow[]> {
  return db
    .selectFrom('follows')
    .select(['id', 'subject_id', 'organisation_id', 'account_id', 'relation', 'until'])
    .where('subject_id', '=', subjectId)
    .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', now)]))
    .execute();
}

export async function findFollowSubject(db: Executor, followId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('follows')
    .select('subject_id')
    .where('id', '=', followId)
    .executeTakeFirst();
  return row?.subject_id;
}

export async function insertDisclosures(db: Executor, rows: readonly AccessDisclosureTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db
      .insertInto('access_disclosures')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .execute();
  }
}

/** Disclosures at or after `since`, oldest first, in pages (to rebuild budget windows). */
export async function loadDisclosuresSince(
  db: Executor,
  since: string,
  visit: (rows: AccessDisclosureTable[]) => void,
): Promise<void> {
  let after: { time: string; id: string } | undefined;
  for (;;) {
    let q = db
      .selectFrom('access_disclosures')
      .selectAll()
      .where('time', '>=', since)
      .orderBy('time')
      .orderBy('event_id')
      .limit(PAGE);
    if (after) {
      const a = after;
      q = q.where((eb) =>
        eb.or([eb('time', '>', a.time), eb.and([eb('time', '=', a.time), eb('event_id', '>', a.id)])]),
      );
    }
    const rows = await q.execute();
    if (rows.length === 0) return;
    visit(rows);
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = { time: last.time, id: last.event_id };
  }
}

export async function listActiveControls(db: Executor): Promise<AccessControlTable[]> {
  return db.selectFrom('access_controls').selectAll().where('cleared_at', 'is', null).execute();
}

export async function findActiveControl(
  db: Executor,
  kind: string,
  targetType: string,
  targetId: string,
): Promise<AccessControlTable | undefined> {
  return db
    .selectFrom('access_controls')
    .selectAll()
    .where('kind', '=', kind)
    .where('target_type', '=', targetType)
    .where('target_id', '=', targetId)
    .where('cleared_at', 'is', null)
    .executeTakeFirst();
}

export async function insertControl(db: Executor, row: AccessControlTable): Promise<void> {
  await db.insertInto('access_controls').values(row).execute();
}

export async function clearControl(db: Executor, id: string, by: string, at: string): Promise<void> {
  await db
    .updateTable('access_controls')
    .set({ cleared_by: by, cleared_at: at })
    .where('id', '=', id)
    .execute();
}

export async function insertApproval(db: Executor, row: AccessExportApprovalTable): Promise<void> {
  await db.insertInto('access_export_approvals').values(row).execute();
}

export async function listLiveApprovals(db: Executor, now: string): Promise<AccessExportApprovalTable[]> {
  return db
    .selectFrom('access_export_approvals')
    .selectAll()
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .execute();
}

export async function markApprovalsUsed(
  db: Executor,
  used: ReadonlyArray<{ id: string; at: string }>,
): Promise<void> {
  for (const u of used) {
    await db
      .updateTable('access_export_approvals')
      .set({ used_at: u.at })
      .where('id', '=', u.id)
      .where('used_at', 'is', null)
      .execute();
  }
}
