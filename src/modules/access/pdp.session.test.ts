import { describe, expect, it } from 'vitest';
import { AccessView } from './access.view.js';
import { BudgetLedger } from './budget.ledger.js';
import { decide } from './pdp.js';
import { compilePolicy } from './policy.compiler.js';
import type { DecisionRequest, NamedSession } from './policy.facts.js';

const NOW = Date.parse('2026-03-02T09:00:00.000Z');

const policy = compilePolicy([
  {
    file: 'session.yaml',
    text: `vigie_policy: 1
name: session-paths
rules:
  - id: needs-aal2
    effect: deny
    reason: weak_session
    unless:
      - in: [session.aal, [aal2, aal3]]
  - id: fresh-live-session
    effect: allow
    when:
      - fact: session.live
      - eq: [session.status, live]
      - lt: [session.minutes_since_auth, 60]
      - eq: [session.network_prefix, 192.0.2.0/24]
`,
  },
]);

const ask = (session?: NamedSession): DecisionRequest => ({
  subject: { type: 'account', id: 'a' },
  action: { name: 'read' },
  resource: { type: 'report', id: 'r' },
  ...(session ? { session } : {}),
});

const live = (over: Partial<NamedSession> = {}): NamedSession => ({
  id: 's',
  problem: undefined,
  method: 'passkey',
  authLevel: 'phishing_resistant',
  aal: 'aal3',
  amr: ['hwk', 'mfa', 'user'],
  authTimeMs: NOW - 10 * 60_000,
  networkPrefix: '192.0.2.0/24',
  ...over,
});

const run = (r: DecisionRequest) => decide(policy, new AccessView(), new BudgetLedger(), r, NOW, false);

describe('session facts and paths in the policy language', () => {
  it('allows on a fresh live session of enough assurance, from the expected network', () => {
    expect(run(ask(live()))).toMatchObject({ decision: true, ruleIds: ['fresh-live-session'] });
  });

  it('reads nothing but the status from a session that lent no strength, and adds its problem to the denial', () => {
    expect(run(ask())).toMatchObject({ decision: false, reasons: ['weak_session'] });
    expect(run(ask({ id: 's', problem: 'session_ended' }))).toMatchObject({
      decision: false,
      reasons: ['weak_session', 'session_ended'],
    });
  });

  it('refuses an old sign-in, a weaker level or another network through the same paths', () => {
    expect(run(ask(live({ authTimeMs: NOW - 61 * 60_000 }))).reasons).toEqual(['not_permitted']);
    expect(run(ask(live({ aal: 'aal1' }))).reasons).toEqual(['weak_session']);
    expect(run(ask(live({ networkPrefix: '198.51.100.0/24' }))).reasons).toEqual(['not_permitted']);
  });

  it('refuses a malformed session path at load', () => {
    expect(() =>
      compilePolicy([
        {
          file: 'p.yaml',
          text: 'vigie_policy: 1\nname: t\nrules:\n  - id: a\n    effect: allow\n    when:\n      - eq: [session.., 1]\n',
        },
      ]),
    ).toThrow(/malformed path/);
  });
});
