import { Option, type Command } from 'commander';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { parseConfig } from '../config.js';
import { openRuntime } from '../runtime.js';
import { VigieError } from '../shared/errors.js';
import type { SystemActor } from '../shared/principal.js';
import { APPLICATION_SCOPES, type ApplicationScope } from '../modules/identity/permissions.js';
import { ApplicationCreateBody, type ApplicationKind } from '../modules/applications/application.schemas.js';
import { createApplicationsService } from '../modules/applications/application.service.js';
import type { CommandIo } from './import.js';

const CLI_ACTOR: SystemActor = { kind: 'system', id: 'cli' };

export interface AppCreateArgs {
  readonly organisation: string;
  readonly name: string;
  readonly scopes: string;
  readonly kind: ApplicationKind;
  readonly tokenName: string;
  /** Organisation whose subtree the application may report on, when wider than its own. */
  readonly reportingScope?: string;
  readonly json?: boolean;
}

/**
 * `vigie app create`: registers an application and issues its first token, printed once. Run by the
 * operator on the server (the system actor); both acts are journaled like their API counterparts.
 */
export async function runAppCreate(args: AppCreateArgs, io: CommandIo): Promise<number> {
  const scopes = args.scopes
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const body = {
    organisationId: args.organisation,
    name: args.name,
    kind: args.kind,
    scopes,
    ...(args.reportingScope !== undefined ? { reportingOrganisationId: args.reportingScope } : {}),
  };
  // The same bounded schema as the HTTP route: the CLI is another edge.
  if (!Value.Check(ApplicationCreateBody, body)) {
    const first = Value.Errors(ApplicationCreateBody, body).First();
    const where = first?.path ? first.path.slice(1) : 'input';
    const hint = where.startsWith('scopes') ? ` (scopes are among ${APPLICATION_SCOPES.join(', ')})` : '';
    io.stderr.write(`vigie app create: invalid ${where}${hint}\n`);
    return 1;
  }
  const logger = pino({ level: io.config.logLevel, base: { service: 'vigie' } }, pino.destination(2));
  const runtime = await openRuntime(io.config, { logger });
  try {
    const service = createApplicationsService(runtime.container.core);
    const app = await service.register(CLI_ACTOR, { ...body, scopes: scopes as ApplicationScope[] });
    const issued = await service.issueToken(CLI_ACTOR, app.id, { name: args.tokenName });
    io.stdout.write(
      args.json
        ? `${JSON.stringify({ application: app, token: issued.token, secret: issued.secret })}\n`
        : `application ${app.id} registered (${app.kind}, scopes ${app.scopes.join(',')}, ` +
            `reporting on organisation ${app.reportingOrganisationId})\n` +
            `token ${issued.token.id} (shown once, store it now; expires ${issued.token.expiresAt}):\n${issued.secret}\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof VigieError)) throw error;
    io.stderr.write(`vigie app create: ${error.message} (${error.code})\n`);
    return 1;
  } finally {
    await runtime.close();
  }
}

export function registerAppCommands(program: Command): void {
  const app = program.command('app').description('registered business and partner applications');
  app
    .command('create')
    .description('register an application and print its first token (shown once)')
    .requiredOption('--organisation <id>', 'owning organisation id')
    .requiredOption('--name <name>', 'application name')
    .requiredOption('--scopes <list>', `comma-separated scopes among ${APPLICATION_SCOPES.join(', ')}`)
    .addOption(
      new Option('--kind <kind>', 'application kind').choices(['business', 'partner']).default('partner'),
    )
    .option('--token-name <name>', 'name of the first token', 'initial')
    .option(
      '--reporting-scope <org id>',
      'organisation whose subtree its events may name: an ancestor of --organisation (default: that organisation)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: AppCreateArgs) => {
      process.exitCode = await runAppCreate(options, {
        config: parseConfig(),
        stdout: process.stdout,
        stderr: process.stderr,
      });
    });
}
