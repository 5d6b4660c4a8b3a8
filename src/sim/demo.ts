import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  FINE_TICK,
  HONEST_TICK,
  prepareWorld,
  runSimulation,
  type RunOptions,
  type RunResult,
} from './engine.js';
import { PANEL_STRUCTURES_PER_KIND } from './panel.js';
import { showRemoteProgress } from './progress.js';
import { buildReport, terminalTable, writeReport, type Report } from './report.js';
import { loadScenarioDirectory } from './scenario.js';

/**
 * `vigie demo` / `npm run demo`: the protected run (normal work and the three incidents), the same
 * world and attacks against an allow-all Vigie, the report, and Vigie left serving with its alerts.
 */
export interface DemoOptions {
  readonly seed: number;
  readonly scale: number;
  readonly days: number;
  readonly panelShare: number;
  readonly outDir: string;
  readonly scenarioDir?: string;
  readonly workDir?: string;
  /** Only the protected run (`--no-compare`), or only the unprotected one (`--no-protect`). */
  readonly runs: 'both' | 'protected' | 'unprotected';
  readonly keepServing: boolean;
  readonly port?: number;
}

export const packageRoot = (): string => {
  // src/sim/demo.ts or dist/sim/demo.js: the package root is two levels up.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
};

/**
 * Where the simulated Vigie keeps its throwaway database: in memory-backed /dev/shm where the system
 * has one (a commit's disk flush is what a run of millions of decisions would otherwise wait on),
 * else .sim/ in the package. The report says which (a decision rate measured over memory is not a
 * production figure).
 */
export function defaultWorkDir(root: string): string {
  const shm = '/dev/shm';
  try {
    fs.accessSync(shm, fs.constants.W_OK);
    return path.join(shm, `vigie-sim-${os.userInfo().uid}`);
  } catch {
    return path.join(root, '.sim');
  }
}

/** runSimulation in a worker thread (run-worker.ts beside this file: src/ under tsx, dist/ built). */
function runInWorker(options: RunOptions): Promise<RunResult> {
  const here = fileURLToPath(import.meta.url);
  const file = path.join(path.dirname(here), `run-worker${path.extname(here)}`);
  const worker = new Worker(file, { workerData: { options, tty: process.stderr.isTTY === true } });
  return new Promise((resolve, reject) => {
    worker.on(
      'message',
      (
        m:
          | { kind: 'progress'; key: string; line: string; final: boolean }
          | { kind: 'result'; result: RunResult }
          | { kind: 'error'; message: string },
      ) => {
        if (m.kind === 'progress') showRemoteProgress(m.key, m.line, m.final);
        else {
          void worker.terminate();
          if (m.kind === 'result') resolve(m.result);
          else
            reject(
              new Error(`the ${options.protect ? 'protected' : 'unprotected'} run failed: ${m.message}`),
            );
        }
      },
    );
    worker.on('error', reject);
    worker.on('exit', (code) => {
      // After a result, terminate() ends it; before one, the run died.
      reject(
        new Error(`the ${options.protect ? 'protected' : 'unprotected'} run's thread exited (code ${code})`),
      );
    });
  });
}

