import type { AccountPrincipal, SessionFacts } from '../../shared/principal.js';
import { runCommand, type CommandContext, type EventDraft } from '../events/command.js';
import { visibleAccount } from '../identity/account.service.js';
import { loadAccountGrants } from '../identity/principal.service.js';
import type { SignInDeps, RequestFacts } from './sign-in.deps.js';
import { SIGN_IN_EVENT_ACTOR } from './sign-in.deps.js';
import { signInErrors as E } from './sign-in.errors.js';
import { digestOf, looksLikeSecret, newSecret } from './sign-in.secrets.js';
import { contextOf, sameContext, type SessionContext } from './session.context.js';
import * as repo from './session.repository.js';
import type { SessionStrength } from './session.strength.js';
import { totpRefusal } from './totp.policy.js';
import { organisationKindOf } from './totp.repository.js';

const TOUCH_EVERY_MS = 60_000;

export interface SessionView {
  readonly id: string;
  readonly current: boolean;
  readonly authLevel: string;
  readonly aal: string;
  readonly networkPrefix: string;
  readonly browserFamily: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly absoluteExpiresAt: string;
}

/** A session just opened by a sign-in: the secret goes into the cookie, nowhere else. */
export interface SignedIn {
  readonly secret: string;
  readonly sessionId: string;
  readonly accountId: string;
  readonly aal: string;
  readonly absoluteExpiresAt: string;
}

export type SessionResolution =
  | { readonly kind: 'principal'; readonly principal: AccountPrincipal }
  | { readonly kind: 'context_changed' }
  | { readonly kind: 'none' };

function sessionEvent(
  kind: string,
  row: repo.SessionRow,
  data: Record<string, unknown>,
  meta: RequestFacts['meta'] | undefined,
  actor: { type: 'account' | 'system'; id: string } = { type: 'account', id: row.account_id },
): EventDraft {
  return {
    kind,
    actor,
    target: { type: 'session', id: row.id },
    outcome: 'success',
    data: { accountId: row.account_id, ...data },
    ...(meta ? { context: { ...meta, sessionId: row.id } } : {}),
  };
}

/**
 * Server-side sessions: the cookie carries a 256-bit secret, the row its SHA-256, the strength of the
 * sign-in, and the network and browser family it started on. Idle and absolute timeouts end it, so
 * does a change of network or browser (SESSION_CONTEXT_CHANGED), sign-out and containment.
 */
