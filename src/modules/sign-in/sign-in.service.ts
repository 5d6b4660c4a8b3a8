import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { runCommand } from '../events/command.js';
import { findAccountByEmail } from '../identity/account.repository.js';
import { canonicalEmail } from '../identity/email.js';
import { loadAccountGrants } from '../identity/principal.service.js';
import type { Ceremonies } from './ceremony.service.js';
import * as passkeys from './passkey.repository.js';
import { userVerificationFor } from './passkey.service.js';
import { authenticationOptions, storedCredentialOf, verifyAuthentication } from './passkey.webauthn.js';
import type { SignInBrake } from './sign-in.brake.js';
import type { RequestFacts, SignInDeps } from './sign-in.deps.js';
import {
  SignInFailedError,
  SignInLockedError,
  signInErrors as E,
  type SignInFailureReason,
} from './sign-in.errors.js';
import { journalSignInFailure } from './sign-in.journal.js';
import { digestOf } from './sign-in.secrets.js';
import { strengthOf } from './session.strength.js';

/** Flags and counter from authenticatorData (WebAuthn §6.1), read to name a failure precisely. */
function authenticatorFacts(
  authenticatorData: string,
): { userVerified: boolean; counter: number } | undefined {
  const bytes = Buffer.from(authenticatorData, 'base64url');
  if (bytes.length < 37) return undefined;
  return { userVerified: (bytes[32]! & 0x04) !== 0, counter: bytes.readUInt32BE(33) };
}

import type { SessionService, SignedIn } from './session.service.js';
export type { SignedIn } from './session.service.js';

/**
 * Sign-in with a passkey, usernameless or e-mail first. Options are the same bytes whatever the
 * e-mail (known, unknown or none): every Vigie passkey is discoverable, so no credential list is
 * ever sent and nothing tells accounts apart. Each attempt is one `auth.sign_in` event.
 */
