import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { dialectOf } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createTestDatabase } from '../helpers/test-db.js';

/**
 * Migration 0011 decides which tokens written before step-up existed may still perform the acts
 * that need one: only those Vigie itself wrote for an account (created_by null: the CLI, the
 * bootstrap); a token a person issued for itself could have been minted by a session without any
 * step-up.
 */
describe('migration 0011 and the tokens written before it', () => {
  it('counts the operator’s tokens as stepped-up, and no self-issued or application token', async () => {
    const d = await createTestDatabase({ migrate: false });
    try {
      const names = Object.keys(migrations).sort();
      const before = names[names.indexOf('0011_step_up_recovery') - 1]!;
      let migrationTableSchema: string | undefined;
      if (dialectOf(d.db) === 'postgres')
        migrationTableSchema = (await sql<{ s: string }>`select current_schema() as s`.execute(d.db)).rows[0]
          ?.s;
      const migrator = new Migrator({
        db: d.db,
        provider: { getMigrations: () => Promise.resolve(migrations) },
        ...(migrationTableSchema ? { migrationTableSchema } : {}),
      });
      expect((await migrator.migrateTo(before)).error).toBeUndefined();
      const token = (id: string, type: string, createdBy: string | null) =>
        sql`insert into api_tokens (id, principal_type, principal_id, name, token_hash, prefix, created_by, created_at)
            values (${id}, ${type}, ${'p-' + id}, 'old', ${'h-' + id}, 'vga_xxxx', ${createdBy}, '2026-01-01T00:00:00.000Z')`.execute(
          d.db,
        );
      await token('cli', 'account', null);
      await token('self', 'account', 'p-self');
      await token('app', 'application', null);
      expect(await migrateToLatest(d.db)).toContain('0011_step_up_recovery');
      const rows = await d.db
        .selectFrom('api_tokens')
        .select(['id', 'minted_via', 'step_up'])
        .orderBy('id')
        .execute();
      expect(rows.map((r) => [r.id, r.minted_via, Number(r.step_up)])).toEqual([
        ['app', 'application', 0],
        ['cli', 'operator', 1],
        ['self', 'legacy', 0],
      ]);
    } finally {
      await d.close();
    }
  });
});
