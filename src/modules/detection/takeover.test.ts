import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/test-db.js';
import { ManualClock } from '../../shared/clock.js';
import type { VigieEvent } from '../../shared/event.js';
import { uuidv7Generator } from '../../shared/ids.js';
import { DetectionEngine } from './detection.engine.js';
import { EntityDirectory } from './entity.directory.js';
import { GeoLocator } from './geo.locator.js';
import { takeoverPair, type Contribution } from './risk.js';
import { createRiskService, RISK_RULES } from './risk.service.js';
import { loadRuleDirectory } from './rule.loader.js';
import type { Finding } from './rule.runtime.js';

/**
 * Account takeover (issue 12, containment): a credential Vigie does not know tried for an account
 * and the account's session shown from another network or browser, within the hour, suspend the
 * account at once; either half alone is a weak signal that never acts. The rules of the shipped
 * pack that supply each half, then the risk service's corroboration.
 */
const RULES_DIR = path.resolve(import.meta.dirname, '../../../rules');
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function directory(): EntityDirectory {
  const d = new EntityDirectory();
  d.load({
    organisations: [
      { id: 'op', path: '/op/', kind: 'operator' },
      { id: 'ml1', path: '/op/ml1/', kind: 'mission_locale' },
    ],
    accounts: [
      { id: 'rgc', organisationId: 'ml1', createdBy: null, createdAt: iso(T0 - 300 * DAY), lastSeenAt: null },
      {
        id: 'agent',
        organisationId: 'ml1',
        createdBy: 'rgc',
        createdAt: iso(T0 - 200 * DAY),
        lastSeenAt: null,
      },
      {
        id: 'other',
        organisationId: 'ml1',
        createdBy: 'rgc',
        createdAt: iso(T0 - 200 * DAY),
        lastSeenAt: null,
      },
    ],
    grants: [
      { accountId: 'rgc', roleId: 'account_manager', privileged: true },
      { accountId: 'agent', roleId: 'agent', privileged: false },
      { accountId: 'other', roleId: 'agent', privileged: false },
    ],
    privilegedRoles: ['account_manager'],
    decoys: [],
  });
  return d;
}

let seq = 0;
const ev = (over: Partial<VigieEvent> & { at: number }): VigieEvent => {
  const { at, ...rest } = over;
  return {
    id: `ev-${++seq}`,
    time: iso(at),
    kind: 'auth.sign_in',
    actor: { type: 'account', id: 'agent' },
    outcome: 'success',
    source: 'vigie',
    ...rest,
  };
};
const unknownCredential = (account: string, at: number, ip = '45.14.224.10') =>
  ev({
    at,
    actor: { type: 'account', id: account },
    target: { type: 'account', id: account },
    outcome: 'failure',
    reason: 'CREDENTIAL_UNKNOWN',
    data: { method: 'passkey' },
    context: { ip, requestId: 'r' },
  });
/** A sign-in of the account's owner from its usual network (Orange). */
const signedIn = (account: string, at: number, ip = '80.12.0.17') =>
  ev({
    at,
    actor: { type: 'account', id: account },
    target: { type: 'account', id: account },
    data: { method: 'passkey', sessionId: `s-${account}`, networkPrefix: '80.12.0.0/24' },
    context: { ip, requestId: 'r', sessionId: `s-${account}` },
  });
/** Two sign-ins of history, from the owner's network: the account's known networks. */
const history = (account: string, at: number) => [
  signedIn(account, at - 2 * DAY),
  signedIn(account, at - DAY),
];
/** The account's live session shown from `seen` (DigitalOcean by default); Vigie ended it. */
const contextChanged = (account: string, at: number, seen = '167.99.10.0/24') =>
  ev({
    at,
    kind: 'session.context_changed',
    actor: { type: 'system', id: 'sign-in' },
    target: { type: 'session', id: `s-${account}` },
    data: {
      accountId: account,
      started: { networkPrefix: '80.12.0.0/24', browserFamily: 'chrome' },
      seen: { networkPrefix: seen, browserFamily: 'chrome' },
    },
    context: { requestId: 'r', sessionId: `s-${account}` },
  });
const stepUpRefused = (account: string, at: number) =>
  ev({
    at,
    kind: 'auth.step_up',
    actor: { type: 'account', id: account },
    target: { type: 'session', id: `s-${account}` },
    outcome: 'failure',
    reason: 'CREDENTIAL_UNKNOWN',
    data: { accountId: account },
    context: { ip: '80.12.0.17', requestId: 'r', sessionId: `s-${account}` },
  });

