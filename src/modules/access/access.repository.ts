import type { CompiledQuery } from 'kysely';
import { compileBulkInsert, type BulkColumn } from '../../db/bulk-insert.js';
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

/** Visits a table in keyset pages by id; `fetch` reads the page after the given id (or the first). */
async function eachPage<T extends { id: string }>(
  fetch: (after: string | undefined) => Promise<T[]>,
  visit: (rows: T[]) => void,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length === 0) return;
    visit(rows);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

const ORGANISATION_COLUMNS = ['id', 'status', 'kind', 'path'] as const;
const ACCOUNT_COLUMNS = ['id', 'organisation_id', 'status', 'kind', 'approved_at', 'created_at'] as const;
const ASSIGNMENT_COLUMNS = ['id', 'account_id', 'role_id', 'organisation_id', 'expires_at'] as const;
const APPLICATION_COLUMNS = ['id', 'organisation_id', 'status', 'kind'] as const;
const SUBJECT_COLUMNS = ['id', 'decoy', 'sealed'] as const;
const FOLLOW_COLUMNS = ['id', 'subject_id', 'organisation_id', 'account_id', 'relation', 'until'] as const;

export type OrganisationRow = Pick<OrganisationTable, (typeof ORGANISATION_COLUMNS)[number]>;
export type AccountRow = Pick<AccountTable, (typeof ACCOUNT_COLUMNS)[number]>;
export type ApplicationRow = Pick<ApplicationTable, (typeof APPLICATION_COLUMNS)[number]>;
export type FollowRow = Pick<FollowTable, (typeof FOLLOW_COLUMNS)[number]>;
export interface AssignmentRow {
  id: string;
  account_id: string;
  role_id: string;
  organisation_id: string;
  expires_at: string | null;
}
type SubjectRow = { id: string; decoy: number; sealed: number };

export function loadOrganisations(db: Executor, visit: (rows: OrganisationRow[]) => void): Promise<void> {
  return eachPage(
    (after) =>
      db
        .selectFrom('organisations')
        .select(ORGANISATION_COLUMNS)
        .$if(after !== undefined, (q) => q.where('id', '>', after!))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    visit,
  );
}

export function loadAccounts(db: Executor, visit: (rows: AccountRow[]) => void): Promise<void> {
  return eachPage(
    (after) =>
      db
        .selectFrom('accounts')
        .select(ACCOUNT_COLUMNS)
        .$if(after !== undefined, (q) => q.where('id', '>', after!))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
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
    (after) =>
      db
        .selectFrom('role_assignments')
        .select(ASSIGNMENT_COLUMNS)
        .where('status', '=', 'active')
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .$if(after !== undefined, (q) => q.where('id', '>', after!))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    visit,
  );
}

export function loadApplications(db: Executor, visit: (rows: ApplicationRow[]) => void): Promise<void> {
  return eachPage(
    (after) =>
      db
        .selectFrom('applications')
        .select(APPLICATION_COLUMNS)
        .$if(after !== undefined, (q) => q.where('id', '>', after!))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    visit,
  );
}

export function loadSubjects(db: Executor, visit: (rows: SubjectRow[]) => void): Promise<void> {
  return eachPage(
    (after) =>
      db
        .selectFrom('data_subjects')
        .select(SUBJECT_COLUMNS)
        .$if(after !== undefined, (q) => q.where('id', '>', after!))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    visit,
  );
}

/** Follow relations that still hold at `now` (ended ones can never allow anything again). */
export function loadFollows(db: Executor, now: string, visit: (rows: FollowRow[]) => void): Promise<void> {
  return eachPage(
    (after) =>
      db
        .selectFrom('follows')
        .select(FOLLOW_COLUMNS)
        .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', now)]))
        .$if(after !== undefined, (q) => q.where('id', '>', after!))
        .orderBy('id')
        .limit(PAGE)
        .execute(),
    visit,
  );
}

export async function findOrganisation(db: Executor, id: string): Promise<OrganisationRow | undefined> {
  return db.selectFrom('organisations').select(ORGANISATION_COLUMNS).where('id', '=', id).executeTakeFirst();
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
    .select(ASSIGNMENT_COLUMNS)
    .where('account_id', '=', accountId)
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
}

export async function findApplication(db: Executor, id: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').select(APPLICATION_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function findSubject(db: Executor, id: string): Promise<SubjectRow | undefined> {
  return db.selectFrom('data_subjects').select(SUBJECT_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function findFollowsOf(db: Executor, subjectId: string, now: string): Promise<FollowRow[]> {
  return db
    .selectFrom('follows')
    .select(FOLLOW_COLUMNS)
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
  for (const q of compileInsertDisclosures(db, rows)) await db.executeQuery(q);
}

const DISCLOSURE_COLUMNS: ReadonlyArray<BulkColumn<AccessDisclosureTable>> = [
  { name: 'event_id', pgType: 'text', value: (r) => r.event_id },
  { name: 'time', pgType: 'text', value: (r) => r.time },
  { name: 'record_id', pgType: 'text', value: (r) => r.record_id },
  { name: 'account_id', pgType: 'text', value: (r) => r.account_id },
  { name: 'organisation_id', pgType: 'text', value: (r) => r.organisation_id },
  { name: 'application_id', pgType: 'text', value: (r) => r.application_id },
  { name: 'break_glass', pgType: 'integer', value: (r) => r.break_glass },
  { name: 'justification', pgType: 'text', value: (r) => r.justification },
];

/** The statements of insertDisclosures, compiled: for writeAtomically (the decision recorder's batches). */
export function compileInsertDisclosures(
  db: Executor,
  rows: readonly AccessDisclosureTable[],
): CompiledQuery[] {
  return compileBulkInsert(db, 'access_disclosures', DISCLOSURE_COLUMNS, rows);
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

/** The statements of markApprovalsUsed, compiled: for writeAtomically. */
export function compileMarkApprovalsUsed(
  db: Executor,
  used: ReadonlyArray<{ id: string; at: string }>,
): CompiledQuery[] {
  return used.map((u) =>
    db
      .updateTable('access_export_approvals')
      .set({ used_at: u.at })
      .where('id', '=', u.id)
      .where('used_at', 'is', null)
      .compile(),
  );
}

export async function markApprovalsUsed(
  db: Executor,
  used: ReadonlyArray<{ id: string; at: string }>,
): Promise<void> {
  for (const q of compileMarkApprovalsUsed(db, used)) await db.executeQuery(q);
}
