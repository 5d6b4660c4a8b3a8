import { createHash } from 'node:crypto';
import type { Dimension } from './budget.ledger.js';
import type { AccessView, AccountFacts } from './access.view.js';
import { own, type EvalContext } from './policy.facts.js';
import type { BudgetsNode, Obligation, Threshold } from './policy.types.js';

export interface SoftExceeded {
  readonly dimension: Dimension;
  readonly id: string;
  readonly count: number;
  readonly soft: number;
  readonly hard: number;
}

/** What a disclosure counted: persisted with the decision so windows can be rebuilt after restart. */
export interface BudgetOutcome {
  readonly recordId: string | undefined;
  readonly accountId: string | undefined;
  readonly organisationId: string | undefined;
  readonly applicationId: string | undefined;
  readonly minute: number;
  readonly softExceeded: readonly SoftExceeded[];
  readonly approvalId: string | undefined;
}

export interface BudgetDenial {
  readonly reason: string;
  readonly ruleId: string;
  readonly obligations: readonly Obligation[];
}

const STEP_UP: Obligation = Object.freeze({ type: 'step_up', level: 'phishing_resistant' });
const NO_SIGNAL: readonly SoftExceeded[] = Object.freeze([]);

/**
 * The thresholds an entity's window is held to: an account's by its recent approval, then by the
 * first listed role it holds, else the default; an organisation's, or an application's by its
 * organisation's kind. Shared with the figures the console draws against budgets (access-stats).
 */
export function accountThreshold(b: BudgetsNode, account: AccountFacts, nowMs: number): Threshold {
  const recent = b.account.recentlyApproved;
  if (recent && nowMs - account.approvedAtMs < recent.hours * 3_600_000) return recent;
  for (const [role, t] of b.account.byRole) {
    for (const r of account.roles) if (r.roleId === role && r.expiresAtMs > nowMs) return t;
  }
  return b.account.default;
}

export function kindThreshold(
  node: BudgetsNode['organisation'] | BudgetsNode['application'],
  view: AccessView,
  organisationId: string,
): Threshold {
  const kind = view.organisations.get(organisationId)?.kind;
  return (kind !== undefined ? node.byKind.get(kind) : undefined) ?? node.default;
}

function frozen(c: EvalContext): boolean {
  const v = c.view;
  if (v.frozen.size === 0) return false;
  if (
    c.account &&
    (v.isFrozen('account', c.account.id) || v.isFrozen('organisation', c.account.organisationId))
  )
    return true;
  const app = c.caller ?? c.subjectApplication;
  return (
    app !== undefined && (v.isFrozen('application', app.id) || v.isFrozen('organisation', app.organisationId))
  );
}

/** Checks the four-eyes approval of a large export; consumes it when committing. */
function exportApproval(b: BudgetsNode, c: EvalContext, commit: boolean): { ok: boolean; id?: string } {
  const above = b.exportFourEyesAbove;
  if (above === undefined || c.request.action.name !== 'export') return { ok: true };
  const n = own(c.request.action.properties, 'records') ?? own(c.request.resource.properties, 'records');
  const count = typeof n === 'number' && Number.isFinite(n) ? n : 1;
  if (count <= above) return { ok: true };
  const token = own(c.request.context, 'approval_token');
  if (typeof token !== 'string' || token.length < 16 || token.length > 200 || !c.account)
    return { ok: false };
  const approval = c.view.approvals.get(createHash('sha256').update(token).digest('hex'));
  if (
    !approval ||
    approval.usedAtMs !== undefined ||
    approval.expiresAtMs <= c.nowMs ||
    approval.requesterAccountId !== c.account.id ||
    approval.maxRecords < count
  ) {
    return { ok: false };
  }
  if (commit) approval.usedAtMs = c.nowMs;
  return { ok: true, id: approval.id };
}

/**
 * Budgets, freezes and four-eyes exports for an allowed request. Reads the ledger, and with `commit`
 * records the disclosure in the same synchronous call, so the check and the count cannot interleave
 * with another request's.
 */
