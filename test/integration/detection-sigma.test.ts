import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DetectionEngine } from '../../src/modules/detection/detection.engine.js';
import { EntityDirectory } from '../../src/modules/detection/entity.directory.js';
import { GeoLocator } from '../../src/modules/detection/geo.locator.js';
import {
  compileRuleText,
  loadRuleDirectory,
  RuleSetError,
  type RuleProblem,
} from '../../src/modules/detection/rule.loader.js';
import type { RuleEnv } from '../../src/modules/detection/rule.runtime.js';
import { compileDetection } from '../../src/modules/detection/sigma-detection.compiler.js';
import type { SigmaImportError } from '../../src/modules/detection/sigma.importer.js';
import { importSigma, rulesToYaml } from '../../src/modules/detection/sigma.importer.js';
import type { VigieEvent } from '../../src/shared/event.js';

const env = (): RuleEnv => ({ directory: new EntityDirectory(), geo: new GeoLocator() });
let n = 0;
const event = (over: Partial<VigieEvent> & { data?: Record<string, unknown> } = {}): VigieEvent => ({
  id: `e-${++n}`,
  time: '2026-03-02T09:00:00.000Z',
  kind: 'access.decision',
  actor: { type: 'account', id: 'acc-1' },
  outcome: 'success',
  ...over,
});

function engineWith(rule: Record<string, unknown>): DetectionEngine {
  const e = env();
  const problems: RuleProblem[] = [];
  const rules = compileRuleText(stringify(rule), 'test.yaml', e, problems);
  expect(problems).toEqual([]);
  const engine = new DetectionEngine(e);
  engine.setRules(rules.map((r) => r.rule));
  return engine;
}

const base = { title: 'Test rule', level: 'medium', tags: ['attack.t1078'], entity: 'account' };

