import type { Executor } from '../../db/database.js';
import { invalid } from '../../shared/errors.js';
import type { Actor } from '../../shared/principal.js';
import { identityErrors as E } from './identity.errors.js';
import { findSession } from '../sign-in/session.repository.js';
import { findToken } from './token.repository.js';

/**
 * When a new API token stops working. Every token expires: without a request it lives the maximum of
 * its kind; a request beyond that maximum is refused. A token minted with another token (an account
 * issuing itself a token, or an application token issued through the API) never outlives the token
 * that minted it: asked explicitly for longer, it is refused (the caller learns its own limit);
 * asked for nothing, it is clamped to the minting token's expiry, so a default never fails.
 */
export interface TokenLifetime {
  readonly nowMs: number;
  /** The longest lifetime of this kind of token, in milliseconds (config.tokens). */
  readonly maxMs: number;
  /** The expiry the caller asked for, as epoch milliseconds; undefined for the default. */
  readonly requestedMs: number | undefined;
  /** Expiry of the minting token: undefined when Vigie itself mints (CLI), null for a legacy token. */
  readonly parentExpiresAt: string | null | undefined;
}

export const tokenLifetimeErrors = {
  tooLong: (maxExpiresAt: string) =>
    invalid('TOKEN_EXPIRY_TOO_LONG', 'the requested expiry is beyond the longest lifetime of this token', {
      maxExpiresAt,
    }),
  outlivesParent: (parentExpiresAt: string) =>
    invalid('TOKEN_OUTLIVES_PARENT', 'a token cannot outlive the token that mints it', { parentExpiresAt }),
};

/** The expiry of the new token, as an ISO timestamp; throws the refusal otherwise. */
export function tokenExpiry(l: TokenLifetime): string {
  const maxMs = l.nowMs + l.maxMs;
  const parentMs =
    l.parentExpiresAt === undefined || l.parentExpiresAt === null ? Infinity : Date.parse(l.parentExpiresAt);
  if (l.requestedMs !== undefined) {
    if (l.requestedMs > maxMs) throw tokenLifetimeErrors.tooLong(new Date(maxMs).toISOString());
    if (l.requestedMs > parentMs) throw tokenLifetimeErrors.outlivesParent(l.parentExpiresAt!);
    return new Date(l.requestedMs).toISOString();
  }
  return new Date(Math.min(maxMs, parentMs)).toISOString();
}

/**
 * The expiry of the token the actor is acting with, read again in the caller's transaction: a token
 * revoked or expired since the principal was resolved mints nothing (ACCOUNT_NOT_ACTIVE, 401).
 * Undefined for Vigie itself (the CLI), which holds no token.
 */
export async function mintingTokenExpiry(
  db: Executor,
  actor: Actor,
  nowIso: string,
): Promise<string | null | undefined> {
  if (actor.kind === 'system') return undefined;
  if (actor.kind === 'account' && actor.session) {
    // A session mints nothing that outlives it: its absolute expiry is the parent's expiry.
    const session = await findSession(db, actor.session.id);
    if (!session || session.account_id !== actor.accountId || session.ended_at !== null)
      throw E.actorNotActive();
    if (session.absolute_expires_at <= nowIso) throw E.actorNotActive();
    return session.absolute_expires_at;
  }
  const row = await findToken(db, actor.tokenId);
  const principalId = actor.kind === 'account' ? actor.accountId : actor.applicationId;
  if (
    !row ||
    row.principal_id !== principalId ||
    row.revoked_at !== null ||
    (row.expires_at !== null && row.expires_at <= nowIso)
  )
    throw E.actorNotActive();
  return row.expires_at;
}
