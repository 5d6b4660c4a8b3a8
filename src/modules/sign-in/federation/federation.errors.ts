import { VigieError } from '../../../shared/errors.js';

/**
 * Why a federated sign-in was refused. Unlike a passkey failure, the person has already proved who
 * they are upstream, so the reason is told to them (the page explains it), and journaled.
 */
export type FederationRefusal =
  | 'FEDERATION_PROVIDER_UNKNOWN'
  | 'FEDERATION_PROVIDER_UNAVAILABLE'
  | 'FEDERATION_TRANSACTION_INVALID'
  | 'FEDERATION_UPSTREAM_ERROR'
  | 'FEDERATION_RESPONSE_INVALID'
  | 'FEDERATED_ACCOUNT_UNKNOWN'
  | 'FEDERATED_ACCOUNT_INACTIVE'
  | 'FEDERATED_ACCOUNT_MISMATCH'
  | 'FEDERATED_ACCOUNT_ALREADY_LINKED'
  | 'FEDERATED_IDENTITY_REVOKED'
  | 'FEDERATED_EMAIL_UNVERIFIED'
  | 'FEDERATED_EMAIL_CHANGED'
  | 'FEDERATED_SIRET_MISMATCH'
  | 'FEDERATED_ACR_INSUFFICIENT';

const MESSAGES: Record<FederationRefusal, [number, string]> = {
  FEDERATION_PROVIDER_UNKNOWN: [404, 'no identity provider of this name is configured'],
  FEDERATION_PROVIDER_UNAVAILABLE: [503, 'the identity provider cannot be reached; try again later'],
  FEDERATION_TRANSACTION_INVALID: [400, 'this sign-in is unknown, used or expired; start again'],
  FEDERATION_UPSTREAM_ERROR: [400, 'the identity provider did not sign you in'],
  FEDERATION_RESPONSE_INVALID: [400, 'the identity provider’s answer could not be verified; start again'],
  FEDERATED_ACCOUNT_UNKNOWN: [403, 'no Vigie account matches this identity; ask your administrator'],
  FEDERATED_ACCOUNT_INACTIVE: [403, 'the Vigie account for this identity is not active or not approved'],
  FEDERATED_ACCOUNT_MISMATCH: [403, 'the identity provider signed in someone else; start again'],
  FEDERATED_ACCOUNT_ALREADY_LINKED: [409, 'this Vigie account is already linked to another identity'],
  FEDERATED_IDENTITY_REVOKED: [
    403,
    'an administrator revoked this identity for Vigie; ask your administrator',
  ],
  FEDERATED_EMAIL_UNVERIFIED: [403, 'the identity provider did not verify this e-mail address'],
  FEDERATED_EMAIL_CHANGED: [
    403,
    'the e-mail of this identity changed since it was linked; ask your administrator',
  ],
  FEDERATED_SIRET_MISMATCH: [403, 'this identity’s organisation (SIRET) is not the Vigie account’s'],
  FEDERATED_ACR_INSUFFICIENT: [403, 'the identity provider’s proof is too weak for this account'],
};

export class FederationRefusedError extends VigieError {
  constructor(readonly refusal: FederationRefusal) {
    const [status, message] = MESSAGES[refusal];
    super(refusal, status, message);
  }
}

export const refused = (refusal: FederationRefusal) => new FederationRefusedError(refusal);
