import { describe, expect, it } from 'vitest';
import type { VigieEvent } from '../../shared/event.js';
import { DetectionEngine } from './detection.engine.js';
import { EntityDirectory } from './entity.directory.js';
import { GeoLocator } from './geo.locator.js';
import { compileRuleText, type RuleProblem } from './rule.loader.js';

/**
 * The engine's handling of time: late events evaluated per key, state still bounded by the sweep,
 * and sequences naming the entity of the step the rule asks for.
 */
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const geo = new GeoLocator();

const RULES = `
id: t.spray
title: spray
level: high
tags: [attack.t1110.003]
type: value_count
entity: ip
kinds: [auth.login]
detection: { failure: { outcome: failure }, condition: failure }
correlation: { timespan: 15m, field: actor.id, condition: { gte: 3 } }
---
id: t.chain-last
title: chain
level: high
tags: [attack.t1136]
type: sequence
entity: account
kinds: [account.created]
sequence:
  timespan: 1h
  steps:
    - { name: created, kinds: [account.created], key: target.id }
    - { name: creates, kinds: [account.created], lineage: true }
---
id: t.chain-first
title: chain, first step
level: high
tags: [attack.t1136]
type: sequence
entity: account
kinds: [account.created]
sequence:
  timespan: 1h
  entityFrom: first_step
  steps:
    - { name: created, kinds: [account.created], key: target.id }
    - { name: creates, kinds: [account.created], lineage: true }
`;

function engineWith(now?: () => number) {
  const directory = new EntityDirectory();
  const env = { directory, geo };
  const engine = new DetectionEngine(env, now ? { now } : {});
  const problems: RuleProblem[] = [];
  engine.setRules(compileRuleText(RULES, 'test.yaml', env, problems).map((l) => l.rule));
  expect(problems).toEqual([]);
  return engine;
}

let n = 0;
const failure = (ip: string, user: string, at: number): VigieEvent => ({
  id: `e${++n}`,
  time: new Date(at).toISOString(),
  kind: 'auth.login',
  actor: { type: 'external', id: `app:${user}` },
  outcome: 'failure',
  source: 'app',
  context: { ip },
});
const created = (by: string, target: string, at: number): VigieEvent => ({
  id: `e${++n}`,
  time: new Date(at).toISOString(),
  kind: 'account.created',
  actor: { type: 'account', id: by },
  target: { type: 'account', id: target },
  outcome: 'success',
  source: 'vigie',
});
const ids = (fs: readonly { rule: { id: string } }[]) => fs.map((f) => f.rule.id);

