import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/modules/detection/detection.engine.js';
import { EntityDirectory } from '../../src/modules/detection/entity.directory.js';
import { GeoLocator } from '../../src/modules/detection/geo.locator.js';
import { loadRuleDirectory } from '../../src/modules/detection/rule.loader.js';
import type { VigieEvent } from '../../src/shared/event.js';

/**
 * The default rule pack, rule by rule: a scenario that must raise it and a close one that must not.
 * The engine runs in event time, so scenarios set their own times; no database is needed.
 */
const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const geo = new GeoLocator();
const T0 = Date.parse('2026-03-02T09:00:00.000Z'); // Monday, 10:00 in Paris
const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

let engine: DetectionEngine;
let seq = 0;

beforeEach(() => {
  const directory = new EntityDirectory();
  directory.load({
    organisations: [
      { id: 'op', path: '/op/', kind: 'operator' },
      { id: 'ml1', path: '/op/ml1/', kind: 'mission_locale' },
    ],
    accounts: [
      {
        id: 'admin',
        organisationId: 'op',
        createdBy: null,
        createdAt: iso(T0 - 400 * DAY),
        lastSeenAt: iso(T0 - DAY),
      },
      {
        id: 'rgc',
        organisationId: 'ml1',
        createdBy: null,
        createdAt: iso(T0 - 300 * DAY),
        lastSeenAt: iso(T0 - DAY),
      },
      {
        id: 'agent',
        organisationId: 'ml1',
        createdBy: 'rgc',
        createdAt: iso(T0 - 200 * DAY),
        lastSeenAt: iso(T0 - DAY),
      },
      {
        id: 'fresh',
        organisationId: 'ml1',
        createdBy: 'rgc',
        createdAt: iso(T0 - 2 * DAY),
        lastSeenAt: null,
      },
      {
        id: 'sleeper',
        organisationId: 'ml1',
        createdBy: 'rgc',
        createdAt: iso(T0 - 300 * DAY),
        lastSeenAt: iso(T0 - 60 * DAY),
      },
    ],
    grants: [
      { accountId: 'admin', roleId: 'platform_admin', privileged: true },
      { accountId: 'rgc', roleId: 'account_manager', privileged: true },
      { accountId: 'agent', roleId: 'agent', privileged: false },
      { accountId: 'fresh', roleId: 'agent', privileged: false },
      { accountId: 'sleeper', roleId: 'agent', privileged: false },
    ],
    privilegedRoles: ['platform_admin', 'account_manager'],
    decoys: ['DECOY-1'],
  });
  const env = { directory, geo };
  engine = new DetectionEngine(env, { latenessMs: 400 * DAY });
  engine.setRules(loadRuleDirectory(RULES_DIR, env).map((l) => l.rule));
});

type Ev = Partial<Omit<VigieEvent, 'time'>> & { at: number; data?: Record<string, unknown> };
const ev = ({ at, ...rest }: Ev): VigieEvent => ({
  id: `ev-${++seq}`,
  time: iso(at),
  kind: 'access.decision',
  actor: { type: 'account', id: 'agent' },
  outcome: 'success',
  source: 'vigie',
  ...rest,
});

/** Runs the events and returns the ids of the rules that fired, in order. */
function run(events: VigieEvent[]): string[] {
  return events.flatMap((e) => engine.process(e, false).map((f) => f.rule.id));
}
const fires = (rule: string, events: VigieEvent[]) => run(events).filter((r) => r === rule).length;

const read = (actor: string, record: string, at: number, over: Partial<Ev> = {}) =>
  ev({
    at,
    actor: { type: 'account', id: actor },
    target: { type: 'record', id: record },
    data: { action: 'read', decision: true },
    ...over,
  });
const deny = (
  actor: string,
  record: string,
  at: number,
  reasons: string[],
  data: Record<string, unknown> = {},
) =>
  ev({
    at,
    actor: { type: 'account', id: actor },
    target: { type: 'record', id: record },
    outcome: 'denied',
    data: { action: 'read', decision: false, reasons, ...data },
  });
const login = (
  actor: string,
  ip: string,
  at: number,
  outcome: 'success' | 'failure' = 'success',
  context: Record<string, string> = {},
) =>
  ev({
    at,
    kind: 'auth.login',
    actor: { type: 'account', id: actor },
    outcome,
    context: { ip, ...context },
    source: 'app-1',
  });
