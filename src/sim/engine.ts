import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Attacker, type AttackOutcome } from './attacker.js';
import { evaluateAll, type Evaluation } from './business-apps.js';
import { mapLimit, VigieClient, type Caller } from './client.js';
import { startVigie, type HostIdentity, type VigieHost } from './host.js';
import { progressBar } from './progress.js';
import { importRolesAndFollows, provisionWorld, type AppHandle, type Provisioned } from './provision.js';
import { Random } from './random.js';
import type { Scenario } from './scenario.js';
import { actWithStepUp, sessionAlive, signInWithPasskey } from './sessions.js';
import { generateWorld, type Staff, type World } from './world.js';

/**
 * One run of the simulator: a fresh Vigie, the world loaded into it, days of normal work with the
 * scenarios' attackers among it, and every answer Vigie gave counted. The same options with
 * `protect: false` replay the same world against a Vigie that allows everything.
 */
export interface RunOptions {
  readonly seed: number;
  readonly scale: number;
  /** Calendar days replayed, from Monday 1 September 2025 (the back-to-school peak). */
  readonly days: number;
  /** Share of advisors who sign in through Vigie with a passkey each day (managers and approvers always do). */
  readonly panelShare: number;
  readonly protect: boolean;
  readonly scenarios: readonly Scenario[];
  readonly packageRoot: string;
  readonly workDir?: string;
  /** Skip normal work (the unprotected run: nothing the defenders do changes what an allow-all Vigie lets out). */
  readonly attacksOnly?: boolean;
  /** Keep Vigie serving after the run (the demo); the caller closes it. */
  readonly keepServing?: boolean;
  readonly port?: number;
  /**
   * The world already built and loaded into a stopped Vigie (prepareWorld): the run starts Vigie
   * over a copy of that data directory instead of provisioning its own. Without it, the run
   * prepares its world itself.
   */
  readonly prepared?: PreparedWorld;
  /** Move the prepared data directory instead of copying it (the last run that needs it). */
  readonly takeOver?: boolean;
  /** Called once Vigie serves, before the replay starts (a browser test opens the console there). */
  readonly onStarted?: (host: VigieHost) => Promise<void>;
}

/** A world loaded into Vigie once, for every run that replays it (protected and unprotected). */
export interface PreparedWorld {
  readonly world: World;
  readonly apps: Provisioned;
  /** The stopped Vigie's data directory. */
  readonly dataDir: string;
  readonly identity: HostIdentity;
  /** Vigie's clock when provisioning ended (the runs start there). */
  readonly clockAt: number;
  /** Wall seconds of each step: world generation, provisioning through the API, the offline import. */
  readonly phases: Record<string, number>;
  readonly seconds: number;
}

export interface AlertSeen {
  readonly id: string;
  readonly ruleId: string;
  readonly entity: { type: string; id: string };
  readonly createdAt: string;
  readonly occurrences: number;
}

export interface RunResult {
  readonly protect: boolean;
  readonly world: { structures: number; staff: number; people: number; followRelations: number };
  /** Who signs in through Vigie daily (sampled), and managers or approvers enrolled when first needed. */
  readonly panel: { people: number; structures: number; enrolledOnNeed: number };
  readonly outcomes: AttackOutcome[];
  readonly alerts: AlertSeen[];
  readonly honest: {
    requests: number;
    denied: number;
    deniedByReason: Record<string, number>;
    agentDays: number;
    decisions: number;
    signIns: number;
    newHires: number;
    departures: number;
  };
  readonly decisions: number;
  readonly replaySeconds: number;
  readonly wallSeconds: { provision: number; replay: number };
  /** Wall seconds by phase: provisioning steps, then the replay's honest work, management, attackers, waits. */
  readonly phases: Record<string, number>;
  readonly host?: VigieHost;
  readonly startedAt: number;
}

import {
  DAY,
  MINUTE,
  WORK_START,
  dayStart,
  placeOf,
  planDay,
  planManagement,
  type Managed,
  type Planned,
} from './plan.js';
import { manage } from './management.js';
import { enrolOne, enrolPanel, type PanelMember } from './panel.js';

