import type { VigieEvent } from '../../shared/event.js';
import { EntityStates } from './entity-states.js';
import { compileField, scalarString } from './event-field.js';
import { MAX_EVIDENCE, type CompiledRule, type EventView } from './rule.runtime.js';
import { pushEvidence, type RuleBase, type RuleBehaviour } from './rule-base.js';
import { durationMs } from './rule.schema.js';
import { RuleSyntaxError } from './sigma-value.matcher.js';

/**
 * Counting rules over sliding windows in event time, per group (the entity, then `groupBy` fields):
 * `event_count` (Sigma), `value_count` (Sigma: distinct values of a field) and `enumeration`
 * (a run of record ids that follow each other). Each fires once when its count reaches the bound —
 * on the Nth event, not before — and again only after the count has fallen back below it.
 */
interface CountBounds {
  readonly reached: (n: number) => boolean;
  readonly lower: number;
}

function bounds(condition: {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
}): CountBounds {
  const lower = condition.gte ?? (condition.gt !== undefined ? condition.gt + 1 : condition.eq);
  if (lower === undefined || lower < 1)
    throw new RuleSyntaxError('a streaming correlation needs a lower bound (gte, gt or eq) of at least 1');
  const upper = Math.min(
    condition.lte ?? Infinity,
    condition.lt !== undefined ? condition.lt - 1 : Infinity,
    condition.eq ?? Infinity,
  );
  return { lower, reached: (n) => n >= lower && n <= upper };
}

function groupKeyer(base: RuleBase, fields: readonly string[]): (e: VigieEvent) => string | undefined {
  const getters = fields.map((f) => compileField(f, base.virtual));
  if (getters.length === 0) return base.entityKey;
  return (e) => {
    let key = base.entityKey(e);
    if (key === undefined) return undefined;
    for (const g of getters) {
      const v = scalarString(g(e));
      if (v === undefined) return undefined;
      key += '\u0001' + v;
    }
    return key;
  };
}

interface CountGroup {
  readonly entity: string;
  times: number[];
  head: number;
  values: string[] | undefined;
  distinct: Map<string, number> | undefined;
  ids: string[];
  last: number;
  firing: boolean;
  /** Event time of the last finding raised by an out-of-order event (-Infinity: none). */
  lateFired: number;
  /** Sweep epoch of the last event: a key touched since the previous sweep is kept, however old. */
  touched: number;
  /** The key's late stream: events older than its live window, counted on their own clock. */
  past: CountGroup | undefined;
}

