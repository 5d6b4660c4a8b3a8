import { VigieError } from '../../shared/errors.js';
import type { TotpRefusal } from './totp.policy.js';

/** Why a sign-in failed, for the journal only: the client always gets the same SIGN_IN_FAILED. */
export type SignInFailureReason =
  | 'ASSERTION_INVALID'
  | 'CREDENTIAL_UNKNOWN'
  | 'CREDENTIAL_REVOKED'
  | 'ACCOUNT_MISMATCH'
  | 'ACCOUNT_INACTIVE'
  | 'USER_VERIFICATION_REQUIRED'
  | 'COUNTER_REGRESSION'
  | 'ACCOUNT_UNKNOWN'
  | 'TOTP_NOT_ALLOWED'
  | 'TOTP_NOT_ENROLLED'
  | 'CODE_INVALID'
  | 'CODE_REPLAYED'
  | 'RECOVERY_NOT_ALLOWED'
  | 'CEREMONY_INVALID';

/**
 * A refused sign-in. Unknown credential, another account's credential, a bad signature, a counter
 * that went back, a suspended account: one answer, so that no probe tells accounts apart.
 */
export class SignInFailedError extends VigieError {
  constructor(readonly reason: SignInFailureReason) {
    super('SIGN_IN_FAILED', 401, 'sign-in failed; try again with one of your passkeys');
  }
}

export class SignInLockedError extends VigieError {
  constructor(readonly retryAfterSeconds: number) {
    super('SIGN_IN_LOCKED', 429, 'too many failed sign-ins; retry later');
  }
}

export const signInErrors = {
  registrationRejected: () =>
    new VigieError('REGISTRATION_REJECTED', 400, 'the passkey could not be verified; try again'),
  authenticatorNotAllowed: () =>
    new VigieError('AUTHENTICATOR_NOT_ALLOWED', 403, 'this model of authenticator is not allowed here'),
  signInRejected: (reason: SignInFailureReason) => new SignInFailedError(reason),
  ceremonyInvalid: () =>
    new VigieError('CEREMONY_INVALID', 400, 'this ceremony is unknown, used or expired; start again'),
  enrolmentLinkInvalid: () =>
    new VigieError('ENROLMENT_LINK_INVALID', 400, 'this enrolment link is unknown, used, revoked or expired'),
  passkeyLimit: (max: number) =>
    new VigieError('PASSKEY_LIMIT', 409, `an account holds at most ${max} passkeys; revoke one first`, {
      max,
    }),
  passkeyNotFound: () => new VigieError('PASSKEY_NOT_FOUND', 404, 'passkey not found'),
  sessionRequired: () => new VigieError('SESSION_REQUIRED', 401, 'this route needs a signed-in session'),
  accountNotFound: () => new VigieError('ACCOUNT_NOT_FOUND', 404, 'account not found'),
  accountNotEnrollable: () =>
    new VigieError('ACCOUNT_NOT_ENROLLABLE', 409, 'only an active human account gets an enrolment link'),
  permissionDenied: (permission: string) =>
    new VigieError('PERMISSION_DENIED', 403, `missing permission ${permission}`),
};

export const stepUpErrors = {
  passkeySessionRequired: () =>
    new VigieError(
      'PASSKEY_SESSION_REQUIRED',
      403,
      'a step-up needs a session opened with a passkey; sign in with your passkey',
    ),
  failed: () =>
    new VigieError('STEP_UP_FAILED', 403, 'the step-up could not be verified; try again with your passkey'),
};

export const recoveryErrors = {
  notAllowed: (reason: 'privileged_role' | 'no_passkey') =>
    new VigieError(
      'RECOVERY_CODES_NOT_ALLOWED',
      403,
      reason === 'privileged_role'
        ? 'accounts holding a privileged role recover through a re-enrolment approved by a second person'
        : 'recovery codes need at least one passkey on the account',
      { reason },
    ),
  reenrolmentNotFound: () => new VigieError('REENROLMENT_NOT_FOUND', 404, 're-enrolment request not found'),
  reenrolmentNotPending: (status: string) =>
    new VigieError('REENROLMENT_NOT_PENDING', 409, 'this re-enrolment request is no longer pending', {
      status,
    }),
  reenrolmentPending: () =>
    new VigieError('REENROLMENT_ALREADY_PENDING', 409, 'a re-enrolment of this account is already pending'),
};

export const totpErrors = {
  notAllowed: (reason: TotpRefusal) =>
    new VigieError('TOTP_NOT_ALLOWED', 403, 'TOTP is not allowed for this account; use a passkey', {
      reason,
    }),
  passkeySessionRequired: () =>
    new VigieError('PASSKEY_SESSION_REQUIRED', 403, 'enrolling TOTP needs a session opened with a passkey'),
  alreadyEnrolled: () =>
    new VigieError('TOTP_ALREADY_ENROLLED', 409, 'a TOTP secret is already enrolled; revoke it first'),
  enrolmentInvalid: () =>
    new VigieError(
      'TOTP_ENROLMENT_INVALID',
      400,
      'no TOTP enrolment is waiting for confirmation; start again',
    ),
  codeInvalid: () => new VigieError('TOTP_CODE_INVALID', 400, 'this code is not the current one'),
  notFound: () => new VigieError('TOTP_NOT_FOUND', 404, 'no TOTP secret is enrolled'),
};
