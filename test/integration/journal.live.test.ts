import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/modules/events/command.js';
import { readState } from '../../src/modules/journal/journal.repository.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

describe('the journal integrator, running', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ start: true, env: { VIGIE_JOURNAL_INTERVAL_MS: '100' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs a checkpoint at start, then takes each committed event in within a window or two', async () => {
    const initial = await readState(t.database.db);
    expect(initial?.checkpoint).toMatch(
      /^vigie\.local\/journal\n0\n47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— /,
    );
    const { db, bus, clock, ids } = t.container.core;
    for (let round = 1; round <= 3; round++) {
      await runCommand({ db, bus, clock, ids }, ({ emit }) => {
        for (let i = 0; i < 10; i++)
          emit({ kind: 'test.live', actor: { type: 'system', id: 'test' }, outcome: 'success' });
        return Promise.resolve();
      });
      const committedAt = performance.now();
      let size = 0;
      // Bounded wait; on an idle machine this takes one 100 ms window.
      for (let i = 0; i < 300 && size < round * 10; i++) {
        await new Promise((r) => setTimeout(r, 10));
        size = (await readState(t.database.db))!.treeSize;
      }
      expect(size).toBe(round * 10);
      expect(performance.now() - committedAt).toBeLessThan(3000);
    }
  });

  it('leaves nothing pending after a clean stop', async () => {
    const { db, bus, clock, ids } = t.container.core;
    await runCommand({ db, bus, clock, ids }, ({ emit }) => {
      emit({ kind: 'test.last', actor: { type: 'system', id: 'test' }, outcome: 'success' });
      return Promise.resolve();
    });
    await t.container.stop();
    const pending = await t.database.db
      .selectFrom('events')
      .select('id')
      .where('leaf_index', 'is', null)
      .execute();
    expect(pending).toEqual([]);
  });
});