export async function runDemo(
  options: DemoOptions,
  write: (text: string) => void = (t) => process.stdout.write(t),
) {
  const started = Date.now();
  const root = packageRoot();
  const scenarios = loadScenarioDirectory(options.scenarioDir ?? path.join(root, 'scenarios'));
  const workDir = options.workDir ?? defaultWorkDir(root);
  fs.mkdirSync(workDir, { recursive: true });
  const base = {
    seed: options.seed,
    scale: options.scale,
    days: options.days,
    panelShare: options.panelShare,
    scenarios,
    packageRoot: root,
    workDir,
  };
  // One world, loaded once into a stopped Vigie; each run starts Vigie over its own copy of it.
  process.stderr.write('— the world: generated, then loaded into Vigie the way an operator would —\n');
  const prepared = await prepareWorld(base);
  const unprotectedOptions: RunOptions = {
    ...base,
    prepared,
    takeOver: options.runs === 'unprotected',
    protect: false,
    attacksOnly: true,
    keepServing: options.runs === 'unprotected' && options.keepServing,
    ...(options.runs === 'unprotected' && options.port !== undefined ? { port: options.port } : {}),
  };
  const protectedOptions: RunOptions = {
    ...base,
    prepared,
    // Beside the unprotected run, which copies the prepared directory meanwhile: copied too.
    takeOver: options.runs === 'protected',
    protect: true,
    keepServing: options.keepServing,
    ...(options.port !== undefined ? { port: options.port } : {}),
  };
  let unprotectedRun: RunResult | undefined;
  let protectedRun: RunResult | undefined;
  if (options.runs === 'both') {
    // The two runs side by side, the unprotected one in a worker thread: each its own Vigie, its
    // own event loop, the machine's two cores shared between them.
    process.stderr.write(
      '— both runs at once: protected (Vigie as shipped, normal work and the incidents) and unprotected (permit-all policy, rules without responses, the incidents only) —\n',
    );
    [unprotectedRun, protectedRun] = await Promise.all([
      runInWorker(unprotectedOptions),
      runSimulation(protectedOptions),
    ]);
    fs.rmSync(prepared.dataDir, { recursive: true, force: true });
  } else if (options.runs === 'unprotected') {
    process.stderr.write(
      '— unprotected run: permit-all policy, rules without responses, the incidents only —\n',
    );
    unprotectedRun = await runSimulation(unprotectedOptions);
  } else {
    process.stderr.write('— protected run: Vigie as shipped, normal work and the incidents —\n');
    protectedRun = await runSimulation(protectedOptions);
  }
  const main = protectedRun ?? unprotectedRun!;
  const report: Report = buildReport({
    seed: options.seed,
    scale: options.scale,
    days: options.days,
    protectedRun: main,
    ...(protectedRun && unprotectedRun ? { unprotectedRun } : {}),
    wallSeconds: (Date.now() - started) / 1000,
    provisioning: { seconds: prepared.seconds, phases: prepared.phases },
    notes: [
      ...(options.scale !== 1
        ? [
            `This run is at scale ${options.scale}, not the default (1: ~440 Missions Locales, ~1.6 M young people, ~15 k staff). Figures are those of this world, not extrapolated.`,
          ]
        : []),
      "The unprotected run replays the same world and attackers against Vigie with a permit-all policy, the shipped rules without their responses and risk alerts without theirs (`VIGIE_RISK_RESPONSES=off`: no step-up, revocation, suspension or freeze); normal work is left out of it (only the attackers' victims keep signing in, so that there are sessions to steal), since nothing honest users do changes what an allow-all Vigie lets out. What is not a PDP decision stays on in it: passkey sign-in, session binding, four-eyes and the step-up a privileged act needs (a stolen session cannot step up without the victim's authenticator; `step-up (user-verified passkey)` in a scenario's layers counts those refusals).",
      `Sampled, not extrapolated: the people who sign in through Vigie with passkeys each working day (sessions, console pages, moves from office to home) are those of at most ${PANEL_STRUCTURES_PER_KIND} structures of each kind drawn at random (${main.panel.structures} structures, ${main.panel.people} people: their account managers and approvers, their first advisor and ${Math.round(options.panelShare * 100)} % of the others); managers and approvers elsewhere enrolled a passkey the first time they had to act (${main.panel.enrolledOnNeed} in the protected run). Every advisor's reads, exports and break-glass go through their business application with the same context, unsampled.`,
      `Seconds are simulated time (Vigie runs on an injected clock). The simulator steps in ${FINE_TICK / 1000}-second windows for half an hour after anything changes for an attacker (access, a refusal, a wait), one-minute windows while it reads undisturbed, ${HONEST_TICK / 60_000}-minute windows of honest work otherwise (the clock is set per window); times are measured to those steps. Vigie's queues (decision journal, detection) are waited on after every attacker step and every half hour of simulated honest work.`,
      ...(protectedRun && unprotectedRun
        ? [
            'The two runs replay at the same time, the unprotected one in a worker thread of the same process, each with its own Vigie (own database, writer thread and clock): the decision rate of the protected run is measured with the unprotected run beside it on the same cores.',
          ]
        : []),
      `The simulated Vigie's embedded database was in ${workDir.startsWith('/dev/shm') ? 'memory-backed /dev/shm (no disk flush per commit): the decision rate is not a production figure' : workDir}.`,
    ],
  });
  const files = writeReport(report, options.outDir);
  write(`\n${terminalTable(report)}`);
  write(`report: ${files.json}, ${files.md}, ${files.svg}\n`);
  return { report, files, host: main.host };
}
