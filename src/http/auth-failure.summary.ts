import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { stampEvent } from '../modules/events/command.js';
import { insertEvents } from '../modules/events/event.repository.js';
import type { Clock } from '../shared/clock.js';
import type { EventBus } from '../shared/event-bus.js';
import type { VigieEvent } from '../shared/event.js';
import type { IdGenerator } from '../shared/ids.js';

export const AUTH_FAILURES_KIND = 'auth.token_failures';
export type AuthFailureReason = 'malformed' | 'rejected';

interface PendingSummary {
  readonly firstAt: number;
  lastAt: number;
  malformed: number;
  rejected: number;
  throttled: number;
}

export interface AuthFailureSummaries {
  record(ip: string, reason: AuthFailureReason, throttled: boolean): void;
  /** Writes the summaries whose minute is over. */
  flushDue(): Promise<void>;
  /** Writes every pending summary (on stop). */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Failed bearer authentications become one `auth.token_failures` event per address and period
 * (a minute by default) with the counts and the first and last time, not one event per attempt: a
 * guessing run must not be able to flood the journal. The wrong token itself is never kept, not
 * even hashed: it is either noise or a near miss of a real secret, and neither helps an analyst.
 * The events are written outside any request, after the fact, then published for detection.
 */
export function createAuthFailureSummaries(
  deps: {
    readonly db: Db;
    readonly bus: Pick<EventBus, 'publish'>;
    readonly clock: Clock;
    readonly ids: IdGenerator;
    readonly logger: Pick<Logger, 'error'>;
  },
  options: { readonly periodMs?: number; readonly maxPending: number; readonly checkEveryMs?: number },
): AuthFailureSummaries {
  const periodMs = options.periodMs ?? 60_000;
  const pending = new Map<string, PendingSummary>();
  let writing: Promise<void> = Promise.resolve();

  function toEvent(ip: string, s: PendingSummary): VigieEvent {
    const lastAt = new Date(s.lastAt).toISOString();
    return stampEvent(deps, {
      kind: AUTH_FAILURES_KIND,
      time: lastAt,
      actor: { type: 'system', id: 'http-edge' },
      context: { ip },
      outcome: 'failure',
      reason: 'INVALID_TOKEN',
      data: {
        failures: s.malformed + s.rejected,
        malformed: s.malformed,
        rejected: s.rejected,
        throttled: s.throttled,
        firstAt: new Date(s.firstAt).toISOString(),
        lastAt,
      },
    });
  }

  /** Takes the chosen summaries out of the map and writes them after any write under way. */
  function flush(due: (s: PendingSummary) => boolean): Promise<void> {
    const events: VigieEvent[] = [];
    for (const [ip, s] of pending) {
      if (!due(s)) continue;
      pending.delete(ip);
      events.push(toEvent(ip, s));
    }
    if (events.length === 0) return writing;
    writing = writing.then(async () => {
      try {
        await insertEvents(deps.db, events);
        deps.bus.publish(events);
      } catch (error) {
        deps.logger.error(
          { err: { type: (error as Error).name, message: (error as Error).message }, lost: events.length },
          'failed authentication summaries could not be written',
        );
      }
    });
    return writing;
  }

  const flushDue = () => {
    const now = deps.clock.now().getTime();
    return flush((s) => now - s.firstAt >= periodMs || now < s.firstAt);
  };
  const timer = setInterval(() => void flushDue(), options.checkEveryMs ?? 10_000);
  timer.unref();

  return {
    record(ip, reason, throttled) {
      const now = deps.clock.now().getTime();
      const current = pending.get(ip);
      if (current && now - current.firstAt >= periodMs) void flushDue();
      let s = pending.get(ip);
      if (!s) {
        if (pending.size >= options.maxPending) void flush(() => true);
        s = { firstAt: now, lastAt: now, malformed: 0, rejected: 0, throttled: 0 };
        pending.set(ip, s);
      }
      s.lastAt = Math.max(s.lastAt, now);
      s[reason] += 1;
      if (throttled) s.throttled += 1;
    },
    flushDue,
    flushAll: () => flush(() => true),
    async stop() {
      clearInterval(timer);
      await flush(() => true);
    },
  };
}
