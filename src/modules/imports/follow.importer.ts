import type { IdGenerator } from '../../shared/ids.js';
import { FOLLOW_RELATIONS, SUBJECT_KINDS } from '../caseload/caseload.schemas.js';
import { insertFollows, type FollowRow } from '../caseload/follow.repository.js';
import { insertMissingSubjects, type SubjectRow } from '../caseload/subject.repository.js';
import { instant, LineRejected, oneOf, requiredText, uuid } from './field.reader.js';
import type { Importer } from './importer.js';

const SUBJECT_ID = /^[A-Za-z0-9._:-]{1,64}$/;

interface FollowImportRow {
  readonly follow: FollowRow;
  readonly subjectKind: string;
}

/**
 * Follows from a file: `subjectId`, `organisationId` required; `subjectKind`, `accountId`,
 * `relation`, `since`, `until` optional. A subject is created when absent (an existing one is left
 * as it is); the organisation must exist and be active; an account, when given, must belong to it.
 */
export function createFollowImporter(ids: IdGenerator): Importer<FollowImportRow> {
  const organisations = new Map<string, string>();
  const accounts = new Map<string, string>();

  return {
    kind: 'follows',
    eventKind: 'follow.imported',
    shape: {
      allowed: ['subjectId', 'subjectKind', 'organisationId', 'accountId', 'relation', 'since', 'until'],
      required: ['subjectId', 'organisationId'],
    },

    async prepare(db) {
      for (const o of await db.selectFrom('organisations').select(['id', 'status']).execute())
        organisations.set(o.id, o.status);
      for (const a of await db.selectFrom('accounts').select(['id', 'organisation_id']).execute())
        accounts.set(a.id, a.organisation_id);
    },

    validate(fields, now) {
      const subjectId = requiredText(fields, 'subjectId', {
        max: 64,
        pattern: SUBJECT_ID,
        hint: 'expected 1 to 64 characters among A-Z a-z 0-9 . _ : -',
      });
      const subjectKind = oneOf(fields, 'subjectKind', SUBJECT_KINDS, 'job_seeker');
      const organisationId = uuid(fields, 'organisationId', true);
      const status = organisations.get(organisationId);
      if (status === undefined)
        throw new LineRejected('ORGANISATION_NOT_FOUND', 'organisationId: no such organisation');
      if (status !== 'active')
        throw new LineRejected('ORGANISATION_NOT_ACTIVE', 'organisationId: the organisation is not active');
      const accountId = uuid(fields, 'accountId');
      if (accountId !== undefined && accounts.get(accountId) !== organisationId)
        throw new LineRejected('ACCOUNT_NOT_FOUND', 'accountId: no such account in this organisation');
      const relation = oneOf(fields, 'relation', FOLLOW_RELATIONS, 'follows');
      const since = instant(fields, 'since') ?? now;
      const until = instant(fields, 'until') ?? null;
      if (until !== null && until <= since)
        throw new LineRejected('INVALID_PERIOD', 'until must be later than since');
      return {
        subjectKind,
        follow: {
          id: ids.next(),
          subject_id: subjectId,
          organisation_id: organisationId,
          account_id: accountId ?? null,
          relation,
          since,
          until,
          created_at: now,
        },
      };
    },

    async write(trx, rows) {
      const subjects = new Map<string, SubjectRow>();
      for (const { row } of rows) {
        const id = row.follow.subject_id;
        if (!subjects.has(id))
          subjects.set(id, {
            id,
            kind: row.subjectKind,
            decoy: 0,
            sealed: 0,
            created_at: row.follow.created_at,
          });
      }
      const subjectsCreated = await insertMissingSubjects(trx, [...subjects.values()]);
      const insertedIds = await insertFollows(
        trx,
        rows.map((r) => r.row.follow),
      );
      return { insertedIds, unchanged: rows.length - insertedIds.length, counts: { subjectsCreated } };
    },

    committed() {},
    discarded() {},
  };
}
