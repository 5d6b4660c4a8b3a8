import type { CoreDeps } from '../../container.js';
import type { VigieEvent } from '../../shared/event.js';
import { scopesFor, type AccountPrincipal } from '../../shared/principal.js';
import { notFound } from '../../shared/errors.js';
import type { EntityDirectory } from './entity.directory.js';
import { whyGroup, whyRisk, whyTakeover, type Bilingual } from './explain.js';
import {
  DEFAULT_RISK_POLICY,
  decayed,
  GroupWatch,
  Prevalence,
  RiskLedger,
  takeoverPair,
  weigh,
  type Contribution,
  type RiskPolicy,
} from './risk.js';
import type { CompiledRule, Finding } from './rule.runtime.js';
import type { EntityType, ResponseAction, RuleDocument } from './rule.schema.js';

/**
 * The risk side of detection: findings of signal rules become observations (kept in
 * `risk_observations`) and points on the entities they concern; when an account's risk crosses the
 * policy's rungs, a risk alert is raised (its evidence the contributing signals) with the rung's
 * response; when several accounts of one organisation or partner application are at risk, that
 * organisation or application gets an alert of its own. Returns what to raise: detection.service
 * raises it through the alert and response services, in the findings' order.
 */
export interface RiskRaise {
  readonly finding: Finding;
  readonly responses: readonly {
    action: ResponseAction;
    target?: 'organisation' | 'application' | 'account';
  }[];
  readonly why: Bilingual;
  /** The entity's observations this alert rests on: linked to it (`alert_id`) once it is raised. */
  readonly observations?: readonly string[];
}

const FRESH_MS = 7 * 86_400_000;
/** A takeover alert is raised once per account within this window (its responses once). */
const TAKEOVER_ONCE_MS = 24 * 3_600_000;
const MAX_ALERT_EVIDENCE = 50;

/** The rules a risk alert is raised under: not in a YAML file, the risk policy's own. */
function riskRule(id: string, title: string, entity: EntityType, level: RuleDocument['level']): CompiledRule {
  const doc: RuleDocument = {
    id,
    title,
    level,
    tags: ['vigie.risk'],
    type: 'match',
    entity,
    kinds: ['*'],
    suppress: '24h',
  };
  return {
    doc,
    id,
    kinds: doc.kinds,
    discriminator: undefined,
    horizonMs: 0,
    evaluate: () => undefined,
    sweep: () => undefined,
    stateSize: () => 0,
  };
}

export const RISK_RULES = {
  account: riskRule(
    'vigie.risk.account',
    "Risque du compte au-dessus du seuil / Account's risk above the threshold",
    'account',
    'high',
  ),
  organisation: riskRule(
    'vigie.risk.organisation',
    "Plusieurs comptes d'une organisation à risque / Several accounts of one organisation at risk",
    'organisation',
    'critical',
  ),
  takeover: riskRule(
    'vigie.risk.account-takeover',
    "Prise de contrôle du compte : identifiant tenté et session montrée d'ailleurs / Account takeover: credential tried and session shown from elsewhere",
    'account',
    'critical',
  ),
  application: riskRule(
    'vigie.risk.application',
    'Application à risque (plusieurs de ses comptes, ou elle-même) / Application at risk (several of its accounts, or itself)',
    'application',
    'critical',
  ),
} as const;

export type RiskDeps = Pick<CoreDeps, 'db' | 'clock' | 'ids' | 'logger'> & {
  readonly directory: EntityDirectory;
  /** Kind of an application ('business' | 'partner'), undefined when unknown. */
  readonly applicationKind: (id: string) => Promise<string | undefined>;
};

export interface Observation {
  readonly id: string;
  readonly entity: { type: string; id: string };
  readonly ruleId: string;
  readonly weight: number;
  readonly riskAfter: number;
  readonly factors: string[];
  readonly evidence: string[];
  readonly alertId: string | null;
  readonly observedAt: string;
}

const observationsOf = (signals: readonly Contribution[]): string[] =>
  signals.flatMap((s) => (s.observationId !== undefined ? [s.observationId] : []));

