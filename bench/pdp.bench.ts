/**
 * Bench suite `pdp` (issue 4). The same 5-rule policy — admin role; an agent reads a record of its
 * structure; export needs MFA in context; sealed records forbidden unless admin; no export outside
 * 07:00–20:00 — over 1,002 entities, in Vigie, @cedar-policy/cedar-wasm (preparsed policy set,
 * per-request entity slices), casbin (RBAC with domains) and a hand-written closure.
 * P1 throughput ÷ cedar, P2 p99 vs cedar, P3 cost ÷ closure, P4 p50 at 1.6 M people ÷ p50 at 1 k,
 * P5 budgets on ÷ off; then the HTTP evaluation endpoint at 64 keep-alive connections (autocannon in
 * a child process, against a real server on 127.0.0.1), and the view's memory for 1.6 M followed
 * people and 50 k accounts. Run: `npm run bench pdp`.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import pino from 'pino';
import { AccessView } from '../src/modules/access/access.view.js';
import { BudgetLedger } from '../src/modules/access/budget.ledger.js';
import { decisionEvents } from '../src/modules/access/decision.events.js';
import { recordPseudonymiser } from '../src/modules/access/record-pseudonym.js';
import { systemClock } from '../src/shared/clock.js';
import { uuidv7Generator } from '../src/shared/ids.js';
import { RELATION_FOLLOWS } from '../src/modules/access/follow.index.js';
import { decide, type DecisionRequest } from '../src/modules/access/pdp.js';
import { compilePolicy, type CompiledPolicy } from '../src/modules/access/policy.compiler.js';
import { percentile, ratio, writeResults, type BenchCase, type BenchRatio } from './report.js';

if (process.argv.includes('--autocannon-worker')) {
  await autocannonWorker();
  process.exit(0);
}

const HOUR = 3_600_000;
const DAY0 = Date.UTC(2026, 2, 2);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

const VIGIE_POLICY = `
vigie_policy: 1
name: bench-five-rules
rules:
  - { id: export-needs-mfa, effect: deny, reason: mfa_required, actions: [export], unless: [{ eq: [context.mfa, true] }] }
  - { id: sealed-unless-admin, effect: deny, reason: record_sealed, when: [{ fact: resource.sealed }], unless: [{ has_role: admin }] }
  - { id: export-hours, effect: deny, reason: outside_hours, actions: [export], unless: [{ hour_between: [7, 20] }] }
  - { id: admin, effect: allow, when: [{ has_role: admin }] }
  - { id: agent-reads-structure, effect: allow, actions: [read], when: [{ has_role: agent }, { fact: resource.followed_by_structure }] }
`;
const BUDGETS = `
budgets:
  window_minutes: 60
  counted_actions: [read, export]
  account: { default: { soft: 1000000, hard: 10000000 } }
  organisation: { default: { soft: 1000000, hard: 10000000 } }
  application: { default: { soft: 1000000, hard: 10000000 } }
`;

const CEDAR_POLICY = `
permit(principal in Role::"admin", action, resource);
permit(principal in Role::"agent", action == Action::"read", resource) when { resource.structure == principal.structure };
forbid(principal, action == Action::"export", resource) unless { context.mfa == true };
forbid(principal, action, resource) when { resource.sealed } unless { principal in Role::"admin" };
forbid(principal, action == Action::"export", resource) unless { context.hour >= 7 && context.hour < 20 };
`;

const CASBIN_MODEL = `
[request_definition]
r = sub, dom, act, sealed, mfa, hour
[policy_definition]
p = sub, dom, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = (g(r.sub, p.sub, r.dom) || g(r.sub, p.sub, "*")) && (p.dom == "*" || p.dom == r.dom) && (p.act == "*" || p.act == r.act) && (r.act != "export" || (r.mfa == true && r.hour >= 7 && r.hour < 20)) && (r.sealed == false || p.sub == "admin")
`;

interface Mix {
  req: DecisionRequest;
  now: number;
  hour: number;
  structure: string;
  sealed: boolean;
}

/** 1,002 entities: two accounts (an admin, an agent of ml-a) and 1,000 records in two structures. */
function smallWorld() {
  const view = new AccessView();
  for (const id of ['operator', 'ml-a', 'ml-b'])
    view.putOrganisation({ id, active: true, kind: 'mission_locale', path: `/${id}/` });
  const role = (roleId: string) => ({ roleId, organisationId: 'operator', expiresAtMs: Infinity });
  view.putAccount({
    id: 'admin',
    organisationId: 'operator',
    active: true,
    kind: 'human',
    roles: [role('admin')],
    approvedAtMs: 0,
  });
  view.putAccount({
    id: 'agent',
    organisationId: 'ml-a',
    active: true,
    kind: 'human',
    roles: [role('agent')],
    approvedAtMs: 0,
  });
  view.putApplication({ id: 'app', organisationId: 'operator', active: true, kind: 'business' });
  const records: Array<{ id: string; structure: string; sealed: boolean }> = [];
  for (let i = 0; i < 1000; i++) {
    const rec = { id: `r${i}`, structure: i % 2 === 0 ? 'ml-a' : 'ml-b', sealed: i % 50 === 7 };
    records.push(rec);
    const r = view.follows.upsertRecord(rec.id, false, rec.sealed);
    view.follows.addFollow(r, {
      organisation: view.orgIds.intern(rec.structure),
      account: -1,
      relation: RELATION_FOLLOWS,
      untilMinute: 0,
    });
  }
  const mix: Mix[] = [];
  for (let i = 0; i < 1024; i++) {
    const rec = records[(i * 37) % 1000]!;
    const admin = i % 4 === 3;
    const action = admin ? (i % 8 === 3 ? 'export' : 'read') : 'read';
    const hour = [10, 15, 6, 21, 12][i % 5]!;
    mix.push({
      req: {
        subject: { type: 'account', id: admin ? 'admin' : 'agent' },
        action: { name: action },
        resource: { type: 'record', id: rec.id },
        context: { mfa: i % 3 !== 0 },
        callerId: 'app',
      },
      now: DAY0 + hour * HOUR,
      hour,
      structure: rec.structure,
      sealed: rec.sealed,
    });
  }
  const accounts = new Map([
    ['admin', { structure: 'operator', roles: new Set(['admin']) }],
    ['agent', { structure: 'ml-a', roles: new Set(['agent']) }],
  ]);
  const byId = new Map(records.map((r) => [r.id, r]));
  return { view, mix, accounts, byId };
}

