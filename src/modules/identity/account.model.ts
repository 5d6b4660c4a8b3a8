import type { AccountRow } from './account.repository.js';

export const ACCOUNT_KINDS = ['human', 'service'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];
export const ACCOUNT_STATUSES = ['pending_approval', 'active', 'suspended', 'disabled'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const CREATION_CHANNELS = ['console', 'api', 'cli', 'federation', 'import'] as const;
export type CreationChannel = (typeof CREATION_CHANNELS)[number];

/**
 * The account life cycle. `pending_approval` may only be approved (→ active, by four-eyes), suspended
 * (containment of a lineage) or disabled; `disabled` is final. Reactivation is handled apart: it
 * returns a never-approved account to `pending_approval`, not to `active`.
 */
export const ACCOUNT_TRANSITIONS: Record<AccountStatus, readonly AccountStatus[]> = {
  pending_approval: ['suspended', 'disabled'],
  active: ['suspended', 'disabled'],
  suspended: ['active', 'pending_approval', 'disabled'],
  disabled: [],
};

export function canTransition(from: string, to: AccountStatus): boolean {
  return (ACCOUNT_TRANSITIONS[from as AccountStatus] ?? []).includes(to);
}

export interface Account {
  readonly id: string;
  readonly organisationId: string;
  readonly kind: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly status: string;
  readonly statusReason: string | null;
  readonly statusChangedAt: string;
  readonly createdBy: string | null;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  readonly creationChannel: CreationChannel;
  readonly mfaStrength: string | null;
  readonly lastSeenAt: string | null;
  readonly createdAt: string;
}

export function presentAccount(row: AccountRow): Account {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    kind: row.kind,
    email: row.email,
    displayName: row.display_name,
    status: row.status,
    statusReason: row.status_reason,
    statusChangedAt: row.status_changed_at,
    createdBy: row.created_by,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    creationChannel: row.creation_channel as CreationChannel,
    mfaStrength: row.mfa_strength,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
  };
}

/**
 * A new account's row as every creation path writes it: its status set now, not yet approved by a
 * second person (approval comes later, if at all), never seen and with no MFA strength recorded.
 */
export function newAccountRow(
  fields: Omit<
    AccountRow,
    'approved_by' | 'status_changed_at' | 'mfa_strength' | 'last_seen_at' | 'created_at' | 'updated_at'
  >,
  at: string,
): AccountRow {
  return {
    ...fields,
    approved_by: null,
    status_changed_at: at,
    mfa_strength: null,
    last_seen_at: null,
    created_at: at,
    updated_at: at,
  };
}
