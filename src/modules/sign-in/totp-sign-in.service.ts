import { runCommand } from '../events/command.js';
import { findAccountByEmail } from '../identity/account.repository.js';
import { canonicalEmail } from '../identity/email.js';
import { loadAccountGrants } from '../identity/principal.service.js';
import type { SignInBrake } from './sign-in.brake.js';
import type { RequestFacts, SignInDeps } from './sign-in.deps.js';
import { SignInFailedError, SignInLockedError, signInErrors as E } from './sign-in.errors.js';
import { journalSignInFailure } from './sign-in.journal.js';
import { digestOf } from './sign-in.secrets.js';
import type { SignedIn } from './sign-in.service.js';
import type { SessionService } from './session.service.js';
import { TOTP_STRENGTH } from './session.strength.js';
import { matchStep, openTotpSecret } from './totp.codec.js';
import { totpAssociatedData, type TotpKey } from './totp-enrolment.service.js';
import { totpRefusal } from './totp.policy.js';
import * as repo from './totp.repository.js';

/**
 * Sign-in with an e-mail and a TOTP code, where the TOTP policy allows it. Every refusal — unknown
 * e-mail, inactive account, policy, no secret, wrong or replayed code — is the same 401
 * SIGN_IN_FAILED, counted by the same brake as passkeys (per account or e-mail typed, and per
 * address); the reason goes to the journal only. A code is accepted once: its time step must be
 * later than the last one accepted for the account.
 */
export function createTotpSignInService(
  deps: SignInDeps,
  parts: { sessions: SessionService; brake: SignInBrake; key: TotpKey },
) {
  const { sessions, brake } = parts;

  async function signIn(
    input: { email: string; code: string },
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    const email = canonicalEmail(input.email) ?? input.email;
    const account = await findAccountByEmail(deps.db, email);
    const lockKey = account ? `account:${account.id}` : `email:${digestOf(email)}`;
    const journal = (reason: Parameters<typeof journalSignInFailure>[1]['reason'], totpId?: string) =>
      journalSignInFailure(deps, {
        reason,
        accountId: account?.id,
        data: { method: 'totp', ...(totpId ? { totpId } : {}) },
        meta: request.meta,
      });
    try {
      brake.assertOpen([lockKey]);
    } catch (error) {
      if (error instanceof SignInLockedError) await journal('SIGN_IN_LOCKED');
      throw error;
    }
    let totpId: string | undefined;
    try {
      if (!account) throw E.signInRejected('ACCOUNT_UNKNOWN');
      const credential = await repo.findLiveTotpCredential(deps.db, account.id);
      totpId = credential?.confirmed_at ? credential.id : undefined;
      const signedIn = await verifyAndOpen(account.id, credential, input.code, request, previousSessionId);
      brake.onSuccess([lockKey]);
      return signedIn;
    } catch (error) {
      if (!(error instanceof SignInFailedError)) throw error;
      await journal(error.reason, totpId);
      try {
        await brake.onFailure(request.ip, [lockKey]);
      } catch (locked) {
        if (locked instanceof SignInLockedError) await journal('SIGN_IN_LOCKED', totpId);
        throw locked;
      }
      throw error;
    }
  }

  async function verifyAndOpen(
    accountId: string,
    credential: repo.TotpCredentialRow | undefined,
    code: string,
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    const now = deps.clock.now();
    const loaded = await loadAccountGrants(deps.db, accountId, now.toISOString());
    if (!loaded) throw E.signInRejected('ACCOUNT_INACTIVE');
    // Checked at every sign-in: a privileged or agent role granted after enrolment closes TOTP.
    const refusal = totpRefusal({
      enabled: deps.signIn.totpEnabled,
      grants: loaded.grants,
      organisationKind: (await repo.organisationKindOf(deps.db, accountId)) ?? '',
    });
    if (refusal) throw E.signInRejected('TOTP_NOT_ALLOWED');
    if (!credential?.confirmed_at) throw E.signInRejected('TOTP_NOT_ENROLLED');
    const secret = openTotpSecret(
      await parts.key(),
      credential.secret_ciphertext,
      totpAssociatedData(credential),
    );
    const step = matchStep(secret, code, now.getTime());
    if (step === undefined) throw E.signInRejected('CODE_INVALID');
    if (credential.last_used_step !== null && step <= credential.last_used_step)
      throw E.signInRejected('CODE_REPLAYED');
    return runCommand(deps, async (ctx) => {
      const at = ctx.now.toISOString();
      // Another sign-in spent this step (or a later one) meanwhile: this code is a replay.
      if (!(await repo.spendTotpStep(ctx.trx, credential.id, step, at)))
        throw E.signInRejected('CODE_REPLAYED');
      if (previousSessionId) await sessions.endRotated(ctx, previousSessionId, accountId);
      return sessions.signIn(ctx, {
        accountId,
        organisationId: loaded.organisationId,
        method: 'totp',
        credentialId: credential.id,
        strength: TOTP_STRENGTH,
        request,
        data: { method: 'totp', totpId: credential.id },
      });
    });
  }

  return { signIn };
}

export type TotpSignInService = ReturnType<typeof createTotpSignInService>;