type World = ReturnType<typeof smallWorld>;

function handwritten(w: World): (m: Mix) => boolean {
  return (m) => {
    const acc = w.accounts.get(m.req.subject.id);
    if (!acc) return false;
    const admin = acc.roles.has('admin');
    const rec = w.byId.get(m.req.resource.id);
    const hour = Math.floor(m.now / HOUR) % 24;
    if (m.req.action.name === 'export' && (m.req.context?.mfa !== true || hour < 7 || hour >= 20))
      return false;
    if (rec?.sealed && !admin) return false;
    if (admin) return true;
    return (
      m.req.action.name === 'read' &&
      acc.roles.has('agent') &&
      rec !== undefined &&
      rec.structure === acc.structure
    );
  };
}

function cedarEngine(w: World): (m: Mix) => boolean {
  const parsed = cedar.preparsePolicySet('bench', { staticPolicies: CEDAR_POLICY });
  if (parsed.type !== 'success') throw new Error(`cedar: ${JSON.stringify(parsed.errors)}`);
  return (m) => {
    const acc = w.accounts.get(m.req.subject.id)!;
    const rec = w.byId.get(m.req.resource.id)!;
    const roleUid = { type: 'Role', id: acc.roles.has('admin') ? 'admin' : 'agent' };
    const principal = { type: 'User', id: m.req.subject.id };
    const resource = { type: 'Record', id: rec.id };
    const answer = cedar.statefulIsAuthorized({
      principal,
      action: { type: 'Action', id: m.req.action.name },
      resource,
      context: { mfa: m.req.context?.mfa === true, hour: m.hour },
      preparsedPolicySetId: 'bench',
      entities: [
        { uid: principal, attrs: { structure: acc.structure }, parents: [roleUid] },
        { uid: roleUid, attrs: {}, parents: [] },
        { uid: resource, attrs: { structure: rec.structure, sealed: rec.sealed }, parents: [] },
      ],
    });
    if (answer.type !== 'success') throw new Error(`cedar: ${JSON.stringify(answer.errors)}`);
    return answer.response.decision === 'allow';
  };
}

