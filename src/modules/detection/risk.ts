import type { ResponseAction } from './rule.schema.js';

/*
 * Risk-based alerting (issue 12). A signal rule (one with `risk:` in its YAML) raises no alert of its
 * own: each of its findings adds points to the risk of the entities it concerns, and the points
 * decay by half every `halfLifeMs`, so weak evidence spread over weeks never adds up while a burst of
 * weak evidence within the hour does. An alert is raised when an entity's risk crosses `alertAt`;
 * its evidence is the contributing signals. The response follows the risk: step-up on the next
 * sensitive act, then the sessions ended, then the account suspended. An organisation or a partner
 * application is acted on only when several of its accounts are at risk: never for one account.
 *
 * This file is the arithmetic, without I/O; risk.service.ts wires it to findings, the database and
 * the responses.
 */

export interface RiskPolicy {
  /** Points lose half their weight every `halfLifeMs`. */
  readonly halfLifeMs: number;
  /** Risk at which an alert is raised for an account (and the first rung of the ladder applies). */
  readonly alertAt: number;
  /** Rungs of the graduated response, lowest first; each is applied once per alert. */
  readonly ladder: readonly { readonly at: number; readonly action: ResponseAction }[];
  /** A signal from the same rule about the same entity counts once per this window. */
  readonly repeatMs: number;
  /** An organisation (or a partner application) is at risk when this many of its accounts are. */
  readonly groupAccounts: number;
  /** …within this window. */
  readonly groupWindowMs: number;
  /** How long an automatic freeze lasts before Vigie lifts it itself (an analyst may lift it sooner). */
  readonly freezeForMs: number;
  /** Contributions kept per entity (the oldest are forgotten first). */
  readonly maxContributions: number;
  /**
   * Both halves of an account takeover (a `credential` signal and a `session` signal, see
   * `corroborates` in a rule's risk block) within this window: a takeover alert, whatever the score.
   */
  readonly takeoverWithinMs: number;
}

export const DEFAULT_RISK_POLICY: RiskPolicy = {
  halfLifeMs: 2 * 3_600_000,
  alertAt: 100,
  ladder: [
    { at: 100, action: 'require_step_up' },
    { at: 200, action: 'revoke_tokens' },
    { at: 300, action: 'suspend_account' },
  ],
  repeatMs: 3_600_000,
  groupAccounts: 3,
  groupWindowMs: 24 * 3_600_000,
  freezeForMs: 4 * 3_600_000,
  maxContributions: 40,
  takeoverWithinMs: 3_600_000,
};

/** One signal's contribution to an entity's risk, as an alert explains it. */
export interface Contribution {
  readonly ruleId: string;
  readonly title: string;
  /** Points when it was added (after the role and population factors). */
  readonly weight: number;
  /** The rule's base weight and the factors applied, for the explanation. */
  readonly base: number;
  readonly factors: readonly string[];
  readonly timeMs: number;
  readonly evidence: readonly string[];
  /** The stored observation (`risk_observations.id`) this contribution is. */
  readonly observationId?: string;
  /** The half of an account takeover this signal is evidence of, if any. */
  readonly corroborates?: 'credential' | 'session';
  /** What a takeover this half completes does (the rule's declared responses). */
  readonly takeoverResponses?: readonly ResponseAction[];
}

/**
 * The two halves of an account takeover among an account's contributions within `withinMs` of
 * `nowMs`: the latest `credential` one and the latest `session` one, or undefined when one is missing.
 */
export function takeoverPair(
  contributions: readonly Contribution[],
  nowMs: number,
  withinMs: number,
): { credential: Contribution; session: Contribution } | undefined {
  let credential: Contribution | undefined;
  let session: Contribution | undefined;
  for (const c of contributions) {
    if (c.corroborates === undefined || Math.abs(nowMs - c.timeMs) > withinMs) continue;
    if (c.corroborates === 'credential') credential = c;
    else session = c;
  }
  return credential && session ? { credential, session } : undefined;
}

interface EntityRisk {
  contributions: Contribution[];
  /** Index of the highest ladder rung applied since the risk last fell below alertAt / 2. */
  rung: number;
  /** Time of the last contribution per rule, for `repeatMs`. */
  lastByRule: Map<string, number>;
}

/** Points of a contribution at `nowMs`. */
export function decayed(policy: RiskPolicy, c: Contribution, nowMs: number): number {
  const age = Math.max(0, nowMs - c.timeMs);
  return c.weight * Math.pow(0.5, age / policy.halfLifeMs);
}

/**
 * Decaying risk per entity key ('account:<id>', 'session:<id>', 'application:<app>|<account>',
 * 'organisation:<id>'). Bounded: an entity whose risk decayed below one point is forgotten.
 */
export class RiskLedger {
  readonly #entities = new Map<string, EntityRisk>();

  constructor(readonly policy: RiskPolicy = DEFAULT_RISK_POLICY) {}

