import type { AccessView } from './access.view.js';
import { checkBudgets, type BudgetOutcome } from './budget.check.js';
import type { BudgetLedger } from './budget.ledger.js';
import { toMinute } from './follow.index.js';
import type { CompiledPolicy, CompiledRule } from './policy.compiler.js';
import { own, type DecisionRequest, type EvalContext } from './policy.facts.js';
import type { Obligation } from './policy.types.js';

export type { DecisionRequest } from './policy.facts.js';

export interface Decision {
  readonly decision: boolean;
  /** Public reason codes (never rule ids nor facts). */
  readonly reasons: readonly string[];
  readonly obligations: readonly Obligation[];
  /** Which rules decided, for the journal and `explain`; not sent to the caller. */
  readonly ruleIds: readonly string[];
  readonly policyVersion: string;
  /** Set when a personal record was disclosed and counted against budgets. */
  readonly budget: BudgetOutcome | undefined;
  readonly breakGlass: boolean;
}

const NONE: readonly never[] = Object.freeze([]);

/** The rule id of the built-in denial of a record that is not a known data subject. */
export const UNKNOWN_RECORD_RULE = 'control:unknown_record';
const STEP_UP: Obligation = Object.freeze({ type: 'step_up', level: 'phishing_resistant' });

function applies(rule: CompiledRule, c: EvalContext): boolean {
  if (rule.subjectTypes && !rule.subjectTypes.has(c.request.subject.type)) return false;
  if (rule.resourceTypes && !rule.resourceTypes.has(c.request.resource.type)) return false;
  for (const w of rule.when) if (!w.test(c)) return false;
  for (const u of rule.unless) if (u.test(c)) return false;
  return true;
}

/** Resolves the request's subject, resource and caller against the view, once per decision. */
export function resolveContext(
  policy: CompiledPolicy,
  view: AccessView,
  ledger: BudgetLedger,
  request: DecisionRequest,
  nowMs: number,
): EvalContext {
  const s = request.subject;
  const r = request.resource;
  return {
    request,
    view,
    ledger,
    nowMs,
    nowMinute: toMinute(nowMs),
    account: s.type === 'account' ? view.accounts.get(s.id) : undefined,
    subjectApplication: s.type === 'application' ? view.applications.get(s.id) : undefined,
    subjectEntity: policy.directory.get(s.type)?.get(s.id),
    caller: request.callerId === undefined ? undefined : view.applications.get(request.callerId),
    record: r.type === 'record' ? view.follows.recordOf(r.id) : -1,
    resourceEntity: policy.directory.get(r.type)?.get(r.id),
    breakGlassCap: policy.breakGlassCap,
  };
}

function stepUpSatisfied(c: EvalContext, requiredAtMs: number): boolean {
  if (own(c.request.context, 'auth_level') !== 'phishing_resistant') return false;
  const at = own(c.request.context, 'auth_time');
  const ms = typeof at === 'string' ? Date.parse(at) : typeof at === 'number' ? at * 1000 : NaN;
  return Number.isFinite(ms) && ms >= requiredAtMs && ms <= c.nowMs + 60_000;
}

function deny(
  policy: CompiledPolicy,
  reasons: readonly string[],
  ruleIds: readonly string[],
  obligations: readonly Obligation[] = NONE,
): Decision {
  return {
    decision: false,
    reasons,
    obligations,
    ruleIds,
    policyVersion: policy.version,
    budget: undefined,
    breakGlass: false,
  };
}

/**
 * The policy decision point. A synchronous function of the compiled policy, the in-memory view, the
 * request and now: it never awaits, so it decides in microseconds and, with `commit`, checks and
 * records budgets atomically (see budget.ledger.ts). Deny overrides allow: every applicable deny rule
 * is evaluated first and any match denies; otherwise the first matching allow rule allows; no match
 * denies (`not_permitted`). Obligation rules add obligations to an allow. Without `commit` (search,
 * explain, policy tests in dry-run) nothing is recorded. When the request named a Vigie session
 * (`request.session`, resolved before this call), its context already carries the session's strength
 * in place of the caller's claim; a session that lent none adds its problem code to a denial.
 */