export function createRiskService(deps: RiskDeps, policy: RiskPolicy = DEFAULT_RISK_POLICY) {
  const ledger = new RiskLedger(policy);
  const prevalence = new Prevalence();
  const organisations = new GroupWatch(policy.groupWindowMs);
  const applications = new GroupWatch(policy.groupWindowMs);
  // The application and session an account last acted through (from the bus): a signal about the
  // account also counts for its session and for that application acting for it.
  const lastContext = new Map<string, { app?: string; session?: string }>();
  const takenOver = new Map<string, number>();
  let sweptAt = 0;

  function noteEvents(events: readonly VigieEvent[]): void {
    for (const e of events) {
      if (e.actor.type !== 'account') continue;
      const app = e.data?.applicationId;
      const session = e.context?.sessionId;
      if (typeof app !== 'string' && session === undefined) continue;
      let c = lastContext.get(e.actor.id);
      if (!c) {
        if (lastContext.size >= 200_000) lastContext.delete(lastContext.keys().next().value!);
        lastContext.set(e.actor.id, (c = {}));
      }
      if (typeof app === 'string') c.app = app;
      if (session !== undefined) c.session = session;
    }
  }

  async function persist(
    entity: { type: string; id: string },
    organisationId: string | undefined,
    c: Contribution,
    riskAfter: number,
  ): Promise<void> {
    await deps.db
      .insertInto('risk_observations')
      .values({
        id: c.observationId ?? deps.ids.next(),
        entity_type: entity.type,
        entity_id: entity.id,
        organisation_id: organisationId ?? null,
        organisation_path: deps.directory.organisationPath(organisationId) ?? null,
        rule_id: c.ruleId,
        weight: c.weight,
        risk_after: Math.round(riskAfter * 10) / 10,
        factors: JSON.stringify(c.factors),
        evidence: JSON.stringify(c.evidence.slice(-20)),
        alert_id: null,
        observed_at: new Date(c.timeMs).toISOString(),
      })
      .execute();
  }

  function accountAlert(accountId: string, organisationId: string | undefined, nowMs: number): RiskRaise[] {
    const key = `account:${accountId}`;
    const rungs = ledger.climb(key, nowMs);
    if (rungs.length === 0) return [];
    const signals = ledger.contributions(key, nowMs).map((c) => ({ ...c, now: decayed(policy, c, nowMs) }));
    const score = ledger.score(key, nowMs);
    const entity = { type: 'account' as const, id: accountId };
    const why = whyRisk(entity, score, policy.alertAt, policy.halfLifeMs, signals);
    const finding: Finding = {
      rule: RISK_RULES.account,
      entity,
      organisationId,
      evidence: [...new Set(signals.flatMap((s) => s.evidence))].slice(-MAX_ALERT_EVIDENCE),
      timeMs: nowMs,
      summary: {
        risk: {
          score: Math.round(score * 10) / 10,
          alertAt: policy.alertAt,
          halfLifeMinutes: policy.halfLifeMs / 60_000,
          rungs: rungs.map((r) => ({ at: r.at, action: r.action })),
          signals: signals.map((s) => ({
            ruleId: s.ruleId,
            title: s.title,
            base: s.base,
            weight: s.weight,
            now: Math.round(s.now * 10) / 10,
            factors: s.factors,
            at: new Date(s.timeMs).toISOString(),
          })),
        },
      },
    };
    // A higher rung renews the step-up as well: whoever holds the account since the first one
    // (a sign-in in between satisfied it) meets it again on the next act.
    const actions = rungs.map((r) => r.action);
    if (!actions.includes('require_step_up') && !actions.includes('suspend_account'))
      actions.unshift('require_step_up');
    return [
      {
        finding,
        responses: actions.map((action) => ({ action })),
        why,
        observations: observationsOf(signals),
      },
    ];
  }

  /**
   * Both halves of a takeover on one account within the policy's window: someone tried a credential
   * Vigie does not know for it (phished name and password, a key of their own) and its session was
   * shown from another network or browser (a copied cookie). Only the holder of the session's secret
   * can produce the second half, so an outsider cannot aim this at an account they do not already
   * hold. The responses are those the halves' rules declare (the shipped pack: the sessions ended and
   * the account suspended at once, since a step-up would be met by the next sign-in of its owner,
   * whose workstation is what was copied). Once per account a day.
   */
  function takeoverAlert(
    accountId: string,
    organisationId: string | undefined,
    added: Contribution,
    nowMs: number,
  ): RiskRaise[] {
    if (added.corroborates === undefined) return [];
    const key = `account:${accountId}`;
    const pair = takeoverPair(ledger.contributions(key, nowMs), nowMs, policy.takeoverWithinMs);
    if (!pair) return [];
    const last = takenOver.get(accountId);
    if (last !== undefined && Math.abs(nowMs - last) < TAKEOVER_ONCE_MS) return [];
    if (takenOver.size >= 50_000) takenOver.delete(takenOver.keys().next().value!);
    takenOver.set(accountId, nowMs);
    const entity = { type: 'account' as const, id: accountId };
    const signals = [pair.credential, pair.session];
    return [
      {
        finding: {
          rule: RISK_RULES.takeover,
          entity,
          organisationId,
          evidence: [...new Set(signals.flatMap((s) => s.evidence))].slice(-MAX_ALERT_EVIDENCE),
          timeMs: nowMs,
          summary: {
            takeover: {
              withinMinutes: policy.takeoverWithinMs / 60_000,
              signals: signals.map((s) => ({
                ruleId: s.ruleId,
                title: s.title,
                corroborates: s.corroborates,
                at: new Date(s.timeMs).toISOString(),
              })),
            },
          },
        },
        // What the halves' rules declare (the shipped pack: sessions ended, account suspended); a
        // pack without them (the simulator's unprotected run strips every `responses:`) only alerts.
        responses: [
          ...new Set([
            ...(pair.credential.takeoverResponses ?? []),
            ...(pair.session.takeoverResponses ?? []),
          ]),
        ].map((action) => ({ action })),
        why: whyTakeover(entity, pair.credential, pair.session, policy.takeoverWithinMs),
        observations: observationsOf(signals),
      },
    ];
  }

  /**
   * An account reached the alert level (by risk, or by a high-confidence rule): one more of its
   * organisation's and its application's accounts at risk. Enough of them is evidence about the
   * organisation or the partner application; a business application is never acted on for its users.
   */
  /**
   * The account an at-risk account counts as for its groups: the oldest ancestor of its creation
   * chain in the directory. Accounts one compromised manager created are one actor's footprint, not
   * independent evidence about their organisation.
   */
  function lineageRoot(accountId: string): string {
    let current = accountId;
    for (let i = 0; i < 8; i++) {
      const parent = deps.directory.account(current)?.createdBy;
      if (!parent || !deps.directory.account(parent)) break;
      current = parent;
    }
    return current;
  }

  async function groupAlerts(
    atRisk: string,
    organisationId: string | undefined,
    nowMs: number,
    evidence: readonly string[],
  ): Promise<RiskRaise[]> {
    const out: RiskRaise[] = [];
    const accountId = lineageRoot(atRisk);
    /** The group's alert once it has `groupAccounts` independent accounts at risk, never again after. */
    const groupRaise = (
      entity: { type: 'organisation' | 'application'; id: string },
      n: number,
      membersOf: () => readonly string[],
    ) => {
      if (n !== policy.groupAccounts) return;
      const members = membersOf();
      out.push({
        finding: {
          rule: RISK_RULES[entity.type],
          entity,
          organisationId,
          evidence: evidence.slice(-MAX_ALERT_EVIDENCE),
          timeMs: nowMs,
          summary: { accountsAtRisk: members, needed: policy.groupAccounts },
        },
        responses: [{ action: 'freeze_budgets', target: entity.type }],
        why: whyGroup(entity, members, policy.groupAccounts, policy.groupWindowMs),
      });
    };
    if (organisationId) {
      const n = organisations.mark(organisationId, accountId, nowMs);
      groupRaise({ type: 'organisation', id: organisationId }, n, () =>
        organisations.members(organisationId),
      );
    }
    const app = lastContext.get(atRisk)?.app;
    if (app && (await deps.applicationKind(app)) === 'partner') {
      const n = applications.mark(app, accountId, nowMs);
      groupRaise({ type: 'application', id: app }, n, () => applications.members(app));
    }
    return out;
  }

  /** A finding of a signal rule: an observation, points, and whatever the points now call for. */
  async function observe(finding: Finding): Promise<RiskRaise[]> {
    const doc = finding.rule.doc;
    const r = doc.risk!;
    const nowMs = finding.timeMs;
    if (nowMs - sweptAt > 600_000) {
      ledger.sweep(nowMs);
      sweptAt = nowMs;
    }
    const isAccount = finding.entity.type === 'account';
    const facts = isAccount ? deps.directory.account(finding.entity.id) : undefined;
    const peer = isAccount ? deps.directory.peerGroup(finding.entity.id) : undefined;
    const seen = isAccount && peer ? prevalence.mark(doc.id, peer, finding.entity.id, nowMs) : 0;
    const { weight, factors } = weigh(
      r,
      facts
        ? {
            privileged: facts.privileged,
            fresh: Number.isFinite(facts.createdAtMs) && nowMs - facts.createdAtMs < FRESH_MS,
          }
        : undefined,
      seen,
    );
    const c: Contribution = {
      observationId: deps.ids.next(),
      ruleId: doc.id,
      title: doc.title,
      weight,
      base: r.weight,
      factors,
      timeMs: nowMs,
      evidence: finding.evidence,
      ...(r.corroborates ? { corroborates: r.corroborates } : {}),
      ...(r.corroborates && doc.responses?.length
        ? { takeoverResponses: doc.responses.map((x) => x.action) }
        : {}),
    };
    const key = `${finding.entity.type}:${finding.entity.id}`;
    if (!ledger.add(key, c)) return [];
    await persist(finding.entity, finding.organisationId, c, ledger.score(key, nowMs));
    if (finding.entity.type === 'application') return applicationAlert(finding, key, nowMs);
    if (!isAccount) return [];
    const ctx = lastContext.get(finding.entity.id);
    if (ctx?.session) ledger.add(`session:${ctx.session}`, c);
    if (ctx?.app) ledger.add(`application:${ctx.app}|${finding.entity.id}`, c);
    const raised = [
      ...takeoverAlert(finding.entity.id, finding.organisationId, c, nowMs),
      ...accountAlert(finding.entity.id, finding.organisationId, nowMs),
    ];
    // The first rung is the alert level: the account now counts for its groups.
    const takeover = raised.find((x) => x.finding.rule === RISK_RULES.takeover);
    const risky = raised.find((x) => x.finding.rule === RISK_RULES.account);
    const firstTime =
      risky !== undefined &&
      ledger.score(key, nowMs) >= policy.alertAt &&
      risky.responses.length > 0 &&
      (risky.finding.summary.risk as { rungs: { at: number }[] }).rungs.some(
        (x) => x.at === policy.ladder[0]!.at,
      );
    const counted = takeover ?? (firstTime ? risky : undefined);
    if (counted)
      raised.push(
        ...(await groupAlerts(finding.entity.id, finding.organisationId, nowMs, counted.finding.evidence)),
      );
    return raised;
  }

  /**
   * An application's own risk (its volume, its own calls): an alert and a freeze for a partner
   * application; for a business application, whose volume is its users', an observation only.
   */
  async function applicationAlert(finding: Finding, key: string, nowMs: number): Promise<RiskRaise[]> {
    if ((await deps.applicationKind(finding.entity.id)) !== 'partner') return [];
    if (ledger.climb(key, nowMs).length === 0) return [];
    const signals = ledger.contributions(key, nowMs).map((c) => ({ ...c, now: decayed(policy, c, nowMs) }));
    const score = ledger.score(key, nowMs);
    return [
      {
        finding: {
          rule: RISK_RULES.application,
          entity: finding.entity,
          organisationId: finding.organisationId,
          evidence: [...new Set(signals.flatMap((s) => s.evidence))].slice(-MAX_ALERT_EVIDENCE),
          timeMs: nowMs,
          summary: { risk: { score: Math.round(score * 10) / 10, alertAt: policy.alertAt } },
        },
        responses: [{ action: 'freeze_budgets', target: 'application' }],
        why: whyRisk(finding.entity, score, policy.alertAt, policy.halfLifeMs, signals),
        observations: observationsOf(signals),
      },
    ];
  }

  /** A high-confidence rule alerted on an account: it counts for its organisation and application. */
  function alerted(finding: Finding): Promise<RiskRaise[]> {
    if (finding.entity.type !== 'account') return Promise.resolve([]);
    return groupAlerts(finding.entity.id, finding.organisationId, finding.timeMs, finding.evidence);
  }

  /** An entity's current risk and its observations, newest first, for an investigation. */
  async function investigate(
    principal: AccountPrincipal,
    entityId: string,
    limit: number,
  ): Promise<{ entityId: string; risk: Record<string, number>; items: Observation[] }> {
    const scopes = scopesFor(principal, 'alert.read');
    const root = scopes.some((p) => p.split('/').length === 3);
    // Least privilege: an account's (or an organisation's) observations are visible within the
    // scope holding its organisation; anything else (an application, an address) to operator-wide readers.
    const path =
      deps.directory.organisationPath(deps.directory.account(entityId)?.organisationId) ??
      deps.directory.organisationPath(entityId);
    const visible = path !== undefined ? scopes.some((p) => path.startsWith(p)) : root;
    if (!visible) throw notFound('ENTITY_NOT_FOUND', 'entity');
    const rows = await deps.db
      .selectFrom('risk_observations')
      .selectAll()
      .where('entity_id', '=', entityId)
      .orderBy('observed_at', 'desc')
      .limit(limit)
      .execute();
    const items = rows
      .filter((r) =>
        r.organisation_path === null ? root : scopes.some((p) => r.organisation_path!.startsWith(p)),
      )
      .map((r) => ({
        id: r.id,
        entity: { type: r.entity_type, id: r.entity_id },
        ruleId: r.rule_id,
        weight: r.weight,
        riskAfter: r.risk_after,
        factors: JSON.parse(r.factors) as string[],
        evidence: JSON.parse(r.evidence) as string[],
        alertId: r.alert_id,
        observedAt: r.observed_at,
      }));
    const nowMs = deps.clock.now().getTime();
    const risk: Record<string, number> = {};
    for (const type of ['account', 'organisation', 'application', 'ip', 'session'])
      if (ledger.score(`${type}:${entityId}`, nowMs) > 0)
        risk[type] = Math.round(ledger.score(`${type}:${entityId}`, nowMs) * 10) / 10;
    return { entityId, risk, items };
  }

  return { observe, alerted, noteEvents, investigate, ledger, policy };
}

export type RiskService = ReturnType<typeof createRiskService>;
