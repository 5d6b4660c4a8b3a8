import type { VigieEvent } from '../../shared/event.js';
import { compileField, type FieldGetter } from './event-field.js';
import { eventTimeMs } from './event-time.js';
import { accountOf, type CompiledRule, type EventView, type Finding, type RuleEnv } from './rule.runtime.js';

/**
 * The streaming engine: events in (from the bus), findings out. Rules are indexed by event kind, then
 * by the value of a field every match requires (the "discriminator", e.g. data.action = export), so
 * an event only meets the rules that could match it and 500 rules cost about what 50 do. Windows run
 * in event time; an event later than `latenessMs` behind the newest one seen still meets the
 * single-event rules but not the windowed ones, whose state it would corrupt.
 */
export interface EngineOptions {
  readonly latenessMs?: number;
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

export class DetectionEngine {
  readonly env: RuleEnv;
  readonly #lateness: number;
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
    const late = t < this.#newest - this.#lateness;
    if (late) this.#late++;
    else if (t > this.#newest) this.#newest = t;
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
    for (let i = 0; i < always.length; i++) this.#run(always[i]!, view, late, findings);
    const indexed = bucket.indexed;
    for (let x = 0; x < indexed.length; x++) {
      const index = indexed[x]!;
      const v = index.get(event);
      if (typeof v === 'string') {
        const list = index.byValue.get(v) ?? index.byValue.get(v.toLowerCase());
        if (list) for (let i = 0; i < list.length; i++) this.#run(list[i]!, view, late, findings);
      } else if (typeof v === 'boolean' || typeof v === 'number') {
        const list = index.byValue.get(String(v));
        if (list) for (let i = 0; i < list.length; i++) this.#run(list[i]!, view, late, findings);
      } else if (Array.isArray(v)) {
        const hit = new Set<CompiledRule>();
        for (const item of v as unknown[]) {
          const list = index.byValue.get(String(item).toLowerCase());
          if (list) for (const r of list) hit.add(r);
        }
        for (const r of hit) this.#run(r, view, late, findings);
      }
    }
    if (this.env.directory.observe(event, t, view.facts)) this.#onDirectoryStale();
    this.#processed++;
    if (++this.#sinceSweep >= SWEEP_EVERY) this.sweep();
    if (findings.length === 0) return NO_FINDINGS;
    const out = findings.slice();
    if (emit) for (const f of out) this.#onFinding(f);
    return out;
  }

  #run(rule: CompiledRule, view: EventView, late: boolean, out: Finding[]): void {
    if (late && rule.horizonMs > 0) return;
    const f = rule.evaluate(view);
    if (f) out.push(f);
  }

  /** Forgets windowed state that no event within the lateness bound can reach any more. */
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
