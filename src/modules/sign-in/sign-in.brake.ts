import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config.js';
import { AuthFailureThrottle } from '../../http/auth-throttle.js';
import type { Clock } from '../../shared/clock.js';
import { SignInLockedError } from './sign-in.errors.js';

/**
 * The sign-in brake, built from the bearer brake's AuthFailureThrottle: one counts failures per
 * client address (as for tokens: delays, then 429 on further failures, a success always passes, so
 * an attacker behind a shared NAT cannot lock its honest users out), the other per account or per
 * e-mail typed (delays, then a lock that refuses even a correct passkey until the window ends).
 * An unknown e-mail is counted exactly like a known one. Counts live in this process's memory.
 */
export interface SignInBrake {
  /** Throws SIGN_IN_LOCKED when any of the keys is locked. */
  assertOpen(keys: readonly string[]): void;
  /** Counts a failure for the address and the keys, waits the delay, throws when now locked. */
  onFailure(ip: string, keys: readonly string[]): Promise<void>;
  onSuccess(keys: readonly string[]): void;
  stop(): void;
}

export function createSignInBrake(
  config: Config['signIn'],
  addressConfig: Config['authThrottle'],
  clock: Clock,
): SignInBrake {
  const perKey = new AuthFailureThrottle(
    {
      windowMs: config.lockWindowMs,
      delayAfter: config.delayAfter,
      delayStepMs: 250,
      maxDelayMs: 2_000,
      limit: config.lockAfter,
      maxAddresses: addressConfig.maxAddresses,
    },
    clock,
  );
  const perAddress = new AuthFailureThrottle(addressConfig, clock);
  const sweeper = setInterval(() => {
    perKey.sweep();
    perAddress.sweep();
  }, 60_000);
  sweeper.unref();

  return {
    assertOpen(keys) {
      const wait = Math.max(0, ...keys.map((k) => perKey.lockedFor(k)));
      if (wait > 0) throw new SignInLockedError(wait);
    },
    async onFailure(ip, keys) {
      let delayMs = 0;
      let lockedSeconds = 0;
      for (const verdict of [perAddress.recordFailure(ip), ...keys.map((k) => perKey.recordFailure(k))]) {
        if (verdict.kind === 'delay') delayMs = Math.max(delayMs, verdict.ms);
        if (verdict.kind === 'throttled') lockedSeconds = Math.max(lockedSeconds, verdict.retryAfterSeconds);
      }
      lockedSeconds = Math.max(lockedSeconds, ...keys.map((k) => perKey.lockedFor(k)));
      if (lockedSeconds > 0) throw new SignInLockedError(lockedSeconds);
      if (delayMs > 0) await sleep(delayMs, undefined, { ref: false });
    },
    onSuccess(keys) {
      for (const k of keys) perKey.forget(k);
    },
    stop() {
      clearInterval(sweeper);
    },
  };
}
