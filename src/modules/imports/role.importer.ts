import type { RoleAssignmentTable } from '../../db/schema.js';
import type { IdGenerator } from '../../shared/ids.js';
import { canonicalEmail } from '../identity/email.js';
import { instant, LineRejected, requiredText, text, uuid } from './field.reader.js';
import { insertSlices, type Importer } from './importer.js';

const COLUMNS = 12;

interface AccountFacts {
  readonly organisationId: string;
  readonly status: string;
}

interface OrganisationFacts {
  readonly path: string;
  readonly status: string;
}

const key = (accountId: string, roleId: string, organisationId: string) =>
  `${accountId} ${roleId} ${organisationId}`;

/**
 * Role assignments from a file: `roleId` and one of `accountId` / `email` required;
 * `organisationId` (default: the account's own organisation) and `expiresAt` optional. Only roles
 * that are not privileged: a privileged grant takes a second administrator's approval, which an
 * import has nobody to ask, so it stays on the API (four-eyes). The organisation must be the
 * account's own or one below it: a line cannot hand an advisor a role over someone else's structure.
 *
 * Imported assignments are `active` with no granter, like imported accounts (the operator's own
 * provisioning, journaled per batch as `role.imported` with its ids). A live assignment of the same
 * role over the same organisation is left as it is and counted as already present, so a file can be
 * imported again safely.
 */
export function createRoleImporter(ids: IdGenerator): Importer<RoleAssignmentTable> {
  const accounts = new Map<string, AccountFacts>();
  const byEmail = new Map<string, string>();
  const organisations = new Map<string, OrganisationFacts>();
  const roles = new Map<string, boolean>();
  /** Live assignments by account, role and organisation, with their expiry. */
  const live = new Map<string, string | null>();
  const isLive = (k: string, at: string) => {
    if (!live.has(k)) return false;
    const expiresAt = live.get(k)!;
    return expiresAt === null || expiresAt > at;
  };

  return {
    kind: 'roles',
    eventKind: 'role.imported',
    shape: {
      allowed: ['accountId', 'email', 'roleId', 'organisationId', 'expiresAt'],
      required: ['roleId'],
    },

    async prepare(db) {
      for (const o of await db.selectFrom('organisations').select(['id', 'path', 'status']).execute())
        organisations.set(o.id, { path: o.path, status: o.status });
      for (const a of await db
        .selectFrom('accounts')
        .select(['id', 'email', 'organisation_id', 'status'])
        .execute()) {
        accounts.set(a.id, { organisationId: a.organisation_id, status: a.status });
        byEmail.set(a.email, a.id);
      }
      for (const r of await db.selectFrom('roles').select(['id', 'privileged']).execute())
        roles.set(r.id, r.privileged === 1);
      for (const a of await db
        .selectFrom('role_assignments')
        .select(['account_id', 'role_id', 'organisation_id', 'expires_at'])
        .where('status', '=', 'active')
        .execute())
        live.set(key(a.account_id, a.role_id, a.organisation_id), a.expires_at);
    },

    validate(fields, now) {
      const accountId = resolveAccount(fields, byEmail);
      const account = accounts.get(accountId);
      if (account === undefined) throw new LineRejected('ACCOUNT_NOT_FOUND', 'no such account');
      if (account.status === 'disabled')
        throw new LineRejected('ACCOUNT_DISABLED', 'a disabled account holds no role');
      const roleId = requiredText(fields, 'roleId', { max: 64 });
      const privileged = roles.get(roleId);
      if (privileged === undefined) throw new LineRejected('ROLE_NOT_FOUND', 'roleId: no such role');
      if (privileged)
        throw new LineRejected(
          'PRIVILEGED_ROLE',
          'roleId: a privileged role takes a second administrator’s approval; grant it through the API',
        );
      const organisationId = uuid(fields, 'organisationId') ?? account.organisationId;
      const organisation = organisations.get(organisationId);
      const home = organisations.get(account.organisationId);
      if (organisation === undefined || home === undefined)
        throw new LineRejected('ORGANISATION_NOT_FOUND', 'organisationId: no such organisation');
      if (!organisation.path.startsWith(home.path))
        throw new LineRejected(
          'ORGANISATION_OUTSIDE_ACCOUNT',
          'organisationId: neither the account’s organisation nor one below it',
        );
      if (organisation.status !== 'active')
        throw new LineRejected('ORGANISATION_NOT_ACTIVE', 'organisationId: the organisation is not active');
      const expiresAt = instant(fields, 'expiresAt') ?? null;
      if (expiresAt !== null && expiresAt <= now)
        throw new LineRejected('EXPIRY_IN_PAST', 'expiresAt must be later than the import');
      return {
        id: ids.next(),
        account_id: accountId,
        role_id: roleId,
        organisation_id: organisationId,
        status: 'active',
        granted_by: null,
        granted_at: now,
        approved_by: null,
        approved_at: now,
        expires_at: expiresAt,
        revoked_by: null,
        revoked_at: null,
      };
    },

    async write(trx, rows) {
      // A line the file repeats, or one already stored, changes nothing.
      const seen = new Set<string>();
      const fresh = rows.filter(({ row }) => {
        const k = key(row.account_id, row.role_id, row.organisation_id);
        if (isLive(k, row.granted_at) || seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      for (const slice of insertSlices(fresh, COLUMNS))
        await trx.insertInto('role_assignments').values(slice).execute();
      return { insertedIds: fresh.map((r) => r.row.id), unchanged: rows.length - fresh.length };
    },

    committed(rows) {
      for (const { row } of rows) {
        const k = key(row.account_id, row.role_id, row.organisation_id);
        if (!isLive(k, row.granted_at)) live.set(k, row.expires_at);
      }
    },
    discarded() {},
  };
}

/** `accountId`, or `email` when the file names people by address; not both. */
function resolveAccount(fields: Readonly<Record<string, unknown>>, byEmail: Map<string, string>): string {
  const id = uuid(fields, 'accountId');
  const raw = text(fields, 'email', { max: 320 });
  if (id !== undefined && raw !== undefined)
    throw new LineRejected('AMBIGUOUS_ACCOUNT', 'give accountId or email, not both');
  if (id !== undefined) return id;
  if (raw === undefined) throw new LineRejected('MISSING_FIELD', 'accountId or email is required');
  const email = canonicalEmail(raw);
  if (email === undefined) throw new LineRejected('INVALID_EMAIL', 'email: not a valid address');
  const found = byEmail.get(email);
  if (found === undefined) throw new LineRejected('ACCOUNT_NOT_FOUND', 'email: no such account');
  return found;
}