const created = (by: string, target: string, at: number) =>
  ev({
    at,
    kind: 'account.created',
    actor: { type: 'account', id: by },
    target: { type: 'account', id: target },
    organisationId: 'ml1',
  });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('default rule pack', () => {
  it('loads every rule with an ATT&CK technique tag', () => {
    expect(engine.rules.length).toBeGreaterThanOrEqual(21);
    for (const r of engine.rules) expect(r.doc.tags.some((t) => /^attack\.t\d{4}/.test(t))).toBe(true);
  });

  describe('vigie.delegated-admin-creation-off-pattern', () => {
    const id = 'vigie.delegated-admin-creation-off-pattern';
    it('fires when an account manager creates more accounts than the floor in a day', () => {
      expect(
        fires(
          id,
          range(6).map((i) => created('rgc', `n${i}`, T0 + i * MIN)),
        ),
      ).toBe(1);
    });
    it('stays quiet within its own history, and for non-managers', () => {
      const history = range(5).flatMap((d) =>
        range(7).map((i) => created('rgc', `h${d}-${i}`, T0 - (5 - d) * DAY + i * MIN)),
      );
      run(history);
      expect(
        fires(
          id,
          range(7).map((i) => created('rgc', `n${i}`, T0 + i * MIN)),
        ),
      ).toBe(0);
      expect(
        fires(
          id,
          range(14).map((i) => created('rgc', `m${i}`, T0 + DAY + i * MIN)),
        ),
      ).toBe(1);
      expect(
        fires(
          id,
          range(12).map((i) => created('agent', `a${i}`, T0 + i * MIN)),
        ),
      ).toBe(0);
    });
  });

  describe('vigie.account-creation-chain', () => {
    const id = 'vigie.account-creation-chain';
    it('fires when an account created by X creates another within three days, naming the creator at the end of the chain', () => {
      const events = [created('rgc', 'y1', T0), created('y1', 'z1', T0 + 5 * 60 * MIN)];
      const findings = events.flatMap((e) => engine.process(e, false)).filter((f) => f.rule.id === id);
      expect(findings).toHaveLength(1);
      expect(findings[0]!.entity).toEqual({ type: 'account', id: 'y1' });
    });
    it('stays quiet when the new account acts after the window or another account acts', () => {
      expect(fires(id, [created('rgc', 'y2', T0), created('y2', 'z2', T0 + 4 * DAY)])).toBe(0);
      expect(fires(id, [created('rgc', 'y3', T0), created('agent', 'z3', T0 + MIN)])).toBe(0);
    });
  });

  describe('vigie.mfa-change-then-privileged-act', () => {
    const id = 'vigie.mfa-change-then-privileged-act';
    const mfa = (at: number) =>
      ev({ at, kind: 'mfa.factor_enabled', actor: { type: 'account', id: 'admin' } });
    const grant = (at: number) =>
      ev({
        at,
        kind: 'role.granted',
        actor: { type: 'account', id: 'admin' },
        target: { type: 'account', id: 'agent' },
        data: { roleId: 'agent' },
      });
    it('fires on a privileged act within the hour after a factor change', () => {
      expect(fires(id, [mfa(T0), grant(T0 + 20 * MIN)])).toBe(1);
    });
    it('stays quiet when the act comes later or first', () => {
      expect(fires(id, [mfa(T0), grant(T0 + 2 * 60 * MIN)])).toBe(0);
      expect(fires(id, [grant(T0 + 3 * DAY), mfa(T0 + 3 * DAY + MIN)])).toBe(0);
    });
  });

  describe('vigie.privileged-action-off-hours', () => {
    const id = 'vigie.privileged-action-off-hours';
    const grant = (actor: string, at: number) =>
      ev({
        at,
        kind: 'role.granted',
        actor: { type: 'account', id: actor },
        target: { type: 'account', id: 'fresh' },
      });
    it('fires for a privileged account at night (Paris time)', () => {
      expect(fires(id, [grant('admin', Date.parse('2026-03-02T22:30:00Z'))])).toBe(1);
      expect(fires(id, [grant('rgc', Date.parse('2026-03-07T10:00:00Z'))])).toBe(1);
    });
    it('stays quiet in business hours and for non-privileged accounts', () => {
      expect(fires(id, [grant('admin', Date.parse('2026-03-02T15:00:00Z'))])).toBe(0);
      expect(fires(id, [grant('agent', Date.parse('2026-03-02T23:30:00Z'))])).toBe(0);
    });
  });

  describe('vigie.fresh-account-mass-read', () => {
    const id = 'vigie.fresh-account-mass-read';
    it("fires when an account created days ago reads 40 records in an hour (a fresh account's hard budget)", () => {
      expect(
        fires(
          id,
          range(40).map((i) => read('fresh', `R-${i * 7}`, T0 + i * 30_000)),
        ),
      ).toBe(1);
    });
    it('stays quiet for an older account or fewer records', () => {
      expect(
        fires(
          id,
          range(60).map((i) => read('agent', `R-${i * 7}`, T0 + i * 30_000)),
        ),
      ).toBe(0);
      expect(
        fires(
          id,
          range(39).map((i) => read('fresh', `Q-${i * 7}`, T0 + i * 30_000)),
        ),
      ).toBe(0);
    });
  });

  describe('vigie.mass-consultation-baseline', () => {
    const id = 'vigie.mass-consultation-baseline';
    const history = () =>
      range(5).flatMap((d) =>
        range(100).map((i) => read('agent', `H${d}-${i * 3}`, T0 - (5 - d) * DAY + i * 1000)),
      );
    it('fires above both the floor and the personal baseline', () => {
      expect(
        fires(id, [...history(), ...range(250).map((i) => read('agent', `T-${i * 3}`, T0 + i * 1000))]),
      ).toBe(1);
    });
    it('stays quiet below the floor', () => {
      expect(
        fires(id, [...history(), ...range(180).map((i) => read('agent', `T-${i * 3}`, T0 + i * 1000))]),
      ).toBe(0);
    });
  });

  describe('vigie.out-of-caseload-denials-burst', () => {
    const id = 'vigie.out-of-caseload-denials-burst';
    it('fires on 20 out-of-caseload denials in ten minutes', () => {
      expect(
        fires(
          id,
          range(20).map((i) => deny('agent', `X-${i * 5}`, T0 + i * 10_000, ['not_in_caseload'])),
        ),
      ).toBe(1);
    });
    it('stays quiet for other denial reasons', () => {
      expect(
        fires(
          id,
          range(25).map((i) => deny('agent', `X-${i * 5}`, T0 + i * 10_000, ['budget_exceeded'])),
        ),
      ).toBe(0);
    });
  });

  describe('out-of-caseload steps (start, burst, sustained)', () => {
    it('each step fires once as the refusals go on: 10 and 20 within ten minutes, 40 within thirty', () => {
      const ids = run(range(40).map((i) => deny('agent', `Y-${i * 5}`, T0 + i * 20_000, ['not_enrolled'])));
      expect(ids.filter((r) => r === 'vigie.out-of-caseload-denials-start')).toHaveLength(1);
      expect(ids.filter((r) => r === 'vigie.out-of-caseload-denials-burst')).toHaveLength(1);
      expect(ids.filter((r) => r === 'vigie.out-of-caseload-denials-sustained')).toHaveLength(1);
    });
    it('nine refusals are not yet a signal', () => {
      expect(
        run(range(9).map((i) => deny('agent', `Y-${i * 5}`, T0 + i * 20_000, ['not_in_caseload']))).filter(
          (r) => r.startsWith('vigie.out-of-caseload'),
        ),
      ).toEqual([]);
    });
  });

  describe('vigie.sequential-record-enumeration', () => {
    const id = 'vigie.sequential-record-enumeration';
    it('fires when record ids are walked one after another', () => {
      expect(
        fires(
          id,
          range(30).map((i) => read('agent', `DE-${String(100 + i).padStart(6, '0')}`, T0 + i * 5000)),
        ),
      ).toBe(1);
    });
    it('stays quiet for scattered ids', () => {
      expect(
        fires(
          id,
          range(40).map((i) => read('agent', `DE-${(i * 7919) % 100_000}`, T0 + i * 5000)),
        ),
      ).toBe(0);
    });
  });

  describe('vigie.dormant-account-reading', () => {
    const id = 'vigie.dormant-account-reading';
    it('fires when an account idle for 60 days reads a record', () => {
      expect(fires(id, [read('sleeper', 'R-1', T0)])).toBe(1);
    });
    it('stays quiet for an account active yesterday', () => {
      expect(fires(id, [read('agent', 'R-1', T0)])).toBe(0);
    });
  });

  describe('vigie.honeytoken-touched', () => {
    const id = 'vigie.honeytoken-touched';
    it('fires when a decoy record is disclosed', () => {
      expect(fires(id, [read('agent', 'DECOY-1', T0)])).toBe(1);
    });
    it('stays quiet for a denied request on the decoy and for ordinary records', () => {
      expect(
        fires(id, [deny('agent', 'DECOY-1', T0, ['not_in_caseload']), read('agent', 'R-9', T0 + 1)]),
      ).toBe(0);
    });
  });

  describe('vigie.partner-app-beyond-population', () => {
    const id = 'vigie.partner-app-beyond-population';
    const ownCall = (i: number) =>
      ev({
        at: T0 + i * 1000,
        actor: { type: 'application', id: 'kairos' },
        target: { type: 'record', id: `K-${i}` },
        outcome: 'denied',
        data: {
          action: 'read',
          decision: false,
          reasons: ['not_enrolled'],
          applicationId: 'kairos',
          subject: { type: 'application', id: 'kairos' },
        },
      });
    it("fires when an application's own calls are refused 25 records in ten minutes", () => {
      const findings = range(25)
        .map(ownCall)
        .flatMap((e) => engine.process(e, false))
        .filter((f) => f.rule.id === id);
      expect(findings).toHaveLength(1);
      expect(findings[0]!.entity).toEqual({ type: 'application', id: 'kairos' });
    });
    it("stays quiet when the refusals are its users' (one account's behaviour is no evidence about the application)", () => {
      expect(
        fires(
          id,
          range(40).map((i) =>
            deny(`user${i % 5}`, `K-${i}`, T0 + i * 1000, ['not_enrolled'], { applicationId: 'kairos' }),
          ),
        ),
      ).toBe(0);
    });
    it('stays quiet for permitted calls and for denials without an application', () => {
      expect(
        fires(
          id,
          range(30).map((i) =>
            read('agent', `K-${i}`, T0 + i * 1000, { data: { decision: true, applicationId: 'kairos' } }),
          ),
        ),
      ).toBe(0);
      expect(
        fires(
          id,
          range(30).map((i) => deny('agent', `K-${i}`, T0 + i * 1000, ['x'])),
        ),
      ).toBe(0);
    });
  });

  describe('vigie.partner-app-baseline', () => {
    const id = 'vigie.partner-app-baseline';
    const appRead = (i: number, at: number, prefix: string) =>
      read(`u${i % 50}`, `${prefix}-${i}`, at, { data: { decision: true, applicationId: 'kairos' } });
    const history = () =>
      range(7).flatMap((d) => range(1000).map((i) => appRead(i, T0 - (7 - d) * DAY + i * 10, `H${d}`)));
    it('fires when the application reads far above its history and the floor', () => {
      expect(fires(id, [...history(), ...range(2100).map((i) => appRead(i, T0 + i * 10, 'T'))])).toBe(1);
    });
    it('stays quiet below the floor', () => {
      expect(fires(id, [...history(), ...range(1500).map((i) => appRead(i, T0 + i * 10, 'T'))])).toBe(0);
    });
  });

  describe('vigie.password-spraying', () => {
    const id = 'vigie.password-spraying';
    it('fires on failures for 10 accounts from one address', () => {
      expect(
        fires(
          id,
          range(10).map((i) => login(`victim${i}`, '203.0.113.9', T0 + i * 5000, 'failure')),
        ),
      ).toBe(1);
    });
    it('stays quiet for many failures on one account', () => {
      expect(
        fires(
          id,
          range(15).map((i) => login('victim', '203.0.113.9', T0 + i * 5000, 'failure')),
        ),
      ).toBe(0);
    });
  });

  describe('vigie.credential-stuffing', () => {
    const id = 'vigie.credential-stuffing';
    it('fires when failures on 5 accounts are followed by a success from the same address', () => {
      expect(
        fires(id, [
          ...range(5).map((i) => login(`v${i}`, '198.51.100.7', T0 + i * 1000, 'failure')),
          login('v9', '198.51.100.7', T0 + 10_000),
        ]),
      ).toBe(1);
    });
    it('stays quiet when the success comes from elsewhere or too few accounts failed', () => {
      expect(
        fires(id, [
          ...range(5).map((i) => login(`v${i}`, '198.51.100.7', T0 + i * 1000, 'failure')),
          login('v9', '198.51.100.8', T0 + 10_000),
        ]),
      ).toBe(0);
      expect(
        fires(id, [
          ...range(4).map((i) => login(`w${i}`, '198.51.100.9', T0 + i * 1000, 'failure')),
          login('w9', '198.51.100.9', T0 + 10_000),
        ]),
      ).toBe(0);
    });
  });

  describe('vigie.session-reuse-new-network', () => {
    const id = 'vigie.session-reuse-new-network';
    it('fires when a session moves to another network', () => {
      expect(
        fires(id, [
          login('agent', '90.0.0.1', T0, 'success', { sessionId: 's1' }),
          read('agent', 'R-1', T0 + MIN, { context: { ip: '8.8.8.8', sessionId: 's1' } }),
        ]),
      ).toBe(1);
    });
    it('stays quiet for the same network and for separate sessions', () => {
      expect(
        fires(id, [
          login('agent', '90.0.0.1', T0, 'success', { sessionId: 's2' }),
          read('agent', 'R-1', T0 + MIN, { context: { ip: '90.0.0.2', sessionId: 's2' } }),
        ]),
      ).toBe(0);
      expect(
        fires(id, [
          login('agent', '90.0.0.1', T0, 'success', { sessionId: 's3' }),
          login('agent', '8.8.8.8', T0 + MIN, 'success', { sessionId: 's4' }),
        ]),
      ).toBe(0);
    });
  });

  describe('vigie.session-reuse-new-browser', () => {
    const id = 'vigie.session-reuse-new-browser';
    it('fires when a session shows up with another browser', () => {
      expect(
        fires(id, [
          login('agent', '90.0.0.1', T0, 'success', { sessionId: 's5', userAgent: 'Firefox/140' }),
          login('agent', '90.0.0.1', T0 + MIN, 'success', { sessionId: 's5', userAgent: 'curl/8.0' }),
        ]),
      ).toBe(1);
    });
    it('stays quiet for the same browser', () => {
      expect(
        fires(id, [
          login('agent', '90.0.0.1', T0, 'success', { sessionId: 's6', userAgent: 'Firefox/140' }),
          login('agent', '90.0.0.1', T0 + MIN, 'success', { sessionId: 's6', userAgent: 'Firefox/140' }),
        ]),
      ).toBe(0);
    });
  });

  describe('vigie.sign-in-new-country and vigie.sign-in-new-asn', () => {
    const history = (actor: string, n: number) =>
      range(n).map((i) => login(actor, i % 2 ? '90.0.0.1' : '90.0.0.2', T0 + i * DAY));
    it('fire for every account that signs in from a new country or network (weighted by role in risk)', () => {
      for (const actor of ['admin', 'agent']) {
        const ids = run([...history(actor, 5), login(actor, '81.2.69.142', T0 + 6 * DAY)]);
        expect(ids).toContain('vigie.sign-in-new-country');
        expect(ids).toContain('vigie.sign-in-new-asn');
      }
    });
    it('stay quiet on cold start', () => {
      expect(
        run([login('rgc', '90.0.0.1', T0), login('rgc', '81.2.69.142', T0 + DAY)]).filter((r) =>
          r.startsWith('vigie.sign-in-new'),
        ),
      ).toEqual([]);
    });
  });

  describe("Vigie's own sign-ins (auth.sign_in) count as an application's reported logins do", () => {
    const signIn = (actor: string, ip: string, at: number, outcome: 'success' | 'failure' = 'success') =>
      ev({
        at,
        kind: 'auth.sign_in',
        actor: { type: 'account', id: actor },
        target: { type: 'account', id: actor },
        outcome,
        context: { ip },
      });
    it('a new country or network after a history, and one account guessed five times', () => {
      const history = range(5).map((i) => signIn('agent', i % 2 ? '90.0.0.1' : '90.0.0.2', T0 + i * DAY));
      const ids = run([...history, signIn('agent', '81.2.69.142', T0 + 6 * DAY)]);
      expect(ids).toContain('vigie.sign-in-new-country');
      expect(ids).toContain('vigie.sign-in-new-asn');
      expect(
        fires(
          'vigie.single-account-brute-force',
          range(5).map((i) => signIn('agent', `203.0.113.${i}`, T0 + i * MIN, 'failure')),
        ),
      ).toBe(1);
      // Without a history (cold start), a new country is nobody's anomaly yet.
      const cold = run([signIn('sleeper', '90.0.0.1', T0), signIn('sleeper', '81.2.69.142', T0 + DAY)]);
      expect(cold.filter((r) => r.startsWith('vigie.sign-in-new'))).toEqual([]);
    });
  });

  describe('vigie.single-account-brute-force', () => {
    const id = 'vigie.single-account-brute-force';
    it('fires on five failed sign-ins of one account within fifteen minutes', () => {
      expect(
        fires(
          id,
          range(5).map((i) => login('agent', `203.0.113.${i}`, T0 + i * MIN, 'failure')),
        ),
      ).toBe(1);
    });
    it('stays quiet for four failures, or five spread over hours', () => {
      expect(
        fires(
          id,
          range(4).map((i) => login('agent', '203.0.113.1', T0 + i * MIN, 'failure')),
        ),
      ).toBe(0);
      expect(
        fires(
          id,
          range(5).map((i) => login('rgc', '203.0.113.1', T0 + i * 20 * MIN, 'failure')),
        ),
      ).toBe(0);
    });
  });

  describe('vigie.honeytoken-probe-denied', () => {
    const id = 'vigie.honeytoken-probe-denied';
    it('fires when a decoy is asked for and refused, and not for an ordinary refusal', () => {
      expect(fires(id, [deny('agent', 'DECOY-1', T0, ['not_in_caseload'])])).toBe(1);
      expect(fires(id, [deny('agent', 'R-1', T0, ['not_in_caseload'])])).toBe(0);
      expect(fires(id, [read('agent', 'DECOY-1', T0)])).toBe(0);
    });
  });

  describe('vigie.budget-soft-exceeded', () => {
    it("fires for the account whose soft budget the PDP saw crossed, not for an organisation's", () => {
      const soft = (type: string, id: string) =>
        ev({
          at: T0,
          kind: 'budget.soft_exceeded',
          actor: { type: 'system', id: 'pdp' },
          target: { type, id },
          data: { ...(type === 'account' ? { accountId: id } : {}), count: 21, soft: 20, hard: 40 },
        });
      const findings = engine.process(soft('account', 'fresh'), false);
      expect(findings.map((f) => [f.rule.id, f.entity.id])).toEqual([
        ['vigie.budget-soft-exceeded', 'fresh'],
      ]);
      expect(fires('vigie.budget-soft-exceeded', [soft('organisation', 'ml1')])).toBe(0);
    });
  });

  describe('vigie.privileged-impossible-travel', () => {
    const id = 'vigie.privileged-impossible-travel';
    it('fires for Paris then Sydney half an hour later', () => {
      expect(fires(id, [login('admin', '79.94.0.1', T0), login('admin', '1.1.1.1', T0 + 30 * MIN)])).toBe(1);
    });
    it('stays quiet when the time between allows the flight', () => {
      expect(
        fires(id, [login('admin', '79.94.0.1', T0), login('admin', '1.1.1.1', T0 + 30 * 60 * MIN)]),
      ).toBe(0);
    });
  });

  describe('exports', () => {
    const exported = (actor: string, record: string, at: number) =>
      ev({
        at,
        kind: 'record.exported',
        actor: { type: 'account', id: actor },
        target: { type: 'record', id: record },
        source: 'app-1',
      });
    it('vigie.first-export fires on the first export of an account only', () => {
      expect(
        fires('vigie.first-export', [exported('agent', 'R-1', T0), exported('agent', 'R-2', T0 + MIN)]),
      ).toBe(1);
    });
    it('vigie.first-export ignores a refused export request', () => {
      expect(fires('vigie.first-export', [deny('agent', 'R-1', T0, ['x'], { action: 'export' })])).toBe(0);
    });
    it('vigie.oversized-export fires at 500 exported records in ten minutes, not at 499', () => {
      expect(
        fires(
          'vigie.oversized-export',
          range(499).map((i) => exported('fresh', `E-${i}`, T0 + i * 100)),
        ),
      ).toBe(0);
      expect(fires('vigie.oversized-export', [exported('fresh', 'E-last', T0 + 499 * 100)])).toBe(1);
    });
  });
});
