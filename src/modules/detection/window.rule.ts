import type { VigieEvent } from '../../shared/event.js';
import { EntityStates } from './entity-states.js';
import { compileField, scalarString } from './event-field.js';
import { MAX_EVIDENCE } from './rule.runtime.js';
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
    base.doc.entity === 'account' && (c.groupBy ?? []).length === 0,
  );

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
        g = {
          entity: base.entityKey(e)!,
          times: [],
          head: 0,
          values: distinctCount ? [] : undefined,
          distinct: distinctCount ? new Map() : undefined,
          ids: [],
          last: view.t,
          firing: false,
        };
        groups.set(view, key, g);
      }
      g.times.push(view.t);
      if (g.values) {
        g.values.push(value!);
        g.distinct!.set(value!, (g.distinct!.get(value!) ?? 0) + 1);
      }
      if (view.t > g.last) g.last = view.t;
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
      const count = g.distinct ? g.distinct.size : g.times.length - g.head;
      // Evidence: the last events up to the crossing; earlier ones would be dropped anyway.
      if (count > lower - MAX_EVIDENCE) pushEvidence(g.ids, e.id, MAX_EVIDENCE);
      if (count < lower) g.firing = false;
      if (g.firing || !reached(count)) return undefined;
      g.firing = true;
      return base.finding(self, view, g.entity, g.ids.slice(), {
        count,
        ...(distinctCount ? { distinctField: c.field } : {}),
        window: c.timespan,
      });
    },
    sweep(beforeMs) {
      groups.sweep((g) => g.last < beforeMs - span);
    },
    stateSize: () => groups.size,
  };
}

interface RunState {
  last: number;
  run: number;
  start: number;
  ids: string[];
  firing: boolean;
  lastT: number;
}

/** Trailing digits of an id ('DE-000123' → 123), the part enumeration walks through. */
function numericPart(v: string): number | undefined {
  let i = v.length;
  while (i > 0 && v.length - i < 15) {
    const c = v.charCodeAt(i - 1);
    if (c < 48 || c > 57) break;
    i--;
  }
  if (i === v.length) return undefined;
  let n = 0;
  for (let k = i; k < v.length; k++) n = n * 10 + (v.charCodeAt(k) - 48);
  return n;
}

export function enumerationBehaviour(base: RuleBase): RuleBehaviour {
  const c = base.doc.enumeration;
  if (!c) throw new RuleSyntaxError('an enumeration rule needs an enumeration block');
  const span = durationMs(c.timespan);
  const field = compileField(c.field, base.virtual);
  const runs = new EntityStates<RunState>(base.env.directory, base.doc.entity === 'account');
  return {
    horizonMs: span,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const key = base.entityKey(view.event);
      const raw = scalarString(field(view.event));
      const n = raw === undefined ? undefined : numericPart(raw);
      if (key === undefined || n === undefined) return undefined;
      let s = runs.get(view, key);
      if (!s) {
        s = { last: n, run: 1, start: view.t, ids: [], firing: false, lastT: view.t };
        runs.set(view, key, s);
        return undefined;
      }
      const gap = Math.abs(n - s.last);
      if (gap >= 1 && gap <= c.maxGap && view.t - s.start <= span) {
        s.run++;
        pushEvidence(s.ids, view.event.id, MAX_EVIDENCE);
      } else if (gap !== 0) {
        s.run = 1;
        s.start = view.t;
        // Most events open a new run, so the opening event's id is not kept: keeping one string per
        // read would outlive the young generation. Evidence starts at the run's second event.
        if (s.ids.length !== 0) s.ids.length = 0;
        s.firing = false;
      }
      s.last = n;
      s.lastT = view.t;
      if (s.firing || s.run < c.minRun) return undefined;
      s.firing = true;
      return base.finding(self, view, key, s.ids.slice(), { run: s.run, window: c.timespan });
    },
    sweep(beforeMs) {
      runs.sweep((s) => s.lastT < beforeMs - span);
    },
    stateSize: () => runs.size,
  };
}