async function casbinEngine(w: World): Promise<(m: Mix) => boolean> {
  const policy = [
    'p, admin, *, *',
    'p, agent, *, read',
    'g, u:admin, admin, *',
    'g, u:agent, agent, ml-a',
  ].join('\n');
  const e = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(policy));
  return (m) => {
    const rec = w.byId.get(m.req.resource.id)!;
    return e.enforceSync(
      `u:${m.req.subject.id}`,
      rec.structure,
      m.req.action.name,
      rec.sealed,
      m.req.context?.mfa === true,
      m.hour,
    );
  };
}

/** Throughput over the whole mix for about `ms` milliseconds. */
function throughput(fn: (m: Mix) => boolean, mix: Mix[], ms: number): number {
  let n = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  for (;;) {
    for (let i = 0; i < mix.length; i++) if (fn(mix[i]!)) sink++;
    n += mix.length;
    if (process.hrtime.bigint() - start > limit) break;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink);
  return n / seconds;
}

/** Per-call latencies in microseconds (hrtime around each call), sorted. */
function latencies(fn: (m: Mix) => boolean, mix: Mix[], calls: number): number[] {
  const out = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const m = mix[i % mix.length]!;
    const t0 = process.hrtime.bigint();
    fn(m);
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return Array.from(out).sort((a, b) => a - b);
}

function measure(name: string, fn: (m: Mix) => boolean, mix: Mix[], ms: number, calls: number): BenchCase {
  process.stderr.write(`measuring ${name}…\n`);
  throughput(fn, mix, Math.min(500, ms / 2)); // warm-up: JIT and caches
  gc();
  const ops = Math.max(throughput(fn, mix, ms), throughput(fn, mix, ms));
  const lat = latencies(fn, mix, calls);
  return { name, opsPerSec: Math.round(ops), p50us: percentile(lat, 50), p99us: percentile(lat, 99) };
}

const vigieFn = (policy: CompiledPolicy, view: AccessView, ledger: BudgetLedger) => (m: Mix) =>
  decide(policy, view, ledger, m.req, m.now, true).decision;

/** `people` followed people in 440 structures (a caseload relation for one in 16), 50 k accounts; memory measured. */
function world(
  people: number,
  size: number,
): {
  view: AccessView;
  mix: Mix[];
  memory: Record<string, number>;
  remix(n: number): Mix[];
} {
  gc();
  const before = process.memoryUsage();
  const view = new AccessView();
  const structures = Array.from({ length: 440 }, (_, i) => `ml-${i}`);
  for (const id of ['operator', ...structures])
    view.putOrganisation({ id, active: true, kind: 'mission_locale', path: `/${id}/` });
  for (let i = 0; i < 50_000; i++) {
    view.putAccount({
      id: `acc-${i}`,
      organisationId: structures[i % 440]!,
      active: true,
      kind: 'human',
      roles: [{ roleId: 'agent', organisationId: structures[i % 440]!, expiresAtMs: Infinity }],
      approvedAtMs: 0,
    });
  }
  const f = view.follows;
  for (let i = 0; i < people; i++) {
    const r = f.upsertRecord(`DE-${String(i).padStart(8, '0')}`, false, i % 50 === 7);
    f.addFollow(r, {
      organisation: view.orgIds.intern(structures[i % 440]!),
      account: -1,
      relation: RELATION_FOLLOWS,
      untilMinute: 0,
    });
    if (i % 16 === 0)
      f.addFollow(r, {
        organisation: view.orgIds.intern(structures[i % 440]!),
        account: view.accountIds.intern(`acc-${i % 50_000}`),
        relation: RELATION_FOLLOWS,
        untilMinute: 0,
      });
  }
  gc();
  const after = process.memoryUsage();
  const mb = (x: number) => Math.round((x / 1024 / 1024) * 10) / 10;
  const memory = {
    people: f.records.size,
    relations: f.followCount,
    accounts: view.accounts.size,
    heapMB: mb(after.heapUsed - before.heapUsed),
    arrayBuffersMB: mb(after.arrayBuffers - before.arrayBuffers),
    totalMB: mb(after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers),
  };
  view.putApplication({ id: 'app', organisationId: 'operator', active: true, kind: 'business' });
  /** `n` reads by the agents of the 440 structures, each of a person its structure follows, spread over all people. */
  const remix = (n: number): Mix[] =>
    Array.from({ length: n }, (_, i) => {
      const p = (i * 7919 * 13) % people;
      return {
        req: {
          subject: { type: 'account', id: `acc-${p % 440}` },
          action: { name: 'read' },
          resource: { type: 'record', id: `DE-${String(p).padStart(8, '0')}` },
          context: { mfa: true },
          callerId: 'app',
        },
        now: DAY0 + 10 * HOUR,
        hour: 10,
        structure: '',
        sealed: false,
      };
    });
  return { view, mix: remix(size), memory, remix };
}