  /** Current risk of an entity. */
  score(key: string, nowMs: number): number {
    const e = this.#entities.get(key);
    return e ? this.#sum(e, nowMs) : 0;
  }

  contributions(key: string, nowMs: number): Contribution[] {
    const e = this.#entities.get(key);
    return e ? e.contributions.filter((c) => decayed(this.policy, c, nowMs) >= 0.5) : [];
  }

  /**
   * Adds a contribution; false when the same rule already counted for this entity within
   * `repeatMs` (a signal repeating itself is one piece of evidence, not many).
   */
  add(key: string, c: Contribution): boolean {
    let e = this.#entities.get(key);
    if (!e) {
      e = { contributions: [], rung: -1, lastByRule: new Map() };
      this.#entities.set(key, e);
    }
    const last = e.lastByRule.get(c.ruleId);
    if (last !== undefined && c.timeMs - last < this.policy.repeatMs && c.timeMs >= last) return false;
    e.lastByRule.set(c.ruleId, c.timeMs);
    e.contributions.push(c);
    if (e.contributions.length > this.policy.maxContributions) e.contributions.shift();
    // Back below half the alert level: the next crossing is a new episode, its ladder from the bottom.
    if (this.#sum(e, c.timeMs) - decayed(this.policy, c, c.timeMs) < this.policy.alertAt / 2) e.rung = -1;
    return true;
  }

  /**
   * The ladder rungs newly reached by an entity's risk (each rung once per episode), lowest first.
   */
  climb(key: string, nowMs: number): { at: number; action: ResponseAction }[] {
    const e = this.#entities.get(key);
    if (!e) return [];
    const risk = this.#sum(e, nowMs);
    const out: { at: number; action: ResponseAction }[] = [];
    this.policy.ladder.forEach((r, i) => {
      if (i > e.rung && risk >= r.at) {
        out.push(r);
        e.rung = i;
      }
    });
    return out;
  }

  /** Forgets entities whose risk decayed below one point (called now and then). */
  sweep(nowMs: number): void {
    for (const [key, e] of this.#entities) if (this.#sum(e, nowMs) < 1) this.#entities.delete(key);
  }

  get size(): number {
    return this.#entities.size;
  }

  #sum(e: EntityRisk, nowMs: number): number {
    let s = 0;
    for (const c of e.contributions) s += decayed(this.policy, c, nowMs);
    return s;
  }
}

/**
 * Distinct members (accounts) of groups (organisations, applications) seen at risk within a window:
 * how an organisation or an application becomes suspect on evidence about it, never about one account.
 */
export class GroupWatch {
  readonly #groups = new Map<string, Map<string, number>>();

  constructor(readonly windowMs: number) {}

  /** Records a member at risk; returns how many distinct members are within the window. */
  mark(group: string, member: string, nowMs: number): number {
    let m = this.#groups.get(group);
    if (!m) this.#groups.set(group, (m = new Map<string, number>()));
    m.set(member, nowMs);
    for (const [k, t] of m) if (nowMs - t > this.windowMs) m.delete(k);
    return m.size;
  }

  members(group: string): string[] {
    return [...(this.#groups.get(group)?.keys() ?? [])];
  }
}

/**
 * How common a signal is among an account's peers: distinct accounts per (rule, peer group) that
 * raised it within a day. Used to damp a signal everyone raises (`commonAbove`).
 */
export class Prevalence {
  readonly #seen = new Map<string, Map<string, number>>();

  constructor(readonly windowMs = 24 * 3_600_000) {}

  mark(ruleId: string, peer: string, accountId: string, nowMs: number): number {
    const key = `${ruleId}|${peer}`;
    let m = this.#seen.get(key);
    if (!m) this.#seen.set(key, (m = new Map<string, number>()));
    m.set(accountId, nowMs);
    if (m.size > 64) for (const [k, t] of m) if (nowMs - t > this.windowMs) m.delete(k);
    return m.size;
  }
}

/** The weight of one finding of a signal rule for an account, with the factors that shaped it. */
export function weigh(
  risk: { weight: number; privileged?: number; fresh?: number; commonAbove?: number },
  account: { privileged: boolean; fresh: boolean } | undefined,
  prevalence: number,
): { weight: number; factors: string[] } {
  let w = risk.weight;
  const factors: string[] = [];
  if (account?.privileged && risk.privileged !== undefined && risk.privileged !== 1) {
    w *= risk.privileged;
    factors.push(`privileged ×${risk.privileged}`);
  }
  if (account?.fresh && risk.fresh !== undefined && risk.fresh !== 1) {
    w *= risk.fresh;
    factors.push(`fresh account ×${risk.fresh}`);
  }
  if (risk.commonAbove !== undefined && prevalence > risk.commonAbove) {
    const f = risk.commonAbove / prevalence;
    w *= f;
    factors.push(`common among peers (${prevalence} accounts today) ×${Math.round(f * 100) / 100}`);
  }
  return { weight: Math.round(w * 10) / 10, factors };
}
