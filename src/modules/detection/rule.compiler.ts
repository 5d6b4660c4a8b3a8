import { Ajv } from 'ajv';
import { baselineBehaviour } from './baseline.rule.js';
import { enumerationBehaviour } from './enumeration.rule.js';
import { fieldPathProblem } from './event-field.js';
import { honeytokenBehaviour, matchBehaviour } from './match.rule.js';
import { firstSeenBehaviour, geoBehaviour } from './novelty.rule.js';
import type { RuleBase, RuleBehaviour } from './rule-base.js';
import {
  compileAccountCondition,
  entityKeyOf,
  organisationOf,
  validTimeZone,
  virtualFields,
  type CompiledRule,
  type EventView,
  type RuleEnv,
} from './rule.runtime.js';
import { RuleDocument, durationMs } from './rule.schema.js';
import { sequenceBehaviour } from './sequence.rule.js';
import { compileDetection, type CompiledDetection } from './sigma-detection.compiler.js';
import type { VirtualFields } from './event-field.js';
import { RuleSyntaxError } from './sigma-value.matcher.js';
import { windowBehaviour } from './window.rule.js';

const ajv = new Ajv({ allErrors: false, strict: false });
const validateDocument = ajv.compile<RuleDocument>(RuleDocument);

/** Checks a parsed YAML document against the rule schema; returns the problem or the typed rule. */
export function parseRuleDocument(raw: unknown): RuleDocument {
  if (!validateDocument(raw)) {
    const err = validateDocument.errors?.[0];
    const where = err?.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : 'rule';
    const extra =
      err?.keyword === 'additionalProperties'
        ? ` (${String((err.params as { additionalProperty?: string }).additionalProperty)})`
        : '';
    throw new RuleSyntaxError(`${where}: ${err?.message ?? 'is invalid'}${extra}`);
  }
  return raw;
}

function attackTagged(doc: RuleDocument): boolean {
  return doc.tags.some((t) => /^attack\.t\d{4}(\.\d{3})?$/.test(t));
}

interface SharedDetection extends CompiledDetection {
  /** The detection's verdict for the view's event, computed once per event for all its rules. */
  readonly once: (view: EventView) => boolean;
}

/**
 * Rules of a pack often share a detection block (e.g. "not a denied decision"): compiled once per
 * environment and evaluated once per event, whatever the number of rules that use it.
 */
const shared = new WeakMap<RuleEnv, Map<string, SharedDetection>>();
function sharedDetection(env: RuleEnv, doc: RuleDocument, virtual: VirtualFields): SharedDetection {
  let cache = shared.get(env);
  if (!cache) {
    cache = new Map();
    shared.set(env, cache);
  }
  const key = `${doc.timezone ?? ''}\u0000${JSON.stringify(doc.detection)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const compiled = compileDetection(doc.detection, virtual);
  let seq = -1;
  let verdict = false;
  const test = compiled.test;
  const entry: SharedDetection = {
    ...compiled,
    once: (view) => {
      if (view.seq !== seq) {
        verdict = test(view.event);
        seq = view.seq;
      }
      return verdict;
    },
  };
  if (cache.size < 10_000) cache.set(key, entry);
  return entry;
}

const BEHAVIOURS: Record<RuleDocument['type'], (base: RuleBase) => RuleBehaviour> = {
  match: matchBehaviour,
  honeytoken: honeytokenBehaviour,
  event_count: (b) => windowBehaviour(b, false),
  value_count: (b) => windowBehaviour(b, true),
  enumeration: enumerationBehaviour,
  sequence: sequenceBehaviour,
  first_seen: firstSeenBehaviour,
  geo: geoBehaviour,
  baseline: baselineBehaviour,
};

/**
 * Compiles a validated rule into closures. Every problem is a RuleSyntaxError whose message names
 * the part of the rule to fix; nothing is half-built.
 */
export function compileRule(doc: RuleDocument, env: RuleEnv): CompiledRule {
  if (!attackTagged(doc))
    throw new RuleSyntaxError('tags: a rule needs an ATT&CK technique tag (attack.tNNNN)');
  if (doc.timezone && !validTimeZone(doc.timezone))
    throw new RuleSyntaxError(`timezone: unknown zone ${doc.timezone}`);
  if (doc.type === 'match' && !doc.detection)
    throw new RuleSyntaxError('a match rule needs a detection block');
  for (const [name, block] of [
    ['correlation', doc.correlation],
    ['sequence', doc.sequence],
    ['firstSeen', doc.firstSeen],
    ['baseline', doc.baseline],
    ['geo', doc.geo],
    ['enumeration', doc.enumeration],
  ] as const) {
    const wanted: Partial<Record<RuleDocument['type'], string>> = {
      event_count: 'correlation',
      value_count: 'correlation',
      sequence: 'sequence',
      first_seen: 'firstSeen',
      baseline: 'baseline',
      geo: 'geo',
      enumeration: 'enumeration',
    };
    if (block && wanted[doc.type] !== name)
      throw new RuleSyntaxError(`${name}: not used by a ${doc.type} rule`);
  }
  const virtual = virtualFields(env, doc.timezone);
  for (const f of [
    ...(doc.correlation?.groupBy ?? []),
    ...(doc.correlation?.field ? [doc.correlation.field] : []),
    ...(doc.firstSeen ? [doc.firstSeen.value, ...(doc.firstSeen.key ?? [])] : []),
    ...(doc.baseline?.field ? [doc.baseline.field] : []),
    ...(doc.enumeration ? [doc.enumeration.field] : []),
  ]) {
    const problem = fieldPathProblem(f, virtual);
    if (problem) throw new RuleSyntaxError(problem);
  }
  const detection = doc.detection ? sharedDetection(env, doc, virtual) : undefined;
  const accountCondition = compileAccountCondition(doc);
  const test = detection?.once;
  const accepts =
    test && accountCondition
      ? (v: EventView) => test(v) && accountCondition(v)
      : test
        ? test
        : (accountCondition ?? (() => true));
  const base: RuleBase = {
    doc,
    env,
    virtual,
    accepts,
    entityKey: (e) => entityKeyOf(doc.entity, e, env),
    finding: (self, view, entityId, evidence, summary) => ({
      rule: self,
      entity: { type: doc.entity, id: entityId },
      organisationId: organisationOf(view.event, env),
      evidence,
      timeMs: view.t,
      summary,
    }),
  };
  const behaviour = BEHAVIOURS[doc.type](base);
  if (doc.suppress) durationMs(doc.suppress);
  const rule: CompiledRule = {
    doc,
    id: doc.id,
    kinds: doc.kinds,
    discriminator: detection?.discriminator,
    horizonMs: behaviour.horizonMs,
    evaluate: (view) => behaviour.evaluate(rule, view),
    sweep: (before) => behaviour.sweep(before),
    stateSize: () => behaviour.stateSize(),
  };
  return rule;
}
