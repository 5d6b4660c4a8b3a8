import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { AccountPrincipal } from '../../shared/principal.js';
import { runCommand, stampEvent } from '../events/command.js';
import { insertEvents } from '../events/event.repository.js';
import type { Ceremonies } from './ceremony.service.js';
import * as passkeys from './passkey.repository.js';
import { authenticationOptions, storedCredentialOf, verifyAuthentication } from './passkey.webauthn.js';
import type { SignInBrake } from './sign-in.brake.js';
import type { RequestFacts, SignInDeps } from './sign-in.deps.js';
import { SignInFailedError, SignInLockedError, signInErrors, stepUpErrors as E } from './sign-in.errors.js';
import { recordStepUp } from './session.repository.js';

export interface SteppedUp {
  readonly sessionId: string;
  readonly stepUpAt: string;
  /** Until when the acts that need a step-up are open to this session. */
  readonly validUntil: string;
}

/** The user-verified flag and the counter of authenticatorData (WebAuthn §6.1). */
function flagsOf(authenticatorData: string): { userVerified: boolean; counter: number } | undefined {
  const bytes = Buffer.from(authenticatorData, 'base64url');
  if (bytes.length < 37) return undefined;
  return { userVerified: (bytes[32]! & 0x04) !== 0, counter: bytes.readUInt32BE(33) };
}

/**
 * Step-up: inside a session opened with a passkey, a fresh WebAuthn assertion with user verification
 * required, by a live passkey of the session's own account, against a single-use challenge bound to
 * this session. It stamps `step_up_at` on the session; the acts that need a step-up accept it for
 * `stepUpMaxAgeMs` (shared/step-up.ts). Every attempt is an `auth.step_up` event.
 */
export function createStepUpService(deps: SignInDeps, parts: { ceremonies: Ceremonies; brake: SignInBrake }) {
  const { ceremonies, brake } = parts;

  function passkeySession(principal: AccountPrincipal): string {
    if (!principal.session) throw signInErrors.sessionRequired();
    if (principal.session.method !== 'passkey') throw E.passkeySessionRequired();
    return principal.session.id;
  }

  async function begin(
    principal: AccountPrincipal,
  ): Promise<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    const sessionId = passkeySession(principal);
    const { id, challenge } = await ceremonies.begin(deps.db, {
      purpose: 'step_up',
      accountId: principal.accountId,
      lockKey: `session:${sessionId}`,
      userVerification: 'required',
    });
    const live = await passkeys.listLivePasskeys(deps.db, principal.accountId);
    return {
      ceremonyId: id,
      options: await authenticationOptions(deps.signIn, {
        challenge,
        userVerification: 'required',
        allow: live.map(storedCredentialOf),
      }),
    };
  }

  async function journalFailure(
    principal: AccountPrincipal,
    reason: string,
    passkeyId: string | undefined,
    meta: RequestFacts['meta'],
  ): Promise<void> {
    const event = stampEvent(deps, {
      kind: 'auth.step_up',
      actor: { type: 'account', id: principal.accountId },
      target: { type: 'session', id: principal.session!.id },
      organisationId: principal.organisationId,
      outcome: reason === 'SIGN_IN_LOCKED' ? 'denied' : 'failure',
      reason,
      data: { accountId: principal.accountId, ...(passkeyId ? { passkeyId } : {}) },
      context: { ...meta, sessionId: principal.session!.id },
    });
    await insertEvents(deps.db, [event]);
    deps.bus.publish([event]);
  }

  /**
   * Verifies the step-up assertion. Refusals answer 403 STEP_UP_FAILED (the reason is journaled),
   * counted in the sign-in brake against the account and the address; past its limit 429
   * SIGN_IN_LOCKED, as for sign-in.
   */
  async function complete(
    principal: AccountPrincipal,
    input: { ceremonyId: string; response: AuthenticationResponseJSON },
    request: RequestFacts,
  ): Promise<SteppedUp> {
    const sessionId = passkeySession(principal);
    const keys = [`account:${principal.accountId}`];
    try {
      brake.assertOpen(keys);
    } catch (error) {
      if (error instanceof SignInLockedError)
        await journalFailure(principal, 'SIGN_IN_LOCKED', undefined, request.meta);
      throw error;
    }
    let passkeyId: string | undefined;
    try {
      const ceremony = await ceremonies.take(input.ceremonyId, 'step_up').catch(() => {
        throw signInErrors.signInRejected('CEREMONY_INVALID');
      });
      // Another session's (or account's) ceremony is not this one's.
      if (ceremony.account_id !== principal.accountId || ceremony.lock_key !== `session:${sessionId}`)
        throw signInErrors.signInRejected('ACCOUNT_MISMATCH');
      const passkey = await passkeys.findPasskeyByCredentialId(deps.db, input.response.id);
      passkeyId = passkey?.id;
      if (!passkey) throw signInErrors.signInRejected('CREDENTIAL_UNKNOWN');
      if (passkey.account_id !== principal.accountId) throw signInErrors.signInRejected('ACCOUNT_MISMATCH');
      if (passkey.revoked_at !== null) throw signInErrors.signInRejected('CREDENTIAL_REVOKED');
      const flags = flagsOf(input.response.response.authenticatorData);
      if (!flags) throw signInErrors.signInRejected('ASSERTION_INVALID');
      if (!flags.userVerified) throw signInErrors.signInRejected('USER_VERIFICATION_REQUIRED');
      if ((flags.counter !== 0 || passkey.counter !== 0) && flags.counter <= passkey.counter)
        throw signInErrors.signInRejected('COUNTER_REGRESSION');
      const verified = await verifyAuthentication(deps.signIn, {
        response: input.response,
        challengeHash: ceremony.challenge_hash,
        credential: storedCredentialOf(passkey),
        requireUserVerification: true,
      });
      const done = await runCommand(deps, async (ctx) => {
        const at = ctx.now.toISOString();
        const moved = await passkeys.recordPasskeyUse(
          ctx.trx,
          passkey.id,
          { counter: passkey.counter },
          { counter: verified.newCounter, backedUp: verified.backedUp, at },
        );
        if (!moved) throw signInErrors.signInRejected('COUNTER_REGRESSION');
        if (!(await recordStepUp(ctx.trx, sessionId, at))) throw signInErrors.sessionRequired();
        ctx.emit({
          kind: 'auth.step_up',
          actor: { type: 'account', id: principal.accountId },
          target: { type: 'session', id: sessionId },
          organisationId: principal.organisationId,
          outcome: 'success',
          data: { accountId: principal.accountId, passkeyId: passkey.id, userVerified: true },
          context: { ...request.meta, sessionId, authLevel: principal.authLevel },
        });
        return {
          sessionId,
          stepUpAt: at,
          validUntil: new Date(ctx.now.getTime() + deps.signIn.stepUpMaxAgeMs).toISOString(),
        };
      });
      brake.onSuccess(keys);
      return done;
    } catch (error) {
      if (!(error instanceof SignInFailedError)) throw error;
      await journalFailure(principal, error.reason, passkeyId, request.meta);
      try {
        await brake.onFailure(request.ip, keys);
      } catch (locked) {
        if (locked instanceof SignInLockedError)
          await journalFailure(principal, 'SIGN_IN_LOCKED', passkeyId, request.meta);
        throw locked;
      }
      throw E.failed();
    }
  }

  return { begin, complete };
}

export type StepUpService = ReturnType<typeof createStepUpService>;
