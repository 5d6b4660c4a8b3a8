import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Config } from '../../config.js';
import type { FederationPopulation } from '../../config.sign-in.js';
import { signInErrors as E } from './sign-in.errors.js';
import { matchesDigest } from './sign-in.secrets.js';

/**
 * Vigie's WebAuthn policy over @simplewebauthn/server, in one place so that the ceremonies and the
 * W3C vectors test run through the same configuration. COSE algorithms: EdDSA (Ed25519), ES256,
 * ES384, ES512, RS256 — ES384/ES512 are allowed explicitly (the library's default omits them). Not
 * Ed448 (COSE -53): the library registers such a key but cannot verify its signatures.
 */
export const SUPPORTED_ALGORITHMS = [-8, -7, -35, -36, -257];

export type WebAuthnPolicy = Pick<Config['signIn'], 'rpId' | 'rpName' | 'origin' | 'aaguidAllowlists'>;
export type UserVerification = 'required' | 'preferred';

export interface VerifiedCredential {
  readonly credentialId: string;
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly aaguid: string;
  readonly deviceType: 'singleDevice' | 'multiDevice';
  readonly backedUp: boolean;
  readonly userVerified: boolean;
}

export interface StoredCredential {
  readonly credentialId: string;
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
}

/** A stored passkey row as the WebAuthn library takes it (transports are kept as a JSON array). */
export const storedCredentialOf = (row: {
  credential_id: string;
  public_key: StoredCredential['publicKey'];
  counter: number;
  transports: string;
}): StoredCredential => ({
  credentialId: row.credential_id,
  publicKey: row.public_key,
  counter: row.counter,
  transports: JSON.parse(row.transports) as string[],
});

/** Every Vigie passkey is discoverable (resident key required), so sign-in never lists credentials. */
export async function registrationOptions(
  policy: WebAuthnPolicy,
  input: {
    challenge: string;
    userId: string;
    userName: string;
    exclude: readonly StoredCredential[];
    userVerification: UserVerification;
  },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: policy.rpName,
    rpID: policy.rpId,
    userID: new TextEncoder().encode(input.userId),
    userName: input.userName,
    challenge: Buffer.from(input.challenge, 'base64url'),
    timeout: 300_000,
    attestationType: 'none',
    excludeCredentials: input.exclude.map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransport[],
    })),
    authenticatorSelection: { residentKey: 'required', userVerification: input.userVerification },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
}

/**
 * Sign-in lists no credential (usernameless, nothing to enumerate); a step-up, for a known signed-in
 * account, lists that account's passkeys and requires user verification.
 */
export async function authenticationOptions(
  policy: WebAuthnPolicy,
  input: { challenge: string; userVerification?: UserVerification; allow?: readonly StoredCredential[] },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: policy.rpId,
    challenge: Buffer.from(input.challenge, 'base64url'),
    timeout: 300_000,
    userVerification: input.userVerification ?? 'preferred',
    allowCredentials: (input.allow ?? []).map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransport[],
    })),
  });
}

/** The library throws plain Errors whose messages may echo input: they become one stable code. */
async function library<T>(code: 'registration' | 'authentication', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch {
    throw code === 'registration' ? E.registrationRejected() : E.signInRejected('ASSERTION_INVALID');
  }
}

/**
 * Verifies a registration against the ceremony's challenge digest: origin, RP ID, user presence,
 * user verification when required, algorithm, attestation statement when one is sent, and the
 * AAGUID allow-list configured for the account's population. Cross-origin (iframe) ceremonies are
 * refused.
 */
export async function verifyRegistration(
  policy: WebAuthnPolicy,
  input: {
    response: RegistrationResponseJSON;
    challengeHash: string;
    requireUserVerification: boolean;
    population: FederationPopulation;
  },
): Promise<VerifiedCredential> {
  refuseCrossOrigin(input.response.response.clientDataJSON, 'registration');
  const result = await library('registration', () =>
    verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: (c) => matchesDigest(c, input.challengeHash),
      expectedOrigin: policy.origin,
      expectedRPID: policy.rpId,
      requireUserVerification: input.requireUserVerification,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    }),
  );
  if (!result.verified) throw E.registrationRejected();
  const info = result.registrationInfo;
  const allowed = policy.aaguidAllowlists[input.population];
  if (allowed.length > 0 && !allowed.includes(info.aaguid)) throw E.authenticatorNotAllowed();
  return {
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: info.credential.transports ?? input.response.response.transports ?? [],
    aaguid: info.aaguid,
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    userVerified: info.userVerified,
  };
}

/** Verifies an assertion with a stored credential; a sign counter that does not grow is refused. */
export async function verifyAuthentication(
  policy: WebAuthnPolicy,
  input: {
    response: AuthenticationResponseJSON;
    challengeHash: string;
    credential: StoredCredential;
    requireUserVerification: boolean;
  },
): Promise<{ newCounter: number; userVerified: boolean; deviceType: string; backedUp: boolean }> {
  refuseCrossOrigin(input.response.response.clientDataJSON, 'authentication');
  const result = await library('authentication', () =>
    verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: (c) => matchesDigest(c, input.challengeHash),
      expectedOrigin: policy.origin,
      expectedRPID: policy.rpId,
      requireUserVerification: input.requireUserVerification,
      credential: {
        id: input.credential.credentialId,
        publicKey: new Uint8Array(Buffer.from(input.credential.publicKey, 'base64url')),
        counter: input.credential.counter,
        transports: input.credential.transports as AuthenticatorTransport[],
      },
    }),
  );
  if (!result.verified) throw E.signInRejected('ASSERTION_INVALID');
  const info = result.authenticationInfo;
  return {
    newCounter: info.newCounter,
    userVerified: info.userVerified,
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
  };
}

/**
 * Vigie's pages are never framed (CSP frame-ancestors 'none'): a ceremony run from inside another
 * site's frame (`crossOrigin: true`, or a `topOrigin`) is not ours and is refused.
 */
function refuseCrossOrigin(clientDataJSON: string, kind: 'registration' | 'authentication'): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const data = parsed as { crossOrigin?: unknown; topOrigin?: unknown } | undefined;
  if (!data || typeof data !== 'object' || data.crossOrigin === true || data.topOrigin !== undefined) {
    throw kind === 'registration' ? E.registrationRejected() : E.signInRejected('ASSERTION_INVALID');
  }
}
