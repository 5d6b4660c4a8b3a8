import type { Db } from '../../db/database.js';
import type { VigieEvent } from '../../shared/event.js';
import {
  findAccount,
  findApplication,
  findAssignmentsOf,
  findFollowSubject,
  findFollowsOf,
  findOrganisation,
  findSubject,
  listActiveControls,
  listLiveApprovals,
  loadAccounts,
  loadApplications,
  loadAssignments,
  loadFollows,
  loadOrganisations,
  loadSubjects,
  type AccountRow,
  type AssignmentRow,
  type FollowRow,
} from './access.repository.js';
import { AccessView, type RoleFact } from './access.view.js';
import {
  FollowIndex,
  RELATION_ENROLLED,
  RELATION_FOLLOWS,
  toMinute,
  type FollowInput,
} from './follow.index.js';

/*
 * Loading the view from the database at start, and keeping it in step with the event bus: an
 * identity or caseload event reloads the one entity it touched; a bulk `*.imported` event reloads
 * the whole table it concerns (built aside, then swapped in, so decisions never see half a table).
 */

const msOf = (iso: string | null): number => (iso === null ? Infinity : Date.parse(iso));

function roleFact(r: AssignmentRow): RoleFact {
  return { roleId: r.role_id, organisationId: r.organisation_id, expiresAtMs: msOf(r.expires_at) };
}

function putAccount(view: AccessView, a: AccountRow, roles: RoleFact[]): void {
  view.putAccount({
    id: a.id,
    organisationId: a.organisation_id,
    active: a.status === 'active',
    kind: a.kind,
    roles,
    approvedAtMs: Date.parse(a.approved_at ?? a.created_at),
  });
}

function followInput(view: AccessView, f: FollowRow): FollowInput {
  return {
    organisation: view.orgIds.intern(f.organisation_id),
    account: f.account_id === null ? -1 : view.accountIds.intern(f.account_id),
    relation: f.relation === 'enrolled' ? RELATION_ENROLLED : RELATION_FOLLOWS,
    untilMinute: f.until === null ? 0 : toMinute(Date.parse(f.until)),
  };
}

async function loadAllAccounts(db: Db, view: AccessView, now: string): Promise<void> {
  const roles = new Map<string, RoleFact[]>();
  await loadAssignments(db, now, (rows) => {
    for (const r of rows) {
      const list = roles.get(r.account_id);
      if (list) list.push(roleFact(r));
      else roles.set(r.account_id, [roleFact(r)]);
    }
  });
  await loadAccounts(db, (rows) => {
    for (const a of rows) putAccount(view, a, roles.get(a.id) ?? []);
  });
}

async function loadAllFollows(db: Db, view: AccessView, now: string): Promise<FollowIndex> {
  const index = new FollowIndex();
  await loadSubjects(db, (rows) => {
    for (const s of rows) index.upsertRecord(s.id, s.decoy === 1, s.sealed === 1);
  });
  await loadFollows(db, now, (rows) => {
    for (const f of rows) {
      const r = index.recordOf(f.subject_id);
      index.addFollow(r >= 0 ? r : index.upsertRecord(f.subject_id, false, false), followInput(view, f));
    }
  });
  return index;
}

async function loadControls(db: Db, view: AccessView, now: string): Promise<void> {
  for (const c of await listActiveControls(db)) {
    if (c.kind === 'freeze') view.frozen.add(`${c.target_type}:${c.target_id}`);
    else if (c.kind === 'step_up') view.stepUp.set(c.target_id, Date.parse(c.created_at));
  }
  for (const a of await listLiveApprovals(db, now)) {
    view.approvals.set(a.token_hash, {
      id: a.id,
      requesterAccountId: a.requester_account_id,
      maxRecords: a.max_records,
      expiresAtMs: Date.parse(a.expires_at),
      usedAtMs: undefined,
    });
  }
}

