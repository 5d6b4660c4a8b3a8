import { VigieError } from '../../shared/errors.js';

/** Why a sign-in failed, for the journal only: the client always gets the same SIGN_IN_FAILED. */
export type SignInFailureReason =
  | 'ASSERTION_INVALID'
  | 'CREDENTIAL_UNKNOWN'
  | 'CREDENTIAL_REVOKED'
  | 'ACCOUNT_MISMATCH'
  | 'ACCOUNT_INACTIVE'
  | 'USER_VERIFICATION_REQUIRED'
  | 'COUNTER_REGRESSION';

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