async function httpCase(): Promise<BenchCase & Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-pdp-'));
  const { openDatabase } = await import('../src/db/database.js');
  const { migrateToLatest } = await import('../src/db/migrate.js');
  const { createContainer } = await import('../src/container.js');
  const { buildApp } = await import('../src/app.js');
  const { parseConfig } = await import('../src/config.js');
  const factories = await import('../test/helpers/factories.js');
  const config = parseConfig({
    VIGIE_DATA_DIR: dir,
    VIGIE_POLICY_DIR: path.join(import.meta.dirname, '../policies'),
    VIGIE_LOG_LEVEL: 'silent',
  });
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database.db);
  const scene = await factories.makeScene(database.db);
  const app = await factories.makeApplication(database.db, {
    organisationId: scene.operator.id,
    kind: 'business',
    scopes: ['pdp.evaluate'],
  });
  const token = await factories.issueToken(database.db, 'application', app.id);
  const agents: string[] = [];
  for (let i = 0; i < 16; i++) {
    const a = await factories.makeAccount(database.db, { organisationId: scene.structure.id });
    await factories.grantRole(database.db, a.id, 'agent', scene.structure.id);
    agents.push(a.id);
  }
  const people: string[] = [];
  for (let i = 0; i < 64; i++) {
    const s = await factories.makeSubject(database.db);
    await factories.makeFollow(database.db, { subjectId: s.id, organisationId: scene.structure.id });
    people.push(s.id);
  }
  const container = createContainer({
    config,
    database,
    clock: systemClock,
    ids: uuidv7Generator(systemClock),
    logger: pino({ level: 'silent' }),
  });
  const server = await buildApp(container);
  await container.start();
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  const bodies = agents.flatMap((a, i) =>
    people.slice((i * 4) % 64, ((i * 4) % 64) + 4).map((p) =>
      JSON.stringify({
        subject: { type: 'account', id: a },
        action: { name: 'read' },
        resource: { type: 'record', id: p },
      }),
    ),
  );
  // The load generator runs in its own process (asynchronously: the server shares this event loop).
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--autocannon-worker'], {
      env: {
        ...process.env,
        AC_URL: `${address}/access/v1/evaluation`,
        AC_TOKEN: token,
        AC_BODIES: JSON.stringify(bodies),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  await server.close();
  await container.stop();
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`autocannon worker failed: ${run.stderr}`);
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
    rps: number;
    p50: number;
    p99: number;
    non2xx: number;
    errors: number;
    total: number;
  };
  return {
    name: 'vigie-http-64-connections',
    opsPerSec: Math.round(r.rps),
    p50us: r.p50 * 1000,
    p99us: r.p99 * 1000,
    non2xx: r.non2xx,
    errors: r.errors,
    requests: r.total,
  };
}

