import type { FederationProviderConfig } from '../../../config.sign-in.js';
import { runCommand } from '../../events/command.js';
import { isUniqueViolation } from '../../identity/identity.errors.js';
import type { SignInBrake } from '../sign-in.brake.js';
import type { RequestFacts, SignInDeps } from '../sign-in.deps.js';
import { SignInLockedError } from '../sign-in.errors.js';
import { digestOf, looksLikeSecret, newSecret } from '../sign-in.secrets.js';
import type { SignedIn } from '../sign-in.service.js';
import type { SessionService } from '../session.service.js';
import { federatedStrengthOf } from '../session.strength.js';
import { secretsOf, type UpstreamClient, type UpstreamProof } from './federation.client.js';
import { FederationRefusedError, refused, type FederationRefusal } from './federation.errors.js';
import { journalFederatedFailure } from './federation.journal.js';
import { acrAccepted, phishingResistant, populationOf } from './federation.policy.js';
import { accountFor, linkOrTouch, type FoundAccount } from './federation.link.js';
import * as repo from './federation.repository.js';

/** Long enough to sign in upstream, short enough that a forgotten tab's cookie is soon worthless. */
export const TRANSACTION_TTL_MS = 10 * 60_000;

export type CallbackOutcome =
  | { readonly kind: 'signed_in'; readonly signedIn: SignedIn }
  | { readonly kind: 'passkey' }
  | { readonly kind: 'again'; readonly redirect: string; readonly cookieSecret: string };

export interface Upstream {
  readonly provider: FederationProviderConfig;
  readonly client: UpstreamClient;
}

/** Refusals that say nothing about the person: not counted by the brake. */
const NOT_COUNTED: ReadonlySet<FederationRefusal> = new Set(['FEDERATION_PROVIDER_UNAVAILABLE']);

/**
 * Sign-in through an upstream OpenID Provider. The upstream says who someone is, never what they
 * may do: its identity maps only to an existing, active, approved Vigie account, linked once by the
 * operator's rule (journaled `federation.linked`), and later found by that link alone. No account is
 * created, no role granted. A proof the operator does not list as phishing-resistant opens no
 * session by itself: the browser is sent to a local passkey step first (federation-passkey.service).
 */