describe('the takeover halves in the shipped pack', () => {
  let engine: DetectionEngine;
  beforeEach(() => {
    const env = { directory: directory(), geo: new GeoLocator() };
    engine = new DetectionEngine(env, { latenessMs: 400 * DAY });
    engine.setRules(loadRuleDirectory(RULES_DIR, env).map((l) => l.rule));
  });
  const fired = (events: VigieEvent[]) =>
    events
      .flatMap((e) => engine.process(e, false))
      .map((f) => [f.rule.id, f.entity.id, f.rule.doc.risk?.corroborates]);

  it('a sign-in refused for an unknown credential is the credential half; another refusal is nothing', () => {
    expect(fired([unknownCredential('agent', T0)])).toContainEqual([
      'vigie.sign-in-unknown-credential',
      'agent',
      'credential',
    ]);
    const locked = ev({ at: T0, outcome: 'denied', reason: 'SIGN_IN_LOCKED', context: { ip: '1.2.3.4' } });
    const success = ev({ at: T0 + MIN, data: { sessionId: 's', networkPrefix: '80.12.0.0/24' } });
    expect(fired([locked, success]).map((f) => f[0])).not.toContain('vigie.sign-in-unknown-credential');
  });

  it("a session shown from a network new to the account is the session half, for the session's account", () => {
    expect(fired([...history('agent', T0), contextChanged('agent', T0)])).toContainEqual([
      'vigie.session-presented-elsewhere',
      'agent',
      'session',
    ]);
    // An expired session's cookie coming back from such a network is the same half.
    const expired = (account: string, ip: string) =>
      ev({
        at: T0,
        kind: 'session.ended',
        actor: { type: 'system', id: 'sign-in' },
        data: { accountId: account, reason: 'idle_timeout' },
        context: { ip, requestId: 'r', sessionId: `s-${account}` },
      });
    expect(fired([...history('other', T0), expired('other', '185.22.10.2')]).map((f) => f[0])).toContain(
      'vigie.session-presented-elsewhere',
    );
  });

  it('a session shown from a network the account already uses, or without history, is nothing', () => {
    const own = fired([...history('agent', T0), contextChanged('agent', T0, '80.12.1.0/24')]);
    expect(own.map((f) => f[0])).not.toContain('vigie.session-presented-elsewhere');
    // A new network of the owner's sign-in is not a session shown from elsewhere.
    const travel = fired([...history('other', T0), signedIn('other', T0, '167.99.10.10')]);
    expect(travel.map((f) => f[0])).not.toContain('vigie.session-presented-elsewhere');
    // No history yet: nothing is news.
    expect(fired([contextChanged('rgc', T0)]).map((f) => f[0])).not.toContain(
      'vigie.session-presented-elsewhere',
    );
  });

  it('a step-up answered with an unknown key inside a session is a session signal; a good one is nothing', () => {
    expect(fired([stepUpRefused('rgc', T0)])).toContainEqual([
      'vigie.step-up-unknown-credential',
      'rgc',
      'session',
    ]);
    const ok = ev({
      at: T0,
      kind: 'auth.step_up',
      actor: { type: 'account', id: 'rgc' },
      data: { accountId: 'rgc' },
      context: { ip: '80.12.0.17', sessionId: 's-rgc' },
    });
    expect(fired([ok]).map((f) => f[0])).not.toContain('vigie.step-up-unknown-credential');
  });
});

describe('takeoverPair', () => {
  const c = (ruleId: string, timeMs: number, corroborates?: 'credential' | 'session'): Contribution => ({
    ruleId,
    title: ruleId,
    weight: 30,
    base: 30,
    factors: [],
    timeMs,
    evidence: [ruleId],
    ...(corroborates ? { corroborates } : {}),
  });
  it('needs both halves within the window, in either order', () => {
    const H = 3_600_000;
    expect(takeoverPair([c('a', 0, 'credential'), c('b', 10 * MIN, 'session')], 10 * MIN, H)).toBeDefined();
    expect(takeoverPair([c('b', 0, 'session'), c('a', 10 * MIN, 'credential')], 10 * MIN, H)).toBeDefined();
    expect(
      takeoverPair([c('a', 0, 'credential'), c('a2', 5 * MIN, 'credential')], 5 * MIN, H),
    ).toBeUndefined();
    expect(takeoverPair([c('a', 0, 'credential'), c('x', 5 * MIN)], 5 * MIN, H)).toBeUndefined();
    expect(takeoverPair([c('a', 0, 'credential'), c('b', 2 * H, 'session')], 2 * H, H)).toBeUndefined();
  });
});

