import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSimulation, type RunResult } from './engine.js';
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

export async function runDemo(
  options: DemoOptions,
  write: (text: string) => void = (t) => process.stdout.write(t),
) {
  const started = Date.now();
  const root = packageRoot();
  const scenarios = loadScenarioDirectory(options.scenarioDir ?? path.join(root, 'scenarios'));
  const workDir = options.workDir ?? path.join(root, '.sim');
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
  let unprotectedRun: RunResult | undefined;
  if (options.runs !== 'protected') {
    process.stderr.write(
      '— unprotected run: permit-all policy, rules without responses, the incidents only —\n',
    );
    unprotectedRun = await runSimulation({
      ...base,
      protect: false,
      attacksOnly: true,
      keepServing: options.runs === 'unprotected' && options.keepServing,
    });
  }
  let protectedRun: RunResult | undefined;
  if (options.runs !== 'unprotected') {
    process.stderr.write('— protected run: Vigie as shipped, normal work and the incidents —\n');
    protectedRun = await runSimulation({
      ...base,
      protect: true,
      keepServing: options.keepServing,
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
  }
  const main = protectedRun ?? unprotectedRun!;
  const report: Report = buildReport({
    seed: options.seed,
    scale: options.scale,
    days: options.days,
    protectedRun: main,
    ...(protectedRun && unprotectedRun ? { unprotectedRun } : {}),
    wallSeconds: (Date.now() - started) / 1000,
    notes: [
      'The unprotected run replays the same world and attackers against Vigie with a permit-all policy and the shipped rules without their responses; normal work is left out of it, since nothing honest users do changes what an allow-all Vigie lets out.',
      `Advisors signing in through Vigie with passkeys each day: all account managers and approvers and ${Math.round(options.panelShare * 100)} % of advisors; the others' decisions come through their business application with the same context.`,
      'Seconds are simulated time (Vigie runs on an injected clock); the simulator steps in 10-second windows while an attacker is active, 60-second windows otherwise, so times are measured to 10 s.',
    ],
  });
  const files = writeReport(report, options.outDir);
  write(`\n${terminalTable(report)}`);
  write(`report: ${files.json}, ${files.md}, ${files.svg}\n`);
  return { report, files, host: main.host };
}
