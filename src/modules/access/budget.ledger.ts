/**
 * Sliding-window counts of DISTINCT records disclosed, per account, organisation and application.
 *
 * Each key keeps a Map record id → minute last disclosed. A Map iterates in insertion order, and a
 * re-disclosure deletes then re-inserts its record, so the Map is always ordered by last-seen time:
 * eviction pops from the front until the first entry still inside the window (amortised O(1)), and
 * the distinct count is simply `size`. A key never holds more entries than its hard threshold, since
 * a disclosure past it is refused.
 *
 * Exactness under concurrency: checking and recording a disclosure happen in one synchronous call
 * (`decide` never awaits), and Node runs JavaScript on one thread, so two concurrent HTTP requests
 * cannot interleave between the check and the update — no lock is needed, and no count is lost or
 * doubled. Across restarts, the disclosures are persisted with the decision events and replayed.
 */

export type Dimension = 'account' | 'organisation' | 'application';

export class DistinctWindow {
  readonly seen = new Map<string, number>();
  softSignalled = false;
  /** A lower bound of the oldest entry's minute: eviction iterates only when something may be due. */
  #oldest = Infinity;

  evict(cutoffMinute: number): void {
    if (this.#oldest > cutoffMinute) return;
    this.#oldest = Infinity;
    for (const [record, minute] of this.seen) {
      if (minute > cutoffMinute) {
        this.#oldest = minute;
        break;
      }
      this.seen.delete(record);
    }
  }

  /** Distinct records if `record` were disclosed now. */
  countWith(record: string): number {
    return this.seen.has(record) ? this.seen.size : this.seen.size + 1;
  }

  /** The minute `record` was last disclosed in this window, if it was. */
  lastSeen(record: string): number | undefined {
    return this.seen.get(record);
  }

  touch(record: string, minute: number, last = this.seen.get(record)): void {
    // A re-read within the same minute changes nothing: skip the delete/insert.
    if (last === minute) return;
    if (last !== undefined) this.seen.delete(record);
    this.seen.set(record, minute);
    if (minute < this.#oldest) this.#oldest = minute;
  }

  /** Records a disclosure; true when it takes the window over `soft` for the first time since it was last under. */
  record(record: string, minute: number, soft: number, last = this.seen.get(record)): boolean {
    this.touch(record, minute, last);
    if (this.seen.size <= soft) {
      this.softSignalled = false;
      return false;
    }
    if (this.softSignalled) return false;
    this.softSignalled = true;
    return true;
  }
}

interface DailyCount {
  day: number;
  count: number;
}

export class BudgetLedger {
  readonly #windows: Record<Dimension, Map<string, DistinctWindow>> = {
    account: new Map(),
    organisation: new Map(),
    application: new Map(),
  };
  readonly #breakGlass = new Map<string, DailyCount>();
  windowMinutes: number;

  constructor(windowMinutes = 60) {
    this.windowMinutes = windowMinutes;
  }

  /**
   * The window of `key`, evicted up to `nowMinute`; created when absent unless `create` is false
   * (a dry run, e.g. a search, must not leave empty windows behind).
   */
  window(dim: Dimension, key: string, nowMinute: number, create: true): DistinctWindow;
  window(dim: Dimension, key: string, nowMinute: number, create: boolean): DistinctWindow | undefined;
  window(dim: Dimension, key: string, nowMinute: number, create: boolean): DistinctWindow | undefined {
    const windows = this.#windows[dim];
    let w = windows.get(key);
    if (!w) {
      if (!create) return undefined;
      w = new DistinctWindow();
      windows.set(key, w);
    }
    w.evict(nowMinute - this.windowMinutes);
    return w;
  }

  /** Distinct records `key` would have disclosed in the window if it now disclosed `record`. */
  countWith(dim: Dimension, key: string, record: string, nowMinute: number): number {
    const w = this.#windows[dim].get(key);
    if (!w) return 1;
    w.evict(nowMinute - this.windowMinutes);
    return w.countWith(record);
  }

  /** Distinct records disclosed by `key` within the window ending at `nowMinute`. */
  count(dim: Dimension, key: string, nowMinute: number): number {
    const w = this.#windows[dim].get(key);
    if (!w) return 0;
    w.evict(nowMinute - this.windowMinutes);
    return w.seen.size;
  }

  /**
   * Records a disclosure; returns true when it takes `key` over `soft` for the first time since the
   * count last fell back under it (so `budget.soft_exceeded` is emitted once per crossing).
   */
  record(dim: Dimension, key: string, record: string, minute: number, soft: number): boolean {
    return this.window(dim, key, minute, true).record(record, minute, soft);
  }

  breakGlassUses(accountId: string, day: number): number {
    const c = this.#breakGlass.get(accountId);
    return c && c.day === day ? c.count : 0;
  }

  recordBreakGlass(accountId: string, day: number): void {
    const c = this.#breakGlass.get(accountId);
    if (c && c.day === day) c.count++;
    else this.#breakGlass.set(accountId, { day, count: 1 });
  }

  /** Drops every count (before a rebuild from the persisted disclosures). */
  clear(): void {
    for (const m of Object.values(this.#windows)) m.clear();
    this.#breakGlass.clear();
  }
}

export const dayOf = (ms: number): number => Math.floor(ms / 86_400_000);
