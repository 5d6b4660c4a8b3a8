import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp, type AppOptions } from '../../src/app.js';
import { parseConfig, type Config } from '../../src/config.js';
import { createContainer, type Container } from '../../src/container.js';
import { ManualClock } from '../../src/shared/clock.js';
import { uuidv7Generator } from '../../src/shared/ids.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly container: Container;
  readonly database: TestDatabase;
  readonly clock: ManualClock;
  readonly config: Config;
  close(): Promise<void>;
}

/**
 * A whole Vigie on a fresh database with a frozen clock; requests go through app.inject, so nothing
 * listens. `env` overrides configuration the way the environment would.
 */
export async function createTestApp(
  options: { env?: Record<string, string>; start?: boolean; app?: AppOptions } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const clock = new ManualClock('2026-03-02T09:00:00.000Z');
  const config = parseConfig({
    VIGIE_DATA_DIR: database.url.startsWith('sqlite:') ? database.url.slice(7, -'/vigie.db'.length) : '/tmp',
    ...options.env,
  });
  const container = createContainer({
    config,
    database,
    clock,
    ids: uuidv7Generator(clock),
    logger: pino({ level: 'silent' }),
  });
  const app = await buildApp(container, options.app);
  if (options.start) await container.start();
  return {
    app,
    container,
    database,
    clock,
    config,
    async close() {
      await app.close();
      await container.stop();
      await database.close();
    },
  };
}
