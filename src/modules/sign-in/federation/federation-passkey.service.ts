import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { runCommand } from '../../events/command.js';
import { loadAccountGrants } from '../../identity/principal.service.js';
import * as passkeys from '../passkey.repository.js';
import { userVerificationFor } from '../passkey.service.js';
import { authenticationOptions, storedCredentialOf, verifyAuthentication } from '../passkey.webauthn.js';
import type { SignInBrake } from '../sign-in.brake.js';
import type { RequestFacts, SignInDeps } from '../sign-in.deps.js';
import { SignInFailedError, SignInLockedError, signInErrors as E } from '../sign-in.errors.js';
import { digestOf, looksLikeSecret, newSecret } from '../sign-in.secrets.js';
import type { SignedIn } from '../sign-in.service.js';
import type { SessionService } from '../session.service.js';
import { federatedStrengthOf, strengthOf } from '../session.strength.js';
import { refused } from './federation.errors.js';
import { journalFederatedFailure } from './federation.journal.js';
import * as repo from './federation.repository.js';
import type { Upstream } from './federation.service.js';

/** User-verified flag and counter from authenticatorData (WebAuthn §6.1), to name a failure. */
function authenticatorFacts(data: string): { userVerified: boolean; counter: number } | undefined {
  const bytes = Buffer.from(data, 'base64url');
  if (bytes.length < 37) return undefined;
  return { userVerified: (bytes[32]! & 0x04) !== 0, counter: bytes.readUInt32BE(33) };
}

/**
 * The local passkey step after an upstream proof that does not resist phishing: one assertion, by a
 * passkey of the very account the upstream identity is linked to (user-verified for a privileged
 * account), bound to the same browser cookie. Only then does the session open, method `federated`,
 * with the passkey's strength. One attempt per transaction: a failure sends the person upstream again.
 */
