import path from 'node:path';
import { Option, type Command } from 'commander';
import { consoleInvitation } from '../sim/console-invite.js';
import { runDemo } from '../sim/demo.js';

function positive(name: string, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new Error(`--${name}: expected a number above 0 and at most ${max}`);
    return n;
  };
}

/**
 * `vigie demo`: Vigie's proving ground. Starts Vigie on a fresh embedded database with an injected
 * clock, builds a seeded world, replays weeks of normal work with the incident scenarios among it
 * (and the same attacks against an allow-all Vigie), writes report.json, report.md and report.svg,
 * prints the figures, and keeps Vigie serving with its alerts until interrupted.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'replay the three incidents against normal work on a simulated ecosystem and report the figures',
    )
    .addOption(
      new Option('--seed <n>', 'seed of the world and the work')
        .default(11)
        .argParser(positive('seed', 2 ** 31)),
    )
    .addOption(
      new Option('--scale <x>', 'size of the world (1: ~440 Missions Locales, 1.6 M young people)')
        .default(1)
        .argParser(positive('scale', 4)),
    )
    .addOption(
      new Option('--days <n>', 'calendar days replayed from Monday 1 September 2025')
        .default(14)
        .argParser(positive('days', 90)),
    )
    .addOption(
      new Option('--panel <share>', 'share of advisors signing in with passkeys each day')
        .default(0.05)
        .argParser(positive('panel', 1)),
    )
    .option('--no-protect', 'only the unprotected run: permit-all policy, responses off')
    .option('--no-compare', 'only the protected run (no unprotected run beside it)')
    .option('--scenarios <dir>', 'directory of scenario files (default: the shipped scenarios/)')
    .option('--out <dir>', 'where report.json, report.md and report.svg go', 'sim-report')
    .option(
      '--work-dir <dir>',
      'where the simulated Vigie keeps its database (default: /dev/shm/vigie-sim-<uid> where writable, else .sim/ in the package)',
    )
    .addOption(
      new Option('--port <n>', 'port Vigie keeps serving on after the run')
        .default(8080)
        .argParser(positive('port', 65535)),
    )
    .option('--exit', 'stop Vigie once the report is written instead of serving')
    .action(
      async (o: {
        seed: number;
        scale: number;
        days: number;
        panel: number;
        protect: boolean;
        compare: boolean;
        scenarios?: string;
        out: string;
        workDir?: string;
        port: number;
        exit?: boolean;
      }) => {
        const { host } = await runDemo({
          seed: Math.floor(o.seed),
          scale: o.scale,
          days: Math.floor(o.days),
          panelShare: o.panel,
          outDir: path.resolve(o.out),
          runs: !o.protect ? 'unprotected' : o.compare ? 'both' : 'protected',
          keepServing: o.exit !== true,
          port: Math.floor(o.port),
          ...(o.scenarios ? { scenarioDir: path.resolve(o.scenarios) } : {}),
          ...(o.workDir ? { workDir: path.resolve(o.workDir) } : {}),
        });
        if (!host) return;
        const invitation = await consoleInvitation(host, Math.floor(o.port));
        process.stdout.write(
          `\nVigie keeps serving on ${host.baseUrl} with the run's alerts (operator token below, valid 120 simulated days).\n` +
            `  curl -H "Authorization: Bearer ${host.operatorToken}" ${host.baseUrl}/api/v1/alerts\n` +
            ('enrolUrl' in invitation
              ? `Console / console : ouvrez ce lien d'enrôlement à usage unique pour créer une clé d'accès (passkey) de l'opérateur, puis la console / open this single-use enrolment link to register the operator's passkey, then the console:\n  ${invitation.enrolUrl}\n  ${invitation.consoleUrl}\n`
              : `Console: ${invitation.unavailable}\n`) +
            'Ctrl-C stops it.\n',
        );
        const stop = async () => {
          await host.close();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop());
        process.on('SIGTERM', () => void stop());
      },
    );
}
