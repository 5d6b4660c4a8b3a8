import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { createContainer, type Container } from './container.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { systemClock, type Clock } from './shared/clock.js';
import { uuidv7Generator, type IdGenerator } from './shared/ids.js';

export interface Runtime {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly container: Container;
  readonly logger: Logger;
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations and builds the container: what `serve` and every CLI
 * command that touches state share. Nothing listens and no background work starts here.
 */
export async function openRuntime(
  config: Config,
  options: { clock?: Clock; ids?: IdGenerator; logger?: Logger } = {},
): Promise<Runtime> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'vigie' } });
  const database = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  const clock = options.clock ?? systemClock;
  const container = createContainer({
    config,
    database,
    clock,
    ids: options.ids ?? uuidv7Generator(clock),
    logger,
  });
  return {
    config,
    database,
    container,
    logger,
    async close() {
      await container.stop();
      await database.close();
    },
  };
}
