import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_POLICY, GroupWatch, RiskLedger, weigh, type Contribution } from './risk.js';

const H = 3_600_000;
const c = (ruleId: string, weight: number, timeMs: number): Contribution => ({
  ruleId,
  title: ruleId,
  weight,
  base: weight,
  factors: [],
  timeMs,
  evidence: [`ev-${ruleId}-${timeMs}`],
});

describe('RiskLedger', () => {
  it('adds signals and halves them every half-life', () => {
    const l = new RiskLedger();
    l.add('account:a', c('r1', 60, 0));
    l.add('account:a', c('r2', 40, 0));
    expect(l.score('account:a', 0)).toBe(100);
    expect(l.score('account:a', DEFAULT_RISK_POLICY.halfLifeMs)).toBeCloseTo(50, 5);
    expect(l.score('account:b', 0)).toBe(0);
  });

  it('counts a repeating signal once per repeat window, again after it', () => {
    const l = new RiskLedger();
    expect(l.add('account:a', c('r1', 30, 0))).toBe(true);
    expect(l.add('account:a', c('r1', 30, 10 * 60_000))).toBe(false);
    expect(l.add('account:a', c('r1', 30, DEFAULT_RISK_POLICY.repeatMs + 1))).toBe(true);
  });

  it('climbs the ladder one rung at a time, each rung once per episode', () => {
    const l = new RiskLedger();
    l.add('account:a', c('r1', 120, 0));
    expect(l.climb('account:a', 0).map((r) => r.action)).toEqual(['require_step_up']);
    expect(l.climb('account:a', 0)).toEqual([]);
    l.add('account:a', c('r2', 200, 1000));
    expect(l.climb('account:a', 1000).map((r) => r.action)).toEqual(['revoke_tokens', 'suspend_account']);
  });

  it('starts a new episode once the risk fell below half the alert level', () => {
    const l = new RiskLedger();
    l.add('account:a', c('r1', 120, 0));
    l.climb('account:a', 0);
    const later = 10 * DEFAULT_RISK_POLICY.halfLifeMs;
    l.add('account:a', c('r2', 110, later));
    expect(l.climb('account:a', later).map((r) => r.action)).toEqual(['require_step_up']);
  });

  it('forgets entities whose risk decayed away, and keeps the others', () => {
    const l = new RiskLedger();
    l.add('account:a', c('r1', 50, 0));
    l.add('account:b', c('r1', 50, 20 * H));
    l.sweep(20 * H);
    expect(l.size).toBe(1);
    expect(l.contributions('account:b', 20 * H)).toHaveLength(1);
  });
});

describe('weigh', () => {
  it('multiplies by role and freshness, and damps what many peers do', () => {
    expect(weigh({ weight: 40, privileged: 2.5 }, { privileged: true, fresh: false }, 0).weight).toBe(100);
    expect(weigh({ weight: 40, privileged: 2.5 }, { privileged: false, fresh: false }, 0).weight).toBe(40);
    expect(weigh({ weight: 50, fresh: 1.5 }, { privileged: false, fresh: true }, 0).weight).toBe(75);
    const common = weigh({ weight: 25, commonAbove: 5 }, { privileged: false, fresh: false }, 20);
    expect(common.weight).toBeCloseTo(6.3, 1);
    expect(common.factors[0]).toContain('common among peers');
  });
});

describe('GroupWatch', () => {
  it('counts distinct accounts within the window only', () => {
    const g = new GroupWatch(24 * H);
    expect(g.mark('org', 'a', 0)).toBe(1);
    expect(g.mark('org', 'a', H)).toBe(1);
    expect(g.mark('org', 'b', 2 * H)).toBe(2);
    expect(g.mark('org', 'c', 30 * H)).toBe(1);
  });
});