export function decide(
  policy: CompiledPolicy,
  view: AccessView,
  ledger: BudgetLedger,
  request: DecisionRequest,
  nowMs: number,
  commit = true,
): Decision {
  const d = decideRules(policy, view, ledger, request, nowMs, commit);
  // A named session that lent no strength says why, after the reason that denied.
  const problem = request.session?.problem;
  if (problem === undefined || d.decision || d.reasons.includes(problem)) return d;
  return { ...d, reasons: [...d.reasons, problem] };
}

function decideRules(
  policy: CompiledPolicy,
  view: AccessView,
  ledger: BudgetLedger,
  request: DecisionRequest,
  nowMs: number,
  commit: boolean,
): Decision {
  const c = resolveContext(policy, view, ledger, request, nowMs);
  // Built in, whatever the policy says: a disabled account or application, or one of an inactive
  // organisation, gets nothing (the shipped policy says so too; this survives a policy mistake).
  if (c.account && !(c.account.active && view.organisationActiveAt(c.account.orgIdx))) {
    return deny(policy, ['subject_inactive'], ['control:inactive']);
  }
  if (c.caller && !(c.caller.active && view.organisationActiveAt(c.caller.orgIdx))) {
    return deny(policy, ['application_inactive'], ['control:inactive']);
  }
  // Built in too: a record id that is no known data subject (nor a record the policy itself declares
  // among its entities) is denied before any rule, break-glass included, so that a probe of made-up
  // ids (a NIR typed in) learns nothing and discloses nothing.
  if (request.resource.type === 'record' && c.record < 0 && c.resourceEntity === undefined) {
    return deny(policy, ['unknown_record'], [UNKNOWN_RECORD_RULE]);
  }
  if (c.account && view.stepUp.size > 0) {
    const requiredAt = view.stepUp.get(c.account.id);
    if (requiredAt !== undefined && !stepUpSatisfied(c, requiredAt)) {
      return deny(policy, ['step_up_required'], ['control:step_up'], [STEP_UP]);
    }
  }
  const rules = policy.rulesFor(request.action.name);
  let reasons: string[] | undefined;
  let denyIds: string[] | undefined;
  for (const rule of rules.deny) {
    if (!applies(rule, c)) continue;
    (denyIds ??= []).push(rule.id);
    reasons ??= [];
    if (!reasons.includes(rule.reason!)) reasons.push(rule.reason!);
  }
  if (reasons && denyIds) return deny(policy, reasons, denyIds);
  let allowed: CompiledRule | undefined;
  for (const rule of rules.allow) {
    if (applies(rule, c)) {
      allowed = rule;
      break;
    }
  }
  if (!allowed) return deny(policy, ['not_permitted'], ['default:deny']);
  let obligations: Obligation[] | undefined = allowed.obligations.length
    ? [...allowed.obligations]
    : undefined;
  let ruleIds: string[] | undefined;
  for (const rule of rules.obligate) {
    if (!applies(rule, c)) continue;
    (ruleIds ??= [allowed.id]).push(rule.id);
    for (const o of rule.obligations) (obligations ??= []).push(o);
  }
  let budget: BudgetOutcome | undefined;
  if (policy.budgets) {
    const checked = checkBudgets(policy.budgets, c, commit);
    if (checked.denied) {
      return deny(
        policy,
        [checked.denied.reason],
        [...(ruleIds ?? [allowed.id]), checked.denied.ruleId],
        checked.denied.obligations,
      );
    }
    budget = checked.outcome;
  }
  if (allowed.breakGlass && c.account && commit)
    ledger.recordBreakGlass(c.account.id, Math.floor(nowMs / 86_400_000));
  return {
    decision: true,
    reasons: NONE,
    obligations: obligations ?? NONE,
    ruleIds: ruleIds ?? [allowed.id],
    policyVersion: policy.version,
    budget,
    breakGlass: allowed.breakGlass,
  };
}
