import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export interface TestDatabase extends DatabaseHandle {
  /** A URL that opens this same database (for a CLI or server started in another process). */
  readonly url: string;
}

/**
 * A fresh, migrated database for one test file: a new SQLite file by default, or a new schema in
 * the PostgreSQL database named by VIGIE_TEST_DATABASE_URL (CI sets it). Closing drops it.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const pgUrl = process.env.VIGIE_TEST_DATABASE_URL;
  let url: string;
  let cleanup: () => Promise<void>;
  if (pgUrl) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const u = new URL(pgUrl);
    u.searchParams.set('options', `-c search_path=${schema}`);
    url = u.toString();
    cleanup = async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-test-'));
    url = `sqlite:${path.join(dir, 'vigie.db')}`;
    cleanup = () => {
      fs.rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    };
  }
  const handle = openDatabase(url, { poolSize: 5 });
  if (options.migrate !== false) await migrateToLatest(handle.db);
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      await cleanup();
    },
  };
}

export const onPostgres = (): boolean => Boolean(process.env.VIGIE_TEST_DATABASE_URL);
