import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createTestDatabase } from '../helpers/test-db.js';

describe('migrations', () => {
  it('migrate databases side by side without mistaking one for another', async () => {
    // On PostgreSQL these are schemas of one database: the second must get its own tables.
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    try {
      expect(await b.db.selectFrom('roles').selectAll().execute()).toEqual([]);
      expect(await a.db.selectFrom('events').selectAll().execute()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('apply every migration once, then find nothing left to do', async () => {
    const d = await createTestDatabase({ migrate: false });
    try {
      expect(await migrateToLatest(d.db)).toEqual(Object.keys(migrations).sort());
      expect(await migrateToLatest(d.db)).toEqual([]);
    } finally {
      await d.close();
    }
  });
});
