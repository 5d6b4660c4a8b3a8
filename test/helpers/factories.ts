import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/database.js';
import { BUILTIN_ROLES } from '../../src/modules/identity/permissions.js';
import { generateTokenSecret, hashTokenSecret } from '../../src/modules/identity/token-secret.js';
import { uuidv7 } from '../../src/shared/ids.js';

/**
 * Test-only shortcuts that put rows straight into a fresh database, to set the scene for a test
 * about something else. Tests of identity itself go through its services and HTTP API instead.
 */

const T0 = '2026-01-01T00:00:00.000Z';
let counter = 0;
const newId = () => uuidv7(Date.now(), randomBytes(10));

export async function seedBuiltinRoles(db: Db): Promise<void> {
  for (const r of BUILTIN_ROLES) {
    await db
      .insertInto('roles')
      .values({
        id: r.id,
        description: r.description,
        permissions: JSON.stringify(r.permissions),
        privileged: r.privileged ? 1 : 0,
        delegable: r.delegable ? 1 : 0,
        builtin: 1,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
}

export interface OrgSeed {
  id?: string;
  parent?: { id: string; path: string; depth: number } | null;
  name?: string;
  kind?: string;
  status?: string;
}

export async function makeOrganisation(db: Db, seed: OrgSeed = {}) {
  const id = seed.id ?? newId();
  const parent = seed.parent ?? null;
  const row = {
    id,
    parent_id: parent?.id ?? null,
    path: `${parent?.path ?? '/'}${id}/`,
    depth: parent ? parent.depth + 1 : 0,
    name: seed.name ?? `Organisation ${++counter}`,
    kind: seed.kind ?? (parent ? 'mission_locale' : 'operator'),
    siret: null,
    status: seed.status ?? 'active',
    contract_end_date: null,
    created_at: T0,
    updated_at: T0,
  };
  await db.insertInto('organisations').values(row).execute();
  return row;
}

export interface AccountSeed {
  organisationId: string;
  email?: string;
  status?: string;
  kind?: string;
  createdBy?: string | null;
  approvedBy?: string | null;
  createdAt?: string;
  channel?: string;
}

export async function makeAccount(db: Db, seed: AccountSeed) {
  const id = newId();
  const at = seed.createdAt ?? T0;
  const row = {
    id,
    organisation_id: seed.organisationId,
    kind: seed.kind ?? 'human',
    email: seed.email ?? `agent${++counter}-${id.slice(-6)}@example.test`,
    display_name: null,
    status: seed.status ?? 'active',
    created_by: seed.createdBy ?? null,
    approved_by: seed.approvedBy ?? null,
    approved_at: seed.approvedBy ? at : null,
    creation_channel: seed.channel ?? 'cli',
    status_reason: null,
    status_changed_at: at,
    mfa_strength: null,
    last_seen_at: null,
    created_at: at,
    updated_at: at,
  };
  await db.insertInto('accounts').values(row).execute();
  return row;
}

export async function grantRole(
  db: Db,
  accountId: string,
  roleId: string,
  organisationId: string,
  options: { expiresAt?: string } = {},
) {
  const row = {
    id: newId(),
    account_id: accountId,
    role_id: roleId,
    organisation_id: organisationId,
    status: 'active',
    granted_by: null,
    granted_at: T0,
    approved_by: null,
    approved_at: T0,
    expires_at: options.expiresAt ?? null,
    revoked_by: null,
    revoked_at: null,
  };
  await db.insertInto('role_assignments').values(row).execute();
  return row;
}

/** Issues an API token for an account or application and returns the secret to put in a Bearer header. */
export async function issueToken(
  db: Db,
  principalType: 'account' | 'application',
  principalId: string,
): Promise<string> {
  const secret = generateTokenSecret();
  await db
    .insertInto('api_tokens')
    .values({
      id: newId(),
      principal_type: principalType,
      principal_id: principalId,
      name: 'test',
      token_hash: hashTokenSecret(secret),
      prefix: secret.slice(0, 8),
      created_by: null,
      created_at: T0,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
      // A scene's token stands for one the operator issued (`vigie admin token`): it may perform
      // the acts that need a step-up, as automation does.
      minted_via: principalType === 'account' ? 'operator' : 'application',
      step_up: principalType === 'account' ? 1 : 0,
    })
    .execute();
  return secret;
}

export async function makeApplication(
  db: Db,
  seed: { organisationId: string; scopes?: string[]; kind?: string; status?: string },
) {
  const row = {
    id: newId(),
    organisation_id: seed.organisationId,
    name: `Application ${++counter}`,
    kind: seed.kind ?? 'partner',
    status: seed.status ?? 'active',
    scopes: JSON.stringify(seed.scopes ?? ['pdp.evaluate', 'event.ingest']),
    created_by: null,
    created_at: T0,
    updated_at: T0,
  };
  await db.insertInto('applications').values(row).execute();
  return row;
}

export async function makeSubject(
  db: Db,
  seed: { id?: string; kind?: string; decoy?: boolean; sealed?: boolean } = {},
) {
  const row = {
    id: seed.id ?? `DE-${++counter}-${randomBytes(3).toString('hex')}`,
    kind: seed.kind ?? 'job_seeker',
    decoy: seed.decoy ? 1 : 0,
    sealed: seed.sealed ? 1 : 0,
    created_at: T0,
  };
  await db.insertInto('data_subjects').values(row).execute();
  return row;
}

export async function makeFollow(
  db: Db,
  seed: {
    subjectId: string;
    organisationId: string;
    accountId?: string;
    relation?: 'follows' | 'enrolled';
    until?: string;
  },
) {
  const row = {
    id: newId(),
    subject_id: seed.subjectId,
    organisation_id: seed.organisationId,
    account_id: seed.accountId ?? null,
    relation: seed.relation ?? 'follows',
    since: T0,
    until: seed.until ?? null,
    created_at: T0,
  };
  await db.insertInto('follows').values(row).execute();
  return row;
}

/** An operator with one Mission Locale under it, the built-in roles, and a platform admin with a token. */
export async function makeScene(db: Db) {
  await seedBuiltinRoles(db);
  const operator = await makeOrganisation(db, { name: 'France Travail', kind: 'operator' });
  const network = await makeOrganisation(db, {
    parent: operator,
    name: 'Réseau des Missions Locales',
    kind: 'network',
  });
  const structure = await makeOrganisation(db, {
    parent: network,
    name: 'Mission Locale de Test',
    kind: 'mission_locale',
  });
  const admin = await makeAccount(db, { organisationId: operator.id, email: 'admin@operator.test' });
  await grantRole(db, admin.id, 'platform_admin', operator.id);
  const adminToken = await issueToken(db, 'account', admin.id);
  return { operator, network, structure, admin, adminToken };
}