export function windowBehaviour(base: RuleBase, distinctCount: boolean): RuleBehaviour {
  const c = base.doc.correlation;
  if (!c) throw new RuleSyntaxError(`a ${base.doc.type} rule needs a correlation block`);
  if (distinctCount && !c.field) throw new RuleSyntaxError('a value_count rule needs correlation.field');
  const span = durationMs(c.timespan);
  const { reached, lower } = bounds(c.condition);
  const keyOf = groupKeyer(base, c.groupBy ?? []);
  const valueOf = c.field ? compileField(c.field, base.virtual) : undefined;
  const groups = new EntityStates<CountGroup>(
    base.env.directory,
    (c.groupBy ?? []).length === 0 ? base.doc.entity : undefined,
  );
  let epoch = 0;
  const open = (entity: string, t: number): CountGroup => ({
    entity,
    times: [],
    head: 0,
    values: distinctCount ? [] : undefined,
    distinct: distinctCount ? new Map() : undefined,
    ids: [],
    last: t,
    firing: false,
    lateFired: -Infinity,
    touched: epoch,
    past: undefined,
  });
  const count = (g: CountGroup) => (g.distinct ? g.distinct.size : g.times.length - g.head);
  const finding = (self: CompiledRule, view: EventView, g: CountGroup, n: number) =>
    base.finding(self, view, g.entity, g.ids.slice(), {
      count: n,
      ...(distinctCount ? { distinctField: c.field } : {}),
      window: c.timespan,
    });

  /** Drops the times (and values) that fell out of the window ending at the group's newest event. */
  const prune = (g: CountGroup) => {
    const from = g.last - span;
    while (g.head < g.times.length && g.times[g.head]! < from) {
      if (g.values) {
        const v = g.values[g.head]!;
        const n = g.distinct!.get(v)! - 1;
        if (n === 0) g.distinct!.delete(v);
        else g.distinct!.set(v, n);
      }
      g.head++;
    }
    if (g.head > 64 && g.head * 2 > g.times.length) {
      g.times = g.times.slice(g.head);
      if (g.values) g.values = g.values.slice(g.head);
      g.head = 0;
    }
  };

  /** The rare out-of-order event: inserted in time order, judged by the fullest window holding it. */
  const lateArrival = (self: CompiledRule, view: EventView, g: CountGroup, value: string | undefined) => {
    const t = view.t;
    const times = g.times;
    let at = g.head;
    let hi = times.length;
    while (at < hi) {
      const mid = (at + hi) >>> 1;
      if (times[mid]! <= t) at = mid + 1;
      else hi = mid;
    }
    times.splice(at, 0, t);
    if (g.values) {
      g.values.splice(at, 0, value!);
      g.distinct!.set(value!, (g.distinct!.get(value!) ?? 0) + 1);
    }
    const best = fullestWindow(g, at, span);
    prune(g);
    pushEvidence(g.ids, view.event.id, MAX_EVIDENCE);
    if (count(g) < lower) g.firing = false;
    // One finding per span of late events, and none when the live window it joins has fired.
    if (!reached(best) || Math.abs(t - g.lateFired) <= span || (g.firing && t >= g.last - span))
      return undefined;
    g.lateFired = t;
    return finding(self, view, g, best);
  };

  return {
    horizonMs: span,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const e = view.event;
      const key = keyOf(e);
      if (key === undefined) return undefined;
      let value: string | undefined;
      if (distinctCount) {
        value = scalarString(valueOf!(e));
        if (value === undefined) return undefined;
      }
      let g = groups.get(view, key);
      if (!g) {
        g = open(base.entityKey(e)!, view.t);
        groups.set(view, key, g);
      }
      g.touched = epoch;
      if (view.t < g.last - span) {
        // Older than the key's live window: its late stream keeps a window of its own.
        if (!g.past || view.t < g.past.last - span) g.past = open(g.entity, view.t);
        g = g.past;
        g.touched = epoch;
      }
      if (view.t < g.last) return lateArrival(self, view, g, value);
      g.times.push(view.t);
      if (g.values) {
        g.values.push(value!);
        g.distinct!.set(value!, (g.distinct!.get(value!) ?? 0) + 1);
      }
      g.last = view.t;
      prune(g);
      const n = count(g);
      // Evidence: the last events up to the crossing; earlier ones would be dropped anyway.
      if (n > lower - MAX_EVIDENCE) pushEvidence(g.ids, e.id, MAX_EVIDENCE);
      if (n < lower) g.firing = false;
      if (g.firing || !reached(n)) return undefined;
      g.firing = true;
      return finding(self, view, g, n);
    },
    sweep(beforeMs) {
      const current = epoch++;
      const stale = (g: CountGroup) => g.last < beforeMs - span && g.touched !== current;
      groups.sweep((g) => {
        if (g.past && stale(g.past)) g.past = undefined;
        return stale(g);
      });
    },
    stateSize: () => groups.size,
  };
}

/**
 * The largest count (events, or distinct values) of a window of `span` that holds the event at
 * index `i`. Such a window can always start at one of the events, so the starts are walked with a
 * second pointer for the end: linear in the events within `span` of it.
 */
function fullestWindow(g: CountGroup, i: number, span: number): number {
  const { times, values } = g;
  const t = times[i]!;
  let lo = i;
  while (lo > g.head && times[lo - 1]! >= t - span) lo--;
  const inWindow = values ? new Map<string, number>() : undefined;
  let best = 0;
  let k = lo - 1;
  for (let j = lo; j <= i; j++) {
    if (inWindow && j > lo) {
      const v = values![j - 1]!;
      const n = inWindow.get(v)! - 1;
      if (n === 0) inWindow.delete(v);
      else inWindow.set(v, n);
    }
    while (k + 1 < times.length && times[k + 1]! <= times[j]! + span) {
      k++;
      if (inWindow) inWindow.set(values![k]!, (inWindow.get(values![k]!) ?? 0) + 1);
    }
    const n = inWindow ? inWindow.size : k - j + 1;
    if (n > best) best = n;
  }
  return best;
}
