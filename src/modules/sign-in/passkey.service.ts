import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { AccountPrincipal } from '../../shared/principal.js';
import { runCommand, type CommandContext } from '../events/command.js';
import { findAccount } from '../identity/account.repository.js';
import { visibleAccount } from '../identity/account.service.js';
import { isUniqueViolation } from '../identity/identity.errors.js';
import type { Ceremonies } from './ceremony.service.js';
import * as repo from './passkey.repository.js';
import {
  registrationOptions,
  storedCredentialOf,
  verifyRegistration,
  type UserVerification,
  type VerifiedCredential,
} from './passkey.webauthn.js';
import type { RequestFacts, SignInDeps } from './sign-in.deps.js';
import { signInErrors as E } from './sign-in.errors.js';
import type { SessionService } from './session.service.js';
import { endSession } from './session.repository.js';
import { strengthOf } from './session.strength.js';
import type { SignedIn } from './sign-in.service.js';
import { populationOfAccount } from './federation/federation.policy.js';

/** Live passkeys one account may hold: a few devices and a spare, few enough to review. */
export const MAX_PASSKEYS = 10;

export interface Passkey {
  readonly id: string;
  readonly name: string;
  readonly aaguid: string;
  readonly synced: boolean;
  readonly backedUp: boolean;
  readonly transports: string[];
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export const presentPasskey = (r: repo.PasskeyRow): Passkey => ({
  id: r.id,
  name: r.name,
  aaguid: r.aaguid,
  synced: r.device_type === 'multiDevice',
  backedUp: r.backed_up === 1,
  transports: JSON.parse(r.transports) as string[],
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/** Accounts holding a privileged role must verify the user (PIN, biometrics) on every ceremony. */
export const userVerificationFor = (grants: readonly { privileged: boolean }[]): UserVerification =>
  grants.some((g) => g.privileged) ? 'required' : 'preferred';

/**
 * Writes a verified credential for an account inside the caller's transaction, with its event.
 * A credential id already registered (to anyone) is refused as an unverifiable registration.
 */
export async function storeCredential(
  ctx: CommandContext,
  deps: Pick<SignInDeps, 'ids'>,
  input: {
    accountId: string;
    organisationId: string;
    credential: VerifiedCredential;
    name: string;
    via: string;
  },
  meta: RequestFacts['meta'],
): Promise<repo.PasskeyRow> {
  if ((await repo.countLivePasskeys(ctx.trx, input.accountId)) >= MAX_PASSKEYS)
    throw E.passkeyLimit(MAX_PASSKEYS);
  const c = input.credential;
  const row: repo.PasskeyRow = {
    id: deps.ids.next(),
    account_id: input.accountId,
    credential_id: c.credentialId,
    public_key: c.publicKey,
    counter: c.counter,
    transports: JSON.stringify(c.transports),
    aaguid: c.aaguid,
    device_type: c.deviceType,
    backed_up: c.backedUp ? 1 : 0,
    user_verified: c.userVerified ? 1 : 0,
    name: input.name,
    created_at: ctx.now.toISOString(),
    last_used_at: null,
    revoked_at: null,
  };
  if (await repo.findPasskeyByCredentialId(ctx.trx, c.credentialId)) throw E.registrationRejected();
  try {
    await repo.insertPasskey(ctx.trx, row);
  } catch (error) {
    if (isUniqueViolation(error)) throw E.registrationRejected();
    throw error;
  }
  ctx.emit({
    kind: 'passkey.registered',
    actor: { type: 'account', id: input.accountId },
    target: { type: 'passkey', id: row.id },
    organisationId: input.organisationId,
    outcome: 'success',
    data: {
      accountId: input.accountId,
      aaguid: c.aaguid,
      synced: c.deviceType === 'multiDevice',
      userVerified: c.userVerified,
      via: input.via,
    },
    context: meta,
  });
  return row;
}

/** The caller's own passkeys: register another one while signed in, list, rename, revoke. */
export function createPasskeyService(deps: SignInDeps, ceremonies: Ceremonies, sessions: SessionService) {
  async function beginRegistration(
    principal: AccountPrincipal,
  ): Promise<{ ceremonyId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
    const account = await findAccount(deps.db, principal.accountId);
    if (!account) throw E.accountNotFound();
    const userVerification = userVerificationFor(principal.grants);
    const { id, challenge } = await ceremonies.begin(deps.db, {
      purpose: 'registration',
      accountId: principal.accountId,
      userVerification,
    });
    const live = await repo.listLivePasskeys(deps.db, principal.accountId);
    const options = await registrationOptions(deps.signIn, {
      challenge,
      userId: principal.accountId,
      userName: account.email,
      exclude: live.map(storedCredentialOf),
      userVerification,
    });
    return { ceremonyId: id, options };
  }

  /**
   * Stores the new passkey. From a recovery session, the same transaction ends that session and
   * opens a normal passkey session for the new key (a new id and secret: the privilege changed).
   */
  async function completeRegistration(
    principal: AccountPrincipal,
    input: { ceremonyId: string; response: RegistrationResponseJSON; name: string },
    request: RequestFacts,
  ): Promise<{ passkey: Passkey; signedIn?: SignedIn }> {
    const meta = request.meta;
    const ceremony = await ceremonies.take(input.ceremonyId, 'registration');
    // Another account's ceremony does not exist for this caller.
    if (ceremony.account_id !== principal.accountId) throw E.ceremonyInvalid();
    const credential = await verifyRegistration(deps.signIn, {
      response: input.response,
      challengeHash: ceremony.challenge_hash,
      requireUserVerification: ceremony.user_verification === 'required',
      population: await populationOfAccount(deps, principal.accountId),
    });
    const recovery = principal.session?.method === 'recovery' ? principal.session : undefined;
    return runCommand(deps, async (ctx) => {
      const row = await storeCredential(
        ctx,
        deps,
        {
          accountId: principal.accountId,
          organisationId: principal.organisationId,
          credential,
          name: input.name,
          via: recovery ? 'recovery' : 'session',
        },
        meta,
      );
      if (!recovery) return { passkey: presentPasskey(row) };
      if (!(await endSession(ctx.trx, recovery.id, ctx.now.toISOString(), 'recovered')))
        throw E.sessionRequired();
      ctx.emit({
        kind: 'session.ended',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'session', id: recovery.id },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { accountId: principal.accountId, reason: 'recovered', passkeyId: row.id },
        context: meta,
      });
      const strength = strengthOf({
        userVerified: credential.userVerified,
        deviceType: credential.deviceType,
      });
      const signedIn = await sessions.signIn(ctx, {
        accountId: principal.accountId,
        organisationId: principal.organisationId,
        method: 'passkey',
        credentialId: row.id,
        strength,
        request,
        data: {
          method: 'passkey',
          via: 'recovery',
          passkeyId: row.id,
          userVerified: credential.userVerified,
        },
      });
      return { passkey: presentPasskey(row), signedIn };
    });
  }

  async function listOwn(principal: AccountPrincipal): Promise<Passkey[]> {
    return (await repo.listLivePasskeys(deps.db, principal.accountId)).map(presentPasskey);
  }

  /** Another account's passkeys (public facts), for whoever may read that account (else 404). */
  async function listOf(actor: AccountPrincipal, accountId: string): Promise<Passkey[]> {
    await visibleAccount(deps.db, actor, accountId);
    return (await repo.listLivePasskeys(deps.db, accountId)).map(presentPasskey);
  }

  async function ownPasskey(
    ctx: CommandContext,
    principal: AccountPrincipal,
    id: string,
  ): Promise<repo.PasskeyRow> {
    const row = await repo.findPasskey(ctx.trx, id);
    // Another account's passkey, or a revoked one, does not exist for this caller.
    if (!row || row.account_id !== principal.accountId || row.revoked_at !== null) throw E.passkeyNotFound();
    return row;
  }

  async function rename(
    principal: AccountPrincipal,
    id: string,
    name: string,
    meta: RequestFacts['meta'],
  ): Promise<Passkey> {
    return runCommand(deps, async (ctx) => {
      const row = await ownPasskey(ctx, principal, id);
      await repo.renamePasskey(ctx.trx, id, name);
      ctx.emit({
        kind: 'passkey.renamed',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'passkey', id },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { accountId: principal.accountId },
        context: meta,
      });
      return presentPasskey({ ...row, name });
    });
  }

  /** Revokes a passkey and ends the sessions it opened. */
  async function revoke(
    principal: AccountPrincipal,
    id: string,
    meta: RequestFacts['meta'],
  ): Promise<Passkey> {
    return runCommand(deps, async (ctx) => {
      const row = await ownPasskey(ctx, principal, id);
      const at = ctx.now.toISOString();
      await repo.revokePasskey(ctx.trx, id, at);
      const ended = await sessions.endForPasskey(ctx, principal.accountId, id);
      ctx.emit({
        kind: 'passkey.revoked',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'passkey', id },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { accountId: principal.accountId, sessionsEnded: ended.length },
        context: meta,
      });
      if (ended.length > 0) {
        ctx.emit({
          kind: 'session.revoked',
          actor: { type: 'account', id: principal.accountId },
          target: { type: 'account', id: principal.accountId },
          organisationId: principal.organisationId,
          outcome: 'success',
          data: { sessionIds: ended, count: ended.length, reason: 'passkey_revoked' },
          context: meta,
        });
      }
      return presentPasskey({ ...row, revoked_at: at });
    });
  }

  return { beginRegistration, completeRegistration, listOwn, listOf, rename, revoke };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
