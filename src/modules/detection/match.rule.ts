import type { RuleBase, RuleBehaviour } from './rule-base.js';

/**
 * Single-event rules. `match`: the Sigma detection alone decides. `honeytoken`: the event discloses a
 * record marked as decoy (its target is a decoy subject); the detection block may narrow which
 * events count as a disclosure (e.g. not a denied decision).
 */
export function matchBehaviour(base: RuleBase): RuleBehaviour {
  return {
    horizonMs: 0,
    evaluate(self, view) {
      if (!base.accepts(view)) return undefined;
      const id = base.entityKey(view.event);
      if (id === undefined) return undefined;
      return base.finding(self, view, id, [view.event.id], {});
    },
    sweep() {},
    stateSize: () => 0,
  };
}

export function honeytokenBehaviour(base: RuleBase): RuleBehaviour {
  return {
    horizonMs: 0,
    evaluate(self, view) {
      const target = view.event.target;
      if (!target || !base.env.directory.isDecoy(target.id)) return undefined;
      if (!base.accepts(view)) return undefined;
      const id = base.entityKey(view.event);
      if (id === undefined) return undefined;
      return base.finding(self, view, id, [view.event.id], { decoy: target.id });
    },
    sweep() {},
    stateSize: () => 0,
  };
}