describe('Sigma detection semantics', () => {
  it('matches values case-insensitively by default and exactly with |cased', () => {
    const d = compileDetection({ sel: { 'data.action': 'Read' }, condition: 'sel' });
    expect(d.test(event({ data: { action: 'READ' } }))).toBe(true);
    expect(d.test(event({ data: { action: 'reads' } }))).toBe(false);
    const cased = compileDetection({ sel: { 'data.action|cased': 'Read' }, condition: 'sel' });
    expect(cased.test(event({ data: { action: 'READ' } }))).toBe(false);
    expect(cased.test(event({ data: { action: 'Read' } }))).toBe(true);
  });

  it('lets a null value match a missing field, and only a missing one', () => {
    const d = compileDetection({ sel: { 'context.ip': null }, condition: 'sel' });
    expect(d.test(event())).toBe(true);
    expect(d.test(event({ context: { ip: '10.0.0.1' } }))).toBe(false);
    const either = compileDetection({ sel: { 'data.reason': [null, 'x'] }, condition: 'sel' });
    expect(either.test(event())).toBe(true);
    expect(either.test(event({ data: { reason: 'X' } }))).toBe(true);
    expect(either.test(event({ data: { reason: 'y' } }))).toBe(false);
  });

  it('applies contains, startswith, endswith, re, cidr, gt/gte/lt/lte and exists', () => {
    const t = (sel: Record<string, unknown>, e: VigieEvent) =>
      compileDetection({ sel, condition: 'sel' }).test(e);
    const e = event({
      context: { ip: '192.168.4.20', userAgent: 'Mozilla/5.0 Firefox' },
      data: { count: 12, op: 'bulk-export-csv' },
    });
    expect(t({ 'data.op|contains': 'EXPORT' }, e)).toBe(true);
    expect(t({ 'data.op|startswith': 'bulk' }, e)).toBe(true);
    expect(t({ 'data.op|endswith': 'pdf' }, e)).toBe(false);
    expect(t({ 'data.op|re': '^bulk-(export|import)' }, e)).toBe(true);
    expect(t({ 'context.ip|cidr': '192.168.0.0/16' }, e)).toBe(true);
    expect(t({ 'context.ip|cidr': ['10.0.0.0/8', '172.16.0.0/12'] }, e)).toBe(false);
    expect(t({ 'data.count|gt': 11 }, e)).toBe(true);
    expect(t({ 'data.count|gte': 13 }, e)).toBe(false);
    expect(t({ 'data.count|lt': 13, 'data.count|lte': 12 }, e)).toBe(true);
    expect(t({ 'data.missing|exists': false }, e)).toBe(true);
    expect(t({ 'data.op|exists': true }, e)).toBe(true);
    expect(t({ 'data.op': 'bulk-*-csv' }, e)).toBe(true);
    expect(t({ 'data.op|contains|all': ['bulk', 'csv'] }, e)).toBe(true);
    expect(t({ 'data.op|contains|all': ['bulk', 'pdf'] }, e)).toBe(false);
  });

  it('matches a list field when any element matches', () => {
    const d = compileDetection({ sel: { 'data.reasons|contains': 'caseload' }, condition: 'sel' });
    expect(d.test(event({ data: { reasons: ['budget', 'not_in_caseload'] } }))).toBe(true);
    expect(d.test(event({ data: { reasons: ['budget'] } }))).toBe(false);
  });

  it('combines selections with and, or, not, parentheses, 1 of and all of', () => {
    const detection = {
      sel_read: { 'data.action': 'read' },
      sel_export: { 'data.action': 'export' },
      filter_admin: { 'actor.id': 'admin' },
      condition: '1 of sel_* and not filter_admin',
    };
    const d = compileDetection(detection);
    expect(d.test(event({ data: { action: 'export' } }))).toBe(true);
    expect(d.test(event({ actor: { type: 'account', id: 'admin' }, data: { action: 'export' } }))).toBe(
      false,
    );
    expect(d.test(event({ data: { action: 'update' } }))).toBe(false);
    const all = compileDetection({
      a: { kind: 'access.decision' },
      b: { outcome: 'success' },
      condition: 'all of them',
    });
    expect(all.test(event())).toBe(true);
    expect(all.test(event({ outcome: 'denied' }))).toBe(false);
    const paren = compileDetection({
      a: { outcome: 'denied' },
      b: { 'data.x': 1 },
      c: { 'data.y': 2 },
      condition: 'a and (b or c)',
    });
    expect(paren.test(event({ outcome: 'denied', data: { y: 2 } }))).toBe(true);
    expect(paren.test(event({ outcome: 'denied' }))).toBe(false);
  });

  it('refuses what it does not support with a message that says what', () => {
    expect(() => compileDetection({ keywords: ['evil'], condition: 'keywords' })).toThrow(
      /keyword searches are not supported/,
    );
    expect(() => compileDetection({ sel: { 'a|base64': 'x' }, condition: 'sel' })).toThrow(
      /modifier "base64" is not supported/,
    );
    expect(() => compileDetection({ sel: { a: 1 }, condition: 'sel | count() > 5' })).toThrow(
      /use a correlation/,
    );
    expect(() => compileDetection({ sel: { a: 1 }, condition: 'sel and other' })).toThrow(
      /unknown search identifier "other"/,
    );
    expect(() => compileDetection({ sel: { '__proto__.x': 1 }, condition: 'sel' })).toThrow(
      /invalid field name/,
    );
    expect(() => compileDetection({ sel: { 'a|re': '(' }, condition: 'sel' })).toThrow(
      /invalid regular expression/,
    );
    expect(() => compileDetection({ sel: { 'a|cidr': '10.0.0.0/99' }, condition: 'sel' })).toThrow(
      /invalid CIDR/,
    );
  });
});

