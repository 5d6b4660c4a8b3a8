import { buildApp } from './app.js';
import { ConfigError, parseConfig } from './config.js';
import { openRuntime } from './runtime.js';

/** Serves Vigie until SIGINT/SIGTERM, then stops background work and closes the database. */
export async function serve(): Promise<void> {
  const config = parseConfig();
  const runtime = await openRuntime(config);
  const app = await buildApp(runtime.container, { logger: { level: config.logLevel } });
  await runtime.container.start();
  await app.listen({ port: config.port, host: config.host });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, 'stopping');
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', (s) => void stop(s));
  process.on('SIGTERM', (s) => void stop(s));
}

export function reportStartupError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`vigie: configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`vigie: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
