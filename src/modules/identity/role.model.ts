import type { AssignmentRow, RoleRow } from './role.repository.js';

export interface Role {
  readonly id: string;
  readonly description: string;
  readonly permissions: string[];
  readonly privileged: boolean;
  readonly delegable: boolean;
  readonly builtin: boolean;
}

export interface Assignment {
  readonly id: string;
  readonly accountId: string;
  readonly roleId: string;
  readonly organisationId: string;
  readonly status: string;
  readonly grantedBy: string | null;
  readonly grantedAt: string;
  readonly approvedBy: string | null;
  readonly approvedAt: string | null;
  readonly expiresAt: string | null;
  readonly revokedBy: string | null;
  readonly revokedAt: string | null;
}

export const presentRole = (r: RoleRow): Role => ({
  id: r.id,
  description: r.description,
  permissions: JSON.parse(r.permissions) as string[],
  privileged: r.privileged === 1,
  delegable: r.delegable === 1,
  builtin: r.builtin === 1,
});

export const presentAssignment = (a: AssignmentRow): Assignment => ({
  id: a.id,
  accountId: a.account_id,
  roleId: a.role_id,
  organisationId: a.organisation_id,
  status: a.status,
  grantedBy: a.granted_by,
  grantedAt: a.granted_at,
  approvedBy: a.approved_by,
  approvedAt: a.approved_at,
  expiresAt: a.expires_at,
  revokedBy: a.revoked_by,
  revokedAt: a.revoked_at,
});
