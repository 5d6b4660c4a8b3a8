import type { AccountTable } from '../../db/schema.js';
import type { IdGenerator } from '../../shared/ids.js';
import { ACCOUNT_KINDS, newAccountRow } from '../identity/account.model.js';
import { canonicalEmail } from '../identity/email.js';
import { normaliseSiret } from '../identity/siret.js';
import { LineRejected, oneOf, requiredText, text, uuid } from './field.reader.js';
import { insertSlices, type Importer } from './importer.js';

const COLUMNS = 16;

/**
 * Accounts from a file: `email` and `organisationId` (or `organisationSiret`) required; `kind`
 * (human | service) and `displayName` optional. E-mails are canonicalised like every other account's
 * and must be unique, in the file and in the database: a duplicate is a rejected line.
 *
 * Imported accounts are `active`, with channel `import` and no creator: the import is the operator's
 * own bulk provisioning, run from the CLI on the server by someone holding its filesystem and
 * database, which is more than any platform administrator holds through the API. Four-eyes guards
 * what delegated administrators create; it has no second operator to ask here. Each committed batch
 * is journaled (`account.imported`) with its ids, so the provisioning is on the record.
 */
export function createAccountImporter(ids: IdGenerator): Importer<AccountTable> {
  const organisations = new Map<string, string>();
  const bySiret = new Map<string, string>();
  const emails = new Set<string>();

  return {
    kind: 'accounts',
    eventKind: 'account.imported',
    shape: {
      allowed: ['email', 'organisationId', 'organisationSiret', 'kind', 'displayName'],
      required: ['email'],
    },

    async prepare(db) {
      for (const o of await db.selectFrom('organisations').select(['id', 'status', 'siret']).execute()) {
        organisations.set(o.id, o.status);
        if (o.siret !== null) bySiret.set(o.siret, o.id);
      }
      for (const a of await db.selectFrom('accounts').select('email').execute()) emails.add(a.email);
    },

    validate(fields, now) {
      const raw = requiredText(fields, 'email', { max: 320 });
      const email = canonicalEmail(raw);
      if (email === undefined) throw new LineRejected('INVALID_EMAIL', 'email: not a valid address');
      const organisationId = resolveOrganisation(fields, bySiret);
      const status = organisations.get(organisationId);
      if (status === undefined) throw new LineRejected('ORGANISATION_NOT_FOUND', 'no such organisation');
      if (status !== 'active')
        throw new LineRejected('ORGANISATION_NOT_ACTIVE', 'the organisation is not active');
      const kind = oneOf(fields, 'kind', ACCOUNT_KINDS, 'human');
      const displayName = text(fields, 'displayName', { max: 200 }) ?? null;
      if (emails.has(email))
        throw new LineRejected('EMAIL_TAKEN', 'email: an account already uses this address');
      emails.add(email);
      return newAccountRow(
        {
          id: ids.next(),
          organisation_id: organisationId,
          kind,
          email,
          display_name: displayName,
          status: 'active',
          created_by: null,
          approved_at: null,
          creation_channel: 'import',
          status_reason: 'imported',
        },
        now,
      );
    },

    async write(trx, rows) {
      for (const slice of insertSlices(rows, COLUMNS))
        await trx.insertInto('accounts').values(slice).execute();
      return { insertedIds: rows.map((r) => r.row.id), unchanged: 0 };
    },

    committed() {},
    discarded(rows) {
      for (const r of rows) emails.delete(r.row.email);
    },
  };
}

/** `organisationId`, or `organisationSiret` when the file names structures by SIRET; not both. */
function resolveOrganisation(
  fields: Readonly<Record<string, unknown>>,
  bySiret: Map<string, string>,
): string {
  const id = uuid(fields, 'organisationId');
  const siretText = text(fields, 'organisationSiret', { max: 20 });
  if (id !== undefined && siretText !== undefined)
    throw new LineRejected('AMBIGUOUS_ORGANISATION', 'give organisationId or organisationSiret, not both');
  if (id !== undefined) return id;
  if (siretText === undefined)
    throw new LineRejected('MISSING_FIELD', 'organisationId or organisationSiret is required');
  const siret = normaliseSiret(siretText);
  if (siret === undefined) throw new LineRejected('INVALID_SIRET', 'organisationSiret: not a valid SIRET');
  const found = bySiret.get(siret);
  if (found === undefined)
    throw new LineRejected('ORGANISATION_NOT_FOUND', 'organisationSiret: no such organisation');
  return found;
}
