/* eslint-disable @typescript-eslint/no-explicit-any -- the migrator works on any schema */
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { dialectOf } from './database.js';
import { migrations } from './migrations/index.js';

/**
 * Applies every pending migration; throws with the failing migration's name if one fails. On
 * PostgreSQL the migrator's own tables go in the connection's current schema explicitly: left
 * unqualified, Kysely looks them up across every schema and mistakes another schema's for its own.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  let migrationTableSchema: string | undefined;
  if (dialectOf(db) === 'postgres') {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0]?.schema;
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `migration ${failed} failed: ${error instanceof Error ? error.message : 'unknown error'}`,
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