describe('detection engine and time', () => {
  it('marks findings of late events with the delay behind the clock', () => {
    const engine = engineWith(() => T0);
    const out = ['a', 'b', 'c'].flatMap((u, i) =>
      engine.process(failure('10.0.0.1', u, T0 - 2 * HOUR + i * MIN), false),
    );
    expect(ids(out)).toEqual(['t.spray']);
    expect(out[0]!.summary).toMatchObject({ count: 3, late: true, lateByMs: 2 * HOUR - 2 * MIN });
    expect(engine.stats().late).toBe(3);
  });

  it('keeps a key a sweep finds in the middle of its late batch, and forgets it after', () => {
    const engine = engineWith(() => T0);
    engine.process(failure('10.0.0.9', 'live', T0), false);
    engine.process(failure('10.0.0.2', 'a', T0 - 3 * HOUR), false);
    engine.process(failure('10.0.0.2', 'b', T0 - 3 * HOUR + MIN), false);
    engine.sweep();
    expect(ids(engine.process(failure('10.0.0.2', 'c', T0 - 3 * HOUR + 2 * MIN), false))).toEqual([
      't.spray',
    ]);
    const before = engine.stats().stateKeys;
    engine.sweep();
    engine.sweep();
    // The late key is gone; only the live one (within its horizon) stays.
    expect(engine.stats().stateKeys).toBe(before - 1);
  });

  it('keeps the state of rules keyed by one application in one record, apart per rule, and forgets it', () => {
    const directory = new EntityDirectory();
    const env = { directory, geo };
    const engine = new DetectionEngine(env, { latenessMs: 3_600_000 });
    const problems: RuleProblem[] = [];
    const appRules = ['t.app-count', 't.app-distinct'].map(
      (id, i) => `
id: ${id}
title: ${id}
level: high
tags: [attack.t1213]
type: ${i === 0 ? 'event_count' : 'value_count'}
entity: application
kinds: [record.read]
correlation: { timespan: 10m, ${i === 0 ? '' : 'field: target.id, '}condition: { gte: 3 } }
`,
    );
    engine.setRules(compileRuleText(appRules.join('---\n'), 'app.yaml', env, problems).map((l) => l.rule));
    expect(problems).toEqual([]);
    const read = (app: string, record: string, at: number): VigieEvent => ({
      id: `e${++n}`,
      time: new Date(at).toISOString(),
      kind: 'record.read',
      actor: { type: 'application', id: app },
      target: { type: 'record', id: record },
      outcome: 'success',
      source: app,
    });
    // Three reads of one record: the count reaches 3, the distinct count stays at 1.
    const same = [0, 1, 2].flatMap((i) => engine.process(read('app-a', 'R1', T0 + i * MIN), false));
    expect(ids(same)).toEqual(['t.app-count']);
    // Another application's reads start from nothing in their own record.
    const other = ['R1', 'R2', 'R3'].flatMap((r, i) => engine.process(read('app-b', r, T0 + i * MIN), false));
    expect(ids(other).sort()).toEqual(['t.app-count', 't.app-distinct']);
    expect(engine.stats().stateKeys).toBe(4);
    engine.process(read('app-c', 'R9', T0 + 2 * HOUR), false);
    engine.sweep();
    engine.sweep();
    // Both records of the idle applications are gone; the live one holds one state per rule.
    expect(engine.stats().stateKeys).toBe(2);
  });

  it('does not raise twice for the same late cluster sent out of order', () => {
    const engine = engineWith(() => T0);
    const times = [10, 2, 6, 4, 8].map((m) => T0 - 20 * HOUR + m * MIN);
    const out = times.flatMap((at, i) => engine.process(failure('10.0.0.3', `u${i}`, at), false));
    expect(ids(out)).toEqual(['t.spray']);
    expect(out[0]!.summary).toMatchObject({ count: 3, late: true });
  });

  it('names the last step actor of a sequence, or the first with entityFrom: first_step', () => {
    const engine = engineWith();
    engine.process(created('admin', 'rgc', T0), false);
    const out = engine.process(created('rgc', 'colleague', T0 + MIN), false);
    const byRule = Object.fromEntries(out.map((f) => [f.rule.id, f.entity.id]));
    expect(byRule).toEqual({ 't.chain-last': 'rgc', 't.chain-first': 'admin' });
  });

  it('refuses an unknown entityFrom', () => {
    const env = { directory: new EntityDirectory(), geo };
    const problems: RuleProblem[] = [];
    compileRuleText(RULES.replace('first_step', '__proto__'), 'bad.yaml', env, problems);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.rule).toBe('t.chain-first');
    expect(problems[0]!.message).toMatch(/entityFrom/);
  });

  it('says how an event of a given time is considered, against the newest event without a clock', () => {
    const engine = engineWith();
    engine.process(failure('10.0.0.4', 'x', T0), false);
    expect(engine.consideration(T0 + MIN)).toBe('evaluated');
    expect(engine.consideration(T0 - 6 * MIN)).toBe('late');
    expect(engine.consideration(T0 - 31 * 24 * HOUR)).toBe('not_evaluated');
    expect(engine.consideration(Number.POSITIVE_INFINITY)).toBe('not_evaluated');
  });
});
