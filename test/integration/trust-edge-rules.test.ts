import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../src/modules/detection/detection.engine.js';
import { EntityDirectory } from '../../src/modules/detection/entity.directory.js';
import { GeoLocator } from '../../src/modules/detection/geo.locator.js';
import { loadRuleDirectory } from '../../src/modules/detection/rule.loader.js';
import type { VigieEvent } from '../../src/shared/event.js';

/**
 * rules/credential-guessing.yaml over the edge's `auth.token_failures` summaries: a scenario that
 * must raise each rule and a close one that must not. Engine only, in event time.
 */
const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

let engine: DetectionEngine;
let seq = 0;

beforeEach(() => {
  const directory = new EntityDirectory();
  directory.load({
    organisations: [],
    accounts: [],
    grants: [],
    privilegedRoles: [],
    decoys: [],
  });
  const env = { directory, geo: new GeoLocator() };
  engine = new DetectionEngine(env, { latenessMs: 400 * 86_400_000 });
  engine.setRules(loadRuleDirectory(RULES_DIR, env).map((l) => l.rule));
});

function summary(ip: string, atMs: number, failures: number, outcome: VigieEvent['outcome'] = 'failure') {
  return {
    id: `e-${++seq}`,
    time: iso(atMs),
    kind: 'auth.token_failures',
    actor: { type: 'system', id: 'http-edge' },
    context: { ip },
    outcome,
    reason: 'INVALID_TOKEN',
    data: {
      failures,
      rejected: failures,
      malformed: 0,
      throttled: 0,
      firstAt: iso(atMs - 30_000),
      lastAt: iso(atMs),
    },
    source: 'vigie',
  } satisfies VigieEvent;
}

const fired = (events: VigieEvent[], ruleId: string) =>
  events.flatMap((e) => engine.process(e, false)).filter((f) => f.rule.id === ruleId);

describe('vigie.bearer-token-guessing', () => {
  it('raises an alert on the address when one minute holds twenty failures or more', () => {
    const findings = fired([summary('203.0.113.7', T0, 20)], 'vigie.bearer-token-guessing');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.entity).toEqual({ type: 'ip', id: '203.0.113.7' });
  });

  it('stays quiet for a client that mistyped its token a few times', () => {
    expect(
      fired(
        [summary('203.0.113.8', T0, 19), summary('203.0.113.8', T0 + MIN, 3)],
        'vigie.bearer-token-guessing',
      ),
    ).toEqual([]);
  });
});

describe('vigie.bearer-token-guessing-slow', () => {
  it('raises an alert when failures come from one address in ten minutes of an hour', () => {
    const events = Array.from({ length: 10 }, (_, i) => summary('198.51.100.3', T0 + i * 5 * MIN, 4));
    const findings = fired(events, 'vigie.bearer-token-guessing-slow');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.entity).toEqual({ type: 'ip', id: '198.51.100.3' });
  });

  it('stays quiet when the same minutes are spread over ten addresses or over more than an hour', () => {
    const spread = Array.from({ length: 10 }, (_, i) => summary(`198.51.100.${10 + i}`, T0 + i * MIN, 4));
    const slow = Array.from({ length: 10 }, (_, i) => summary('198.51.100.50', T0 + i * 7 * MIN, 4));
    expect(fired([...spread, ...slow], 'vigie.bearer-token-guessing-slow')).toEqual([]);
  });
});