export function createSignInService(
  deps: SignInDeps,
  parts: { ceremonies: Ceremonies; sessions: SessionService; brake: SignInBrake },
) {
  const { ceremonies, sessions, brake } = parts;

  async function begin(input: {
    email?: string;
  }): Promise<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    let lockKey: string | undefined;
    let accountId: string | undefined;
    if (input.email !== undefined) {
      const email = canonicalEmail(input.email) ?? input.email;
      const account = await findAccountByEmail(deps.db, email);
      accountId = account?.id;
      lockKey = account ? `account:${account.id}` : `email:${digestOf(email)}`;
    }
    const { id, challenge } = await ceremonies.begin(deps.db, {
      purpose: 'sign_in',
      userVerification: 'preferred',
      ...(accountId ? { accountId } : {}),
      ...(lockKey ? { lockKey } : {}),
    });
    return { ceremonyId: id, options: await authenticationOptions(deps.signIn, { challenge }) };
  }

  const journalFailure = (
    reason: SignInFailureReason | 'SIGN_IN_LOCKED' | 'CEREMONY_INVALID',
    accountId: string | undefined,
    passkeyId: string | undefined,
    meta: RequestFacts['meta'],
  ): Promise<void> =>
    journalSignInFailure(deps, {
      reason,
      accountId,
      data: { method: 'passkey', ...(passkeyId ? { passkeyId } : {}) },
      meta,
    });

  /**
   * Verifies an assertion and opens a session. Every failure answers SIGN_IN_FAILED (401), counted
   * against the address and the account (or e-mail typed); past the limit, SIGN_IN_LOCKED (429).
   * A previous session of the same browser is ended: the session id is rotated on every sign-in.
   */
  async function complete(
    input: { ceremonyId: string; response: AuthenticationResponseJSON },
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    let ceremony;
    try {
      ceremony = await ceremonies.take(input.ceremonyId, 'sign_in');
    } catch (error) {
      await journalFailure('CEREMONY_INVALID', undefined, undefined, request.meta);
      await brake.onFailure(request.ip, []);
      throw error;
    }
    const passkey = await passkeys.findPasskeyByCredentialId(deps.db, input.response.id);
    const keys = [
      ...(ceremony.lock_key ? [ceremony.lock_key] : []),
      ...(passkey && ceremony.lock_key !== `account:${passkey.account_id}`
        ? [`account:${passkey.account_id}`]
        : []),
    ];
    // The account the ceremony was started for, else the credential's: the one whose lock applies.
    const accountId = ceremony.account_id ?? passkey?.account_id;
    try {
      brake.assertOpen(keys);
    } catch (error) {
      if (error instanceof SignInLockedError)
        await journalFailure('SIGN_IN_LOCKED', accountId, passkey?.id, request.meta);
      throw error;
    }
    try {
      return await verifyAndOpen(ceremony, passkey, input.response, request, previousSessionId);
    } catch (error) {
      if (!(error instanceof SignInFailedError)) throw error;
      await journalFailure(error.reason, accountId, passkey?.id, request.meta);
      try {
        await brake.onFailure(request.ip, keys);
      } catch (locked) {
        if (locked instanceof SignInLockedError)
          await journalFailure('SIGN_IN_LOCKED', accountId, passkey?.id, request.meta);
        throw locked;
      }
      throw error;
    }
  }

  async function verifyAndOpen(
    ceremony: { challenge_hash: string; lock_key: string | null; account_id: string | null },
    passkey: passkeys.PasskeyRow | undefined,
    response: AuthenticationResponseJSON,
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    if (!passkey) throw E.signInRejected('CREDENTIAL_UNKNOWN');
    if (passkey.revoked_at !== null) throw E.signInRejected('CREDENTIAL_REVOKED');
    // E-mail first: the passkey must be that account's; an unknown e-mail matches no passkey.
    if (ceremony.lock_key !== null && ceremony.account_id !== passkey.account_id)
      throw E.signInRejected('ACCOUNT_MISMATCH');
    const now = deps.clock.now();
    const loaded = await loadAccountGrants(deps.db, passkey.account_id, now.toISOString());
    if (!loaded) throw E.signInRejected('ACCOUNT_INACTIVE');
    const requireUserVerification = userVerificationFor(loaded.grants) === 'required';
    const facts = authenticatorFacts(response.response.authenticatorData);
    if (!facts) throw E.signInRejected('ASSERTION_INVALID');
    if (requireUserVerification && !facts.userVerified) throw E.signInRejected('USER_VERIFICATION_REQUIRED');
    if ((facts.counter !== 0 || passkey.counter !== 0) && facts.counter <= passkey.counter)
      throw E.signInRejected('COUNTER_REGRESSION');
    const verified = await verifyAuthentication(deps.signIn, {
      response,
      challengeHash: ceremony.challenge_hash,
      credential: storedCredentialOf(passkey),
      requireUserVerification,
    });
    const strength = strengthOf({ userVerified: verified.userVerified, deviceType: passkey.device_type });
    const signedIn = await runCommand(deps, async (ctx) => {
      const at = ctx.now.toISOString();
      const moved = await passkeys.recordPasskeyUse(
        ctx.trx,
        passkey.id,
        { counter: passkey.counter },
        { counter: verified.newCounter, backedUp: verified.backedUp, at },
      );
      // Another sign-in with this passkey moved the counter meanwhile: this assertion is a replay.
      if (!moved) throw E.signInRejected('COUNTER_REGRESSION');
      if (previousSessionId) await sessions.endRotated(ctx, previousSessionId, passkey.account_id);
      return sessions.signIn(ctx, {
        accountId: passkey.account_id,
        organisationId: loaded.organisationId,
        method: 'passkey',
        credentialId: passkey.id,
        strength,
        request,
        data: { method: 'passkey', passkeyId: passkey.id, userVerified: verified.userVerified },
      });
    });
    brake.onSuccess([`account:${passkey.account_id}`, ...(ceremony.lock_key ? [ceremony.lock_key] : [])]);
    return signedIn;
  }

  return { begin, complete };
}

export type SignInService = ReturnType<typeof createSignInService>;
