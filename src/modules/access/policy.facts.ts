import type { AccessView, AccountFacts, ApplicationFacts } from './access.view.js';
import type { BudgetLedger } from './budget.ledger.js';
import type { DirectoryEntity } from './policy.types.js';

/** An AuthZEN entity as a request carries it. */
export interface RequestEntity {
  readonly type: string;
  readonly id: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

export interface DecisionRequest {
  readonly subject: RequestEntity;
  readonly resource: RequestEntity;
  readonly action: { readonly name: string; readonly properties?: Readonly<Record<string, unknown>> };
  readonly context?: Readonly<Record<string, unknown>>;
  /** The registered application asking (from its token), when the request came through the API. */
  readonly callerId?: string;
  /** Set when the request named a Vigie session (session-facts.ts resolved it before deciding). */
  readonly session?: NamedSession;
}

/** Why a named session lends no strength: unknown, over, or another subject's. */
export type SessionProblem = 'session_unknown' | 'session_ended' | 'session_subject_mismatch';

/** A session a request named, checked against its subject; strength fields only when usable. */
export interface NamedSession {
  /** The session's public id, when known (never the cookie secret nor the access token). */
  readonly id: string | undefined;
  /** Undefined when the session is live and the subject's own. */
  readonly problem: SessionProblem | undefined;
  readonly method?: string;
  readonly authLevel?: string;
  readonly aal?: string;
  readonly amr?: readonly string[];
  readonly authTimeMs?: number;
  readonly stepUpAtMs?: number;
  readonly networkPrefix?: string;
}

/**
 * Everything a compiled condition may look at for one decision, resolved once per request: the
 * subject's and caller's facts from the view, the record's index in the follow arrays, and now.
 */
export interface EvalContext {
  readonly request: DecisionRequest;
  readonly view: AccessView;
  readonly ledger: BudgetLedger;
  readonly nowMs: number;
  readonly nowMinute: number;
  readonly account: AccountFacts | undefined;
  readonly subjectApplication: ApplicationFacts | undefined;
  readonly subjectEntity: DirectoryEntity | undefined;
  readonly caller: ApplicationFacts | undefined;
  /** Index of the resource in the follow arrays when it is a known personal record, else -1. */
  readonly record: number;
  readonly resourceEntity: DirectoryEntity | undefined;
  readonly breakGlassCap: number;
}

/** Reads an own property only: a request's `__proto__` or `constructor` key is just absent. */
export function own(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

const day = (ms: number) => Math.floor(ms / 86_400_000);

/**
 * Built-in facts a policy names with `fact: <name>`. Each is a plain function of the evaluation
 * context, so a rule explains itself as "rule X: fact Y was true/false".
 */
export const FACTS: ReadonlyMap<string, (c: EvalContext) => boolean> = new Map<
  string,
  (c: EvalContext) => boolean
>([
  [
    'subject.known',
    (c) => c.account !== undefined || c.subjectApplication !== undefined || c.subjectEntity !== undefined,
  ],
  [
    'subject.active',
    (c) => {
      if (c.account) return c.account.active && c.view.organisationActiveAt(c.account.orgIdx);
      if (c.subjectApplication) {
        return c.subjectApplication.active && c.view.organisationActiveAt(c.subjectApplication.orgIdx);
      }
      return c.subjectEntity !== undefined;
    },
  ],
  ['subject.is_account', (c) => c.account !== undefined],
  ['subject.is_application', (c) => c.subjectApplication !== undefined],
  ['caller.present', (c) => c.caller !== undefined],
  [
    'caller.active',
    (c) => c.caller === undefined || (c.caller.active && c.view.organisationActiveAt(c.caller.orgIdx)),
  ],
  ['caller.partner', (c) => c.caller?.kind === 'partner'],
  ['resource.known', (c) => c.record >= 0 || c.resourceEntity !== undefined],
  ['resource.is_record', (c) => c.record >= 0],
  [
    'resource.followed_by_structure',
    (c) => c.account !== undefined && c.view.follows.followedBy(c.record, c.account.orgIdx, c.nowMinute),
  ],
  [
    'resource.in_own_caseload',
    (c) => c.account !== undefined && c.view.follows.inCaseload(c.record, c.account.idx, c.nowMinute),
  ],
  [
    'resource.enrolled_with_caller',
    (c) => c.caller !== undefined && c.view.follows.followedBy(c.record, c.caller.orgIdx, c.nowMinute),
  ],
  [
    'resource.enrolled_with_subject_application',
    (c) =>
      c.subjectApplication !== undefined &&
      c.view.follows.followedBy(c.record, c.subjectApplication.orgIdx, c.nowMinute),
  ],
  ['resource.sealed', (c) => c.record >= 0 && c.view.follows.isSealed(c.record)],
  ['resource.decoy', (c) => c.record >= 0 && c.view.follows.isDecoy(c.record)],
  ['context.phishing_resistant', (c) => own(c.request.context, 'auth_level') === 'phishing_resistant'],
  ['session.named', (c) => c.request.session !== undefined],
  ['session.live', (c) => c.request.session !== undefined && c.request.session.problem === undefined],
  [
    'break_glass.within_cap',
    (c) => c.account !== undefined && c.ledger.breakGlassUses(c.account.id, day(c.nowMs)) < c.breakGlassCap,
  ],
]);

export const FACT_NAMES: ReadonlySet<string> = new Set(FACTS.keys());

/** Attributes of the subject as the view knows them (for `subject.<name>` paths). */
export function subjectAttribute(c: EvalContext, name: string): unknown {
  if (c.subjectEntity) return own(c.subjectEntity.attributes, name);
  const a = c.account;
  if (a) {
    switch (name) {
      case 'organisation':
        return a.organisationId;
      case 'organisation_kind':
        return c.view.organisations.get(a.organisationId)?.kind;
      case 'status':
        return a.active ? 'active' : 'inactive';
      case 'kind':
        return a.kind;
      case 'roles':
        return a.roles.filter((r) => r.expiresAtMs > c.nowMs).map((r) => r.roleId);
      case 'hours_since_approval':
        return (c.nowMs - a.approvedAtMs) / 3_600_000;
      default:
        return undefined;
    }
  }
  const app = c.subjectApplication;
  if (app) {
    if (name === 'organisation') return app.organisationId;
    if (name === 'kind') return app.kind;
    if (name === 'organisation_kind') return c.view.organisations.get(app.organisationId)?.kind;
  }
  return undefined;
}

export function resourceAttribute(c: EvalContext, name: string): unknown {
  if (c.resourceEntity) return own(c.resourceEntity.attributes, name);
  if (c.record >= 0) {
    if (name === 'sealed') return c.view.follows.isSealed(c.record);
    if (name === 'decoy') return c.view.follows.isDecoy(c.record);
  }
  return undefined;
}

/**
 * The named session's facts (for `session.<name>` paths): `status` is `live`, a problem code, or
 * `none` when the request named no session; the others are set only for a live session.
 */
export function sessionAttribute(c: EvalContext, name: string): unknown {
  const s = c.request.session;
  if (name === 'status') return s === undefined ? 'none' : (s.problem ?? 'live');
  if (s === undefined || s.problem !== undefined) return undefined;
  switch (name) {
    case 'id':
      return s.id;
    case 'method':
      return s.method;
    case 'auth_level':
      return s.authLevel;
    case 'aal':
      return s.aal;
    case 'amr':
      return s.amr;
    case 'network_prefix':
      return s.networkPrefix;
    case 'minutes_since_auth':
      return s.authTimeMs === undefined ? undefined : (c.nowMs - s.authTimeMs) / 60_000;
    case 'minutes_since_step_up':
      return s.stepUpAtMs === undefined ? undefined : (c.nowMs - s.stepUpAtMs) / 60_000;
    default:
      return undefined;
  }
}

export function callerAttribute(c: EvalContext, name: string): unknown {
  const app = c.caller;
  if (!app) return undefined;
  if (name === 'id') return app.id;
  if (name === 'kind') return app.kind;
  if (name === 'organisation') return app.organisationId;
  if (name === 'organisation_kind') return c.view.organisations.get(app.organisationId)?.kind;
  return undefined;
}

/**
 * True when the subject holds one of `roles` now (accounts: from the view; others: `roles`
 * attribute). `mask` holds the roles' bits: open-ended roles answer with one AND; the scan covers
 * roles with an expiry and names without a bit.
 */
export function hasRole(c: EvalContext, roles: readonly string[], mask: number): boolean {
  if (c.account) {
    if ((c.account.roleMask & mask) !== 0) return true;
    for (const r of c.account.roles) if (r.expiresAtMs > c.nowMs && roles.includes(r.roleId)) return true;
    return false;
  }
  const attr = c.subjectEntity ? own(c.subjectEntity.attributes, 'roles') : undefined;
  if (Array.isArray(attr)) return attr.some((r) => roles.includes(r as string));
  const single = c.subjectEntity ? own(c.subjectEntity.attributes, 'role') : undefined;
  return typeof single === 'string' && roles.includes(single);
}