export function createFederationPasskeyStep(
  deps: SignInDeps,
  parts: { upstreams: ReadonlyMap<string, Upstream>; sessions: SessionService; brake: SignInBrake },
) {
  const { sessions, brake } = parts;
  const hashOf = (cookieSecret: string | undefined) =>
    cookieSecret !== undefined && looksLikeSecret(cookieSecret) ? digestOf(cookieSecret) : undefined;

  /** The WebAuthn request options of the step; asking again replaces the challenge. */
  async function options(
    cookieSecret: string | undefined,
  ): Promise<{ options: PublicKeyCredentialRequestOptionsJSON }> {
    const hash = hashOf(cookieSecret);
    const tx = hash
      ? await repo.findLiveTransaction(deps.db, hash, 'passkey', deps.clock.now().toISOString())
      : undefined;
    if (!tx) throw refused('FEDERATION_TRANSACTION_INVALID');
    const challenge = newSecret();
    await repo.updateTransaction(deps.db, tx.id, { challenge_hash: digestOf(challenge) });
    return { options: await authenticationOptions(deps.signIn, { challenge }) };
  }

  async function verify(
    cookieSecret: string | undefined,
    response: AuthenticationResponseJSON,
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    const hash = hashOf(cookieSecret);
    const at = deps.clock.now().toISOString();
    const live = hash ? await repo.findLiveTransaction(deps.db, hash, 'passkey', at) : undefined;
    const tx =
      live && hash
        ? await repo.takeTransaction(deps.db, hash, live.provider, 'passkey', 'passkey_check', at)
        : undefined;
    const upstream = tx ? parts.upstreams.get(tx.provider) : undefined;
    const accountId = tx?.account_id ?? undefined;
    const journal = (reason: string, passkeyId?: string) =>
      journalFederatedFailure(deps, {
        reason,
        accountId,
        data: {
          stage: 'local_passkey',
          ...(tx ? { provider: tx.provider } : {}),
          ...(upstream ? { issuer: upstream.provider.issuer } : {}),
          ...(passkeyId ? { passkeyId } : {}),
        },
        meta: request.meta,
      });
    if (!tx || !upstream || accountId === undefined || tx.challenge_hash === null) {
      if (tx) await repo.updateTransaction(deps.db, tx.id, { stage: 'failed' });
      await journal('FEDERATION_TRANSACTION_INVALID');
      await brake.onFailure(request.ip, []);
      throw refused('FEDERATION_TRANSACTION_INVALID');
    }
    const keys = [`account:${accountId}`];
    const passkey = await passkeys.findPasskeyByCredentialId(deps.db, response.id);
    try {
      brake.assertOpen(keys);
      const signedIn = await verifyAndOpen(
        tx,
        upstream,
        accountId,
        passkey,
        response,
        request,
        previousSessionId,
      );
      brake.onSuccess(keys);
      return signedIn;
    } catch (error) {
      await repo.updateTransaction(deps.db, tx.id, { stage: 'failed' });
      if (error instanceof SignInLockedError) {
        await journal('SIGN_IN_LOCKED', passkey?.id);
        throw error;
      }
      if (!(error instanceof SignInFailedError)) throw error;
      await journal(error.reason, passkey?.id);
      try {
        await brake.onFailure(request.ip, keys);
      } catch (locked) {
        if (locked instanceof SignInLockedError) await journal('SIGN_IN_LOCKED', passkey?.id);
        throw locked;
      }
      throw error;
    }
  }

  async function verifyAndOpen(
    tx: repo.FederationTransactionRow,
    upstream: Upstream,
    accountId: string,
    passkey: passkeys.PasskeyRow | undefined,
    response: AuthenticationResponseJSON,
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    if (!passkey) throw E.signInRejected('CREDENTIAL_UNKNOWN');
    if (passkey.revoked_at !== null) throw E.signInRejected('CREDENTIAL_REVOKED');
    // The passkey must be the linked account's own: another account's passkey proves nothing here.
    if (passkey.account_id !== accountId) throw E.signInRejected('ACCOUNT_MISMATCH');
    const loaded = await loadAccountGrants(deps.db, accountId, deps.clock.now().toISOString());
    const link = tx.federated_identity_id
      ? await repo.findLink(deps.db, tx.federated_identity_id)
      : undefined;
    if (!loaded || link?.account_id !== accountId) throw E.signInRejected('ACCOUNT_INACTIVE');
    const requireUserVerification = userVerificationFor(loaded.grants) === 'required';
    const facts = authenticatorFacts(response.response.authenticatorData);
    if (!facts) throw E.signInRejected('ASSERTION_INVALID');
    if (requireUserVerification && !facts.userVerified) throw E.signInRejected('USER_VERIFICATION_REQUIRED');
    if ((facts.counter !== 0 || passkey.counter !== 0) && facts.counter <= passkey.counter)
      throw E.signInRejected('COUNTER_REGRESSION');
    const verified = await verifyAuthentication(deps.signIn, {
      response,
      challengeHash: tx.challenge_hash!,
      credential: storedCredentialOf(passkey),
      requireUserVerification,
    });
    const upstreamAmr = JSON.parse(tx.upstream_amr ?? '[]') as string[];
    const strength = federatedStrengthOf({
      upstreamAmr,
      phishingResistant: false,
      localPasskey: strengthOf({ userVerified: verified.userVerified, deviceType: passkey.device_type }),
    });
    return runCommand(deps, async (ctx) => {
      const at = ctx.now.toISOString();
      const moved = await passkeys.recordPasskeyUse(
        ctx.trx,
        passkey.id,
        { counter: passkey.counter },
        { counter: verified.newCounter, backedUp: verified.backedUp, at },
      );
      if (!moved) throw E.signInRejected('COUNTER_REGRESSION');
      if (previousSessionId) await sessions.endRotated(ctx, previousSessionId, accountId);
      await repo.updateTransaction(ctx.trx, tx.id, { stage: 'done' });
      return sessions.signIn(ctx, {
        accountId,
        organisationId: loaded.organisationId,
        method: 'federated',
        credentialId: passkey.id,
        strength,
        request,
        data: {
          method: 'federated',
          provider: upstream.provider.id,
          issuer: upstream.provider.issuer,
          federatedIdentityId: link.id,
          acr: tx.upstream_acr,
          upstreamAmr,
          phishingResistant: false,
          localPasskey: true,
          passkeyId: passkey.id,
          userVerified: verified.userVerified,
        },
      });
    });
  }

  return { options, verify };
}

export type FederationPasskeyStep = ReturnType<typeof createFederationPasskeyStep>;
