import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { canonicalJson } from '../../shared/canonical-json.js';
import { AccessView } from './access.view.js';
import { BudgetLedger } from './budget.ledger.js';
import { RELATION_ENROLLED, RELATION_FOLLOWS, toMinute } from './follow.index.js';
import { decide, type DecisionRequest } from './pdp.js';
import type { CompiledPolicy } from './policy.compiler.js';
import { loadPolicyDir } from './policy.store.js';
import { PolicyError } from './policy.types.js';

/*
 * `vigie policy test DIR`: policy test cases in DIR/tests/*.yaml, each file a scene (organisations,
 * accounts, applications, records and who follows them) and cases (request → expected decision,
 * reasons, obligations). Cases of a file run in order on one ledger, so budget cases can build up.
 */

export interface PolicyTestResult {
  readonly file: string;
  readonly name: string;
  readonly passed: boolean;
  readonly expected: unknown;
  readonly actual: {
    decision: boolean;
    reasons: readonly string[];
    obligations: readonly unknown[];
    ruleIds: readonly string[];
  };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown, what: string, file: string): Obj => {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new PolicyError(file, 1, `${what} must be a mapping`);
  return v as Obj;
};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, what: string, file: string): string => {
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new PolicyError(file, 1, `${what} must be a string`);
  return String(v);
};
const ms = (v: unknown, fallback: number): number =>
  typeof v === 'string' ? Date.parse(v) : v instanceof Date ? v.getTime() : fallback;

/** Builds an in-memory view from a test scene (no database). */
export function sceneView(scene: Obj, file: string): AccessView {
  const view = new AccessView();
  for (const o of list(scene.organisations).map((x) => obj(x, 'an organisation', file))) {
    const id = str(o.id, 'organisation id', file);
    view.putOrganisation({
      id,
      active: (o.status ?? 'active') === 'active',
      kind: typeof o.kind === 'string' ? o.kind : 'mission_locale',
      path: `/${id}/`,
    });
  }
  for (const a of list(scene.accounts).map((x) => obj(x, 'an account', file))) {
    view.putAccount({
      id: str(a.id, 'account id', file),
      organisationId: str(a.organisation, 'account organisation', file),
      active: (a.status ?? 'active') === 'active',
      kind: typeof a.kind === 'string' ? a.kind : 'human',
      roles: list(a.roles).map((r) =>
        typeof r === 'string'
          ? { roleId: r, organisationId: String(a.organisation), expiresAtMs: Infinity }
          : {
              roleId: String(obj(r, 'a role', file).role),
              organisationId: String(a.organisation),
              expiresAtMs: ms(obj(r, 'a role', file).expires_at, Infinity),
            },
      ),
      approvedAtMs: ms(a.approved_at, 0),
    });
  }
  for (const a of list(scene.applications).map((x) => obj(x, 'an application', file))) {
    view.putApplication({
      id: str(a.id, 'application id', file),
      organisationId: str(a.organisation, 'application organisation', file),
      active: (a.status ?? 'active') === 'active',
      kind: typeof a.kind === 'string' ? a.kind : 'business',
    });
  }
  for (const r of list(scene.records).map((x) => obj(x, 'a record', file))) {
    const idx = view.follows.upsertRecord(str(r.id, 'record id', file), r.decoy === true, r.sealed === true);
    for (const f of list(r.follows).map((x) => obj(x, 'a follow', file))) {
      view.follows.addFollow(idx, {
        organisation: view.orgIds.intern(str(f.organisation, 'follow organisation', file)),
        account:
          f.account === undefined ? -1 : view.accountIds.intern(str(f.account, 'follow account', file)),
        relation: f.relation === 'enrolled' ? RELATION_ENROLLED : RELATION_FOLLOWS,
        untilMinute: f.until === undefined ? 0 : toMinute(ms(f.until, 0)),
      });
    }
  }
  const controls = scene.controls === undefined ? {} : obj(scene.controls, 'controls', file);
  for (const key of list(controls.frozen)) view.frozen.add(String(key));
  for (const id of list(controls.step_up)) view.stepUp.set(String(id), 0);
  return view;
}

const sameSet = (a: readonly unknown[], b: readonly unknown[]) => {
  const x = a.map((v) => canonicalJson(v)).sort();
  const y = b.map((v) => canonicalJson(v)).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** Runs the cases of one test file against a compiled policy. */
export function runPolicyTestFile(policy: CompiledPolicy, file: string, text: string): PolicyTestResult[] {
  let doc: Obj;
  try {
    doc = obj(parse(text, { maxAliasCount: 0 }), 'the test file', file);
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    throw new PolicyError(file, 1, `YAML syntax: ${(error as Error).message.split('\n')[0]?.slice(0, 120)}`);
  }
  const view = sceneView(doc.scene === undefined ? {} : obj(doc.scene, 'scene', file), file);
  const ledger = new BudgetLedger(policy.budgets?.windowMinutes ?? 60);
  const start = ms(doc.now, Date.parse('2026-03-02T09:00:00Z'));
  return list(doc.cases).map((raw, i) => {
    const c = obj(raw, 'a case', file);
    const name = typeof c.name === 'string' ? c.name : `case ${i + 1}`;
    const req = obj(c.request, `request of ${name}`, file);
    const request = {
      ...(req as unknown as DecisionRequest),
      ...(typeof c.caller === 'string' ? { callerId: c.caller } : {}),
    };
    const d = decide(policy, view, ledger, request, ms(c.at, start), true);
    const expect = obj(c.expect, `expect of ${name}`, file);
    const passed =
      d.decision === expect.decision &&
      (expect.reasons === undefined || sameSet(d.reasons, list(expect.reasons))) &&
      (expect.obligations === undefined || sameSet(d.obligations, list(expect.obligations))) &&
      (expect.rule === undefined || (typeof expect.rule === 'string' && d.ruleIds.includes(expect.rule)));
    return {
      file,
      name,
      passed,
      expected: expect,
      actual: { decision: d.decision, reasons: d.reasons, obligations: d.obligations, ruleIds: d.ruleIds },
    };
  });
}

/** Compiles the policy in `dir` and runs every `dir/tests/*.yaml`. */
export async function runPolicyTests(
  dir: string,
): Promise<{ policy: CompiledPolicy; results: PolicyTestResult[] }> {
  const policy = await loadPolicyDir(dir);
  const testDir = path.join(dir, 'tests');
  let names: string[] = [];
  try {
    names = (await fs.readdir(testDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    names = [];
  }
  const results: PolicyTestResult[] = [];
  for (const name of names) {
    results.push(
      ...runPolicyTestFile(policy, `tests/${name}`, await fs.readFile(path.join(testDir, name), 'utf8')),
    );
  }
  return { policy, results };
}