describe('Sigma correlations', () => {
  it('fires event_count on the Nth event of the window and not before', () => {
    const engine = engineWith({
      ...base,
      id: 'test.count',
      type: 'event_count',
      kinds: ['access.decision'],
      detection: { sel: { outcome: 'denied' }, condition: 'sel' },
      correlation: { timespan: '10m', condition: { gte: 5 } },
    });
    const at = (s: number) => new Date(Date.UTC(2026, 2, 2, 9, 0, s)).toISOString();
    for (let i = 0; i < 4; i++) expect(engine.process(event({ outcome: 'denied', time: at(i) }))).toEqual([]);
    expect(engine.process(event({ outcome: 'success', time: at(4) }))).toEqual([]);
    const fired = engine.process(event({ outcome: 'denied', time: at(5) }));
    expect(fired).toHaveLength(1);
    expect(fired[0]!.summary).toMatchObject({ count: 5 });
    expect(fired[0]!.evidence).toHaveLength(5);
    // Still above the bound: no second finding for the same burst.
    expect(engine.process(event({ outcome: 'denied', time: at(6) }))).toEqual([]);
  });

  it('counts event_count per group within the sliding window only', () => {
    const engine = engineWith({
      ...base,
      id: 'test.window',
      type: 'event_count',
      kinds: ['access.decision'],
      correlation: { timespan: '1m', condition: { gte: 3 } },
    });
    const at = (s: number) => new Date(Date.UTC(2026, 2, 2, 9, 0, 0) + s * 1000).toISOString();
    expect(engine.process(event({ time: at(0) }))).toEqual([]);
    expect(engine.process(event({ time: at(50) }))).toEqual([]);
    expect(engine.process(event({ actor: { type: 'account', id: 'other' }, time: at(55) }))).toEqual([]);
    // The first event has left the one-minute window.
    expect(engine.process(event({ time: at(70) }))).toEqual([]);
    expect(engine.process(event({ time: at(75) }))).toHaveLength(1);
  });

  it('fires value_count on the Nth distinct value', () => {
    const engine = engineWith({
      ...base,
      id: 'test.distinct',
      type: 'value_count',
      kinds: ['access.decision'],
      correlation: { timespan: '1h', field: 'target.id', condition: { gte: 3 } },
    });
    const read = (id: string) => event({ target: { type: 'record', id } });
    expect(engine.process(read('r1'))).toEqual([]);
    expect(engine.process(read('r1'))).toEqual([]);
    expect(engine.process(read('r2'))).toEqual([]);
    expect(engine.process(read('r3'))).toHaveLength(1);
  });

  it('refuses a streaming correlation without a lower bound', () => {
    const problems: RuleProblem[] = [];
    compileRuleText(
      stringify({
        ...base,
        id: 'test.bad',
        type: 'event_count',
        kinds: ['x.y'],
        correlation: { timespan: '1m', condition: { lt: 3 } },
      }),
      'bad.yaml',
      env(),
      problems,
    );
    expect(problems[0]!.message).toMatch(/lower bound/);
  });
});

describe('rule files', () => {
  it('refuses a directory with one bad rule and lists each problem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-rules-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'good.yaml'),
        stringify({
          ...base,
          id: 'ok.rule',
          type: 'match',
          kinds: ['a.b'],
          detection: { s: { outcome: 'success' }, condition: 's' },
        }),
      );
      fs.writeFileSync(
        path.join(dir, 'bad.yaml'),
        stringify({
          ...base,
          id: 'bad.rule',
          type: 'match',
          kinds: ['a.b'],
          tags: ['attack.collection'],
          detection: { s: { outcome: 'x' }, condition: 's' },
        }),
      );
      fs.writeFileSync(path.join(dir, 'broken.yml'), 'id: [unclosed');
      let error: unknown;
      try {
        loadRuleDirectory(dir, env());
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RuleSetError);
      const problems = (error as RuleSetError).problems;
      expect(problems.map((p) => p.file).sort()).toEqual(['bad.yaml', 'broken.yml']);
      expect(problems.find((p) => p.file === 'bad.yaml')!.message).toMatch(/ATT&CK/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the state of unchanged rules across a reload and indexes 500 rules by field value', () => {
    const e = env();
    const engine = new DetectionEngine(e);
    const many = Array.from({ length: 500 }, (_, i) => ({
      ...base,
      id: `gen.rule-${i}`,
      type: 'event_count',
      kinds: ['access.decision'],
      detection: { s: { 'data.action': `action-${i}` }, condition: 's' },
      correlation: { timespan: '1h', condition: { gte: 2 } },
    }));
    const problems: RuleProblem[] = [];
    const rules = compileRuleText(many.map((r) => stringify(r)).join('---\n'), 'gen.yaml', e, problems);
    expect(problems).toEqual([]);
    engine.setRules(rules.map((r) => r.rule));
    expect(engine.process(event({ data: { action: 'ACTION-7' } }))).toEqual([]);
    // Same documents again: rule 7 keeps its count of one and fires on the second event.
    engine.setRules(
      compileRuleText(many.map((r) => stringify(r)).join('---\n'), 'gen.yaml', e, []).map((r) => r.rule),
    );
    const fired = engine.process(event({ data: { action: 'action-7' } }));
    expect(fired.map((f) => f.rule.id)).toEqual(['gen.rule-7']);
  });
});

