import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CoreDeps } from '../container.js';
import { VigieError } from '../shared/errors.js';
import { createAuthFailureSummaries, type AuthFailureReason } from './auth-failure.summary.js';
import { AuthFailureThrottle } from './auth-throttle.js';

export interface AuthFailureBrake {
  /**
   * Counts one failed bearer authentication from `ip` and brakes it: resolves at once or after a
   * delay (the caller then answers as for any unusable token), or throws 429 AUTH_THROTTLED.
   */
  onFailure(ip: string, reason: AuthFailureReason): Promise<void>;
  /** Stops the timers and writes the pending summaries. */
  stop(): Promise<void>;
}

export class AuthThrottledError extends VigieError {
  constructor(readonly retryAfterSeconds: number) {
    super('AUTH_THROTTLED', 429, 'too many failed authentications from this address; retry later');
  }
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The throttle, its summaries and its metrics, wired over the container's core. */
export function createAuthFailureBrake(
  core: Pick<CoreDeps, 'config' | 'clock' | 'db' | 'bus' | 'ids' | 'logger' | 'metrics'>,
): AuthFailureBrake {
  const config = core.config.authThrottle;
  const throttle = new AuthFailureThrottle(config, core.clock);
  const summaries = createAuthFailureSummaries(core, { maxPending: config.maxAddresses });
  const failures = metric(
    core.metrics,
    'vigie_auth_failures_total',
    () =>
      new Counter({
        name: 'vigie_auth_failures_total',
        help: 'Failed bearer authentications, by reason (malformed token, rejected token)',
        labelNames: ['reason'],
        registers: [core.metrics],
      }),
  );
  const throttled = metric(
    core.metrics,
    'vigie_auth_throttled_total',
    () =>
      new Counter({
        name: 'vigie_auth_throttled_total',
        help: 'Failed bearer authentications refused with 429 AUTH_THROTTLED',
        registers: [core.metrics],
      }),
  );
  const tracked = metric(
    core.metrics,
    'vigie_auth_tracked_addresses',
    () =>
      new Gauge({
        name: 'vigie_auth_tracked_addresses',
        help: 'Client addresses the authentication brake currently tracks',
        registers: [core.metrics],
      }),
  );
  const sweeper = setInterval(() => {
    throttle.sweep();
    tracked.set(throttle.tracked);
  }, 60_000);
  sweeper.unref();

  return {
    async onFailure(ip, reason) {
      const verdict = throttle.recordFailure(ip);
      tracked.set(throttle.tracked);
      failures.inc({ reason });
      summaries.record(ip, reason, verdict.kind === 'throttled');
      if (verdict.kind === 'throttled') {
        throttled.inc();
        throw new AuthThrottledError(verdict.retryAfterSeconds);
      }
      if (verdict.kind === 'delay' && verdict.ms > 0) await sleep(verdict.ms, undefined, { ref: false });
    },
    async stop() {
      clearInterval(sweeper);
      await summaries.stop();
    },
  };
}
