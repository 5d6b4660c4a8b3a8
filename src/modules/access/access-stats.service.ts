import type { CoreDeps } from '../../container.js';
import { forbidden, notFound } from '../../shared/errors.js';
import { canAnywhere, scopesFor, type AccountPrincipal } from '../../shared/principal.js';
import type { AccessService } from './access.service.js';
import { listActiveControls } from './access.repository.js';
import { accountThreshold, kindThreshold } from './budget.check.js';
import * as repo from './access-stats.repository.js';
import { MAX_CONTROLS } from './access-stats.schemas.js';
import type { BudgetsNode, Threshold } from './policy.types.js';

/*
 * Read-only figures of disclosure for the security overview and an investigation. Least privilege:
 * they tell which accounts of a scope disclosed how much, so they are read with `account.read`
 * (reading those accounts) and within its scope: the security team and auditors hold it over the
 * operator, a partner's account manager or approver over its own structure only, so it sees that
 * structure's figures and nothing of the others; rows with no organisation are for operator-wide
 * readers. The risk and alert APIs ask alert.read; these show no detection, only the PDP's counts.
 */

export const STATS_PERMISSION = 'account.read';
const HOUR_MS = 3_600_000;
/*
 * A day of figures scans the day's decision events (about 0.3 s for 200,000 on SQLite, docs/access.md):
 * every open console asks each minute, so one answer per scope serves all of them for 30 s.
 */
const OVERVIEW_CACHE_MS = 30_000;
const OVERVIEW_CACHE_ENTRIES = 200;

export type StatsDeps = Pick<CoreDeps, 'db' | 'clock'> & {
  readonly access: Pick<AccessService, 'view' | 'ledger' | 'policy' | 'store'>;
};

const isRootScope = (path: string) => path.split('/').length === 3;

function scopeOf(principal: AccountPrincipal): repo.ScopePaths {
  const paths = scopesFor(principal, STATS_PERMISSION);
  return paths.some(isRootScope) ? null : paths;
}

type Dimension = 'account' | 'organisation' | 'application';

/** The thresholds the PDP applies to an entity (budget.check.ts), for the console to draw against. */
function thresholdOf(
  b: BudgetsNode,
  view: StatsDeps['access']['view'],
  dim: Dimension,
  id: string,
  nowMs: number,
): Threshold {
  if (dim === 'account') {
    const a = view.accounts.get(id);
    return a ? accountThreshold(b, a, nowMs) : b.account.default;
  }
  if (dim === 'organisation') return kindThreshold(b.organisation, view, id);
  const orgId = view.applications.get(id)?.organisationId;
  return orgId !== undefined ? kindThreshold(b.application, view, orgId) : b.application.default;
}

