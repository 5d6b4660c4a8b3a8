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
  /** 'operator' (CLI, bootstrap) | 'session' | 'token' | 'application' | 'legacy' (before 0011). */
  minted_via: string;
  /** 1 when the token may perform the acts that need a step-up (docs/sign-in.md). */
  step_up: number;
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
  /** The organisation whose subtree the application may report on; null: its own organisation. */
  reporting_organisation_id: string | null;
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
  /** The process that wrote the row (not part of the event): lets each server pick up the others'. */
  origin: string;
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
  journal_tiles: JournalTileTable;
  journal_state: JournalStateTable;
  alerts: AlertTable;
  responses: ResponseTable;
  risk_observations: RiskObservationTable;
  journal_verifications: JournalVerificationTable;
  access_disclosures: AccessDisclosureTable;
  access_controls: AccessControlTable;
  access_export_approvals: AccessExportApprovalTable;
  passkeys: PasskeyTable;
  passkey_ceremonies: PasskeyCeremonyTable;
  enrolment_links: EnrolmentLinkTable;
  sessions: SessionTable;
  totp_credentials: TotpCredentialTable;
  recovery_codes: RecoveryCodeTable;
  reenrolments: ReenrolmentTable;
  federated_identities: FederatedIdentityTable;
  federation_transactions: FederationTransactionTable;
  oidc_artifacts: OidcArtifactTable;
  oidc_clients: OidcClientTable;
  oidc_signing_keys: OidcSigningKeyTable;
  oidc_grant_sessions: OidcGrantSessionTable;
}

