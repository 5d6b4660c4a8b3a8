import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
import { ipv4Of, ipv6Prefix } from '../shared/ip-prefix.js';

/** What to do with one failed bearer authentication, once it is counted. */
export type ThrottleVerdict =
  | { readonly kind: 'answer' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'throttled'; readonly retryAfterSeconds: number };

interface FailureWindow {
  readonly start: number;
  failures: number;
}

/**
 * The unit the brake counts for: an IPv4 address, or the /64 of an IPv6 address — one subscriber
 * line holds a whole /64, so counting single IPv6 addresses would give each client 2^64 budgets and
 * let it push everyone else out of the table.
 */
export function addressKey(ip: string): string {
  return ipv4Of(ip) ?? ipv6Prefix(ip, 4) ?? ip;
}

/**
 * Counts failed authentications per client address in fixed windows and says how to brake each
 * one: answered at once up to `delayAfter`, then delayed by a growing, capped step, then refused
 * with 429 past `limit` until the window ends. Only failures are counted: a valid token from a
 * braked address still passes, so an attacker behind a shared NAT cannot lock its honest users out.
 * Memory is bounded: past `maxAddresses`, the least recently failing address is forgotten.
 */
export class AuthFailureThrottle {
  readonly #windows = new Map<string, FailureWindow>();
  readonly #config: Config['authThrottle'];
  readonly #clock: Clock;

  constructor(config: Config['authThrottle'], clock: Clock) {
    this.#config = config;
    this.#clock = clock;
  }

  /** Addresses currently tracked. */
  get tracked(): number {
    return this.#windows.size;
  }

  recordFailure(ip: string): ThrottleVerdict {
    const { windowMs, limit, delayAfter, delayStepMs, maxDelayMs, maxAddresses } = this.#config;
    const key = addressKey(ip);
    const now = this.#clock.now().getTime();
    let window = this.#windows.get(key);
    if (window) this.#windows.delete(key);
    if (!window || now - window.start >= windowMs || now < window.start) window = { start: now, failures: 0 };
    window.failures += 1;
    // Re-inserted so that the Map's order is least recently failing first.
    this.#windows.set(key, window);
    while (this.#windows.size > maxAddresses) {
      const oldest = this.#windows.keys().next();
      if (oldest.done) break;
      this.#windows.delete(oldest.value);
    }
    if (window.failures > limit) {
      return {
        kind: 'throttled',
        retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)),
      };
    }
    if (window.failures > delayAfter) {
      return { kind: 'delay', ms: Math.min(maxDelayMs, delayStepMs * (window.failures - delayAfter)) };
    }
    return { kind: 'answer' };
  }

  /**
   * Seconds until `key` may try again when its window already holds `limit` failures; 0 otherwise.
   * For locks that must refuse even a correct attempt (sign-in per account), checked before it runs.
   */
  lockedFor(ip: string): number {
    const window = this.#windows.get(addressKey(ip));
    const now = this.#clock.now().getTime();
    if (!window || now - window.start >= this.#config.windowMs || now < window.start) return 0;
    if (window.failures < this.#config.limit) return 0;
    return Math.max(1, Math.ceil((window.start + this.#config.windowMs - now) / 1000));
  }

  /** Forgets the failures of `key` (a successful sign-in clears its account's count). */
  forget(ip: string): void {
    this.#windows.delete(addressKey(ip));
  }

  /** Forgets the windows that have ended. */
  sweep(): void {
    const now = this.#clock.now().getTime();
    for (const [key, window] of this.#windows) {
      if (now - window.start >= this.#config.windowMs) this.#windows.delete(key);
    }
  }
}
