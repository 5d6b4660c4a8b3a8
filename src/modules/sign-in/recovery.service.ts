import { createHmac, randomBytes } from 'node:crypto';
import type { AccountPrincipal } from '../../shared/principal.js';
import { runCommand, stampEvent } from '../events/command.js';
import { insertEvents } from '../events/event.repository.js';
import { findAccountByEmail } from '../identity/account.repository.js';
import { canonicalEmail } from '../identity/email.js';
import { loadAccountGrants } from '../identity/principal.service.js';
import { countLivePasskeys } from './passkey.repository.js';
import * as repo from './recovery.repository.js';
import type { SignInBrake } from './sign-in.brake.js';
import { SIGN_IN_EVENT_ACTOR, type RequestFacts, type SignInDeps } from './sign-in.deps.js';
import {
  SignInFailedError,
  SignInLockedError,
  recoveryErrors as R,
  signInErrors as E,
  stepUpErrors,
} from './sign-in.errors.js';
import { digestOf } from './sign-in.secrets.js';
import type { SignedIn } from './sign-in.service.js';
import { contextOf } from './session.context.js';
import type { SessionService } from './session.service.js';
import { RECOVERY_STRENGTH } from './session.strength.js';

/** Codes in one set: enough for years of lost phones, few enough to print. */
export const RECOVERY_CODE_COUNT = 10;
/** A recovery session lives long enough to register a passkey, no more. */
export const RECOVERY_SESSION_MS = 15 * 60_000;

/** Crockford base32: no I, L, O, U, so that a code read aloud or typed from paper survives. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 80 random bits as 16 Crockford base32 characters, shown in groups of four. */
function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

/** What a person typed, as the 16 characters it stands for; undefined when it cannot be a code. */
export function normaliseRecoveryCode(typed: string): string | undefined {
  const plain = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{16}$/.test(plain) ? plain : undefined;
}

export type RecoveryKey = () => Promise<Buffer>;

/**
 * One-time recovery codes for an account that has a passkey and holds no privileged role. Stored as
 * HMAC-SHA-256 under a key kept beside the database (`recovery-code.key`), over the account id and
 * the code: each code carries 80 random bits, so a slow KDF would add nothing against a copy of the
 * database (2^80 guesses per code), while the key means such a copy cannot check even one guess;
 * and a keyed digest can be looked up by index, where per-code salts would mean trying every code
 * of the account. Using one opens a recovery session, good only for registering a new passkey.
 */
