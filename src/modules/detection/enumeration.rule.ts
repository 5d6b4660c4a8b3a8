import { EntityStates } from './entity-states.js';
import { compileField, scalarString } from './event-field.js';
import { MAX_EVIDENCE, type CompiledRule, type EventView } from './rule.runtime.js';
import { pushEvidence, type RuleBase, type RuleBehaviour } from './rule-base.js';
import { durationMs } from './rule.schema.js';
import { RuleSyntaxError } from './sigma-value.matcher.js';

/**
 * `enumeration`: a run of record ids that follow each other (trailing digits within `maxGap`)
 * within `timespan`, per entity. Runs follow event time per key: an event older than the key's
 * current run by more than the span belongs to the key's late stream, a run state of its own.
 */
interface RunState {
  last: number;
  run: number;
  start: number;
  ids: string[];
  firing: boolean;
  lastT: number;
  /** Sweep epoch of the last event: a key touched since the previous sweep is kept. */
  touched: number;
  past: RunState | undefined;
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
  const runs = new EntityStates<RunState>(base.env.directory, base.doc.entity);
  let epoch = 0;
  const open = (n: number, t: number): RunState => ({
    last: n,
    run: 1,
    start: t,
    ids: [],
    firing: false,
    lastT: t,
    touched: epoch,
    past: undefined,
  });

  const step = (self: CompiledRule, view: EventView, key: string, s: RunState, n: number) => {
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
    if (view.t > s.lastT) s.lastT = view.t;
    if (s.firing || s.run < c.minRun) return undefined;
    s.firing = true;
    return base.finding(self, view, key, s.ids.slice(), { run: s.run, window: c.timespan });
  };

  return {
    horizonMs: span,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const key = base.entityKey(view.event);
      const raw = scalarString(field(view.event));
      const n = raw === undefined ? undefined : numericPart(raw);
      if (key === undefined || n === undefined) return undefined;
      const s = runs.get(view, key);
      if (!s) {
        runs.set(view, key, open(n, view.t));
        return undefined;
      }
      s.touched = epoch;
      if (view.t >= s.lastT - span) return step(self, view, key, s, n);
      if (!s.past || view.t < s.past.lastT - span) {
        s.past = open(n, view.t);
        return undefined;
      }
      s.past.touched = epoch;
      return step(self, view, key, s.past, n);
    },
    sweep(beforeMs) {
      const current = epoch++;
      const stale = (s: RunState) => s.lastT < beforeMs - span && s.touched !== current;
      runs.sweep((s) => {
        if (s.past && stale(s.past)) s.past = undefined;
        return stale(s);
      });
    },
    stateSize: () => runs.size,
  };
}
