import type { Db } from '../../db/database.js';
import { findSession } from '../sign-in/session.repository.js';

/** A Vigie session as the PDP needs it: strength, time and network, never the cookie secret. */
export interface StoredSession {
  readonly id: string;
  readonly accountId: string;
  /** 'passkey' | 'totp'. */
  readonly method: string;
  readonly authLevel: string;
  readonly aal: string;
  readonly amr: readonly string[];
  /** When its holder signed in (the session's start): the `auth_time` the PDP uses. */
  readonly authTimeMs: number;
  /** The session's last user-verified passkey step-up, if any (docs/sign-in.md, Step-up). */
  readonly stepUpAtMs?: number;
  readonly lastSeenMs: number;
  readonly absoluteExpiresMs: number;
  readonly ended: boolean;
  readonly networkPrefix: string;
}

/**
 * Where session facts come from. `bySessionId` reads Vigie's sessions; `byAccessToken`, optional, is
 * the OpenID Provider's answer to "in which Vigie session, and to which client, was this access token
 * issued?": it resolves `undefined` for an unknown, expired or revoked token and rejects only when it
 * cannot answer.
 */
export interface SessionFactsSource {
  bySessionId(id: string): Promise<StoredSession | undefined>;
  byAccessToken?(token: string): Promise<TokenSession | undefined>;
}

/** Where an access token leads: its session, and the client (application id) it was issued to. */
export interface TokenSession {
  readonly sessionId: string;
  readonly clientId: string;
}

/** The sessions table (sign-in module), read only: a lookup never touches nor ends a session. */
export function databaseSessionSource(db: Db): SessionFactsSource {
  return {
    async bySessionId(id) {
      const row = await findSession(db, id);
      if (!row) return undefined;
      let amr: string[] = [];
      try {
        const parsed: unknown = JSON.parse(row.amr);
        if (Array.isArray(parsed)) amr = parsed.filter((x): x is string => typeof x === 'string');
      } catch {
        // A malformed amr is no amr: the strength still comes from auth_level and aal.
      }
      return {
        id: row.id,
        accountId: row.account_id,
        method: row.method,
        authLevel: row.auth_level,
        aal: row.aal,
        amr: Object.freeze(amr),
        authTimeMs: Date.parse(row.created_at),
        ...(row.step_up_at !== null ? { stepUpAtMs: Date.parse(row.step_up_at) } : {}),
        lastSeenMs: Date.parse(row.last_seen_at),
        absoluteExpiresMs: Date.parse(row.absolute_expires_at),
        ended: row.ended_at !== null,
        networkPrefix: row.network_prefix,
      };
    },
  };
}

/** Adds (or replaces) the access-token resolver of a source, for the lead's wiring of the OP. */
export function withAccessTokens(
  source: SessionFactsSource,
  byAccessToken: (token: string) => Promise<TokenSession | undefined>,
): SessionFactsSource {
  return { bySessionId: (id) => source.bySessionId(id), byAccessToken };
}
