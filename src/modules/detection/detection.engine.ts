import type { VigieEvent } from '../../shared/event.js';
import { compileField, type FieldGetter } from './event-field.js';
import { eventTimeMs } from './event-time.js';
import { accountOf, type CompiledRule, type EventView, type Finding, type RuleEnv } from './rule.runtime.js';

/**
 * The streaming engine: events in (from the bus), findings out. Rules are indexed by event kind, then
 * by the value of a field every match requires (the "discriminator", e.g. data.action = export), so
 * an event only meets the rules that could match it and 500 rules cost about what 50 do. Rules run
 * in event time, each key's state on its own clock: an event that arrives hours late (logs sent in
 * a batch) is evaluated in its own time against its key's state — which no live event of that key
 * has moved past, or which starts fresh — and what it raises is marked late with the delay. Only an
 * event older than `maxLatenessMs` is kept from the stateful rules (see `consideration`).
 */
export interface EngineOptions {
  /** Delay behind now above which an event is late: still evaluated, its findings marked `late`. */
  readonly latenessMs?: number;
  /**
   * Delay behind now above which stateful rules no longer consider an event (single-event rules
   * still do). Default 30 days, what ingestion accepts and warm start replays: beyond it a rule's
   * state would depend on whether Vigie restarted in between.
   */
  readonly maxLatenessMs?: number;
  /** Now, in milliseconds (the wall clock); without it the newest event time seen stands for now. */
  readonly now?: () => number;
  /** Queue length above which the engine says it is behind (ingest then answers 429). */
  readonly highWater?: number;
  /** Events processed per turn of the event loop before yielding. */
  readonly chunk?: number;
}

interface FieldIndex {
  readonly get: FieldGetter;
  readonly byValue: Map<string, CompiledRule[]>;
}

interface KindBucket {
  readonly always: readonly CompiledRule[];
  readonly indexed: readonly FieldIndex[];
}

