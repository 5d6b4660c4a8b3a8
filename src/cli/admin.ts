import type { Command } from 'commander';
import { parseConfig, type Config } from '../config.js';
import { identityServiceOf } from '../modules/identity/index.js';
import { openRuntime } from '../runtime.js';
import { VigieError } from '../shared/errors.js';

export interface AdminCreateOptions {
  readonly email: string;
  readonly organisationName?: string;
}

/**
 * `vigie admin create`: the bootstrap administrator. Creates the operator root when there is none,
 * an active platform_admin account (channel cli) and prints a one-time API token. Everything is
 * journaled with the system actor 'cli'. The token goes to stdout only; nothing else keeps it.
 */
export async function adminCreate(
  config: Config,
  options: AdminCreateOptions,
  write: (line: string) => void,
): Promise<void> {
  const runtime = await openRuntime(config);
  try {
    const result = await identityServiceOf(runtime.container).bootstrapAdmin({
      email: options.email,
      ...(options.organisationName !== undefined ? { organisationName: options.organisationName } : {}),
    });
    write(
      `${result.organisationCreated ? 'created' : 'using'} operator organisation ${result.organisationId}\n`,
    );
    write(`created platform administrator ${result.accountId}\n`);
    write(`API token (shown once, store it now; expires ${result.tokenExpiresAt}):\n${result.secret}\n`);
  } finally {
    await runtime.close();
  }
}

export interface AdminTokenOptions {
  readonly email: string;
  readonly days?: string;
}

/**
 * `vigie admin token`: a new API token for an existing, active platform administrator, from the
 * server's own shell (the bootstrap token lives 24 hours, and a token never mints a longer one).
 */
export async function adminToken(
  config: Config,
  options: AdminTokenOptions,
  write: (line: string) => void,
): Promise<void> {
  const days = options.days === undefined ? undefined : Number(options.days);
  const runtime = await openRuntime(config);
  try {
    const result = await identityServiceOf(runtime.container).issueAdminToken({
      email: options.email,
      ...(days !== undefined ? { days } : {}),
    });
    write(`API token for ${result.accountId} (shown once, store it now; expires ${result.expiresAt}):\n`);
    write(`${result.secret}\n`);
  } finally {
    await runtime.close();
  }
}

async function reportVigieError(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof VigieError)) throw error;
    process.stderr.write(`vigie: ${error.code}: ${error.message}\n`);
    process.exitCode = 1;
  }
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('administrator accounts');
  admin
    .command('create')
    .description(
      'create a platform administrator (and the operator root if none) and print a one-time API token',
    )
    .requiredOption('--email <email>', "the administrator's e-mail address")
    .option('--organisation-name <name>', 'name of the operator root, when it does not exist yet')
    .action((options: AdminCreateOptions) =>
      reportVigieError(() => adminCreate(parseConfig(), options, (line) => process.stdout.write(line))),
    );
  admin
    .command('token')
    .description('print a new API token for an existing, active platform administrator (journaled)')
    .requiredOption('--email <email>', "the administrator's e-mail address")
    .option('--days <n>', 'lifetime in days (default and maximum: VIGIE_TOKEN_TTL_ACCOUNT_DAYS)')
    .action((options: AdminTokenOptions) =>
      reportVigieError(() => adminToken(parseConfig(), options, (line) => process.stdout.write(line))),
    );
}
