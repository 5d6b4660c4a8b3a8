import { VigieError, conflict, forbidden, invalid, notFound } from '../../shared/errors.js';

/**
 * Every refusal identity can answer with. Codes are stable (documented in docs/identity.md); messages
 * never carry an e-mail, a name or a secret.
 */
export const identityErrors = {
  organisationNotFound: () => notFound('ORGANISATION_NOT_FOUND', 'organisation'),
  accountNotFound: () => notFound('ACCOUNT_NOT_FOUND', 'account'),
  roleNotFound: () => notFound('ROLE_NOT_FOUND', 'role'),
  assignmentNotFound: () => notFound('ASSIGNMENT_NOT_FOUND', 'role assignment'),
  tokenNotFound: () => notFound('TOKEN_NOT_FOUND', 'token'),

  permissionDenied: (permission: string) =>
    forbidden('PERMISSION_DENIED', `missing permission ${permission} here`, { permission }),
  actorNotActive: () => new VigieError('ACCOUNT_NOT_ACTIVE', 401, 'the calling account is no longer active'),
  applicationNotAllowed: () => forbidden('ACCOUNT_REQUIRED', 'this action is for accounts, not applications'),

  invalidSiret: () => invalid('INVALID_SIRET', 'SIRET must be 14 digits with a valid check digit'),
  siretTaken: () => conflict('SIRET_TAKEN', 'another organisation has this SIRET'),
  organisationCycle: () =>
    conflict('ORGANISATION_CYCLE', 'an organisation cannot move under itself or one of its descendants'),
  organisationKind: (message: string) => invalid('ORGANISATION_KIND_INVALID', message),
  rootExists: () => conflict('ROOT_EXISTS', 'the operator root organisation already exists'),
  rootProtected: () => conflict('ORGANISATION_IS_ROOT', 'the operator root cannot be suspended or moved'),
  parentNotActive: () => conflict('PARENT_NOT_ACTIVE', 'the parent organisation is not active'),
  organisationNotActive: () => conflict('ORGANISATION_NOT_ACTIVE', 'the organisation is not active'),

  illegalTransition: (from: string, to: string) =>
    conflict('ILLEGAL_STATUS_TRANSITION', `cannot go from ${from} to ${to}`, { from, to }),

  invalidEmail: () => invalid('INVALID_EMAIL', 'not a usable e-mail address'),
  emailTaken: () => conflict('EMAIL_TAKEN', 'an account already uses this e-mail address'),

  approverIsCreator: () => forbidden('APPROVER_IS_CREATOR', 'the creator cannot approve its own creation'),
  approverIsTarget: () => forbidden('APPROVER_IS_TARGET', 'an account cannot approve itself'),
  approverInLineage: () =>
    forbidden('APPROVER_IN_CREATOR_LINEAGE', "the approver was created or approved by the creator's line"),
  approverInCreationChain: (relation: 'ancestor' | 'descendant_of_ancestor') =>
    forbidden(
      'APPROVER_IN_CREATION_CHAIN',
      relation === 'ancestor'
        ? 'the approver is in the creation chain of what it approves'
        : 'the approver descends from an account of the creation chain of what it approves',
      { relation },
    ),
  approverNotActive: () => forbidden('APPROVER_NOT_ACTIVE', 'the approver account is not active'),
  approverTooRecent: (minDays: number) =>
    forbidden('APPROVER_TOO_RECENT', `the approver account must be at least ${minDays} days old`, {
      minDays,
    }),
  approverOutOfScope: () =>
    forbidden('APPROVER_OUT_OF_SCOPE', 'the approver does not hold account.approve over this organisation'),
  notPending: (status: string) =>
    conflict('NOT_PENDING_APPROVAL', 'nothing to approve: not pending approval', { status }),

  quotaExceeded: (quota: 'daily' | 'pending', limit: number) =>
    new VigieError('DELEGATION_QUOTA_EXCEEDED', 429, `delegation quota reached (${quota}: ${limit})`, {
      quota,
      limit,
    }),

  selfGrant: () => forbidden('ROLE_SELF_GRANT', 'nobody grants a role to itself'),
  roleNotDelegable: (roleId: string) =>
    forbidden('ROLE_NOT_DELEGABLE', 'a delegated administrator grants only delegable, non-privileged roles', {
      roleId,
    }),
  roleAlreadyGranted: () => conflict('ROLE_ALREADY_GRANTED', 'this account already holds this role here'),
  expiryInPast: () => invalid('EXPIRY_IN_PAST', 'expiresAt must be in the future'),
  assignmentNotActive: (status: string) =>
    conflict('ASSIGNMENT_NOT_ACTIVE', 'the assignment is not live', { status }),

  lineageOutOfScope: (count: number) =>
    forbidden('LINEAGE_OUT_OF_SCOPE', 'some accounts of this lineage are outside your scope', { count }),
  lineageChanged: () =>
    conflict('LINEAGE_CHANGED', 'the lineage changed while it was being suspended; run the command again'),
  tokenLimit: (limit: number) =>
    conflict('TOKEN_LIMIT_REACHED', `at most ${limit} live tokens per account`, { limit }),
  invalidCursor: () => invalid('INVALID_CURSOR', 'the cursor is not one this list handed out'),
  invalidLimit: (max: number) =>
    invalid('INVALID_LIMIT', `limit must be a whole number from 1 to ${max}`, { max }),
} as const;

/** Recognises a unique-constraint violation from either driver, so a race still answers 409. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