const INTERNAL_KINDS = /^(alert|response)\./;
const SWEEP_EVERY = 100_000;
const DEFAULT_MAX_LATENESS = 30 * 86_400_000;
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function kindMatches(patterns: readonly string[], kind: string): boolean {
  for (const p of patterns) {
    if (p === kind) return true;
    if (p === '*' && !INTERNAL_KINDS.test(kind)) return true;
    if (p.endsWith('.*') && kind.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

/** How an event of a given time is evaluated: on time, late (findings marked), or not by stateful rules. */
export type Consideration = 'evaluated' | 'late' | 'not_evaluated';

function markLate(f: Finding, delay: number): Finding {
  return { ...f, summary: { ...f.summary, late: true, lateByMs: Math.round(delay) } };
}

export class DetectionEngine {
  readonly env: RuleEnv;
  readonly #lateness: number;
  readonly #maxLateness: number;
  readonly #clock: (() => number) | undefined;
  /** The clock read once per turn of the event loop, not per event: reading it allocates a Date. */
  #clockMs = -Infinity;
  readonly #highWater: number;
  readonly #chunk: number;
  #rules: readonly CompiledRule[] = [];
  #buckets = new Map<string, KindBucket>();
  #lastKind = '';
  #lastBucket: KindBucket | undefined;
  readonly #queue: VigieEvent[] = [];
  #queueHead = 0;
  #scheduled = false;
  #newest = -Infinity;
  #sinceSweep = 0;
  #processed = 0;
  #late = 0;
  #onFinding: (finding: Finding) => void = () => {};
  #onDirectoryStale: () => void = () => {};
  #onError: (error: unknown) => void = () => {};
  #idleWaiters: Array<() => void> = [];
  /** Reused per event: most events find nothing, and allocating per event shows in the GC. */
  readonly #findings: Finding[] = [];
  readonly #view: Mutable<EventView> = {
    event: undefined as unknown as VigieEvent,
    t: 0,
    accountId: undefined,
    facts: undefined,
    seq: 0,
  };

  constructor(env: RuleEnv, options: EngineOptions = {}) {
    this.env = env;
    this.#lateness = options.latenessMs ?? 5 * 60_000;
    this.#maxLateness = options.maxLatenessMs ?? Math.max(DEFAULT_MAX_LATENESS, this.#lateness);
    this.#clock = options.now;
    if (this.#clock) this.#clockMs = this.#clock();
    this.#highWater = options.highWater ?? 50_000;
    this.#chunk = options.chunk ?? 2000;
  }

  onFinding(listener: (finding: Finding) => void): void {
    this.#onFinding = listener;
  }

  onDirectoryStale(listener: () => void): void {
    this.#onDirectoryStale = listener;
  }

  onError(listener: (error: unknown) => void): void {
    this.#onError = listener;
  }

  get rules(): readonly CompiledRule[] {
    return this.#rules;
  }

  /**
   * Swaps the rule set. A rule whose document did not change keeps its compiled closure and so its
   * state (windows, baselines); a new or changed rule starts empty.
   */
  setRules(next: readonly CompiledRule[]): void {
    const previous = new Map(this.#rules.map((r) => [r.id, r]));
    this.#rules = next.map((r) => {
      const old = previous.get(r.id);
      return old && JSON.stringify(old.doc) === JSON.stringify(r.doc) ? old : r;
    });
    this.#buckets = new Map();
    this.#lastBucket = undefined;
  }

  #bucket(kind: string): KindBucket {
    const cached = this.#buckets.get(kind);
    if (cached) return cached;
    const always: CompiledRule[] = [];
    const byField = new Map<string, FieldIndex>();
    for (const r of this.#rules) {
      if (r.doc.enabled === false || !kindMatches(r.kinds, kind)) continue;
      const d = r.discriminator;
      if (!d) {
        always.push(r);
        continue;
      }
      let index = byField.get(d.field);
      if (!index) {
        index = { get: compileField(d.field), byValue: new Map() };
        byField.set(d.field, index);
      }
      for (const v of new Set(d.values)) {
        const list = index.byValue.get(v);
        if (list) list.push(r);
        else index.byValue.set(v, [r]);
      }
    }
    const bucket: KindBucket = { always, indexed: [...byField.values()] };
    if (this.#buckets.size < 10_000) this.#buckets.set(kind, bucket);
    return bucket;
  }

  /** Runs one event through the rules now; returns its findings (also used for warm-up and the bench). */
  process(event: VigieEvent, emit = true): readonly Finding[] {
    const t = eventTimeMs(event.time);
    if (Number.isNaN(t)) return NO_FINDINGS;
    const accountId = accountOf(event);
    // One view object, refilled per event: rules read it during the call and never keep it.
    const view = this.#view;
    view.event = event;
    view.t = t;
    view.accountId = accountId;
    view.facts = accountId === undefined ? undefined : this.env.directory.ensureAccount(accountId);
    view.seq++;
    if (t > this.#newest) this.#newest = t;
    // Callers of process() outside the drain (warm start, the bench) still see the clock move.
    if (this.#clock && (this.#processed & 1023) === 0) this.#clockMs = this.#clock();
    const delay = (this.#clockMs > this.#newest ? this.#clockMs : this.#newest) - t;
    const stale = delay > this.#maxLateness;
    if (delay > this.#lateness) this.#late++;
    const findings = this.#findings;
    // Setting length is a runtime call: only when something is there to clear.
    if (findings.length !== 0) findings.length = 0;
    // Runs of the same kind are the norm (decisions come in batches): skip the map for them.
    let bucket = this.#lastBucket;
    if (event.kind !== this.#lastKind || bucket === undefined) {
      bucket = this.#bucket(event.kind);
      this.#lastKind = event.kind;
      this.#lastBucket = bucket;
    }
    // Indexed loops: this is the hottest code of the engine, no iterator objects.
    const always = bucket.always;
    for (let i = 0; i < always.length; i++) this.#run(always[i]!, view, stale, findings);
    const indexed = bucket.indexed;
    for (let x = 0; x < indexed.length; x++) {
      const index = indexed[x]!;
      const v = index.get(event);
      if (typeof v === 'string') {
        const list = index.byValue.get(v) ?? index.byValue.get(v.toLowerCase());
        if (list) for (let i = 0; i < list.length; i++) this.#run(list[i]!, view, stale, findings);
      } else if (typeof v === 'boolean' || typeof v === 'number') {
        const list = index.byValue.get(String(v));
        if (list) for (let i = 0; i < list.length; i++) this.#run(list[i]!, view, stale, findings);
      } else if (Array.isArray(v)) {
        const hit = new Set<CompiledRule>();
        for (const item of v as unknown[]) {
          const list = index.byValue.get(String(item).toLowerCase());
          if (list) for (const r of list) hit.add(r);
        }
        for (const r of hit) this.#run(r, view, stale, findings);
      }
    }
    if (this.env.directory.observe(event, t, view.facts)) this.#onDirectoryStale();
    this.#processed++;
    if (++this.#sinceSweep >= SWEEP_EVERY) this.sweep();
    if (findings.length === 0) return NO_FINDINGS;
    const out = delay > this.#lateness ? findings.map((f) => markLate(f, delay)) : findings.slice();
    if (emit) for (const f of out) this.#onFinding(f);
    return out;
  }

  #run(rule: CompiledRule, view: EventView, stale: boolean, out: Finding[]): void {
    if (stale && rule.horizonMs > 0) return;
    const f = rule.evaluate(view);
    if (f) out.push(f);
  }

  /**
   * What the engine does with an event of this time if it arrived now: `evaluated` on time, `late`
   * (evaluated in its own time, its findings marked late), or `not_evaluated` by the stateful rules
   * (older than `maxLatenessMs`, or no valid time). Ingestion reports it per event.
   */
  consideration(timeMs: number): Consideration {
    if (!Number.isFinite(timeMs)) return 'not_evaluated';
    const clock = this.#clock ? this.#clock() : -Infinity;
    const delay = (clock > this.#newest ? clock : this.#newest) - timeMs;
    if (delay > this.#maxLateness) return 'not_evaluated';
    return delay > this.#lateness ? 'late' : 'evaluated';
  }

  /**
   * Forgets windowed state of keys whose own newest event is older than the rule's horizon behind
   * the newest event seen. A rule keeps a key it touched since the previous sweep, however old its
   * events: a late batch is not cut in two by a sweep falling in its middle.
   */
  sweep(): void {
    this.#sinceSweep = 0;
    const watermark = this.#newest - this.#lateness;
    for (const r of this.#rules) if (Number.isFinite(r.horizonMs) && r.horizonMs > 0) r.sweep(watermark);
  }

  /** Queues committed events; they are evaluated on the next turns of the event loop. */
  enqueue(events: readonly VigieEvent[]): void {
    for (const e of events) this.#queue.push(e);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    if (this.#clock) this.#clockMs = this.#clock();
    const end = Math.min(this.#queue.length, this.#queueHead + this.#chunk);
    for (; this.#queueHead < end; this.#queueHead++) {
      const event = this.#queue[this.#queueHead]!;
      try {
        this.process(event);
      } catch (error) {
        this.#onError(error);
      }
    }
    if (this.#queueHead >= this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
      this.#scheduled = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    if (this.#queueHead > 100_000) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    setImmediate(() => this.#drain());
  }

  get backlog(): number {
    return this.#queue.length - this.#queueHead;
  }

  isBehind(extra = 0): boolean {
    return this.backlog + extra > this.#highWater;
  }

  /** Resolves when every queued event has been evaluated. */
  idle(): Promise<void> {
    if (this.backlog === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stats() {
    return {
      rules: this.#rules.length,
      processed: this.#processed,
      late: this.#late,
      backlog: this.backlog,
      trackedAccounts: this.env.directory.trackedAccounts,
      stateKeys: this.#rules.reduce((n, r) => n + r.stateSize(), 0),
    };
  }
}
