import type { Generated } from 'kysely';

/**
 * Table shapes as the database holds them. Times are ISO-8601 UTC text (sortable, portable);
 * booleans are 0/1 integers; JSON is canonical text. Rows become domain objects in repositories.
 */

export interface OrganisationTable {
  id: string;
  parent_id: string | null;
  /** Materialised path of ids, '/root/…/self/': a subtree is a range scan on this column. */
  path: string;
  depth: number;
  name: string;
  kind: string;
  siret: string | null;
  status: string;
  contract_end_date: string | null;
  created_at: string;
  updated_at: string;
}

export interface AccountTable {
  id: string;
  organisation_id: string;
  kind: string;
  email: string;
  display_name: string | null;
  status: string;
  created_by: string | null;
  approved_by: string | null;
  approved_at: string | null;
  creation_channel: string;
  status_reason: string | null;
  status_changed_at: string;
  mfa_strength: string | null;
  last_seen_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface RoleTable {
  id: string;
  description: string;
  /** JSON array of permission names. */
  permissions: string;
  privileged: number;
  delegable: number;
  builtin: number;
}

export interface RoleAssignmentTable {
  id: string;
  account_id: string;
  role_id: string;
  /** The assignment holds over this organisation and its whole subtree. */
  organisation_id: string;
  status: string;
  granted_by: string | null;
  granted_at: string;
  approved_by: string | null;
  approved_at: string | null;
  expires_at: string | null;
  revoked_by: string | null;
  revoked_at: string | null;
}

export interface ApiTokenTable {
  id: string;
  principal_type: string;
  principal_id: string;
  name: string;
  /** SHA-256 (hex) of the secret; the secret itself is shown once and never stored. */
  token_hash: string;
  /** First characters of the token, to recognise it in a list. */
  prefix: string;
  created_by: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ApplicationTable {
  id: string;
  organisation_id: string;
  name: string;
  kind: string;
  status: string;
  /** JSON array of scopes, e.g. ["pdp.evaluate","event.ingest"]. */
  scopes: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface DataSubjectTable {
  /** The opaque id business applications know the person by; never a NIR or a name. */
  id: string;
  kind: string;
  /** 1 for a honeytoken record: any disclosure of it is an alert. */
  decoy: number;
  sealed: number;
  created_at: string;
}

export interface FollowTable {
  id: string;
  subject_id: string;
  organisation_id: string;
  /** Set when the person is in this account's own caseload. */
  account_id: string | null;
  /** 'follows' (a structure accompanies the person) or 'enrolled' (enrolled with a training organisation). */
  relation: string;
  since: string;
  until: string | null;
  created_at: string;
}

export interface EventTable {
  seq: Generated<number>;
  id: string;
  time: string;
  kind: string;
  actor_type: string;
  actor_id: string;
  target_type: string | null;
  target_id: string | null;
  organisation_id: string | null;
  outcome: string;
  source: string;
  /** RFC 8785 canonical JSON of the whole VigieEvent: the journal leaf. */
  payload: string;
  /** Position in the journal's Merkle tree; null until the integrator has taken it in. */
  leaf_index: number | null;
}

export interface Database {
  organisations: OrganisationTable;
  accounts: AccountTable;
  roles: RoleTable;
  role_assignments: RoleAssignmentTable;
  api_tokens: ApiTokenTable;
  applications: ApplicationTable;
  data_subjects: DataSubjectTable;
  follows: FollowTable;
  events: EventTable;
}