export function createSessionService(deps: SignInDeps) {
  const idleMs = deps.signIn.sessionIdleMs;

  /** Opens a session inside the caller's transaction; the returned secret goes into the cookie only. */
  async function open(
    ctx: Pick<CommandContext, 'trx' | 'now'>,
    input: {
      accountId: string;
      method: SessionFacts['method'];
      /** The passkey, or the TOTP credential, that signed in. */
      credentialId: string;
      strength: SessionStrength;
      context: SessionContext;
      /** A shorter absolute lifetime than the configured one (a recovery session). */
      absoluteMs?: number;
    },
  ): Promise<{ row: repo.SessionRow; secret: string }> {
    const secret = newSecret();
    const at = ctx.now.toISOString();
    const row: repo.SessionRow = {
      id: deps.ids.next(),
      secret_hash: digestOf(secret),
      account_id: input.accountId,
      passkey_id: input.credentialId,
      method: input.method,
      auth_level: input.strength.authLevel,
      aal: input.strength.aal,
      amr: JSON.stringify(input.strength.amr),
      network_prefix: input.context.networkPrefix,
      browser_family: input.context.browserFamily,
      created_at: at,
      last_seen_at: at,
      absolute_expires_at: new Date(
        ctx.now.getTime() + Math.min(input.absoluteMs ?? Infinity, deps.signIn.sessionAbsoluteMs),
      ).toISOString(),
      ended_at: null,
      end_reason: null,
      step_up_at: null,
    };
    await repo.insertSession(ctx.trx, row);
    return { row, secret };
  }

  /**
   * A successful sign-in, whichever way it came (passkey, enrolment, recovery, TOTP, federation):
   * opens the session in the caller's transaction and journals the one `auth.sign_in` success that
   * detection reads, with the method's own facts in `data` beside the session's.
   */
  async function signIn(
    ctx: Pick<CommandContext, 'trx' | 'now' | 'emit'>,
    input: {
      accountId: string;
      organisationId: string | undefined;
      method: SessionFacts['method'];
      credentialId: string;
      strength: SessionStrength;
      request: RequestFacts;
      /** What the method proved (`method`, credential ids, upstream facts...). */
      data: Record<string, unknown>;
      absoluteMs?: number;
    },
  ): Promise<SignedIn> {
    const { accountId, strength, request } = input;
    const { row, secret } = await open(ctx, {
      accountId,
      method: input.method,
      credentialId: input.credentialId,
      strength,
      context: contextOf(request),
      ...(input.absoluteMs !== undefined ? { absoluteMs: input.absoluteMs } : {}),
    });
    ctx.emit({
      kind: 'auth.sign_in',
      actor: { type: 'account', id: accountId },
      target: { type: 'account', id: accountId },
      ...(input.organisationId !== undefined ? { organisationId: input.organisationId } : {}),
      outcome: 'success',
      data: {
        ...input.data,
        sessionId: row.id,
        aal: strength.aal,
        amr: strength.amr,
        networkPrefix: row.network_prefix,
        browserFamily: row.browser_family,
      },
      context: { ...request.meta, sessionId: row.id, authLevel: strength.authLevel },
    });
    return {
      secret,
      sessionId: row.id,
      accountId,
      aal: strength.aal,
      absoluteExpiresAt: row.absolute_expires_at,
    };
  }

  async function endWithEvent(
    row: repo.SessionRow,
    reason: string,
    event: EventDraft | undefined,
  ): Promise<void> {
    await runCommand(deps, async (ctx) => {
      if ((await repo.endSession(ctx.trx, row.id, ctx.now.toISOString(), reason)) && event) ctx.emit(event);
    });
  }

  /** The principal a session cookie stands for, checking timeouts and the context binding. */
  async function resolve(secret: string, request: RequestFacts): Promise<SessionResolution> {
    if (!looksLikeSecret(secret)) return { kind: 'none' };
    const row = await repo.findSessionByHash(deps.db, digestOf(secret));
    if (!row || row.ended_at !== null) return { kind: 'none' };
    const now = deps.clock.now();
    const at = now.toISOString();
    const idle = now.getTime() - Date.parse(row.last_seen_at) >= idleMs;
    if (idle || row.absolute_expires_at <= at) {
      const reason = idle ? 'idle_timeout' : 'absolute_timeout';
      await endWithEvent(
        row,
        reason,
        sessionEvent('session.ended', row, { reason }, request.meta, SIGN_IN_EVENT_ACTOR),
      );
      return { kind: 'none' };
    }
    const seen = contextOf(request);
    const started: SessionContext = {
      networkPrefix: row.network_prefix,
      browserFamily: row.browser_family as SessionContext['browserFamily'],
    };
    if (!sameContext(seen, started)) {
      await endWithEvent(
        row,
        'context_changed',
        sessionEvent(
          'session.context_changed',
          row,
          {
            started: { networkPrefix: started.networkPrefix, browserFamily: started.browserFamily },
            seen: { networkPrefix: seen.networkPrefix, browserFamily: seen.browserFamily },
          },
          { requestId: request.meta.requestId ?? '', channel: 'api' },
          SIGN_IN_EVENT_ACTOR,
        ),
      );
      return { kind: 'context_changed' };
    }
    const loaded = await loadAccountGrants(deps.db, row.account_id, at);
    if (!loaded) return { kind: 'none' };
    // A TOTP session is held to the TOTP policy on every request: a privileged or agent role granted
    // after it opened ends it, rather than lending that role to a relayable code.
    if (row.method === 'totp') {
      const refusal = totpRefusal({
        enabled: deps.signIn.totpEnabled,
        grants: loaded.grants,
        organisationKind: (await organisationKindOf(deps.db, row.account_id)) ?? '',
      });
      if (refusal) {
        await endWithEvent(
          row,
          'totp_not_allowed',
          sessionEvent(
            'session.ended',
            row,
            { reason: 'totp_not_allowed', refusal },
            request.meta,
            SIGN_IN_EVENT_ACTOR,
          ),
        );
        return { kind: 'none' };
      }
    }
    if (now.getTime() - Date.parse(row.last_seen_at) >= TOUCH_EVERY_MS)
      await repo.touchSession(deps.db, row.id, at);
    return {
      kind: 'principal',
      principal: {
        kind: 'account',
        accountId: row.account_id,
        organisationId: loaded.organisationId,
        tokenId: row.id,
        grants: loaded.grants,
        authLevel: row.auth_level,
        session: {
          id: row.id,
          method: row.method as SessionFacts['method'],
          aal: row.aal as 'aal1' | 'aal2' | 'aal3',
          amr: JSON.parse(row.amr) as string[],
          absoluteExpiresAt: row.absolute_expires_at,
          ...(row.step_up_at !== null ? { stepUpAt: row.step_up_at } : {}),
        },
      },
    };
  }

  function sessionOf(principal: AccountPrincipal): string {
    if (!principal.session) throw E.sessionRequired();
    return principal.session.id;
  }

  /** Ends the caller's own session. */
  async function signOut(principal: AccountPrincipal, meta: RequestFacts['meta']): Promise<void> {
    const id = sessionOf(principal);
    await runCommand(deps, async (ctx) => {
      const row = await repo.findSession(ctx.trx, id);
      if (!row || !(await repo.endSession(ctx.trx, id, ctx.now.toISOString(), 'signed_out'))) return;
      ctx.emit(sessionEvent('session.ended', row, { reason: 'signed_out' }, meta));
    });
  }

  /** Ends every session of the caller, the current one included. */
  async function signOutEverywhere(principal: AccountPrincipal, meta: RequestFacts['meta']): Promise<number> {
    sessionOf(principal);
    return runCommand(deps, async (ctx) => {
      const ended = await repo.endSessionsOf(
        ctx.trx,
        principal.accountId,
        ctx.now.toISOString(),
        'signed_out_everywhere',
      );
      ctx.emit({
        kind: 'session.revoked',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'account', id: principal.accountId },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { sessionIds: ended, count: ended.length, reason: 'signed_out_everywhere' },
        context: meta,
      });
      return ended.length;
    });
  }

  async function listOwn(principal: AccountPrincipal): Promise<SessionView[]> {
    return liveSessions(principal.accountId, principal.session?.id);
  }

  /** Another account's live sessions, for whoever may read that account (else 404). */
  async function listOf(actor: AccountPrincipal, accountId: string): Promise<SessionView[]> {
    await visibleAccount(deps.db, actor, accountId);
    return liveSessions(accountId, actor.accountId === accountId ? actor.session?.id : undefined);
  }

  async function liveSessions(accountId: string, currentId: string | undefined): Promise<SessionView[]> {
    const rows = await repo.listLiveSessions(deps.db, accountId, deps.clock.now().toISOString());
    return rows.map((r) => ({
      id: r.id,
      current: r.id === currentId,
      authLevel: r.auth_level,
      aal: r.aal,
      networkPrefix: r.network_prefix,
      browserFamily: r.browser_family,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      absoluteExpiresAt: r.absolute_expires_at,
    }));
  }

  /** Ends the sessions opened with a passkey being revoked, inside the revocation's transaction. */
  async function endForPasskey(ctx: CommandContext, accountId: string, passkeyId: string): Promise<string[]> {
    return repo.endSessionsOf(ctx.trx, accountId, ctx.now.toISOString(), 'passkey_revoked', {
      credentialId: passkeyId,
    });
  }

  /** Ends the sessions opened with a TOTP credential being revoked, inside the revocation's transaction. */
  async function endForTotp(ctx: CommandContext, accountId: string, totpId: string): Promise<string[]> {
    return repo.endSessionsOf(ctx.trx, accountId, ctx.now.toISOString(), 'totp_revoked', {
      credentialId: totpId,
    });
  }

  /** Ends the session a browser held before signing in again (rotation), inside the sign-in's transaction. */
  async function endRotated(ctx: CommandContext, sessionId: string, accountId: string): Promise<void> {
    const row = await repo.findSession(ctx.trx, sessionId);
    if (!row || !(await repo.endSession(ctx.trx, sessionId, ctx.now.toISOString(), 'rotated'))) return;
    ctx.emit(sessionEvent('session.ended', row, { reason: 'rotated', replacedFor: accountId }, undefined));
  }

  /** The id of the live session a cookie names, without checking its context (for rotation only). */
  async function idOf(secret: string): Promise<string | undefined> {
    if (!looksLikeSecret(secret)) return undefined;
    const row = await repo.findSessionByHash(deps.db, digestOf(secret));
    return row && row.ended_at === null ? row.id : undefined;
  }

  return {
    open,
    signIn,
    resolve,
    signOut,
    signOutEverywhere,
    listOwn,
    listOf,
    endForPasskey,
    endForTotp,
    endRotated,
    idOf,
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