describe('Sigma import', () => {
  const detectionRule = (over: Record<string, unknown> = {}) => ({
    title: 'Failed sign-ins',
    name: 'failed_signin',
    id: '5f3a1c9e-3c1e-4b7a-9d1e-1a2b3c4d5e6f',
    logsource: { product: 'vigie', category: 'auth.login' },
    detection: { selection: { outcome: 'failure' }, condition: 'selection' },
    level: 'low',
    tags: ['attack.credential_access', 'attack.t1110.003'],
    ...over,
  });
  const correlation = (over: Record<string, unknown> = {}) => ({
    title: 'Password spraying',
    id: '0f9c1b3e-8a7d-4b2c-9e1f-2a3b4c5d6e7f',
    correlation: {
      type: 'value_count',
      rules: ['failed_signin'],
      'group-by': ['context.ip'],
      timespan: '15m',
      condition: { gte: 3, field: 'actor.id' },
      ...over,
    },
    level: 'high',
    tags: ['attack.credential_access', 'attack.t1110.003'],
  });
  const text = (...docs: unknown[]) => docs.map((d) => stringify(d)).join('---\n');

  it('translates a detection rule and a value_count correlation into rules that run', () => {
    const rules = importSigma(text(detectionRule(), correlation()), env());
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      id: 'sigma.0f9c1b3e-8a7d-4b2c-9e1f-2a3b4c5d6e7f',
      type: 'value_count',
      entity: 'ip',
      kinds: ['auth.login'],
      correlation: { field: 'actor.id', timespan: '15m' },
    });
    const e = env();
    const engine = new DetectionEngine(e);
    engine.setRules(compileRuleText(rulesToYaml(rules), 'imported.yaml', e, []).map((r) => r.rule));
    const fail = (who: string) =>
      event({
        kind: 'auth.login',
        outcome: 'failure',
        actor: { type: 'account', id: who },
        context: { ip: '203.0.113.4' },
      });
    expect([fail('a'), fail('b')].flatMap((x) => engine.process(x))).toEqual([]);
    expect(engine.process(fail('c'))).toHaveLength(1);
  });

  it('translates temporal_ordered into a sequence and a lone detection rule into a match', () => {
    const second = detectionRule({
      name: 'signin_ok',
      id: '7a3a1c9e-3c1e-4b7a-9d1e-1a2b3c4d5e6f',
      detection: { s: { outcome: 'success' }, condition: 's' },
    });
    const rules = importSigma(
      text(
        detectionRule(),
        second,
        correlation({
          type: 'temporal_ordered',
          rules: ['failed_signin', 'signin_ok'],
          condition: { gte: 2 },
        }),
      ),
      env(),
    );
    expect(rules.map((r) => r.type)).toEqual(['sequence']);
    expect(importSigma(text(detectionRule()), env())[0]).toMatchObject({
      id: 'failed_signin',
      type: 'match',
    });
  });

  it('refuses what Vigie does not run, saying why', () => {
    const fails = (t: string) => {
      try {
        importSigma(t, env());
      } catch (error) {
        return (error as SigmaImportError).problems.join('\n');
      }
      return 'accepted';
    };
    expect(
      fails(text(detectionRule({ logsource: { product: 'windows', category: 'process_creation' } }))),
    ).toMatch(/product must be "vigie"/);
    expect(fails(text(detectionRule(), correlation({ type: 'temporal' })))).toMatch(
      /temporal \(unordered\) is not supported/,
    );
    expect(
      fails(text(detectionRule({ detection: { keywords: ['mimikatz'], condition: 'keywords' } }))),
    ).toMatch(/keyword searches/);
    expect(fails(text(detectionRule({ level: 'urgent' })))).toMatch(/does not follow the Sigma schema/);
    expect(fails(text(detectionRule({ tags: ['attack.credential_access'] })))).toMatch(/ATT&CK/);
  });
});
