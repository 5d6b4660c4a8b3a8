/**
 * Bench suite `http` (issue 9): AuthZEN decisions over HTTP against the framework's own ceiling.
 *
 * H1 /access/v1/evaluation decisions/s ÷ a bare Fastify route answering a body of the same size
 *    (same requests, 64 keep-alive connections, autocannon);
 * H2 p99 of both at half of the bare route's maximum rate;
 * H3 decisions/s through /access/v1/evaluations (boxcars of 100) ÷ in-process recorded decisions/s
 *    (AccessService.evaluate: decide, budgets, the event queued and committed by the recorder);
 * H4 evaluation rate with 2,000 ingested events/s beside it ÷ without;
 * H5 H1 with Vigie on PostgreSQL.
 *
 * Every server runs in a child process of its own, on 127.0.0.1, and the load generator in another
 * (autocannon must not share the server's event loop). Vigie runs whole (journal integrator,
 * detection, event tail), on a seeded world: structures, agents holding `agent` there, people
 * followed by structures or in an agent's own caseload; the request mix holds allows and denies,
 * checked against the expected decision before anything is timed.
 *
 * Settings: BENCH_HTTP_SECONDS (10) per case, BENCH_HTTP_WARMUP (2), BENCH_HTTP_PG_URL (default
 * VIGIE_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres), BENCH_HTTP_PG=0 skips H5,
 * BENCH_HTTP_CPU_PROF=<dir> profiles the Vigie servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Container } from '../src/container.js';
import type { Db } from '../src/db/database.js';
import type { AccessService } from '../src/modules/access/access.service.js';
import type { DecisionRequest } from '../src/modules/access/pdp.js';
import { ratio, writeResults, type BenchCase, type BenchRatio } from './report.js';

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_HTTP_WARMUP ?? 2);
const CONNECTIONS = 64;
const BOXCAR = 100;
const BOXCAR_CONNECTIONS = 16;
const INGEST_EVENTS_PER_S = 2000;
const INGEST_BATCH = 100;
const PG_URL =
  process.env.BENCH_HTTP_PG_URL ??
  process.env.VIGIE_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

const WORLD = { structures: 100, agentsPerStructure: 20, peoplePerStructure: 200, caseloadEvery: 16 };
const T0 = '2026-01-01T00:00:00.000Z';
const ALLOW_BODY = '{"decision":true}';
const DENY_BODY = '{"decision":false,"context":{"reasons":["not_in_caseload"]}}';

interface Probe {
  readonly body: string;
  readonly expect: boolean;
}

/** What a Vigie server child announces once seeded and listening. */
interface ServerInfo {
  readonly url: string;
  readonly token: string;
  readonly ingestToken: string;
  readonly mix: Probe[];
  readonly agents: Array<{ id: string; organisationId: string }>;
}

interface LoadSpec {
  readonly url: string;
  readonly token?: string;
  readonly bodies: string[];
  readonly connections: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly rate?: number;
  /**
   * 503 DECISION_JOURNAL_UNAVAILABLE is tolerated (past 100 k unjournaled decisions the PDP refuses
   * to decide; boxcars wait for the journal from 20 k on, so it should not happen). Only answered
   * decisions count.
   */
  readonly shedding?: boolean;
  readonly ingest?: {
    readonly url: string;
    readonly token: string;
    readonly agents: ServerInfo['agents'];
    readonly eventsPerSecond: number;
  };
}

/** What a Vigie server says after a run: its journal's drain time, its threads' utilisation. */
interface Drained {
  readonly drainMs: number;
  readonly mainElu: number;
  readonly writerElu?: number;
  readonly mainCpuUsPerDecision: number;
  readonly otherCpuUsPerDecision: number;
}

interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
  total: number;
  servedRps?: number;
  journalDrainMs?: number;
  mainElu?: number;
  writerElu?: number;
  mainCpuUsPerDecision?: number;
  otherCpuUsPerDecision?: number;
  statusCodes?: Record<string, { count: number }>;
  ingest?: { accepted: number; refused429: number; failed: number; eventsPerSecond: number; p99ms: number };
}

