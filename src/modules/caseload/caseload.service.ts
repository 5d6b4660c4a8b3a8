import type { CoreDeps } from '../../container.js';
import { conflict, forbidden, invalid, notFound } from '../../shared/errors.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import { keysetPage, type KeysetPage } from '../../shared/keyset-page.js';
import { runCommand } from '../events/command.js';
import type { FollowRelation, SubjectKind } from './caseload.schemas.js';
import {
  findAccountOrganisation,
  findFollow,
  findOrganisationScope,
  insertFollows,
  listFollows,
  setFollowEnd,
  subjectFollowedUnder,
  type FollowRow,
} from './follow.repository.js';
import { allows, holdsOperatorWide, pathsFor, refusalOf } from './scope.js';
import { findSubject, insertSubject, type SubjectRow } from './subject.repository.js';

export type CaseloadDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'>;

export interface Subject {
  readonly id: string;
  readonly kind: string;
  readonly sealed: boolean;
  readonly decoy?: boolean;
  readonly createdAt: string;
}

export interface Follow {
  readonly id: string;
  readonly subjectId: string;
  readonly organisationId: string;
  readonly accountId: string | null;
  readonly relation: string;
  readonly since: string;
  readonly until: string | null;
  readonly active: boolean;
  readonly createdAt: string;
}

const SUBJECT_NOT_FOUND = () => notFound('SUBJECT_NOT_FOUND', 'subject');
const ORGANISATION_NOT_FOUND = () => notFound('ORGANISATION_NOT_FOUND', 'organisation');
const FOLLOW_NOT_FOUND = () => notFound('FOLLOW_NOT_FOUND', 'follow');

/**
 * The decoy flag is shown only to those who may plant decoys (caseload.manage operator-wide): an
 * advisor or a delegated administrator who could tell a honeytoken from a real file would avoid it.
 */
function presentSubject(row: SubjectRow, actor: Actor): Subject {
  return {
    id: row.id,
    kind: row.kind,
    sealed: row.sealed === 1,
    ...(holdsOperatorWide(actor, 'caseload.manage') ? { decoy: row.decoy === 1 } : {}),
    createdAt: row.created_at,
  };
}

function presentFollow(row: FollowRow, now: string): Follow {
  return {
    id: row.id,
    subjectId: row.subject_id,
    organisationId: row.organisation_id,
    accountId: row.account_id,
    relation: row.relation,
    since: row.since,
    until: row.until,
    active: row.since <= now && (row.until === null || row.until > now),
    createdAt: row.created_at,
  };
}