export function createFederationService(
  deps: SignInDeps,
  parts: { upstreams: ReadonlyMap<string, Upstream>; sessions: SessionService; brake: SignInBrake },
) {
  const { sessions, brake } = parts;

  function upstreamOf(providerId: string): Upstream {
    const upstream = parts.upstreams.get(providerId);
    if (!upstream) throw refused('FEDERATION_PROVIDER_UNKNOWN');
    return upstream;
  }

  /**
   * Starts a transaction: the redirect to the upstream and the secret of the browser cookie that
   * binds the callback to this browser. Discovery runs first, so an unreachable upstream writes nothing.
   */
  async function start(
    providerId: string,
    round: { number: 1 } | { number: 2; acrValues: readonly string[]; accountId: string } = { number: 1 },
  ): Promise<{ redirect: string; cookieSecret: string }> {
    const { provider, client } = upstreamOf(providerId);
    const acrValues = round.number === 1 ? provider.acrValues : round.acrValues;
    const cookieSecret = newSecret();
    const url = await client.authorizationUrl(secretsOf(cookieSecret), {
      acrValues,
      forceLogin: round.number === 2,
    });
    const now = deps.clock.now();
    await repo.purgeTransactions(deps.db, new Date(now.getTime() - 3_600_000).toISOString());
    await repo.insertTransaction(deps.db, {
      id: deps.ids.next(),
      provider: provider.id,
      binding_hash: digestOf(cookieSecret),
      stage: 'authorize',
      round: round.number,
      acr_values: JSON.stringify(acrValues),
      account_id: round.number === 2 ? round.accountId : null,
      federated_identity_id: null,
      upstream_acr: null,
      upstream_amr: null,
      challenge_hash: null,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + TRANSACTION_TTL_MS).toISOString(),
    });
    return { redirect: url.href, cookieSecret };
  }

  /**
   * Checks the upstream's answer (openid-client: iss, aud, exp, nonce, signature, state, PKCE), finds
   * the account by the stored link or links it by the rule, checks the acr the account's population
   * accepts (asking the upstream once more for it), then opens the session when the proof resists
   * phishing, or leaves the transaction waiting for a local passkey. Every refusal is journaled as
   * `auth.sign_in` with its reason and, apart from an unreachable upstream, counted by the brake.
   */
  async function callback(
    providerId: string,
    query: string,
    cookieSecret: string | undefined,
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<CallbackOutcome> {
    const { provider, client } = upstreamOf(providerId);
    let accountId: string | undefined;
    let brakeKey: string | undefined;
    let proof: UpstreamProof | undefined;
    const journal = (reason: string, data: Record<string, unknown> = {}) =>
      journalFederatedFailure(deps, {
        reason,
        accountId,
        data: {
          provider: provider.id,
          issuer: provider.issuer,
          ...(proof ? { acr: proof.acr, amr: proof.amr } : {}),
          ...data,
        },
        meta: request.meta,
      });
    let tx: repo.FederationTransactionRow | undefined;
    try {
      if (cookieSecret !== undefined && looksLikeSecret(cookieSecret))
        tx = await repo.takeTransaction(
          deps.db,
          digestOf(cookieSecret),
          provider.id,
          'authorize',
          'callback',
          deps.clock.now().toISOString(),
        );
      if (!tx || cookieSecret === undefined) throw refused('FEDERATION_TRANSACTION_INVALID');
      proof = await client.verifyCallback(query, secretsOf(cookieSecret));
      brakeKey = `federated:${digestOf(`${proof.issuer} ${proof.subject}`)}`;
      const found = await accountFor(deps, provider, proof, tx, (id) => (accountId = id));
      brakeKey = `account:${found.accountId}`;
      brake.assertOpen([brakeKey]);
      const population = populationOf(found);
      if (!acrAccepted(provider, population, proof.acr)) {
        if (tx.round !== 1) throw refused('FEDERATED_ACR_INSUFFICIENT');
        await repo.updateTransaction(deps.db, tx.id, { stage: 'failed' });
        await journal('FEDERATED_ACR_INSUFFICIENT', { population, askedAgain: true });
        const again = await start(provider.id, {
          number: 2,
          acrValues: provider.acceptedAcr[population],
          accountId: found.accountId,
        });
        return { kind: 'again', ...again };
      }
      const resistant = phishingResistant(provider, proof.acr, proof.amr);
      const outcome = await settle(provider, proof, tx, found, resistant, request, previousSessionId);
      if (outcome.kind === 'signed_in') brake.onSuccess([brakeKey]);
      return outcome;
    } catch (error) {
      if (tx) await repo.updateTransaction(deps.db, tx.id, { stage: 'failed' });
      if (error instanceof SignInLockedError) {
        await journal('SIGN_IN_LOCKED');
        throw error;
      }
      if (!(error instanceof FederationRefusedError)) throw error;
      await journal(error.refusal);
      if (NOT_COUNTED.has(error.refusal)) throw error;
      try {
        await brake.onFailure(request.ip, brakeKey ? [brakeKey] : []);
      } catch (locked) {
        if (locked instanceof SignInLockedError) await journal('SIGN_IN_LOCKED');
        throw locked;
      }
      throw error;
    }
  }

  /** The link (made or touched), then the session or the passkey step, in one transaction. */
  async function settle(
    provider: FederationProviderConfig,
    proof: UpstreamProof,
    tx: repo.FederationTransactionRow,
    found: FoundAccount,
    resistant: boolean,
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<CallbackOutcome> {
    const { accountId } = found;
    const common = { provider: provider.id, issuer: proof.issuer, acr: proof.acr ?? null };
    try {
      return await runCommand(deps, async (ctx) => {
        const linkId = await linkOrTouch(deps, ctx, provider, proof, found, request.meta);
        const facts = {
          ...common,
          federatedIdentityId: linkId,
          upstreamAmr: proof.amr,
          phishingResistant: resistant,
        };
        if (!resistant) {
          await repo.updateTransaction(ctx.trx, tx.id, {
            stage: 'passkey',
            account_id: accountId,
            federated_identity_id: linkId,
            upstream_acr: proof.acr ?? null,
            upstream_amr: JSON.stringify(proof.amr),
            expires_at: new Date(ctx.now.getTime() + deps.signIn.challengeTtlMs).toISOString(),
          });
          ctx.emit({
            kind: 'federation.proof_accepted',
            actor: { type: 'account', id: accountId },
            target: { type: 'account', id: accountId },
            organisationId: found.organisationId,
            outcome: 'success',
            data: { ...facts, next: 'local_passkey' },
            context: request.meta,
          });
          return { kind: 'passkey' } as const;
        }
        if (previousSessionId) await sessions.endRotated(ctx, previousSessionId, accountId);
        const strength = federatedStrengthOf({ upstreamAmr: proof.amr, phishingResistant: true });
        await repo.updateTransaction(ctx.trx, tx.id, {
          stage: 'done',
          account_id: accountId,
          federated_identity_id: linkId,
        });
        const signedIn = await sessions.signIn(ctx, {
          accountId,
          organisationId: found.organisationId,
          method: 'federated',
          credentialId: linkId,
          strength,
          request,
          data: { method: 'federated', ...facts, localPasskey: false },
        });
        return { kind: 'signed_in', signedIn } as const;
      });
    } catch (error) {
      // Two first logins racing for one account (or one subject): the second finds it linked.
      if (isUniqueViolation(error)) throw refused('FEDERATED_ACCOUNT_ALREADY_LINKED');
      throw error;
    }
  }

  return { start, callback };
}

export type FederationService = ReturnType<typeof createFederationService>;