export function createAccessStats(deps: StatsDeps) {
  const { db, clock, access } = deps;

  function top(dim: Dimension, rows: { id: string; records: number }[], nowMs: number) {
    const budgets = access.policy.budgets;
    const minute = Math.floor(nowMs / 60_000);
    return rows.map((r) => {
      if (!budgets) return { ...r, window: null };
      const t = thresholdOf(budgets, access.view, dim, r.id, nowMs);
      return {
        ...r,
        window: {
          records: access.ledger.count(dim, r.id, minute),
          soft: t.soft,
          hard: t.hard,
          frozen: access.view.isFrozen(dim, r.id),
        },
      };
    });
  }

  /**
   * Disclosures per hour over the last `hours` whole hours (the current one included), denials by
   * reason, and the `limit` accounts, organisations and applications that disclosed most, each with
   * its current budget window. Hours without any disclosure are listed with zeros.
   */
  type Overview = Awaited<ReturnType<typeof computeOverview>>;
  const cache = new Map<string, { atMs: number; value: Promise<Overview> }>();

  function overview(principal: AccountPrincipal, hours: number, limit: number): Promise<Overview> {
    const scope = scopeOf(principal);
    const key = `${scope === null ? '*' : [...scope].sort().join(',')}|${hours}|${limit}`;
    const nowMs = clock.now().getTime();
    const hit = cache.get(key);
    if (hit && nowMs - hit.atMs < OVERVIEW_CACHE_MS) return hit.value;
    const value = computeOverview(scope, hours, limit, nowMs);
    cache.delete(key);
    if (cache.size >= OVERVIEW_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { atMs: nowMs, value });
    void value.catch(() => cache.delete(key));
    return value;
  }

  async function computeOverview(scope: repo.ScopePaths, hours: number, limit: number, nowMs: number) {
    const firstHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
    const w = { since: new Date(firstHour).toISOString(), until: new Date(nowMs + 1).toISOString() };
    const [perHour, denials, accounts, organisations, applications] = await Promise.all([
      repo.disclosuresPerHour(db, w, scope),
      repo.denialsByReason(db, w, scope),
      repo.topDisclosers(db, 'account_id', w, scope, limit),
      repo.topDisclosers(db, 'organisation_id', w, scope, limit),
      repo.topDisclosers(db, 'application_id', w, scope, limit),
    ]);
    const byHour = new Map(perHour.map((h) => [h.hour, h]));
    const hourly = Array.from({ length: hours }, (_, i) => {
      const start = new Date(firstHour + i * HOUR_MS).toISOString();
      const h = byHour.get(start.slice(0, 13));
      return { hour: start, disclosures: h?.disclosures ?? 0, records: h?.records ?? 0 };
    });
    return {
      since: w.since,
      until: new Date(nowMs).toISOString(),
      scope: scope === null ? ('operator' as const) : ('structures' as const),
      windowMinutes: access.ledger.windowMinutes,
      hourly,
      denials,
      top: {
        accounts: top('account', accounts, nowMs),
        organisations: top('organisation', organisations, nowMs),
        applications: top('application', applications, nowMs),
      },
    };
  }

  /**
   * The records an account disclosed (opaque ids, the deciding event, the calling application),
   * newest first. Anyone may read its own (what was done under its name); another account's takes
   * account.read over it, and another scope's account is a 404, as if it did not exist.
   */
  async function disclosuresOf(principal: AccountPrincipal, accountId: string, hours: number, limit: number) {
    mayReadActivity(principal, accountId);
    const since = new Date(clock.now().getTime() - hours * HOUR_MS).toISOString();
    const rows = await repo.disclosuresOfAccount(db, accountId, since, limit);
    return {
      accountId,
      since,
      items: rows.map((r) => ({
        eventId: r.event_id,
        time: r.time,
        recordId: r.record_id,
        applicationId: r.application_id,
        breakGlass: r.break_glass === 1,
      })),
    };
  }

  /** Who may read an account's own activity: itself, or account.read over its organisation (else 404). */
  function mayReadActivity(principal: AccountPrincipal, accountId: string): void {
    if (accountId === principal.accountId) return;
    if (!canAnywhere(principal, STATS_PERMISSION))
      throw forbidden('PERMISSION_DENIED', `missing permission ${STATS_PERMISSION}`);
    const scope = scopeOf(principal);
    if (scope === null) return;
    const account = access.view.accounts.get(accountId);
    const path = account ? access.view.organisations.get(account.organisationId)?.path : undefined;
    if (path === undefined || !scope.some((p) => path.startsWith(p)))
      throw notFound('ACCOUNT_NOT_FOUND', 'account');
  }

  /**
   * An account's recent access decisions, allowed and denied, newest first, from the journal's
   * events: the action, the reasons and rules, the record's opaque id (the digest for an unknown
   * one), the calling application and the policy version. Same rights as disclosuresOf.
   */
  async function decisionsOf(principal: AccountPrincipal, accountId: string, hours: number, limit: number) {
    mayReadActivity(principal, accountId);
    const since = new Date(clock.now().getTime() - hours * HOUR_MS).toISOString();
    const rows = await repo.decisionsOfAccount(db, accountId, since, limit);
    return {
      accountId,
      since,
      items: rows.map((r) => {
        const data = ((JSON.parse(r.payload) as { data?: Record<string, unknown> }).data ?? {}) as {
          action?: string;
          decision?: boolean;
          reasons?: string[];
          ruleIds?: string[];
          applicationId?: string;
          unknownRecord?: boolean;
          policyVersion?: string;
        };
        return {
          eventId: r.id,
          time: r.time,
          action: data.action ?? '',
          decision: data.decision === true,
          reasons: data.reasons ?? [],
          ruleIds: data.ruleIds ?? [],
          recordId: r.target_id,
          unknownRecord: data.unknownRecord === true,
          applicationId: data.applicationId ?? null,
          policyVersion: data.policyVersion ?? '',
        };
      }),
    };
  }

  /** The active policy's budgets, per role and per kind of organisation, as the PDP applies them. */
  function budgets() {
    const p = access.policy;
    const b = p.budgets;
    return {
      policy: { name: p.name, version: p.version, loadedAt: access.store.loadedAt ?? null },
      budgets: b
        ? {
            windowMinutes: b.windowMinutes,
            countedActions: [...b.countedActions],
            onHard: b.onHard,
            account: {
              default: { soft: b.account.default.soft, hard: b.account.default.hard },
              byRole: b.account.byRole.map(([role, t]) => ({ role, soft: t.soft, hard: t.hard })),
              recentlyApproved: b.account.recentlyApproved
                ? {
                    hours: b.account.recentlyApproved.hours,
                    soft: b.account.recentlyApproved.soft,
                    hard: b.account.recentlyApproved.hard,
                  }
                : null,
            },
            organisation: {
              default: { soft: b.organisation.default.soft, hard: b.organisation.default.hard },
              byKind: [...b.organisation.byKind].map(([kind, t]) => ({ kind, soft: t.soft, hard: t.hard })),
            },
            application: {
              default: { soft: b.application.default.soft, hard: b.application.default.hard },
              byKind: [...b.application.byKind].map(([kind, t]) => ({ kind, soft: t.soft, hard: t.hard })),
            },
            exportFourEyesAbove: b.exportFourEyesAbove ?? null,
          }
        : null,
      breakGlassPerDay: p.breakGlassCap,
    };
  }

  /** The freezes and step-up requirements in force (detection's and people's), newest first. */
  async function activeControls() {
    const rows = (await listActiveControls(db)).sort(
      (a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id),
    );
    return {
      items: rows.slice(0, MAX_CONTROLS).map((r) => ({
        id: r.id,
        kind: r.kind === 'freeze' ? ('freeze' as const) : ('step_up' as const),
        target: { type: r.target_type, id: r.target_id },
        reason: r.reason,
        createdBy: r.created_by,
        createdAt: r.created_at,
      })),
      truncated: rows.length > MAX_CONTROLS,
    };
  }

  return { overview, disclosuresOf, decisionsOf, budgets, activeControls };
}

export type AccessStats = ReturnType<typeof createAccessStats>;
