import { conflict } from '../../shared/errors.js';
import type { AccountPrincipal } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { findAccount } from '../identity/account.repository.js';
import { isUniqueViolation } from '../identity/identity.errors.js';
import type { RequestFacts, SignInDeps } from './sign-in.deps.js';
import { signInErrors as E, totpErrors as T } from './sign-in.errors.js';
import type { SessionService } from './session.service.js';
import { matchStep, newTotpSecret, openTotpSecret, otpauthUri, sealTotpSecret } from './totp.codec.js';
import { totpRefusal } from './totp.policy.js';
import * as repo from './totp.repository.js';

/** Time a started enrolment waits for its first valid code. */
const PENDING_TTL_MS = 10 * 60_000;

/** The key that seals TOTP secrets at rest, loaded once from beside the database. */
export type TotpKey = () => Promise<Buffer>;

export const totpAssociatedData = (row: { account_id: string; id: string }): string =>
  `vigie-totp:${row.account_id}:${row.id}`;

export interface TotpEnrolmentStarted {
  readonly totpId: string;
  /** Returned this once and never stored in clear: the app scans it, Vigie keeps it sealed. */
  readonly uri: string;
  readonly expiresAt: string;
}

/**
 * A passkey-signed-in account enrols a TOTP secret (start, then confirm with a first valid code) and
 * revokes it. The TOTP policy is checked at both steps of enrolment; the secret never reaches the
 * journal. Events: `totp.enrolled` on confirmation, `totp.revoked`.
 */
export function createTotpEnrolmentService(
  deps: SignInDeps,
  parts: { sessions: Pick<SessionService, 'endForTotp'>; key: TotpKey },
) {
  /** Throws TOTP_NOT_ALLOWED unless the policy lets this account use TOTP. */
  async function assertAllowed(principal: AccountPrincipal): Promise<void> {
    const refusal = totpRefusal({
      enabled: deps.signIn.totpEnabled,
      grants: principal.grants,
      organisationKind: (await repo.organisationKindOf(deps.db, principal.accountId)) ?? '',
    });
    if (refusal) throw T.notAllowed(refusal);
  }

  function assertPasskeySession(principal: AccountPrincipal): void {
    if (!principal.session) throw E.sessionRequired();
    if (principal.session.method !== 'passkey') throw T.passkeySessionRequired();
  }

  /**
   * Starts an enrolment: a new 160-bit secret, sealed, pending until confirmed. A pending one left
   * over is replaced; a confirmed one must be revoked first (TOTP_ALREADY_ENROLLED).
   */
  async function begin(principal: AccountPrincipal): Promise<TotpEnrolmentStarted> {
    assertPasskeySession(principal);
    await assertAllowed(principal);
    const account = await findAccount(deps.db, principal.accountId);
    if (!account) throw E.accountNotFound();
    const key = await parts.key();
    const secret = newTotpSecret();
    const id = deps.ids.next();
    const sealed = sealTotpSecret(key, secret, totpAssociatedData({ account_id: principal.accountId, id }));
    // Two enrolments racing on PostgreSQL both find no live row; the unique index lets one in and
    // the other is told to retry, never a 500.
    const createdAt = await runCommand(deps, async (ctx) => {
      const at = ctx.now.toISOString();
      const live = await repo.findLiveTotpCredential(ctx.trx, principal.accountId);
      if (live?.confirmed_at) throw T.alreadyEnrolled();
      if (live) await repo.revokeTotpCredential(ctx.trx, live.id, at);
      await repo.insertTotpCredential(ctx.trx, {
        id,
        account_id: principal.accountId,
        secret_ciphertext: sealed,
        created_at: at,
        confirmed_at: null,
        last_used_step: null,
        last_used_at: null,
        revoked_at: null,
      });
      return ctx.now;
    }).catch((error: unknown) => {
      if (isUniqueViolation(error))
        throw conflict(
          'TOTP_ENROLMENT_CONFLICT',
          'another TOTP enrolment of this account is under way; try again',
        );
      throw error;
    });
    return {
      totpId: id,
      uri: otpauthUri(secret, deps.signIn.rpName, account.email),
      expiresAt: new Date(createdAt.getTime() + PENDING_TTL_MS).toISOString(),
    };
  }

  /** Confirms the pending enrolment with a first valid code, which is spent (it cannot sign in). */
  async function confirm(
    principal: AccountPrincipal,
    code: string,
    meta: RequestFacts['meta'],
  ): Promise<{ totpId: string; confirmedAt: string }> {
    assertPasskeySession(principal);
    await assertAllowed(principal);
    const pending = await repo.findLiveTotpCredential(deps.db, principal.accountId);
    const now = deps.clock.now();
    if (!pending || pending.confirmed_at || Date.parse(pending.created_at) + PENDING_TTL_MS <= now.getTime())
      throw T.enrolmentInvalid();
    const secret = openTotpSecret(await parts.key(), pending.secret_ciphertext, totpAssociatedData(pending));
    const step = matchStep(secret, code, now.getTime());
    if (step === undefined) throw T.codeInvalid();
    return runCommand(deps, async (ctx) => {
      const at = ctx.now.toISOString();
      if (!(await repo.confirmTotpCredential(ctx.trx, pending.id, step, at))) throw T.enrolmentInvalid();
      ctx.emit({
        kind: 'totp.enrolled',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'account', id: principal.accountId },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { totpId: pending.id },
        context: meta,
      });
      return { totpId: pending.id, confirmedAt: at };
    });
  }

  /** Revokes the account's TOTP secret, pending or confirmed, and ends the sessions it opened. */
  async function revoke(
    principal: AccountPrincipal,
    meta: RequestFacts['meta'],
  ): Promise<{ totpId: string; revokedAt: string; endedSessions: number }> {
    return runCommand(deps, async (ctx) => {
      const at = ctx.now.toISOString();
      const live = await repo.findLiveTotpCredential(ctx.trx, principal.accountId);
      if (!live || !(await repo.revokeTotpCredential(ctx.trx, live.id, at))) throw T.notFound();
      const ended = await parts.sessions.endForTotp(ctx, principal.accountId, live.id);
      ctx.emit({
        kind: 'totp.revoked',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'account', id: principal.accountId },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { totpId: live.id, wasConfirmed: live.confirmed_at !== null, sessionIds: ended },
        context: meta,
      });
      return { totpId: live.id, revokedAt: at, endedSessions: ended.length };
    });
  }

  return { begin, confirm, revoke };
}

export type TotpEnrolmentService = ReturnType<typeof createTotpEnrolmentService>;