export function createCaseloadService(deps: CaseloadDeps) {
  const nowIso = () => deps.clock.now().toISOString();

  /** A subject exists for the actor when one of the organisations it reads the caseload of follows it. */
  async function visibleSubject(actor: Actor, id: string): Promise<SubjectRow> {
    const row = await findSubject(deps.db, id);
    if (!row) throw SUBJECT_NOT_FOUND();
    const paths = pathsFor(actor, 'caseload.read');
    if (paths !== undefined && !(await subjectFollowedUnder(deps.db, id, paths))) throw SUBJECT_NOT_FOUND();
    return row;
  }

  return {
    /** Registers a data subject by its opaque id. Planting a decoy needs caseload.manage operator-wide. */
    async createSubject(
      actor: Actor,
      input: { id: string; kind: SubjectKind; decoy?: boolean; sealed?: boolean },
    ): Promise<Subject> {
      const target = { type: 'subject', id: input.id };
      return runCommand(
        deps,
        async (ctx) => {
          const { trx, now } = ctx;
          if (input.decoy === true && !holdsOperatorWide(actor, 'caseload.manage')) {
            throw forbidden('DECOY_NOT_ALLOWED', 'only an operator-wide caseload manager may plant a decoy');
          }
          const row: SubjectRow = {
            id: input.id,
            kind: input.kind,
            decoy: input.decoy === true ? 1 : 0,
            sealed: input.sealed === true ? 1 : 0,
            created_at: now.toISOString(),
          };
          if (!(await insertSubject(trx, row)))
            throw conflict('SUBJECT_EXISTS', 'this subject is already registered');
          ctx.emit({
            kind: 'subject.created',
            actor: eventActorOf(actor),
            target,
            outcome: 'success',
            data: { kind: row.kind, decoy: row.decoy === 1, sealed: row.sealed === 1 },
          });
          return presentSubject(row, actor);
        },
        refusalOf(actor, 'subject.created', target),
      );
    },

    async getSubject(actor: Actor, id: string): Promise<Subject> {
      return presentSubject(await visibleSubject(actor, id), actor);
    },

    /** Follows of a subject, restricted to the organisations whose caseload the actor reads. */
    async listFollowsOfSubject(
      actor: Actor,
      subjectId: string,
      page: { limit: number; after?: string; activeOnly?: boolean },
    ): Promise<KeysetPage<Follow>> {
      await visibleSubject(actor, subjectId);
      const now = nowIso();
      const underPaths = pathsFor(actor, 'caseload.read');
      const rows = await listFollows(deps.db, {
        subjectId,
        ...(underPaths ? { underPaths } : {}),
        ...(page.activeOnly ? { activeAt: now } : {}),
        ...(page.after ? { afterId: page.after } : {}),
        limit: page.limit + 1,
      });
      return toPage(rows, page.limit, now);
    },

    /** Follows held by one organisation (not its subtree). */
    async listFollowsOfOrganisation(
      actor: Actor,
      organisationId: string,
      page: { limit: number; after?: string; activeOnly?: boolean },
    ): Promise<KeysetPage<Follow>> {
      const org = await findOrganisationScope(deps.db, organisationId);
      if (!org || !allows(actor, 'caseload.read', org.path)) throw ORGANISATION_NOT_FOUND();
      const now = nowIso();
      const rows = await listFollows(deps.db, {
        organisationId,
        ...(page.activeOnly ? { activeAt: now } : {}),
        ...(page.after ? { afterId: page.after } : {}),
        limit: page.limit + 1,
      });
      return toPage(rows, page.limit, now);
    },

    async getFollow(actor: Actor, id: string): Promise<Follow> {
      const row = await findFollow(deps.db, id);
      if (!row || !allows(actor, 'caseload.read', row.organisation_path)) throw FOLLOW_NOT_FOUND();
      return presentFollow(row, nowIso());
    },

    /** Records that an organisation (or one account's caseload in it) follows a subject. */
    async createFollow(
      actor: Actor,
      input: {
        subjectId: string;
        organisationId: string;
        accountId?: string;
        relation?: FollowRelation;
        since?: string;
        until?: string;
      },
    ): Promise<Follow> {
      return runCommand(
        deps,
        async (ctx) => {
          const { trx, now } = ctx;
          const org = await findOrganisationScope(trx, input.organisationId);
          if (!org || !allows(actor, 'caseload.manage', org.path)) throw ORGANISATION_NOT_FOUND();
          if (org.status !== 'active')
            throw conflict('ORGANISATION_NOT_ACTIVE', 'the organisation is not active');
          if (!(await findSubject(trx, input.subjectId))) throw SUBJECT_NOT_FOUND();
          if (input.accountId !== undefined) {
            const account = await findAccountOrganisation(trx, input.accountId);
            if (!account || account.organisation_id !== org.id)
              throw notFound('ACCOUNT_NOT_FOUND', 'account in this organisation');
          }
          const since = normaliseTime(input.since) ?? now.toISOString();
          const until = normaliseTime(input.until) ?? null;
          if (until !== null && until <= since)
            throw invalid('FOLLOW_INVALID_PERIOD', 'until must be later than since');
          const row: FollowRow = {
            id: deps.ids.next(),
            subject_id: input.subjectId,
            organisation_id: org.id,
            account_id: input.accountId ?? null,
            relation: input.relation ?? 'follows',
            since,
            until,
            created_at: now.toISOString(),
          };
          const [inserted] = await insertFollows(trx, [row]);
          if (inserted === undefined)
            throw conflict('FOLLOW_EXISTS', 'this organisation already follows this subject');
          ctx.emit({
            kind: 'follow.created',
            actor: eventActorOf(actor),
            target: { type: 'follow', id: row.id },
            organisationId: org.id,
            outcome: 'success',
            data: {
              subjectId: row.subject_id,
              accountId: row.account_id,
              relation: row.relation,
              since: row.since,
              until: row.until,
            },
          });
          return presentFollow(row, now.toISOString());
        },
        refusalOf(actor, 'follow.created', { type: 'subject', id: input.subjectId }),
      );
    },

    /** Ends a follow now (or at `until`); who may see the subject changes with it. */
    async endFollow(actor: Actor, id: string, input: { until?: string } = {}): Promise<Follow> {
      return runCommand(
        deps,
        async (ctx) => {
          const { trx, now } = ctx;
          const row = await findFollow(trx, id);
          if (!row || !allows(actor, 'caseload.manage', row.organisation_path)) throw FOLLOW_NOT_FOUND();
          const nowText = now.toISOString();
          if (row.until !== null && row.until <= nowText)
            throw conflict('FOLLOW_ALREADY_ENDED', 'this follow has already ended');
          const until = normaliseTime(input.until) ?? nowText;
          if (until <= row.since) throw invalid('FOLLOW_INVALID_PERIOD', 'until must be later than since');
          await setFollowEnd(trx, row.id, until);
          ctx.emit({
            kind: 'follow.ended',
            actor: eventActorOf(actor),
            target: { type: 'follow', id: row.id },
            organisationId: row.organisation_id,
            outcome: 'success',
            data: { subjectId: row.subject_id, accountId: row.account_id, relation: row.relation, until },
          });
          return presentFollow({ ...row, until }, nowText);
        },
        refusalOf(actor, 'follow.ended', { type: 'follow', id }),
      );
    },
  };
}

export type CaseloadService = ReturnType<typeof createCaseloadService>;

/** Stores times in one ISO form so that text comparison orders them. */
function normaliseTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid('INVALID_TIME', 'not a valid date-time');
  return new Date(ms).toISOString();
}

function toPage(rows: FollowRow[], limit: number, now: string): KeysetPage<Follow> {
  return keysetPage(rows, limit, (r) => presentFollow(r, now));
}
