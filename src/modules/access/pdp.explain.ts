import type { AccessView } from './access.view.js';
import type { BudgetLedger } from './budget.ledger.js';
import { decide, resolveContext, type Decision, type DecisionRequest } from './pdp.js';
import type { CompiledPolicy, CompiledRule } from './policy.compiler.js';

export interface RuleExplanation {
  readonly id: string;
  readonly effect: string;
  readonly file: string;
  readonly line: number;
  readonly matched: boolean;
  readonly conditions: ReadonlyArray<{
    readonly kind: 'when' | 'unless';
    readonly text: string;
    readonly line: number;
    readonly value: boolean;
  }>;
}

export interface Explanation {
  readonly decision: Decision;
  readonly rules: readonly RuleExplanation[];
}

function explainRule(rule: CompiledRule, c: ReturnType<typeof resolveContext>): RuleExplanation {
  const conditions = [
    ...rule.when.map((w) => ({ kind: 'when' as const, text: w.text, line: w.line, value: w.test(c) })),
    ...rule.unless.map((u) => ({ kind: 'unless' as const, text: u.text, line: u.line, value: u.test(c) })),
  ];
  const typesOk =
    (!rule.subjectTypes || rule.subjectTypes.has(c.request.subject.type)) &&
    (!rule.resourceTypes || rule.resourceTypes.has(c.request.resource.type));
  const matched = typesOk && conditions.every((x) => (x.kind === 'when' ? x.value : !x.value));
  return { id: rule.id, effect: rule.effect, file: rule.file, line: rule.line, matched, conditions };
}

/**
 * Why a request is allowed or denied: the dry-run decision plus, for every rule of the action, each
 * condition's value. For the security team (policy.read), never for callers of the AuthZEN API.
 */
export function explain(
  policy: CompiledPolicy,
  view: AccessView,
  ledger: BudgetLedger,
  request: DecisionRequest,
  nowMs: number,
): Explanation {
  const decision = decide(policy, view, ledger, request, nowMs, false);
  const c = resolveContext(policy, view, ledger, request, nowMs);
  const set = policy.rulesFor(request.action.name);
  return { decision, rules: [...set.deny, ...set.allow, ...set.obligate].map((r) => explainRule(r, c)) };
}
