import type { VigieEvent } from '../../shared/event.js';
import type { VirtualFields } from './event-field.js';
import type { EventView, Finding, CompiledRule, RuleEnv } from './rule.runtime.js';
import type { RuleDocument } from './rule.schema.js';

/** What every rule type is built from: the parsed document and the closures common to all types. */
export interface RuleBase {
  readonly doc: RuleDocument;
  readonly env: RuleEnv;
  readonly virtual: VirtualFields;
  /** The detection block and the account conditions, together; true when the event is a candidate. */
  readonly accepts: (view: EventView) => boolean;
  /** The partition key: the id of the rule's entity in this event. */
  readonly entityKey: (e: VigieEvent) => string | undefined;
  /** Builds a finding for the entity; `self` is the compiled rule the finding names. */
  readonly finding: (
    self: CompiledRule,
    view: EventView,
    entityId: string,
    evidence: readonly string[],
    summary: Record<string, unknown>,
  ) => Finding;
}

/** The per-type part of a compiled rule. */
export interface RuleBehaviour {
  readonly horizonMs: number;
  evaluate(self: CompiledRule, view: EventView): Finding | undefined;
  sweep(beforeMs: number): void;
  stateSize(): number;
}

/** A small ring of the last event ids, for evidence, without unbounded growth. */
export function pushEvidence(list: string[], id: string, max: number): void {
  list.push(id);
  while (list.length > max) list.shift();
}
