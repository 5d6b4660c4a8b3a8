import type { Logger } from 'pino';
import type Provider from 'oidc-provider';
import type { CoreDeps } from '../../container.js';
import type { VigieEvent } from '../../shared/event.js';
import { runCommand } from '../events/command.js';
import * as repo from './oidc.repository.js';

/** oidc-provider's Client has this method; its type declarations leave it out. */
interface BackchannelClient {
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

const SYSTEM_ACTOR = { type: 'system', id: 'oidc-provider' } as const;

/** The Vigie sessions a committed event ends. */
export function sessionsEndedBy(event: VigieEvent): string[] {
  if (event.outcome !== 'success') return [];
  if (event.kind === 'session.revoked') {
    const ids = event.data?.sessionIds;
    return Array.isArray(ids) ? ids.filter((i): i is string => typeof i === 'string') : [];
  }
  if (
    (event.kind === 'session.ended' || event.kind === 'session.context_changed') &&
    event.target?.type === 'session'
  )
    return [event.target.id];
  return [];
}

export interface LogoutOptions {
  /** Delays before each attempt of a back-channel logout: its length bounds the attempts. */
  readonly retryDelaysMs: readonly number[];
}

/**
 * Follows the bus: when Vigie sessions end (sign-out, timeouts, context change, revocation by an
 * administrator or by a detection response), the grants they authorised are revoked in the
 * provider (every code and access token of the grant deleted, journaled `oidc.grants_revoked` in the
 * same transaction), then each client with a back-channel logout URI gets a logout token (OpenID
 * Back-Channel Logout 1.0) naming the account and the `sid` of its ID tokens, retried a bounded
 * number of times; the outcome is journaled `oidc.backchannel_logout` (never the token).
 */
export function createLogoutFollower(
  deps: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'> & { logger: Logger },
  provider: () => Promise<Provider>,
  options: LogoutOptions,
) {
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    const p = work
      .catch((error: unknown) => deps.logger.error({ err: error }, 'oidc session end failed'))
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  async function sendLogout(p: Provider, grant: repo.GrantSessionRow): Promise<void> {
    if (grant.sid === null) return;
    const client = await p.Client.find(grant.client_id);
    if (!client?.backchannelLogoutUri) return;
    let attempts = 0;
    let failure: string | undefined;
    for (const delay of options.retryDelaysMs) {
      if (delay > 0) await sleep(delay);
      attempts++;
      try {
        await (client as unknown as BackchannelClient).backchannelLogout(grant.account_id, grant.sid);
        failure = undefined;
        break;
      } catch (error) {
        // Only the kind of failure: a response body or URL query could carry what it should not.
        failure =
          error instanceof Error && /expected 200/.test(error.message) ? 'unexpected_status' : 'unreachable';
      }
    }
    await runCommand(deps, (ctx) => {
      ctx.emit({
        kind: 'oidc.backchannel_logout',
        actor: SYSTEM_ACTOR,
        target: { type: 'application', id: grant.client_id },
        outcome: failure ? 'failure' : 'success',
        ...(failure ? { reason: failure } : {}),
        data: {
          applicationId: grant.client_id,
          accountId: grant.account_id,
          sessionId: grant.session_id,
          attempts,
        },
      });
      return Promise.resolve();
    });
  }

  async function endSessions(sessionIds: string[]): Promise<void> {
    const revoked = await runCommand(deps, async (ctx) => {
      const rows = await repo.revokeGrantsOfSessions(ctx.trx, sessionIds, ctx.now.toISOString());
      for (const row of rows) await repo.deleteArtifactsOfGrant(ctx.trx, row.grant_id);
      // The provider's own session ends too: whoever signs in next on that browser starts afresh.
      await repo.deleteProviderSessions(
        ctx.trx,
        rows.flatMap((r) => (r.provider_session_hash ? [r.provider_session_hash] : [])),
      );
      const bySession = new Map<string, repo.GrantSessionRow[]>();
      for (const row of rows) bySession.set(row.session_id, [...(bySession.get(row.session_id) ?? []), row]);
      for (const [sessionId, grants] of bySession)
        ctx.emit({
          kind: 'oidc.grants_revoked',
          actor: SYSTEM_ACTOR,
          target: { type: 'session', id: sessionId },
          outcome: 'success',
          data: {
            sessionId,
            accountId: grants[0]!.account_id,
            grantIds: grants.map((g) => g.grant_id),
            applicationIds: [...new Set(grants.map((g) => g.client_id))],
          },
        });
      return rows;
    });
    if (revoked.length === 0) return;
    const p = await provider();
    await Promise.all(revoked.map((grant) => sendLogout(p, grant)));
  }

  return {
    onEvents(events: readonly VigieEvent[]): void {
      const ids = [...new Set(events.flatMap(sessionsEndedBy))];
      if (ids.length > 0) track(endSessions(ids));
    },
    /** Waits for the revocations and logout deliveries under way. */
    async settle(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