/** A copy of the pack with every `responses:` removed, as the simulator's unprotected run writes it. */
const strippedDirs: string[] = [];
function stripped(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-rules-'));
  strippedDirs.push(dir);
  for (const name of fs.readdirSync(RULES_DIR).filter((n) => n.endsWith('.yaml'))) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(RULES_DIR, name), 'utf8')).map((d) => {
      const v = d.toJS() as Record<string, unknown>;
      delete v.responses;
      return YAML.stringify(v);
    });
    fs.writeFileSync(path.join(dir, name), docs.join('---\n'));
  }
  return dir;
}

describe('the risk service on a takeover', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
    for (const dir of strippedDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `withoutResponses`: the pack with every `responses:` removed (the simulator's unprotected run). */
  function service(withoutResponses = false) {
    const clock = new ManualClock(iso(T0));
    const env = { directory: directory(), geo: new GeoLocator() };
    const engine = new DetectionEngine(env, { latenessMs: 400 * DAY });
    engine.setRules(loadRuleDirectory(withoutResponses ? stripped() : RULES_DIR, env).map((l) => l.rule));
    const risk = createRiskService({
      db: db.db,
      clock,
      ids: uuidv7Generator(clock),
      logger: pino({ level: 'silent' }),
      directory: env.directory,
      applicationKind: () => Promise.resolve(undefined),
    });
    /** The raises the events lead to, signal findings through the risk service. */
    const feed = async (events: VigieEvent[]) => {
      const out: Awaited<ReturnType<typeof risk.observe>> = [];
      for (const e of events)
        for (const f of engine.process(e, false) as Finding[])
          if (f.rule.doc.risk) out.push(...(await risk.observe(f)));
      return out;
    };
    return { feed };
  }

  it('suspends the account and ends its sessions when both halves meet within the hour, once', async () => {
    const { feed } = service();
    await feed(history('agent', T0));
    expect(await feed([unknownCredential('agent', T0)])).toEqual([]);
    const raised = await feed([contextChanged('agent', T0 + 20 * MIN)]);
    const takeover = raised.find((r) => r.finding.rule === RISK_RULES.takeover);
    expect(takeover).toBeDefined();
    expect(takeover!.finding.entity).toEqual({ type: 'account', id: 'agent' });
    expect(takeover!.responses.map((r) => r.action)).toEqual(['revoke_tokens', 'suspend_account']);
    expect(takeover!.finding.evidence.length).toBe(2);
    expect(takeover!.why.fr).toContain('Prise de contrôle');
    expect(takeover!.why.en).toContain('vigie.sign-in-unknown-credential');
    expect(takeover!.why.en).toContain('vigie.session-presented-elsewhere');
    // Once a day per account: the same halves again raise no second takeover.
    const again = await feed([
      unknownCredential('agent', T0 + 90 * MIN),
      contextChanged('agent', T0 + 95 * MIN),
    ]);
    expect(again.some((r) => r.finding.rule === RISK_RULES.takeover)).toBe(false);
  });

  it('does nothing on one half alone, nor on halves of two different accounts, nor hours apart', async () => {
    const { feed } = service();
    await feed([...history('agent', T0), ...history('other', T0)]);
    const raised = [
      ...(await feed([unknownCredential('agent', T0), unknownCredential('agent', T0 + 70 * MIN)])),
      ...(await feed([contextChanged('other', T0 + 5 * MIN)])),
      ...(await feed([contextChanged('agent', T0 + 4 * 60 * MIN)])),
      // The credential half beside the owner's own network: a person moving, not a takeover.
      ...(await feed([
        unknownCredential('other', T0 + 6 * 60 * MIN),
        contextChanged('other', T0 + 6 * 60 * MIN, '80.12.7.0/24'),
      ])),
    ];
    expect(raised.map((r) => r.finding.rule.id)).toEqual([]);
  });

  it('alerts without acting when the pack declares no responses for the takeover', async () => {
    const { feed } = service(true);
    await feed(history('agent', T0));
    const raised = [
      ...(await feed([unknownCredential('agent', T0)])),
      ...(await feed([contextChanged('agent', T0 + MIN)])),
    ];
    const takeover = raised.find((r) => r.finding.rule === RISK_RULES.takeover);
    expect(takeover).toBeDefined();
    expect(takeover!.responses).toEqual([]);
  });

  it("a privileged account's session driven without its passkey, after a refused sign-in, is a takeover", async () => {
    const { feed } = service();
    await feed([unknownCredential('rgc', T0)]);
    const raised = await feed([stepUpRefused('rgc', T0 + 30 * MIN)]);
    expect(raised.map((r) => r.finding.rule.id)).toContain('vigie.risk.account-takeover');
  });
});
