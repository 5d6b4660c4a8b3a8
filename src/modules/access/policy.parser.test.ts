import { describe, expect, it } from 'vitest';
import { compilePolicy } from './policy.compiler.js';
import { PolicyError } from './policy.types.js';

const header = 'vigie_policy: 1\nname: t\n';

function problem(text: string): { line: number; problem: string } {
  try {
    compilePolicy([{ file: 'p.yaml', text }]);
  } catch (error) {
    if (error instanceof PolicyError) return { line: error.line, problem: error.problem };
    throw error;
  }
  throw new Error('expected the policy to be refused');
}

describe('policy validation', () => {
  it('points at the line of an unknown fact', () => {
    const r = problem(`${header}rules:\n  - id: a\n    effect: allow\n    when:\n      - fact: nope\n`);
    expect(r).toEqual({ line: 7, problem: 'unknown fact "nope"' });
  });

  it('points at the line of an unknown key in a rule', () => {
    expect(problem(`${header}rules:\n  - id: a\n    effect: allow\n    wehn: []\n`)).toMatchObject({
      line: 6,
    });
  });

  it('refuses a deny rule without a public reason code', () => {
    expect(problem(`${header}rules:\n  - id: a\n    effect: deny\n`).problem).toContain('reason');
  });

  it('refuses a YAML syntax error with its line', () => {
    expect(problem(`${header}rules:\n  - id: a\n    effect: [allow\n`).line).toBeGreaterThanOrEqual(5);
  });

  it('refuses duplicate rule ids, malformed paths, bad thresholds and unknown time zones', () => {
    expect(
      problem(`${header}rules:\n  - { id: a, effect: allow }\n  - { id: a, effect: allow }\n`).problem,
    ).toContain('used twice');
    expect(
      problem(`${header}rules:\n  - id: a\n    effect: allow\n    when:\n      - eq: [subject.., 1]\n`)
        .problem,
    ).toContain('malformed path');
    expect(
      problem(
        `${header}rules: []\nbudgets:\n  window_minutes: 60\n  account: { default: { soft: 10, hard: 5 } }\n  organisation: { default: { soft: 1, hard: 2 } }\n  application: { default: { soft: 1, hard: 2 } }\n`,
      ).problem,
    ).toContain('soft must not exceed hard');
    expect(problem(`vigie_policy: 1\nname: t\ntimezone: Mars/Olympus\nrules: []\n`).line).toBe(3);
  });

  it('refuses prototype keys in directory attributes', () => {
    expect(
      problem(
        `${header}entities:\n  - { type: user, id: u, attributes: { __proto__: { admin: true } } }\nrules: []\n`,
      ).problem,
    ).toContain('not allowed');
  });

  it('versions a policy by the hash of its content', () => {
    const a = compilePolicy([{ file: 'p.yaml', text: `${header}rules: []\n` }]);
    const b = compilePolicy([{ file: 'p.yaml', text: `${header}rules: []\n` }]);
    const c = compilePolicy([{ file: 'p.yaml', text: `${header}rules: []\n# changed\n` }]);
    expect(a.version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.version).toBe(b.version);
    expect(c.version).not.toBe(a.version);
  });

  it('merges several files and refuses a rule id used in two of them', () => {
    const one = { file: 'a.yaml', text: `${header}rules:\n  - { id: x, effect: allow }\n` };
    const two = { file: 'b.yaml', text: `vigie_policy: 1\nname: u\nrules:\n  - { id: x, effect: allow }\n` };
    expect(() => compilePolicy([one, two])).toThrow(/already used/);
    expect(compilePolicy([one, { ...two, text: two.text.replace('id: x', 'id: y') }]).ruleCount).toBe(2);
  });
});
