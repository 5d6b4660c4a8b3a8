import { describe, expect, it } from 'vitest';
import { BudgetLedger } from './budget.ledger.js';

describe('the sliding-window ledger of distinct disclosures', () => {
  it('counts distinct records, not requests', () => {
    const l = new BudgetLedger(60);
    l.record('account', 'a', 'r1', 1000, 100);
    l.record('account', 'a', 'r1', 1001, 100);
    l.record('account', 'a', 'r2', 1002, 100);
    expect(l.count('account', 'a', 1002)).toBe(2);
    expect(l.countWith('account', 'a', 'r1', 1002)).toBe(2);
    expect(l.countWith('account', 'a', 'r3', 1002)).toBe(3);
  });

  it('forgets a record once its last disclosure leaves the window, and a re-read renews it', () => {
    const l = new BudgetLedger(60);
    l.record('organisation', 'o', 'r1', 0, 100);
    l.record('organisation', 'o', 'r2', 10, 100);
    l.record('organisation', 'o', 'r1', 30, 100);
    expect(l.count('organisation', 'o', 65)).toBe(2);
    expect(l.count('organisation', 'o', 71)).toBe(1);
    expect(l.count('organisation', 'o', 91)).toBe(0);
  });

  it('reports a soft crossing once, and again only after falling back under', () => {
    const l = new BudgetLedger(60);
    const crossings = ['r1', 'r2', 'r3', 'r4'].map((r, i) => l.record('application', 'x', r, i, 2));
    expect(crossings).toEqual([false, false, true, false]);
    expect(l.record('application', 'x', 'r9', 200, 2)).toBe(false);
    expect(l.record('application', 'x', 'r10', 200, 2)).toBe(false);
    expect(l.record('application', 'x', 'r11', 200, 2)).toBe(true);
  });

  it('keeps break-glass uses per account and per day', () => {
    const l = new BudgetLedger(60);
    l.recordBreakGlass('a', 10);
    l.recordBreakGlass('a', 10);
    expect(l.breakGlassUses('a', 10)).toBe(2);
    expect(l.breakGlassUses('a', 11)).toBe(0);
    l.recordBreakGlass('a', 11);
    expect(l.breakGlassUses('a', 11)).toBe(1);
  });
});