/** A WebAuthn credential: only its public key; the private key never leaves the authenticator. */
export interface PasskeyTable {
  id: string;
  account_id: string;
  /** base64url credential id. */
  credential_id: string;
  /** base64url COSE public key. */
  public_key: string;
  counter: number;
  /** JSON array of transports ('internal', 'hybrid', 'usb', …). */
  transports: string;
  aaguid: string;
  /** 'singleDevice' (device-bound) or 'multiDevice' (synced). */
  device_type: string;
  backed_up: number;
  user_verified: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** One pending WebAuthn ceremony: its challenge as SHA-256, single-use and short-lived. */
export interface PasskeyCeremonyTable {
  id: string;
  purpose: string;
  challenge_hash: string;
  account_id: string | null;
  enrolment_id: string | null;
  lock_key: string | null;
  user_verification: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A single-use link that registers a passkey without a session; the secret is stored as SHA-256. */
export interface EnrolmentLinkTable {
  id: string;
  account_id: string;
  secret_hash: string;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

/** A signed-in browser: the cookie carries the secret, the row its SHA-256 and its context. */
export interface SessionTable {
  id: string;
  secret_hash: string;
  account_id: string;
  /** The credential that opened it: a passkey's id, or a TOTP credential's id when `method` is totp. */
  passkey_id: string;
  /** 'passkey' | 'totp'. */
  method: string;
  auth_level: string;
  aal: string;
  amr: string;
  network_prefix: string;
  browser_family: string;
  created_at: string;
  last_seen_at: string;
  absolute_expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  /** The last user-verified passkey assertion of this session (step-up), if any. */
  step_up_at: string | null;
}

/** A one-time recovery code: only its HMAC-SHA-256 under a key kept beside the database. */
export interface RecoveryCodeTable {
  id: string;
  account_id: string;
  batch_id: string;
  code_hash: string;
  created_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

/** A re-enrolment of an account that lost every authenticator, approved by a second person. */
export interface ReenrolmentTable {
  id: string;
  account_id: string;
  organisation_id: string;
  requested_by: string | null;
  reason: string;
  status: string;
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
}

/** A TOTP shared secret, encrypted at rest; pending until confirmed by a first valid code. */
export interface TotpCredentialTable {
  id: string;
  account_id: string;
  secret_ciphertext: string;
  created_at: string;
  confirmed_at: string | null;
  last_used_step: number | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AlertTable {
  id: string;
  rule_id: string;
  title: string;
  severity: string;
  /** 'new' | 'acknowledged' | 'closed_true_positive' | 'closed_false_positive' */
  status: string;
  entity_type: string;
  entity_id: string;
  organisation_id: string | null;
  /** Materialised path of the organisation, copied so listing by scope is a prefix test. */
  organisation_path: string | null;
  dedup_key: string;
  /** JSON array of tags (ATT&CK and others). */
  tags: string;
  /** JSON array of event ids, the evidence, oldest first, bounded. */
  evidence: string;
  /** JSON object of rule-specific facts (counts, thresholds, countries); ids and codes only. */
  summary: string;
  occurrences: number;
  first_event_at: string;
  last_event_at: string;
  raised_event_id: string;
  comment: string | null;
  updated_by: string | null;
  created_at: string;
  updated_at: string;
}

/** A signal rule's finding kept for investigation, with the points it added (issue 12). */
export interface RiskObservationTable {
  id: string;
  entity_type: string;
  entity_id: string;
  organisation_id: string | null;
  organisation_path: string | null;
  rule_id: string;
  weight: number;
  risk_after: number;
  factors: string;
  evidence: string;
  alert_id: string | null;
  observed_at: string;
}

/** The outcome of one full verification of the journal (migration 0015). */
export interface JournalVerificationTable {
  seq: Generated<number>;
  id: string;
  via: 'api' | 'cli';
  requested_by: string;
  started_at: string;
  finished_at: string;
  ok: number;
  tree_size: number | string;
  entries_checked: number | string;
  tiles_checked: number | string;
  checkpoint_size: number | string | null;
  problem_code: string | null;
  problem_index: number | string | null;
  problem_event_id: string | null;
}

export interface ResponseTable {
  id: string;
  alert_id: string;
  rule_id: string;
  action: string;
  target_type: string;
  target_id: string;
  /** 'executed' | 'failed' | 'undone' */
  status: string;
  error_code: string | null;
  result: string;
  executed_at: string;
  executed_event_id: string;
  undone_at: string | null;
  undone_by: string | null;
}

/** A record disclosed by an allowed access decision: replayed on start to rebuild budget windows. */
export interface AccessDisclosureTable {
  /** Id of the `access.decision` event that disclosed the record. */
  event_id: string;
  time: string;
  record_id: string;
  account_id: string | null;
  organisation_id: string | null;
  application_id: string | null;
  break_glass: number;
  /** Break-glass only: the agent's own words, kept here (erasable) and only hashed in the journal. */
  justification: string | null;
}

export interface AccessControlTable {
  id: string;
  /** 'freeze' (no disclosure while set) | 'step_up' (phishing-resistant re-authentication required). */
  kind: string;
  target_type: string;
  target_id: string;
  reason: string;
  created_by: string;
  created_at: string;
  cleared_by: string | null;
  cleared_at: string | null;
}

export interface AccessExportApprovalTable {
  id: string;
  /** SHA-256 (hex) of the approval token; the token is shown once to the approver. */
  token_hash: string;
  requester_account_id: string;
  approver_account_id: string;
  max_records: number;
  purpose: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** One tile of the journal's Merkle tree (C2SP tlog-tiles): level, index, width, stored rows. */
export interface JournalTileTable {
  level: number;
  idx: number;
  /** Hashes in the bottom row, 1–256; 256 once the tile is full (then never rewritten). */
  width: number;
  /** The bottom row (what is served), then the tile's complete interior rows of heights 1–7. */
  hashes: Buffer;
}

/** The single row (id 1) describing the integrated tree and its last signed checkpoint. */
export interface JournalStateTable {
  id: number;
  tree_size: number;
  root_hash: Buffer;
  /** The right frontier: complete subtree hashes on the right edge, largest first, concatenated. */
  frontier: Buffer;
  /** The last signed checkpoint (C2SP signed note); null before the first start. */
  checkpoint: string | null;
  updated_at: string | null;
}

/** An upstream identity (issuer + subject) linked once to an existing Vigie account. */
export interface FederatedIdentityTable {
  id: string;
  provider: string;
  issuer: string;
  subject: string;
  account_id: string;
  rule: string;
  email: string;
  siret: string | null;
  linked_at: string;
  last_login_at: string | null;
  /** Set by an administrator's revocation: the subject is refused and cannot be linked again. */
  revoked_at: string | null;
  /** The account (or `system:<id>`) that revoked it. */
  revoked_by: string | null;
}

/** One federated sign-in under way, bound to a browser cookie whose secret is stored as SHA-256. */
export interface FederationTransactionTable {
  id: string;
  provider: string;
  binding_hash: string;
  stage: string;
  round: number;
  acr_values: string;
  account_id: string | null;
  federated_identity_id: string | null;
  upstream_acr: string | null;
  upstream_amr: string | null;
  challenge_hash: string | null;
  created_at: string;
  expires_at: string;
}

/** One oidc-provider artefact (code, token, grant, interaction, session…), keyed by SHA-256 of its id. */
export interface OidcArtifactTable {
  model: string;
  id_hash: string;
  payload: string;
  grant_id: string | null;
  uid_hash: string | null;
  user_code_hash: string | null;
  consumed_at: number | null;
  expires_at: string | null;
}

/** A registered application as an OpenID Connect client of Vigie. */
export interface OidcClientTable {
  application_id: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string | null;
  dpop_required: number;
  secret_hash: string | null;
  default_acr: string | null;
  created_at: string;
  updated_at: string;
}

/** A private signing key of the provider, sealed (AES-256-GCM) under the key file's key. */
export interface OidcSigningKeyTable {
  kid: string;
  sealed_jwk: string;
  created_at: string;
}

/** The Vigie session that authorised an OpenID Connect grant. */
export interface OidcGrantSessionTable {
  grant_id: string;
  session_id: string;
  account_id: string;
  client_id: string;
  sid: string | null;
  provider_session_hash: string | null;
  created_at: string;
  revoked_at: string | null;
}