/** Builds the whole view from the database. */
export async function loadView(db: Db, nowMs: number): Promise<AccessView> {
  const view = new AccessView();
  const now = new Date(nowMs).toISOString();
  await loadOrganisations(db, (rows) => {
    for (const o of rows)
      view.putOrganisation({ id: o.id, active: o.status === 'active', kind: o.kind, path: o.path });
  });
  await loadAllAccounts(db, view, now);
  await loadApplications(db, (rows) => {
    for (const a of rows)
      view.putApplication({
        id: a.id,
        organisationId: a.organisation_id,
        active: a.status === 'active',
        kind: a.kind,
      });
  });
  view.follows = await loadAllFollows(db, view, now);
  await loadControls(db, view, now);
  return view;
}

async function reloadOrganisation(db: Db, view: AccessView, id: string): Promise<void> {
  const o = await findOrganisation(db, id);
  if (o) view.putOrganisation({ id: o.id, active: o.status === 'active', kind: o.kind, path: o.path });
  else view.organisations.delete(id);
}

async function reloadAccount(db: Db, view: AccessView, id: string, now: string): Promise<void> {
  const a = await findAccount(db, id);
  if (!a) {
    view.accounts.delete(id);
    return;
  }
  putAccount(view, a, (await findAssignmentsOf(db, id, now)).map(roleFact));
}

async function reloadApplication(db: Db, view: AccessView, id: string): Promise<void> {
  const a = await findApplication(db, id);
  if (a)
    view.putApplication({
      id: a.id,
      organisationId: a.organisation_id,
      active: a.status === 'active',
      kind: a.kind,
    });
  else view.applications.delete(id);
}

async function reloadSubject(db: Db, view: AccessView, subjectId: string, now: string): Promise<void> {
  const s = await findSubject(db, subjectId);
  const follows = await findFollowsOf(db, subjectId, now);
  const r = view.follows.upsertRecord(subjectId, s?.decoy === 1, s?.sealed === 1);
  view.follows.replaceFollows(
    r,
    follows.map((f) => followInput(view, f)),
  );
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= 200 ? v : undefined);

/**
 * Applies one committed event to the view: reloads what it touched. Unknown kinds are ignored.
 * `reloadAll` rebuilds the whole view (after an import of organisations or accounts).
 */
export async function applyEvent(
  db: Db,
  view: AccessView,
  event: VigieEvent,
  nowMs: number,
  reloadAll: () => Promise<void>,
): Promise<void> {
  const now = new Date(nowMs).toISOString();
  const [family, verb] = event.kind.split('.', 2) as [string, string | undefined];
  const target = event.target;
  const data = event.data ?? {};
  if (verb === 'imported') {
    if (family === 'follow' || family === 'subject') view.follows = await loadAllFollows(db, view, now);
    else if (
      family === 'account' ||
      family === 'organisation' ||
      family === 'role' ||
      family === 'application'
    )
      await reloadAll();
    return;
  }
  switch (family) {
    case 'organisation':
      if (target?.type === 'organisation') await reloadOrganisation(db, view, target.id);
      return;
    case 'account':
    case 'role': {
      const id = target?.type === 'account' ? target.id : str(data.accountId);
      if (id) await reloadAccount(db, view, id, now);
      else if (family === 'role') await reloadAll();
      for (const extra of Array.isArray(data.accountIds) ? data.accountIds : []) {
        if (typeof extra === 'string') await reloadAccount(db, view, extra, now);
      }
      return;
    }
    case 'application':
      if (target?.type === 'application') await reloadApplication(db, view, target.id);
      return;
    case 'subject':
      if (target) await reloadSubject(db, view, target.id, now);
      return;
    case 'follow': {
      const subjectId =
        str(data.subjectId) ??
        (target?.type === 'follow' ? await findFollowSubject(db, target.id) : undefined);
      if (subjectId) await reloadSubject(db, view, subjectId, now);
      return;
    }
    default:
      return;
  }
}