async function autocannonWorker(): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  const bodies = JSON.parse(process.env.AC_BODIES!) as string[];
  const common = {
    url: process.env.AC_URL!,
    connections: 64,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${process.env.AC_TOKEN!}`, 'content-type': 'application/json' },
    requests: bodies.map((body) => ({ method: 'POST' as const, body })),
  };
  await autocannon({ ...common, duration: 2 }); // warm-up
  const r = await autocannon({ ...common, duration: Number(process.env.BENCH_PDP_HTTP_SECONDS ?? 10) });
  process.stdout.write(
    `${JSON.stringify({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total })}\n`,
  );
}

/** One measurement in a fresh process: no JIT state nor heap shared between engines. */
async function engineWorker(which: string): Promise<unknown> {
  const w = smallWorld();
  const policy = compilePolicy([{ file: 'bench.yaml', text: VIGIE_POLICY }]);
  switch (which) {
    case 'vigie':
      return measure('vigie-inprocess', vigieFn(policy, w.view, new BudgetLedger(60)), w.mix, 2000, 200_000);
    case 'closure':
      return measure('handwritten-closure', handwritten(w), w.mix, 1500, 200_000);
    case 'cedar':
      return measure('cedar-wasm', cedarEngine(w), w.mix, 3000, 20_000);
    case 'casbin':
      return measure('casbin-rbac-domains', await casbinEngine(w), w.mix, 2000, 50_000);
    case 'budgets': {
      const withBudgets = compilePolicy([{ file: 'bench.yaml', text: VIGIE_POLICY + BUDGETS }]);
      // Every decision Vigie makes is also a journal event: the unit of cost is a recorded decision
      // (decide + its access.decision event), with or without budgets. Bare decide() is reported too.
      const ids = uuidv7Generator(systemClock);
      const pseudonymise = recordPseudonymiser(Buffer.alloc(32, 7));
      const recorded = (p: CompiledPolicy) => {
        const ledger = new BudgetLedger(60);
        const sink: unknown[] = [];
        return (m: Mix) => {
          const d = decide(p, w.view, ledger, m.req, m.now, true);
          sink.push(decisionEvents(ids, w.view, m.req, d, m.now, { windowMinutes: 60, pseudonymise }));
          if (sink.length >= 1000) sink.length = 0; // what the recorder hands to one batch
          return d.decision;
        };
      };
      // Interleaved, best of three each, so that drift on a shared machine hits both alike.
      const runs: Record<string, BenchCase[]> = { off: [], on: [], bareOff: [], bareOn: [] };
      for (let i = 0; i < 3; i++) {
        runs.off!.push(measure('vigie-recorded-budgets-off', recorded(policy), w.mix, 700, 30_000));
        runs.on!.push(measure('vigie-recorded-budgets-on', recorded(withBudgets), w.mix, 700, 30_000));
        runs.bareOff!.push(
          measure(
            'vigie-decide-budgets-off',
            vigieFn(policy, w.view, new BudgetLedger(60)),
            w.mix,
            500,
            30_000,
          ),
        );
        runs.bareOn!.push(
          measure(
            'vigie-decide-budgets-on',
            vigieFn(withBudgets, w.view, new BudgetLedger(60)),
            w.mix,
            500,
            30_000,
          ),
        );
      }
      const best = (xs: BenchCase[]) => xs.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
      return [best(runs.off!), best(runs.on!), best(runs.bareOff!), best(runs.bareOn!)];
    }
    case 'scale': {
      // The same world at two sizes — 440 structures, 50 k accounts, one follow per person and a
      // caseload relation for one person in 16 — and the same request shape: 1,024 reads by the
      // structures' agents of people their structure follows. Only the number of people changes.
      const smallWorld1k = world(1000, 1024);
      const big = world(1_600_000, 1024);
      // Interleaved rounds, lowest p50 of each, so that load from other processes hits both alike.
      const smalls: BenchCase[] = [];
      const larges: BenchCase[] = [];
      for (let round = 0; round < 3; round++) {
        smalls.push(
          measure(
            'vigie-1k-people',
            vigieFn(policy, smallWorld1k.view, new BudgetLedger(60)),
            smallWorld1k.mix,
            600,
            100_000,
          ),
        );
        larges.push(
          measure(
            'vigie-1.6M-people',
            vigieFn(policy, big.view, new BudgetLedger(60)),
            big.mix,
            600,
            100_000,
          ),
        );
      }
      const lowest = (xs: BenchCase[]) => xs.reduce((a, b) => (b.p50us < a.p50us ? b : a));
      const small = lowest(smalls);
      const large = lowest(larges);
      // Informative: 65,536 distinct people, so that most lookups miss the CPU caches.
      const cold = measure(
        'vigie-1.6M-people-cold-65k',
        vigieFn(policy, big.view, new BudgetLedger(60)),
        big.remix(65_536),
        1500,
        200_000,
      );
      return { small, large, cold, memory: big.memory };
    }
    default:
      throw new Error(`unknown engine ${which}`);
  }
}

function inChild(which: string): unknown {
  // A forced full GC followed by more cedar-wasm calls crashes V8 in Node 20 (a deoptimizer fatal
  // error), so workers get --expose-gc only where memory is measured (the scale worker, no cedar).
  const flags = which === 'scale' ? ['--expose-gc'] : [];
  const r = spawnSync(
    process.execPath,
    [...flags, '--import', 'tsx', import.meta.filename, '--engine', which],
    {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`${which} measurement failed (status ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const w = smallWorld();
  const policy = compilePolicy([{ file: 'bench.yaml', text: VIGIE_POLICY }]);
  const engines = {
    vigie: vigieFn(policy, w.view, new BudgetLedger(60)),
    closure: handwritten(w),
    cedar: cedarEngine(w),
    casbin: await casbinEngine(w),
  };
  // The four must agree on every request of the mix, or the comparison means nothing.
  for (const m of w.mix) {
    const expected = engines.closure(m);
    for (const [name, fn] of Object.entries(engines)) {
      if (fn(m) !== expected) throw new Error(`${name} disagrees on ${JSON.stringify(m.req)} at ${m.hour}h`);
    }
  }
  const allowed = w.mix.filter((m) => engines.closure(m)).length;
  console.log(`mix: ${w.mix.length} requests, ${allowed} allowed; the four engines agree on all`);

  const vigie = inChild('vigie') as BenchCase;
  const closure = inChild('closure') as BenchCase;
  const cedarCase = inChild('cedar') as BenchCase;
  const casbin = inChild('casbin') as BenchCase;
  const [budgetsOff, budgetsOn, bareOff, bareOn] = inChild('budgets') as [
    BenchCase,
    BenchCase,
    BenchCase,
    BenchCase,
  ];
  const scale = inChild('scale') as {
    small: BenchCase;
    large: BenchCase;
    cold: BenchCase;
    memory: Record<string, number>;
  };
  console.log('view memory', scale.memory);
  const http = await httpCase();

  const cases: BenchCase[] = [
    vigie,
    closure,
    cedarCase,
    casbin,
    budgetsOff,
    budgetsOn,
    bareOff,
    bareOn,
    scale.small,
    scale.large,
    scale.cold,
    http,
  ];
  const ratios: BenchRatio[] = [
    ratio('P1', 'vigie ÷ cedar-wasm in-process throughput', vigie.opsPerSec / cedarCase.opsPerSec, '>= 20'),
    ratio(
      'P2',
      'cedar-wasm p99 ÷ vigie p99 (vigie p99 ≤ 1/20 of cedar)',
      cedarCase.p99us / vigie.p99us,
      '>= 20',
    ),
    ratio(
      'P3',
      'cost per decision: vigie ÷ hand-written closure',
      closure.opsPerSec / vigie.opsPerSec,
      '<= 25',
    ),
    ratio(
      'P4',
      'p50 at 1.6 M people + 100 k relations ÷ p50 at 1 k',
      scale.large.p50us / scale.small.p50us,
      '<= 2',
    ),
    ratio(
      'P5',
      'cost per recorded decision (decide + event): budgets on ÷ off',
      budgetsOff.opsPerSec / budgetsOn.opsPerSec,
      '<= 1.2',
    ),
  ];
  writeResults('pdp', cases, ratios, {
    viewMemory: scale.memory,
    vigieOverCasbinThroughput: Math.round((vigie.opsPerSec / casbin.opsPerSec) * 10) / 10,
    bareDecideBudgetsOnOverOff: Math.round((bareOff.opsPerSec / bareOn.opsPerSec) * 100) / 100,
    coldOver1kP50: Math.round((scale.cold.p50us / scale.small.p50us) * 100) / 100,
  });
}

const engineAt = process.argv.indexOf('--engine');
if (engineAt > 0) {
  const result = await engineWorker(process.argv[engineAt + 1]!);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}