// ---------------------------------------------------------------------------------------------
// The world: seeded with bulk inserts in a few transactions (the factories' row shapes).

async function seedWorld(db: Db) {
  const { seedBuiltinRoles, issueToken } = await import('../test/helpers/factories.js');
  const { uuidv7 } = await import('../src/shared/ids.js');
  const id = () => uuidv7(Date.now(), randomBytes(10));
  await seedBuiltinRoles(db);
  const org = (parent: { id: string; path: string; depth: number } | null, kind: string, name: string) => {
    const oid = id();
    return {
      id: oid,
      parent_id: parent?.id ?? null,
      path: `${parent?.path ?? '/'}${oid}/`,
      depth: parent ? parent.depth + 1 : 0,
      name,
      kind,
      siret: null,
      status: 'active',
      contract_end_date: null,
      created_at: T0,
      updated_at: T0,
    };
  };
  const operator = org(null, 'operator', 'France Travail');
  const network = org(operator, 'network', 'Réseau des Missions Locales');
  const structures = Array.from({ length: WORLD.structures }, (_, i) =>
    org(network, 'mission_locale', `Mission Locale ${i}`),
  );
  const accounts = structures.flatMap((s, si) =>
    Array.from({ length: WORLD.agentsPerStructure }, (_, ai) => ({
      id: id(),
      organisation_id: s.id,
      kind: 'human',
      email: `agent-${si}-${ai}@ml.example`,
      display_name: null,
      status: 'active',
      created_by: null,
      approved_by: null,
      approved_at: null,
      creation_channel: 'import',
      status_reason: null,
      status_changed_at: T0,
      mfa_strength: null,
      last_seen_at: null,
      created_at: T0,
      updated_at: T0,
    })),
  );
  const assignments = accounts.map((a) => ({
    id: id(),
    account_id: a.id,
    role_id: 'agent',
    organisation_id: a.organisation_id,
    status: 'active',
    granted_by: null,
    granted_at: T0,
    approved_by: null,
    approved_at: T0,
    expires_at: null,
    revoked_by: null,
    revoked_at: null,
  }));
  const people = structures.flatMap((_, si) =>
    Array.from({ length: WORLD.peoplePerStructure }, (_, pi) => ({
      id: `DE-${String(si).padStart(3, '0')}-${String(pi).padStart(5, '0')}`,
      kind: 'job_seeker',
      decoy: 0,
      sealed: 0,
      created_at: T0,
    })),
  );
  const follow = (subjectId: string, organisationId: string, accountId: string | null) => ({
    id: id(),
    subject_id: subjectId,
    organisation_id: organisationId,
    account_id: accountId,
    relation: 'follows',
    since: T0,
    until: null,
    created_at: T0,
  });
  const follows = people.map((p, i) =>
    follow(p.id, structures[Math.floor(i / WORLD.peoplePerStructure)]!.id, null),
  );
  // One person in `caseloadEvery` is also in the own caseload of an agent of the next structure.
  const caseload = new Map<string, string>();
  people.forEach((p, i) => {
    if (i % WORLD.caseloadEvery !== 0) return;
    const si = (Math.floor(i / WORLD.peoplePerStructure) + 1) % WORLD.structures;
    const agent = accounts[si * WORLD.agentsPerStructure + (i % WORLD.agentsPerStructure)]!;
    caseload.set(p.id, agent.id);
    follows.push(follow(p.id, agent.organisation_id, agent.id));
  });
  const chunks = async <T>(table: string, rows: T[]) => {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 400)
        await trx
          .insertInto(table as 'organisations')
          .values(rows.slice(i, i + 400) as never)
          .execute();
    });
  };
  await chunks('organisations', [operator, network, ...structures]);
  await chunks('accounts', accounts);
  await chunks('role_assignments', assignments);
  await chunks('data_subjects', people);
  await chunks('follows', follows);
  const app = (scopes: string[], name: string) => ({
    id: id(),
    organisation_id: operator.id,
    name,
    kind: 'business',
    status: 'active',
    scopes: JSON.stringify(scopes),
    created_by: null,
    created_at: T0,
    updated_at: T0,
  });
  const pdpApp = app(['pdp.evaluate'], 'Dossier DE');
  const ingestApp = app(['event.ingest'], 'Portail agents');
  await chunks('applications', [pdpApp, ingestApp]);

  // 1,024 requests: 70 % reads of people the agent's structure follows (allow), 10 % of people in the
  // agent's own caseload but followed by another structure (allow), 20 % of another structure's
  // people (deny not_in_caseload). A few say how the agent signed in.
  const mix: Probe[] = [];
  for (let i = 0; i < 1024; i++) {
    const agent = accounts[(i * 7919) % accounts.length]!;
    const si = Math.floor(accounts.indexOf(agent) / WORLD.agentsPerStructure);
    const kind = i % 10;
    let personIndex: number;
    let expect: boolean;
    if (kind < 7) {
      personIndex = si * WORLD.peoplePerStructure + ((i * 31) % WORLD.peoplePerStructure);
      expect = true;
    } else if (kind === 7) {
      const own = [...caseload].find(([, a]) => a === agent.id);
      if (own) {
        personIndex = people.findIndex((p) => p.id === own[0]);
        expect = true;
      } else {
        personIndex = si * WORLD.peoplePerStructure + ((i * 17) % WORLD.peoplePerStructure);
        expect = true;
      }
    } else {
      const other = (si + 1 + (i % (WORLD.structures - 2))) % WORLD.structures;
      personIndex = other * WORLD.peoplePerStructure + ((i * 13) % WORLD.peoplePerStructure);
      expect = caseload.get(people[personIndex]!.id) === agent.id;
    }
    const request = {
      subject: { type: 'account', id: agent.id },
      action: { name: 'read' },
      resource: { type: 'record', id: people[personIndex]!.id },
      ...(i % 4 === 0 ? { context: { auth_level: 'phishing_resistant' } } : {}),
    };
    mix.push({ body: JSON.stringify(request), expect });
  }
  return {
    mix,
    agents: accounts.map((a) => ({ id: a.id, organisationId: a.organisation_id })),
    pdpApp,
    token: await issueToken(db, 'application', pdpApp.id),
    ingestToken: await issueToken(db, 'application', ingestApp.id),
  };
}