const SESSION_CHECK_CACHE_MS = 5 * MINUTE;
/** Step while an attacker's situation changes (seconds to detect and contain are measured to it). */
export const FINE_TICK = 10_000;
/** Step of honest work when no attacker is about to act. */
export const HONEST_TICK = 5 * MINUTE;
const SETTLE_EVERY = 30 * MINUTE;

const tenths = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Builds the world and loads it into a fresh Vigie (shipped configuration) the way an operator
 * would, then stops it: organisations and accounts imported, privileged roles granted (four-eyes)
 * and applications registered over the HTTP API, the advisor role and the follow relations imported
 * with the server stopped. Each run
 * then starts Vigie again over its own copy of that data directory, with its own policy and rules.
 */
export async function prepareWorld(options: {
  readonly seed: number;
  readonly scale: number;
  readonly days: number;
  readonly packageRoot: string;
  readonly workDir: string;
}): Promise<PreparedWorld> {
  const started = Date.now();
  let mark = started;
  const phases: Record<string, number> = {};
  const lap = (name: string) => {
    phases[name] = tenths(Date.now() - mark);
    mark = Date.now();
  };
  const world = generateWorld({
    seed: options.seed,
    scale: options.scale,
    workDays: Math.ceil((options.days * 5) / 7),
  });
  lap('generate the world');
  const hostOptions = {
    dataDir: path.join(options.workDir, 'world'),
    protect: true,
    start: new Date(WORK_START - 30 * DAY + 8 * 3_600_000),
    packageRoot: options.packageRoot,
  };
  const host = await startVigie(hostOptions);
  lap('start Vigie');
  let apps: Provisioned;
  let clockAt: number;
  try {
    const client = new VigieClient(host.baseUrl, host.origin);
    apps = await provisionWorld(host, client, world, options.workDir);
    client.close();
    Object.assign(phases, apps.phases);
    clockAt = host.clock.now().getTime();
  } finally {
    await host.close();
  }
  Object.assign(
    phases,
    await importRolesAndFollows({ ...hostOptions, start: new Date(clockAt) }, world, options.workDir),
  );
  return {
    world,
    apps,
    dataDir: hostOptions.dataDir,
    identity: {
      operatorToken: host.operatorToken,
      secondOperatorToken: host.secondOperatorToken,
      operatorOrganisationId: host.operatorOrganisationId,
    },
    clockAt,
    phases,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The world as a run may change it (new hires join structures): its own lists, the same people. */
function forkWorld(world: World): World {
  return {
    ...world,
    staff: world.staff.slice(),
    structures: world.structures.map((s) => ({ ...s, staff: s.staff.slice() })),
  };
}

export async function runSimulation(options: RunOptions): Promise<RunResult> {
  const wallStart = Date.now();
  const workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-sim-'));
  fs.mkdirSync(workDir, { recursive: true });
  const prepared = options.prepared ?? (await prepareWorld({ ...options, workDir }));
  const copyStart = Date.now();
  const dataDir = path.join(workDir, options.protect ? 'protected' : 'unprotected');
  fs.rmSync(dataDir, { recursive: true, force: true });
  // Vigie is stopped: its data directory is copied whole, as a cold backup would be.
  if (options.takeOver ?? !options.prepared) fs.renameSync(prepared.dataDir, dataDir);
  else fs.cpSync(prepared.dataDir, dataDir, { recursive: true });
  const world = forkWorld(prepared.world);
  const apps = prepared.apps;
  const startStart = Date.now();
  const host = await startVigie({
    dataDir,
    protect: options.protect,
    start: new Date(prepared.clockAt),
    packageRoot: options.packageRoot,
    existing: prepared.identity,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const client = new VigieClient(host.baseUrl, host.origin);
  try {
    await options.onStarted?.(host);
    const provisionStart = Date.now();
    const panelStart = Date.now();
    const rnd = new Random(options.seed).fork('work');
    const { panel, structures: panelStructures } = await enrolPanel(host, client, world, options, rnd);
    const panelPeople = panel.size;
    const enrolStart = Date.now();
    const provisionSeconds = (Date.now() - wallStart) / 1000;
    const phases: Record<string, number> = {
      ...(options.prepared ? {} : prepared.phases),
      [(options.takeOver ?? !options.prepared)
        ? 'take the provisioned database'
        : 'copy the provisioned database']: tenths(startStart - copyStart),
      'start Vigie over it': tenths(provisionStart - startStart),
    };
    phases['enrol the daily panel’s passkeys'] = tenths(enrolStart - panelStart);
    const replayStart = Date.now();
    const result = await replay(host, client, world, apps, panel, options, rnd);
    const alerts = await collectAlerts(client, host);
    const followRelations = world.structures.reduce((n, s) => n + s.people.length, 0);
    return {
      protect: options.protect,
      world: {
        structures: world.structures.length,
        staff: world.staff.length,
        people: world.people.length,
        followRelations,
      },
      panel: { people: panelPeople, structures: panelStructures, enrolledOnNeed: result.enrolledOnNeed },
      outcomes: result.outcomes,
      alerts,
      honest: result.honest,
      decisions: result.decisions,
      replaySeconds: result.evaluateSeconds,
      wallSeconds: { provision: provisionSeconds, replay: (Date.now() - replayStart) / 1000 },
      phases: { ...phases, ...result.phases },
      ...(options.keepServing ? { host } : {}),
      startedAt: WORK_START,
    };
  } finally {
    client.close();
    if (!options.keepServing) await host.close();
  }
}

function appOf(world: World, apps: Provisioned, m: Staff): AppHandle {
  const s = world.structures[m.structure]!;
  if (s.kind === 'training_organisation') return apps.partnerApps.get(m.structure)!;
  return s.kind === 'mission_locale' ? apps.businessApps.missionsLocales : apps.businessApps.franceTravail;
}

async function replay(
  host: VigieHost,
  client: VigieClient,
  world: World,
  apps: Provisioned,
  panel: Map<number, PanelMember>,
  options: RunOptions,
  rnd: Random,
) {
  const honest = {
    requests: 0,
    denied: 0,
    deniedByReason: {} as Record<string, number>,
    agentDays: 0,
    decisions: 0,
    signIns: 0,
    newHires: 0,
    departures: 0,
  };
  const deny = (reason: string) => {
    honest.denied += 1;
    honest.deniedByReason[reason] = (honest.deniedByReason[reason] ?? 0) + 1;
  };
  const now = () => host.clock.now().getTime();
  const departed = new Set<number>();
  const places = new Map<number, { ip: string; laterIp?: string; moveAt?: number }>();
  let decisions = 0;
  let evaluateMs = 0;
  const spent = { windows: 0, settles: 0, honestMs: 0, manageMs: 0, attackMs: 0, settleMs: 0 };
  let lastSettle = -Infinity;

  const signIn = async (m: Staff, member: PanelMember) => {
    honest.requests += 1;
    honest.signIns += 1;
    const res = await signInWithPasskey(client, member.browser, member.passkey, m.email);
    if (res.status !== 200) deny(`sign_in:${res.code ?? res.status}`);
    else member.authTime = now();
    return res.status === 200;
  };
  /** A colleague's session, signed in when needed: for honest management and the talked-into approval. */
  let enrolledOnNeed = 0;
  const sessionOf = async (m: Staff): Promise<PanelMember | undefined> => {
    let member = panel.get(m.index);
    if (!member) {
      // Outside the daily panel: the person enrols a passkey now, the first time they must act.
      member = await enrolOne(host, client, world, m);
      if (!member) return undefined;
      panel.set(m.index, member);
      enrolledOnNeed += 1;
      return member;
    }
    if (!(await sessionAlive(client, member.browser)) && !(await signIn(m, member))) return undefined;
    return member;
  };

  const env = {
    client,
    world,
    apps,
    mail: host.mail,
    origin: host.origin,
    now,
    signsIn: (staff: number) => panel.has(staff),
    browserOf: (staff: number) => {
      const member = panel.get(staff);
      return member?.browser.cookie ? member.browser : undefined;
    },
    colleagueApprove: async (structure: number, accountId: string) => {
      const approver = world.structures[structure]!.staff.map((i) => world.staff[i]!).find(
        (m) => m.role === 'account_approver',
      );
      if (!approver) return { status: 404, code: 'NO_APPROVER' };
      const member = await sessionOf(approver);
      if (!member) return { status: 401, code: 'APPROVER_NOT_SIGNED_IN' };
      // The colleague confirms with their own passkey when Vigie asks for a step-up.
      const res = await actWithStepUp(
        client,
        member.browser,
        member.passkey,
        'POST',
        `/api/v1/accounts/${accountId}/approve`,
      );
      return { status: res.status, ...(res.code ? { code: res.code } : {}) };
    },
  };
  const attackers = options.scenarios.map((s, i) => {
    const [hh, mm] = s.start.time.split(':').map(Number) as [number, number];
    return new Attacker(s, env, dayStart(s.start.day) + (hh * 60 + mm) * MINUTE, options.seed + i);
  });

  const victims = new Set(attackers.flatMap((a) => a.victims));
  const totalMinutes = options.days * 24 * 60;
  const bar = progressBar(
    options.protect ? 'replay (protected)' : 'replay (unprotected)',
    totalMinutes,
    'sim-min',
  );
  let workDay = 0;
  for (let day = 0; day < options.days; day += 1) {
    const weekday = (day % 7) + 1; // 1 = Monday
    const working = weekday <= 5;
    const planned = working ? planDay(world, day, workDay, rnd, departed, panel) : [];
    // Without normal work, the attackers' victims still sign in and keep their sessions: what an
    // infostealer finds (nobody else's session is anything an attacker touches).
    const plan = options.attacksOnly
      ? planned.filter((p) => p.kind === 'presence' && victims.has(p.staff))
      : planned;
    if (working) {
      honest.agentDays += new Set(plan.filter((p) => p.kind !== 'presence').map((p) => p.staff)).size;
      places.clear();
      for (const m of world.staff) places.set(m.index, placeOf(world, m, day, rnd));
    }
    const management =
      working && !options.attacksOnly ? planManagement(world, day, workDay, rnd, departed) : [];
    let cursor = 0;
    let t = dayStart(day);
    const end = dayStart(day + 1);
    while (t < end) {
      // Fine steps only while an attacker is about to act and its situation is changing (that is
      // where seconds are measured); a minute while it reads steadily; coarse windows of honest
      // work otherwise (the clock is set per window, so honest reads carry its time).
      const attacking = attackers.some((a) => a.wakeAt < t + 2 * MINUTE);
      const tick = attacking
        ? attackers.some((a) => a.wakeAt < t + 2 * MINUTE && a.needsFineSteps(t))
          ? FINE_TICK
          : MINUTE
        : HONEST_TICK;
      const nextHonest = cursor < plan.length ? plan[cursor]!.at : Infinity;
      const nextManage = management.length > 0 ? management[0]!.at : Infinity;
      const nextAttack = Math.min(...attackers.map((a) => a.wakeAt));
      const next = Math.min(nextHonest, nextManage, nextAttack);
      if (next >= end) break;
      if (next > t) t = next - (next % tick);
      host.clock.set(new Date(t));
      const windowEnd = t + tick;
      // Honest work of this window, grouped by application.
      const batch: Planned[] = [];
      while (cursor < plan.length && plan[cursor]!.at < windowEnd) batch.push(plan[cursor++]!);
      spent.windows += 1;
      let mark = Date.now();
      if (batch.length > 0) {
        decisions += await runHonest(batch);
        evaluateMs += Date.now() - mark;
      }
      spent.honestMs += Date.now() - mark;
      mark = Date.now();
      while (management.length > 0 && management[0]!.at < windowEnd) await runManagement(management.shift()!);
      spent.manageMs += Date.now() - mark;
      mark = Date.now();
      let attacked = false;
      for (const a of attackers)
        if (a.wakeAt < windowEnd && a.wakeAt !== Infinity) {
          await a.step(tick);
          attacked = true;
        }
      spent.attackMs += Date.now() - mark;
      mark = Date.now();
      // Vigie's queues are waited on only when an attacker's next step depends on what detection and
      // responses made of this one, or once per simulated half hour of honest work (they drain on
      // their own meanwhile; waiting bounds how far they lag behind the clock).
      if (attacked || t - lastSettle >= SETTLE_EVERY) {
        await host.settle();
        lastSettle = t;
        spent.settles += 1;
      }
      spent.settleMs += Date.now() - mark;
      t = windowEnd;
      bar.tick(Math.floor((t - dayStart(0)) / MINUTE), `day ${day + 1}/${options.days}`);
    }
    if (working) workDay += 1;
  }
  bar.finish(
    `${spent.windows} windows, ${spent.settles} waits on Vigie's queues; honest ${Math.round(spent.honestMs / 1000)} s, management ${Math.round(spent.manageMs / 1000)} s, attackers ${Math.round(spent.attackMs / 1000)} s, settling ${Math.round(spent.settleMs / 1000)} s`,
  );
  for (const a of attackers) if (a.outcome.endedBy === undefined) a.outcome.endedBy = 'scenario time over';
  decisions += attackers.reduce((n, a) => n + a.outcome.attempted.size, 0);
  return {
    honest,
    decisions,
    enrolledOnNeed,
    phases: {
      [`replay: honest work (${spent.windows} windows)`]: Math.round(spent.honestMs / 100) / 10,
      'replay: account management': Math.round(spent.manageMs / 100) / 10,
      'replay: attackers': Math.round(spent.attackMs / 100) / 10,
      [`replay: waiting on Vigie's queues (${spent.settles} waits)`]: Math.round(spent.settleMs / 100) / 10,
    },
    evaluateSeconds: evaluateMs / 1000,
    outcomes: attackers.map((a) => a.outcome),
  };

  async function runHonest(batch: Planned[]): Promise<number> {
    const byApp = new Map<AppHandle, { items: Evaluation[] }>();
    const acting = new Set<number>();
    for (const p of batch) acting.add(p.staff);
    // People who sign in through Vigie: the application checks their session, they sign in again if it ended.
    await mapLimit([...acting], 16, async (index) => {
      const member = panel.get(index);
      if (!member) return;
      const m = world.staff[index]!;
      const place = places.get(index)!;
      member.browser.ip = place.moveAt !== undefined && now() >= place.moveAt ? place.laterIp! : place.ip;
      const fresh =
        member.checkedAt !== undefined &&
        now() - member.checkedAt < SESSION_CHECK_CACHE_MS &&
        member.checkedIp === member.browser.ip;
      if (fresh) return;
      honest.requests += 1;
      if (!(await sessionAlive(client, member.browser))) await signIn(m, member);
      member.checkedAt = now();
      member.checkedIp = member.browser.ip;
    });
    let count = 0;
    for (const p of batch) {
      if (p.kind === 'presence') continue;
      const m = world.staff[p.staff]!;
      const app = appOf(world, apps, m);
      const member = panel.get(p.staff);
      const place = places.get(p.staff)!;
      const ip = member?.browser.ip ?? place.ip;
      const context: Record<string, unknown> = {
        auth_level: 'phishing_resistant',
        auth_time: new Date(member?.authTime ?? dayStart(0)).toISOString(),
        ip,
      };
      if (p.kind === 'break_glass')
        context.break_glass = {
          purpose: 'person_request',
          justification: 'Personne reçue en accueil, suivie par une autre structure',
        };
      const entry = byApp.get(app) ?? { items: [] };
      byApp.set(app, entry);
      for (const record of p.records) {
        entry.items.push({
          subject: { type: 'account', id: m.accountId! },
          action:
            p.kind === 'export'
              ? { name: 'export', properties: { records: p.records.length } }
              : { name: 'read' },
          resource: { type: 'record', id: record },
          context,
        });
        count += 1;
      }
    }
    await Promise.all(
      [...byApp].map(async ([app, { items }]) => {
        const verdicts = await evaluateAll(client, app, items);
        for (const v of verdicts) {
          honest.requests += 1;
          honest.decisions += 1;
          if (!v.decision) deny(v.reasons[0] ?? 'denied');
        }
      }),
    );
    return count;
  }

  async function runManagement(item: Managed): Promise<void> {
    await manage({ world, client, host, rnd, panel, departed, honest, deny, now, sessionOf }, item);
  }
}

async function collectAlerts(client: VigieClient, host: VigieHost): Promise<AlertSeen[]> {
  const operator: Caller = { ip: '127.0.0.1', token: host.operatorToken };
  const out: AlertSeen[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: AlertSeen[]; nextCursor: string | null } = await client.expect(
      operator,
      'GET',
      `/api/v1/alerts?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    );
    for (const a of page.items)
      out.push({
        id: a.id,
        ruleId: a.ruleId,
        entity: a.entity,
        createdAt: a.createdAt,
        occurrences: a.occurrences,
      });
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
