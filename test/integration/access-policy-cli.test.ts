import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPolicyTest, runPolicyValidate } from '../../src/cli/policy.js';

const root = path.resolve(import.meta.dirname, '../..');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
  };
}

describe('vigie policy validate and vigie policy test', () => {
  const dirs: string[] = [];
  const tempPolicy = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-policy-cli-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('passes every shipped test case of the default policy', async () => {
    const c = io();
    expect(await runPolicyTest(path.join(root, 'policies'), c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/(\d+)\/\1 cases pass \(policy sha256:/);
  });

  it('validates the shipped policy and prints its version', async () => {
    const c = io();
    expect(await runPolicyValidate(path.join(root, 'policies'), c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/^default: \d+ rules in default\.yaml\nversion sha256:[0-9a-f]{64}\n$/);
  });

  it('fails on a case whose expectation the policy does not meet, showing expected and actual', async () => {
    const dir = tempPolicy({
      'p.yaml': 'vigie_policy: 1\nname: p\nrules:\n  - { id: all, effect: allow, actions: [read] }\n',
      'tests/t.yaml':
        'cases:\n  - name: reads are denied\n    request: { subject: { type: u, id: a }, action: { name: read }, resource: { type: r, id: b } }\n    expect: { decision: false, reasons: [not_permitted] }\n',
    });
    const c = io();
    expect(await runPolicyTest(dir, c.io)).toBe(1);
    expect(c.out.join('')).toContain('FAIL  tests/t.yaml: reads are denied');
    expect(c.out.join('')).toContain('"ruleIds":["all"]');
  });

  it('reports an invalid policy with its file and line', async () => {
    const dir = tempPolicy({ 'p.yaml': 'vigie_policy: 1\nname: p\nrules:\n  - id: a\n    effect: permit\n' });
    const c = io();
    expect(await runPolicyValidate(dir, c.io)).toBe(1);
    expect(c.err.join('')).toBe('vigie policy validate: p.yaml:5: effect must be allow, deny or obligate\n');
  });

  it('fails when there is no test case to run', async () => {
    const dir = tempPolicy({ 'p.yaml': 'vigie_policy: 1\nname: p\nrules: []\n' });
    const c = io();
    expect(await runPolicyTest(dir, c.io)).toBe(1);
  });
});