/**
 * The shipped rules, less `vigie.partner-app-beyond-population`: it freezes any calling application
 * after 25 denials in ten minutes, partner or not, so the business application of this world (2,000
 * agents, one request in five refused as out of caseload) would be frozen within a second and the
 * bench would time `budget_frozen` denials. Every other rule runs on every decision event.
 */
function benchRules(dataDir: string): string {
  const source = path.join(import.meta.dirname, '../rules');
  const target = path.join(dataDir, 'rules');
  fs.cpSync(source, target, { recursive: true });
  const file = path.join(target, 'partner-applications.yaml');
  const docs = fs.readFileSync(file, 'utf8').split(/^---$/m);
  const kept = docs.filter((d) => !/^id: vigie\.partner-app-beyond-population$/m.test(d));
  if (kept.length !== docs.length - 1) throw new Error('the rule the bench leaves out was not found');
  fs.writeFileSync(file, kept.join('---'));
  return target;
}

async function openVigie(databaseUrl: string, dataDir: string) {
  const { parseConfig } = await import('../src/config.js');
  const { openRuntime } = await import('../src/runtime.js');
  const pino = (await import('pino')).default;
  const config = parseConfig({
    VIGIE_DATABASE_URL: databaseUrl,
    VIGIE_DATA_DIR: dataDir,
    VIGIE_POLICY_DIR: path.join(import.meta.dirname, '../policies'),
    VIGIE_RULES_DIR: benchRules(dataDir),
    VIGIE_LOG_LEVEL: 'warn',
  });
  const runtime = await openRuntime(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  const world = await seedWorld(runtime.database.db);
  return { runtime, world };
}

const accessOf = (container: Container): AccessService =>
  (container.modules.find((m) => m.name === 'access') as unknown as { service: AccessService }).service;

/**
 * Child: Vigie as `vigie serve` runs it, on a seeded world: log level info with its sampled access
 * log (every refusal, one in VIGIE_ACCESS_LOG_EVERY of the rest), written asynchronously like pino's
 * own destination, to /dev/null so that no pipe's reader paces the server.
 */
async function serveVigie(): Promise<void> {
  const { buildApp } = await import('../src/app.js');
  const pino = (await import('pino')).default;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-http-'));
  const url = process.env.BENCH_DB_URL ?? `sqlite:${path.join(dataDir, 'vigie.db')}`;
  const { runtime, world } = await openVigie(url, dataDir);
  const app = await buildApp(runtime.container, {
    logger: { level: 'info', stream: pino.destination({ dest: '/dev/null', sync: false }) },
  });
  await runtime.container.start();
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const info: ServerInfo = {
    url: address,
    token: world.token,
    ingestToken: world.ingestToken,
    mix: world.mix,
    agents: world.agents,
  };
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
  // After a load run the orchestrator asks how long the journal took to catch up with the decisions.
  const access = accessOf(runtime.container);
  // Event-loop utilisation of the main thread and of the SQLite writer thread, from one drain to the
  // next (a load run, its warm-up and its drain): says whether a thread was busy or waiting.
  let mainMark = performance.eventLoopUtilization();
  let writerMark = runtime.database.writerUtilization?.();
  // CPU time per recorded decision, of the main thread and of all the others (the SQLite writer,
  // libuv, the GC's helpers): unlike rates, it barely moves when other work shares the machine.
  let decisions = 0;
  runtime.container.core.bus.subscribe((events) => {
    for (const e of events) if (e.kind === 'access.decision') decisions++;
  });
  const cpuNow = () => {
    const all = process.cpuUsage();
    const main = process.threadCpuUsage();
    return { main: main.user + main.system, all: all.user + all.system };
  };
  let cpuMark = cpuNow();
  process.on('message', (message) => {
    if (message !== 'drain') return;
    const started = performance.now();
    void access.flush().then(() => {
      const drainMs = performance.now() - started;
      const main = performance.eventLoopUtilization(mainMark);
      mainMark = performance.eventLoopUtilization();
      const writerNow = runtime.database.writerUtilization?.();
      const writer =
        writerNow && writerMark ? performance.eventLoopUtilization(writerNow, writerMark) : undefined;
      writerMark = writerNow;
      const cpu = cpuNow();
      const perDecision = (us: number) => (decisions > 0 ? Math.round((us / decisions) * 10) / 10 : 0);
      const mainCpuUs = perDecision(cpu.main - cpuMark.main);
      const otherCpuUs = perDecision(cpu.all - cpu.main - (cpuMark.all - cpuMark.main));
      cpuMark = cpu;
      decisions = 0;
      process.send?.({
        mainCpuUsPerDecision: mainCpuUs,
        otherCpuUsPerDecision: otherCpuUs,
        drainMs,
        mainElu: Math.round(main.utilization * 1000) / 1000,
        ...(writer ? { writerElu: Math.round(writer.utilization * 1000) / 1000 } : {}),
      });
    });
  });
  process.once('SIGTERM', () => {
    void (async () => {
      await app.close();
      await runtime.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

/** Child: the reference, a bare Fastify route reading the same JSON body and answering `size` bytes. */
async function serveBare(): Promise<void> {
  const Fastify = (await import('fastify')).default;
  const size = Number(process.env.BENCH_BODY_SIZE);
  const pad = Math.max(0, size - '{"decision":true,"p":""}'.length);
  const answer = `{"decision":true,"p":"${'x'.repeat(pad)}"}`;
  const app = Fastify({ logger: false });
  app.post('/access/v1/evaluation', (_request, reply) => {
    void reply.type('application/json').send(answer);
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`READY ${JSON.stringify({ url: address, size: answer.length })}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

/** Child: in-process recorded decisions/s, the denominator of H3 (no HTTP). */
async function inProcess(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-http-'));
  const { runtime, world } = await openVigie(`sqlite:${path.join(dataDir, 'vigie.db')}`, dataDir);
  await runtime.container.start();
  const access = { service: accessOf(runtime.container) };
  const requests = world.mix.map((p) => ({
    ...(JSON.parse(p.body) as object),
    callerId: world.pdpApp.id,
  })) as unknown as DecisionRequest[];
  const run = async (seconds: number) => {
    let n = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    while (performance.now() < end) {
      // A thousand at a time, then the event loop turns: the recorder's batches go to the writer.
      let i = 0;
      try {
        for (; i < 1000; i++) access.service.evaluate(requests[(n + i) & 1023]!);
      } catch {
        // DECISION_JOURNAL_UNAVAILABLE: deciding outran recording; the sustained rate waits for it.
        n += i;
        await access.service.flush();
        continue;
      }
      n += 1000;
      await new Promise((r) => setImmediate(r));
    }
    await access.service.flush();
    return (n * 1000) / (performance.now() - started);
  };
  await run(WARMUP);
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  let decisions = 0;
  runtime.container.core.bus.subscribe((events) => {
    for (const e of events) if (e.kind === 'access.decision') decisions++;
  });
  const opsPerSec = await run(SECONDS);
  const cpu = process.cpuUsage(cpu0);
  const main = process.threadCpuUsage(main0);
  const mainUs = main.user + main.system;
  await runtime.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  const perDecision = (us: number) => Math.round((us / Math.max(1, decisions)) * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({
      opsPerSec,
      mainCpuUsPerDecision: perDecision(mainUs),
      otherCpuUsPerDecision: perDecision(cpu.user + cpu.system - mainUs),
    })}\n`,
  );
}

/** Child: the load generator (autocannon), and the ingestion sender for H4. */
async function load(): Promise<void> {
  const { default: autocannon } = await import('autocannon');
  const spec = JSON.parse(fs.readFileSync(process.env.BENCH_LOAD_SPEC!, 'utf8')) as LoadSpec;
  const options = {
    url: spec.url,
    connections: spec.connections,
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      ...(spec.token ? { authorization: `Bearer ${spec.token}` } : {}),
    },
    requests: spec.bodies.map((body) => ({ method: 'POST' as const, body })),
    ...(spec.rate ? { overallRate: spec.rate } : {}),
  };
  if (spec.warmup > 0) await autocannon({ ...options, duration: spec.warmup });
  const ingesting = spec.ingest ? ingest(spec.ingest, spec.seconds) : undefined;
  const r = await autocannon({ ...options, duration: spec.seconds });
  const out: LoadResult = {
    rps: r.requests.average,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    total: r.requests.total,
    statusCodes: r.statusCodeStats as unknown as Record<string, { count: number }>,
    ...(ingesting ? { ingest: await ingesting } : {}),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Sends OCSF authentication events at a fixed rate, in batches, for `seconds`; counts what got in. */
async function ingest(spec: NonNullable<LoadSpec['ingest']>, seconds: number) {
  const run = randomBytes(4).toString('hex');
  const perSecond = spec.eventsPerSecond / INGEST_BATCH;
  let sent = 0;
  let accepted = 0;
  let refused429 = 0;
  let failed = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * perSecond) + 1;
    while (sent < due) {
      const batch = sent++;
      const now = new Date().toISOString();
      const events = Array.from({ length: INGEST_BATCH }, (_, i) => {
        const agent = spec.agents[(batch * INGEST_BATCH + i) % spec.agents.length]!;
        return {
          class_uid: 3002,
          activity_id: 1,
          time: now,
          status_id: i % 20 === 0 ? 2 : 1,
          metadata: { uid: `${run}-${batch}-${i}` },
          user: { uid: agent.id, org: { uid: agent.organisationId } },
          src_endpoint: { ip: `90.0.${batch % 250}.${(i % 250) + 1}` },
        };
      });
      const t = performance.now();
      const p = fetch(spec.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${spec.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      })
        .then(async (res) => {
          await res.arrayBuffer();
          latencies.push(performance.now() - t);
          if (res.status === 200) accepted += INGEST_BATCH;
          else if (res.status === 429) refused429++;
          else failed++;
        })
        .catch(() => {
          failed++;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  return {
    accepted,
    refused429,
    failed,
    eventsPerSecond: accepted / elapsed,
    p99ms: latencies[Math.max(0, Math.ceil(latencies.length * 0.99) - 1)] ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function child(mode: string, env: Record<string, string> = {}): ChildProcess {
  // BENCH_HTTP_CPU_PROF=<dir>: a CPU profile of each Vigie server, written when it stops.
  const profile = process.env.BENCH_HTTP_CPU_PROF;
  const flags = profile && mode === '--serve-vigie' ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
  const proc = spawn(process.execPath, [...flags, '--import', 'tsx', import.meta.filename, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

async function startServer<T>(mode: string, env: Record<string, string> = {}) {
  const proc = child(mode, env);
  const lines = readline.createInterface({ input: proc.stdout! });
  const info = await new Promise<T>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${mode} exited (${code}) before it was ready`)));
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)) as T);
    });
  });
  return {
    info,
    /** Milliseconds the server's journal still needed, once the load stopped, to commit every decision. */
    drain: () =>
      new Promise<Drained>((resolve) => {
        proc.once('message', (m) => resolve(m as Drained));
        proc.send('drain');
      }),
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

async function runChild<T>(mode: string, env: Record<string, string> = {}): Promise<T> {
  const proc = child(mode, env);
  let stdout = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`${mode} failed (${code})`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

async function loadRun(spec: LoadSpec): Promise<LoadResult> {
  const file = path.join(os.tmpdir(), `vigie-bench-load-${randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(file, JSON.stringify(spec));
  try {
    const r = await runChild<LoadResult>('--load', { BENCH_LOAD_SPEC: file });
    console.error(
      `  ${spec.url} ${spec.rate ? `at ${spec.rate}/s ` : ''}→ ${Math.round(r.rps)} req/s, p99 ${r.p99ms} ms`,
    );
    const shed = spec.shedding ? (r.statusCodes?.['503']?.count ?? 0) : 0;
    if (r.errors > 0 || r.non2xx > shed)
      throw new Error(
        `load run had ${r.errors} errors, ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodes)})`,
      );
    return r;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Every request of the mix gets the decision the world says it must, before anything is timed. */
async function checkMix(info: ServerInfo): Promise<{ allows: number; denies: number }> {
  let allows = 0;
  for (const probe of info.mix) {
    const res = await fetch(`${info.url}/access/v1/evaluation`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: probe.body,
    });
    const answer = (await res.json()) as { decision?: boolean };
    if (res.status !== 200 || answer.decision !== probe.expect)
      throw new Error(`unexpected answer ${res.status} ${JSON.stringify(answer)} to ${probe.body}`);
    if (answer.decision) allows++;
  }
  return { allows, denies: info.mix.length - allows };
}

/**
 * A load run against Vigie, then the time its journal still needed to commit every decision: the
 * rate reported is the sustained one (requests ÷ (duration + drain)), the served one is kept too.
 */
async function vigieRun(server: { drain(): Promise<Drained> }, spec: LoadSpec): Promise<LoadResult> {
  const r = await loadRun(spec);
  const { drainMs, mainElu, writerElu, mainCpuUsPerDecision, otherCpuUsPerDecision } = await server.drain();
  const answered = r.total - (r.statusCodes?.['503']?.count ?? 0);
  return {
    ...r,
    rps: answered / (spec.seconds + drainMs / 1000),
    servedRps: r.rps,
    journalDrainMs: drainMs,
    mainElu,
    ...(writerElu !== undefined ? { writerElu } : {}),
    mainCpuUsPerDecision,
    otherCpuUsPerDecision,
  };
}

const asCase = (name: string, r: LoadResult, extra: Record<string, unknown> = {}): BenchCase => ({
  name,
  opsPerSec: Math.round(r.rps),
  p50us: r.p50ms * 1000,
  p99us: r.p99ms * 1000,
  requests: r.total,
  ...(r.servedRps !== undefined
    ? {
        servedRequestsPerSec: Math.round(r.servedRps),
        journalDrainMs: Math.round(r.journalDrainMs ?? 0),
        mainElu: r.mainElu,
        ...(r.writerElu !== undefined ? { writerElu: r.writerElu } : {}),
        mainCpuUsPerDecision: r.mainCpuUsPerDecision,
        otherCpuUsPerDecision: r.otherCpuUsPerDecision,
      }
    : {}),
  ...extra,
});

async function main(): Promise<void> {
  const cases: BenchCase[] = [];
  const bodies = (info: ServerInfo) => info.mix.map((p) => p.body);
  const common = { connections: CONNECTIONS, seconds: SECONDS, warmup: WARMUP };

  // Vigie on SQLite first: the mix is checked, and its answers give the bare route's body size.
  const vigie = await startServer<ServerInfo>('--serve-vigie');
  const mixShape = await checkMix(vigie.info);
  const meanSize = Math.round(
    (mixShape.allows * ALLOW_BODY.length + mixShape.denies * DENY_BODY.length) / vigie.info.mix.length,
  );
  const evalUrl = `${vigie.info.url}/access/v1/evaluation`;

  const bare = await startServer<{ url: string; size: number }>('--serve-bare', {
    BENCH_BODY_SIZE: String(meanSize),
  });
  const bareUrl = `${bare.info.url}/access/v1/evaluation`;
  const bareMax = await loadRun({ ...common, url: bareUrl, bodies: bodies(vigie.info) });
  const halfRate = Math.max(1, Math.round(bareMax.rps / 2));
  const bareAtHalf = await loadRun({ ...common, url: bareUrl, bodies: bodies(vigie.info), rate: halfRate });
  await bare.stop();
  cases.push(asCase('bare-fastify-64-connections', bareMax, { bodyBytes: bare.info.size }));
  cases.push(asCase(`bare-fastify-at-${halfRate}-rps`, bareAtHalf));

  const vigieMax = await vigieRun(vigie, {
    ...common,
    url: evalUrl,
    token: vigie.info.token,
    bodies: bodies(vigie.info),
  });
  cases.push(asCase('vigie-sqlite-evaluation-64-connections', vigieMax, mixShape));
  const vigieAtHalf = await vigieRun(vigie, {
    ...common,
    url: evalUrl,
    token: vigie.info.token,
    bodies: bodies(vigie.info),
    rate: halfRate,
  });
  cases.push(asCase(`vigie-sqlite-evaluation-at-${halfRate}-rps`, vigieAtHalf));

  const boxcars = Array.from({ length: 16 }, (_, b) =>
    JSON.stringify({
      evaluations: Array.from({ length: BOXCAR }, (_, i) => {
        const r = JSON.parse(vigie.info.mix[(b * BOXCAR + i) % vigie.info.mix.length]!.body) as object;
        return r;
      }),
    }),
  );
  const boxed = await vigieRun(vigie, {
    ...common,
    connections: BOXCAR_CONNECTIONS,
    shedding: true,
    url: `${vigie.info.url}/access/v1/evaluations`,
    token: vigie.info.token,
    bodies: boxcars,
  });
  cases.push({
    ...asCase(`vigie-sqlite-evaluations-boxcar-${BOXCAR}-${BOXCAR_CONNECTIONS}-connections`, boxed),
    opsPerSec: Math.round(boxed.rps * BOXCAR),
    requestsPerSec: Math.round(boxed.rps),
    refused503: boxed.statusCodes?.['503']?.count ?? 0,
  });

  // H4: the same load without, then with, ingestion beside it (back to back, same server).
  const without = await vigieRun(vigie, {
    ...common,
    url: evalUrl,
    token: vigie.info.token,
    bodies: bodies(vigie.info),
  });
  const withIngest = await vigieRun(vigie, {
    ...common,
    url: evalUrl,
    token: vigie.info.token,
    bodies: bodies(vigie.info),
    ingest: {
      url: `${vigie.info.url}/api/v1/events`,
      token: vigie.info.ingestToken,
      agents: vigie.info.agents,
      eventsPerSecond: INGEST_EVENTS_PER_S,
    },
  });
  await vigie.stop();
  cases.push(asCase('vigie-sqlite-evaluation-no-ingestion', without));
  cases.push(
    asCase(`vigie-sqlite-evaluation-with-${INGEST_EVENTS_PER_S}-events-per-s`, withIngest, withIngest.ingest),
  );

  const inproc = await runChild<{
    opsPerSec: number;
    mainCpuUsPerDecision: number;
    otherCpuUsPerDecision: number;
  }>('--inprocess');
  cases.push({
    name: 'vigie-inprocess-recorded-decisions',
    opsPerSec: Math.round(inproc.opsPerSec),
    p50us: 0,
    p99us: 0,
    mainCpuUsPerDecision: inproc.mainCpuUsPerDecision,
    otherCpuUsPerDecision: inproc.otherCpuUsPerDecision,
  });

  const ratios: BenchRatio[] = [
    ratio(
      'H1',
      'evaluation ÷ bare Fastify route, decisions/s at 64 connections',
      vigieMax.rps / bareMax.rps,
      '>= 0.6',
    ),
    ratio(
      'H2',
      `evaluation p99 ÷ bare route p99, both at ${halfRate} requests/s`,
      vigieAtHalf.p99ms / Math.max(bareAtHalf.p99ms, 0.001),
      '<= 3',
    ),
    ratio(
      'H3',
      `evaluations (boxcars of ${BOXCAR}) ÷ in-process recorded, decisions/s`,
      (boxed.rps * BOXCAR) / inproc.opsPerSec,
      '>= 0.5',
    ),
    ratio(
      'H4',
      `evaluation rate with ${INGEST_EVENTS_PER_S} ingested events/s beside it ÷ without`,
      withIngest.rps / without.rps,
      '>= 0.8',
    ),
  ];

  if (process.env.BENCH_HTTP_PG !== '0') {
    const pg = (await import('pg')).default;
    const schema = `bench_http_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    try {
      const u = new URL(PG_URL);
      u.searchParams.set('options', `-c search_path=${schema}`);
      const onPg = await startServer<ServerInfo>('--serve-vigie', { BENCH_DB_URL: u.toString() });
      await checkMix(onPg.info);
      const pgMax = await vigieRun(onPg, {
        ...common,
        url: `${onPg.info.url}/access/v1/evaluation`,
        token: onPg.info.token,
        bodies: bodies(onPg.info),
      });
      await onPg.stop();
      cases.push(asCase('vigie-postgres-evaluation-64-connections', pgMax));
      ratios.push(
        ratio(
          'H5',
          'evaluation on PostgreSQL ÷ bare Fastify route, decisions/s at 64 connections',
          pgMax.rps / bareMax.rps,
          '>= 0.5',
        ),
      );
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  }

  writeResults('http', cases, ratios, {
    settings: {
      seconds: SECONDS,
      warmup: WARMUP,
      connections: CONNECTIONS,
      world: WORLD,
      cpus: os.cpus().length,
    },
    loadAverage: os.loadavg(),
  });
}

const mode = process.argv[2];
if (mode === '--serve-vigie') await serveVigie();
else if (mode === '--serve-bare') await serveBare();
else if (mode === '--inprocess') await inProcess();
else if (mode === '--load') await load();
else
  await main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