export function createRecoveryService(
  deps: SignInDeps,
  parts: { sessions: SessionService; brake: SignInBrake; key: RecoveryKey },
) {
  const { sessions, brake } = parts;
  const digest = async (accountId: string, code: string) =>
    createHmac('sha256', await parts.key())
      .update(`${accountId}:${code}`, 'utf8')
      .digest('hex');

  /**
   * Generates a new set (shown once) and revokes the previous one. From a passkey session (the route
   * also asks for a step-up: codes outlive any session, a thief must not mint them).
   */
  async function generate(
    principal: AccountPrincipal,
    meta: RequestFacts['meta'],
  ): Promise<{ codes: string[]; batchId: string; generatedAt: string }> {
    if (!principal.session) throw E.sessionRequired();
    if (principal.session.method !== 'passkey') throw stepUpErrors.passkeySessionRequired();
    if (principal.grants.some((g) => g.privileged)) throw R.notAllowed('privileged_role');
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
    const hashes = await Promise.all(
      codes.map((c) => digest(principal.accountId, normaliseRecoveryCode(c)!)),
    );
    return runCommand(deps, async (ctx) => {
      if ((await countLivePasskeys(ctx.trx, principal.accountId)) === 0) throw R.notAllowed('no_passkey');
      const at = ctx.now.toISOString();
      const batchId = deps.ids.next();
      const revokedPrevious = await repo.revokeRecoveryCodes(ctx.trx, principal.accountId, at);
      await repo.insertRecoveryCodes(
        ctx.trx,
        hashes.map((code_hash) => ({
          id: deps.ids.next(),
          account_id: principal.accountId,
          batch_id: batchId,
          code_hash,
          created_at: at,
          used_at: null,
          revoked_at: null,
        })),
      );
      ctx.emit({
        kind: 'recovery.codes_generated',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'account', id: principal.accountId },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { accountId: principal.accountId, batchId, count: codes.length, revokedPrevious },
        context: meta,
      });
      return { codes, batchId, generatedAt: at };
    });
  }

  async function status(
    principal: AccountPrincipal,
  ): Promise<{ remaining: number; generatedAt: string | null }> {
    const live = await repo.liveRecoveryCodes(deps.db, principal.accountId);
    return { remaining: live.count, generatedAt: live.generatedAt };
  }

  async function journalFailure(
    reason: string,
    accountId: string | undefined,
    meta: RequestFacts['meta'],
  ): Promise<void> {
    const event = stampEvent(deps, {
      kind: 'recovery.code_used',
      actor: accountId ? { type: 'account', id: accountId } : SIGN_IN_EVENT_ACTOR,
      ...(accountId ? { target: { type: 'account', id: accountId } } : {}),
      outcome: reason === 'SIGN_IN_LOCKED' ? 'denied' : 'failure',
      reason,
      data: {},
      context: meta,
    });
    await insertEvents(deps.db, [event]);
    deps.bus.publish([event]);
  }

  /**
   * Spends a code and opens a recovery session. Every refusal — unknown e-mail, inactive or
   * privileged account, malformed, wrong, used or revoked code — is the same 401 SIGN_IN_FAILED,
   * counted in the sign-in brake per account (or e-mail typed) and per address.
   */
  async function use(
    input: { email: string; code: string },
    request: RequestFacts,
    previousSessionId: string | undefined,
  ): Promise<SignedIn> {
    const email = canonicalEmail(input.email) ?? input.email;
    const account = await findAccountByEmail(deps.db, email);
    const lockKey = account ? `account:${account.id}` : `email:${digestOf(email)}`;
    try {
      brake.assertOpen([lockKey]);
    } catch (error) {
      if (error instanceof SignInLockedError)
        await journalFailure('SIGN_IN_LOCKED', account?.id, request.meta);
      throw error;
    }
    try {
      const code = normaliseRecoveryCode(input.code);
      // The digest is computed for an unknown e-mail too: both paths cost the same key operation.
      const hash = await digest(account?.id ?? 'unknown', code ?? '');
      if (!account) throw E.signInRejected('ACCOUNT_UNKNOWN');
      const loaded = await loadAccountGrants(deps.db, account.id, deps.clock.now().toISOString());
      if (!loaded) throw E.signInRejected('ACCOUNT_INACTIVE');
      if (loaded.grants.some((g) => g.privileged)) throw E.signInRejected('RECOVERY_NOT_ALLOWED');
      if (!code) throw E.signInRejected('CODE_INVALID');
      const signedIn = await runCommand(deps, async (ctx) => {
        const spent = await repo.spendRecoveryCode(ctx.trx, account.id, hash, ctx.now.toISOString());
        if (!spent) throw E.signInRejected('CODE_INVALID');
        if (previousSessionId) await sessions.endRotated(ctx, previousSessionId, account.id);
        const { row, secret } = await sessions.open(ctx, {
          accountId: account.id,
          method: 'recovery',
          credentialId: spent.id,
          strength: RECOVERY_STRENGTH,
          context: contextOf(request),
          absoluteMs: RECOVERY_SESSION_MS,
        });
        const remaining = (await repo.liveRecoveryCodes(ctx.trx, account.id)).count;
        ctx.emit({
          kind: 'recovery.code_used',
          actor: { type: 'account', id: account.id },
          target: { type: 'account', id: account.id },
          organisationId: loaded.organisationId,
          outcome: 'success',
          data: {
            accountId: account.id,
            codeId: spent.id,
            batchId: spent.batch_id,
            sessionId: row.id,
            remaining,
            networkPrefix: row.network_prefix,
            browserFamily: row.browser_family,
          },
          context: { ...request.meta, sessionId: row.id, authLevel: RECOVERY_STRENGTH.authLevel },
        });
        return {
          secret,
          sessionId: row.id,
          accountId: account.id,
          aal: RECOVERY_STRENGTH.aal,
          absoluteExpiresAt: row.absolute_expires_at,
        };
      });
      brake.onSuccess([lockKey]);
      return signedIn;
    } catch (error) {
      if (!(error instanceof SignInFailedError)) throw error;
      await journalFailure(error.reason, account?.id, request.meta);
      try {
        await brake.onFailure(request.ip, [lockKey]);
      } catch (locked) {
        if (locked instanceof SignInLockedError)
          await journalFailure('SIGN_IN_LOCKED', account?.id, request.meta);
        throw locked;
      }
      throw error;
    }
  }

  return { generate, status, use };
}

export type RecoveryService = ReturnType<typeof createRecoveryService>;