export function checkBudgets(
  b: BudgetsNode,
  c: EvalContext,
  commit: boolean,
): { denied?: BudgetDenial; outcome?: BudgetOutcome } {
  const counted = b.countedActions.includes(c.request.action.name);
  if ((counted || c.request.action.name === 'export') && frozen(c)) {
    return { denied: { reason: 'budget_frozen', ruleId: 'control:frozen', obligations: [] } };
  }
  const approval = exportApproval(b, c, commit);
  if (!approval.ok) {
    return {
      denied: {
        reason: 'four_eyes_required',
        ruleId: 'budget:export',
        obligations: [{ type: 'four_eyes_approval', above: b.exportFourEyesAbove }],
      },
    };
  }
  if (!counted || c.record < 0) {
    if (!approval.id) return {};
    return {
      outcome: {
        recordId: undefined,
        accountId: c.account?.id,
        organisationId: c.account?.organisationId,
        applicationId: c.caller?.id,
        minute: c.nowMinute,
        softExceeded: [],
        approvalId: approval.id,
      },
    };
  }
  const record = c.request.resource.id;
  // Up to three windows (account, organisation, application), fetched once each: no allocation on
  // the common path beyond the outcome itself. A dry run (search, explain) creates no window.
  const account = c.account;
  const org = account?.organisationId ?? c.subjectApplication?.organisationId ?? c.caller?.organisationId;
  const app = c.caller ?? c.subjectApplication;
  const ledger = c.ledger;
  const minute = c.nowMinute;
  const wAccount = account ? ledger.window('account', account.id, minute, commit) : undefined;
  const tAccount = account ? accountThreshold(b, account, c.nowMs) : undefined;
  const wOrg = org !== undefined ? ledger.window('organisation', org, minute, commit) : undefined;
  const tOrg = org !== undefined ? kindThreshold(b.organisation, c.view, org) : undefined;
  const wApp = app ? ledger.window('application', app.id, minute, commit) : undefined;
  const tApp = app ? kindThreshold(b.application, c.view, app.organisationId) : undefined;
  // One lookup of the record per window serves both the check and the update.
  const lAccount = wAccount?.lastSeen(record);
  const lOrg = wOrg?.lastSeen(record);
  const lApp = wApp?.lastSeen(record);
  const nAccount = wAccount ? wAccount.seen.size + (lAccount === undefined ? 1 : 0) : 0;
  const nOrg = wOrg ? wOrg.seen.size + (lOrg === undefined ? 1 : 0) : 0;
  const nApp = wApp ? wApp.seen.size + (lApp === undefined ? 1 : 0) : 0;
  const over =
    wAccount && nAccount > tAccount!.hard
      ? ({ dim: 'account', n: nAccount, hard: tAccount!.hard } as const)
      : wOrg && nOrg > tOrg!.hard
        ? ({ dim: 'organisation', n: nOrg, hard: tOrg!.hard } as const)
        : wApp && nApp > tApp!.hard
          ? ({ dim: 'application', n: nApp, hard: tApp!.hard } as const)
          : undefined;
  if (over) {
    const ruleId = `budget:${over.dim}`;
    // A step-up buys one more hard threshold's worth, never an unbounded budget.
    if (b.onHard !== 'step_up' || over.n > 2 * over.hard) {
      return { denied: { reason: 'budget_exhausted', ruleId, obligations: [] } };
    }
    if (own(c.request.context, 'auth_level') !== 'phishing_resistant') {
      return { denied: { reason: 'step_up_required', ruleId, obligations: [STEP_UP] } };
    }
  }
  let softExceeded: SoftExceeded[] | undefined;
  if (commit) {
    if (wAccount && wAccount.record(record, minute, tAccount!.soft, lAccount)) {
      (softExceeded ??= []).push({
        dimension: 'account',
        id: account!.id,
        count: wAccount.seen.size,
        soft: tAccount!.soft,
        hard: tAccount!.hard,
      });
    }
    if (wOrg && wOrg.record(record, minute, tOrg!.soft, lOrg)) {
      (softExceeded ??= []).push({
        dimension: 'organisation',
        id: org!,
        count: wOrg.seen.size,
        soft: tOrg!.soft,
        hard: tOrg!.hard,
      });
    }
    if (wApp && wApp.record(record, minute, tApp!.soft, lApp)) {
      (softExceeded ??= []).push({
        dimension: 'application',
        id: app!.id,
        count: wApp.seen.size,
        soft: tApp!.soft,
        hard: tApp!.hard,
      });
    }
  }
  return {
    outcome: {
      recordId: record,
      accountId: account?.id,
      organisationId: org,
      applicationId: app?.id,
      minute,
      softExceeded: softExceeded ?? NO_SIGNAL,
      approvalId: approval.id,
    },
  };
}
