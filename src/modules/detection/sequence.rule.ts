import type { VigieEvent } from '../../shared/event.js';
import { compileField, scalarString } from './event-field.js';
import { MAX_EVIDENCE, type EventView } from './rule.runtime.js';
import { pushEvidence, type RuleBase, type RuleBehaviour } from './rule-base.js';
import { durationMs } from './rule.schema.js';
import { compileDetection } from './sigma-detection.compiler.js';
import { RuleSyntaxError } from './sigma-value.matcher.js';

/**
 * Ordered sequences with a time bound (Sigma `temporal_ordered`): step 1, then step 2, … all within
 * `timespan` of step 1, per key. Extensions: a step may need `atLeast` matches (optionally distinct
 * values of a field), and a `lineage` step matches when its actor is the previous step's key or an
 * account created from it (a few generations down), known from account.created events and from the
 * accounts table at start: "A creates X, then X — or an account X created — creates or approves".
 *
 * The finding names the account at the end of the chain — the last step's actor (X, who freshly
 * created creates) — not the first step's (A, who may be a platform administrator doing its job):
 * a response such as suspend_lineage then starts where the abuse is and goes down from there.
 * `entityFrom: first_step` keeps the first step's entity. Chains follow event time per key: an
 * event older than its key's live chain belongs to the key's late stream, a chain of its own.
 */
interface Step {
  readonly name: string;
  readonly kinds: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly test: ((e: VigieEvent) => boolean) | undefined;
  readonly key: (e: VigieEvent) => string | undefined;
  readonly lineage: boolean;
  readonly atLeast: number;
  readonly distinct: ((e: VigieEvent) => unknown) | undefined;
}

interface SequenceState {
  entity: string;
  stage: number;
  start: number;
  stepTime: number;
  count: number;
  seen: Set<string> | undefined;
  ids: string[];
  /** Sweep epoch of the last event: a key touched since the previous sweep is kept. */
  touched: number;
}

function kindMatches(step: Step, kind: string): boolean {
  if (step.kinds.has(kind) || step.kinds.has('*')) return true;
  for (const p of step.prefixes) if (kind.startsWith(p)) return true;
  return false;
}

export function sequenceBehaviour(base: RuleBase): RuleBehaviour {
  const seq = base.doc.sequence;
  if (!seq) throw new RuleSyntaxError('a sequence rule needs a sequence block');
  if (seq.steps[0]!.lineage)
    throw new RuleSyntaxError('the first step of a sequence cannot be a lineage step');
  const span = durationMs(seq.timespan);
  const steps: Step[] = seq.steps.map((s) => ({
    name: s.name,
    kinds: new Set(s.kinds),
    prefixes: s.kinds.filter((k) => k.endsWith('.*')).map((k) => k.slice(0, -1)),
    test: s.detection ? compileDetection(s.detection, base.virtual).test : undefined,
    key: s.key
      ? (
          (get) => (e: VigieEvent) =>
            scalarString(get(e))
        )(compileField(s.key, base.virtual))
      : base.entityKey,
    lineage: s.lineage === true,
    atLeast: s.atLeast ?? 1,
    distinct: s.distinct ? compileField(s.distinct, base.virtual) : undefined,
  }));
  const fromFirst = seq.entityFrom === 'first_step';
  const states = new Map<string, SequenceState>();
  /** Chains of keys whose events arrive late, behind a live chain of the same key. */
  const past = new Map<string, SequenceState>();
  let epoch = 0;

  const stateFor = (
    states: Map<string, SequenceState>,
    step: Step,
    e: VigieEvent,
  ): [string, SequenceState] | undefined => {
    if (!step.lineage) {
      const k = step.key(e);
      const s = k === undefined ? undefined : states.get(k);
      return s ? [k!, s] : undefined;
    }
    if (e.actor.type !== 'account') return undefined;
    const own = states.get(e.actor.id);
    if (own) return [e.actor.id, own];
    let ancestor = base.env.directory.account(e.actor.id)?.createdBy;
    for (let depth = 0; depth < 4 && ancestor; depth++) {
      const s = states.get(ancestor);
      if (s) return [ancestor, s];
      ancestor = base.env.directory.account(ancestor)?.createdBy;
    }
    return undefined;
  };

  const count = (step: Step, s: SequenceState, e: VigieEvent): boolean => {
    if (step.distinct) {
      const v = scalarString(step.distinct(e));
      if (v === undefined) return false;
      s.seen ??= new Set();
      if (s.seen.size < 10_000) s.seen.add(v);
      s.count = s.seen.size;
    } else s.count++;
    pushEvidence(s.ids, e.id, MAX_EVIDENCE);
    return s.count >= step.atLeast;
  };

  const advance = (i: number, view: EventView): SequenceState | undefined => {
    const step = steps[i]!;
    const e = view.event;
    if (i === 0) {
      const k = step.key(e);
      const entity = base.entityKey(e);
      if (k === undefined || entity === undefined) return undefined;
      const live = states.get(k);
      const map = live && view.t < live.start ? past : states;
      let s = map.get(k);
      if (!s || view.t - s.start > span || view.t < s.start || s.stage > 0) {
        s = {
          entity,
          stage: -1,
          start: view.t,
          stepTime: view.t,
          count: 0,
          seen: undefined,
          ids: [],
          touched: epoch,
        };
        map.set(k, s);
      }
      s.touched = epoch;
      if (s.stage === -1 && count(step, s, e)) {
        s.stage = 0;
        s.stepTime = view.t;
        s.count = 0;
        s.seen = undefined;
      }
      return undefined;
    }
    let map = states;
    let found = stateFor(states, step, e);
    if (found && view.t < found[1].start) found = stateFor((map = past), step, e);
    if (!found) return undefined;
    const [k, s] = found;
    s.touched = epoch;
    if (s.stage !== i - 1 || view.t - s.start > span || view.t < s.stepTime) return undefined;
    if (!count(step, s, e)) return undefined;
    s.stage = i;
    s.stepTime = view.t;
    s.count = 0;
    s.seen = undefined;
    if (i < steps.length - 1) return undefined;
    map.delete(k);
    if (!fromFirst) s.entity = base.entityKey(e) ?? s.entity;
    return s;
  };

  return {
    horizonMs: span,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const e = view.event;
      // Last step first: one event may complete one key's sequence and start another's.
      for (let i = steps.length - 1; i >= 0; i--) {
        const step = steps[i]!;
        if (!kindMatches(step, e.kind) || (step.test && !step.test(e))) continue;
        const done = advance(i, view);
        if (done)
          return base.finding(self, view, done.entity, done.ids.slice(), {
            steps: steps.map((s) => s.name),
            window: seq.timespan,
          });
      }
      return undefined;
    },
    sweep(beforeMs) {
      const current = epoch++;
      for (const map of [states, past])
        for (const [k, s] of map) if (s.start < beforeMs - span && s.touched !== current) map.delete(k);
    },
    stateSize: () => states.size + past.size,
  };
}
