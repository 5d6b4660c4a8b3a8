#!/usr/bin/env node
import { Command } from 'commander';
import { parseConfig } from '../config.js';
import { migrateToLatest } from '../db/migrate.js';
import { openDatabase } from '../db/database.js';
import { reportStartupError, serve } from '../main.js';
import { registerAdminCommands } from './admin.js';
import { registerDemoCommand } from './demo.js';
import { registerAppCommands } from './app.js';
import { registerImportCommand } from './import.js';
import { registerPolicyCommands } from './policy.js';
import { registerJournalCommands } from './journal.js';
import { registerRuleCommands } from './rules.js';

/**
 * `vigie`: one entry for the server and the operator's commands. Commands reuse the services
 * through openRuntime(); none goes through HTTP.
 */
export function buildCli(): Command {
  const program = new Command('vigie').description(
    'Vigie: govern accounts, decide access, detect abuse, prove it',
  );
  program
    .command('serve', { isDefault: true })
    .description('serve the HTTP API (default command)')
    .action(serve);
  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = parseConfig();
      const database = openDatabase(config.databaseUrl);
      try {
        const applied = await migrateToLatest(database.db);
        process.stdout.write(
          applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n',
        );
      } finally {
        await database.close();
      }
    });
  // Each capability adds its commands below, one line each.
  registerAdminCommands(program);
  registerAppCommands(program);
  registerImportCommand(program);
  registerPolicyCommands(program);
  registerJournalCommands(program);
  registerRuleCommands(program);
  registerDemoCommand(program);
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  await buildCli().parseAsync(argv);
}

runCli(process.argv).catch(reportStartupError);
