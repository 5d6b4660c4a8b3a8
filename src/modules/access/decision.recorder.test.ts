import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/database.js';
import type { VigieEvent } from '../../shared/event.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/test-db.js';
import { DecisionRecorder } from './decision.recorder.js';

let n = 0;
const decision = (): VigieEvent => ({
  id: `00000000-0000-7000-8000-${(++n).toString(16).padStart(12, '0')}`,
  time: '2026-03-02T09:00:00.000Z',
  kind: 'access.decision',
  actor: { type: 'application', id: 'app' },
  target: { type: 'record', id: `r${n}` },
  outcome: 'success',
  data: { action: 'read', decision: true },
});

describe('the decision recorder', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('writes decisions in batches of at most maxBatch and publishes each batch after it is stored', async () => {
    const published: number[] = [];
    let storedWhenPublished = true;
    const recorder = new DecisionRecorder(
      {
        db: database.db,
        logger: { error: () => undefined },
        bus: {
          publish: (events) => {
            published.push(events.length);
            void database.db
              .selectFrom('events')
              .select('id')
              .where('id', '=', events[events.length - 1]!.id)
              .executeTakeFirst()
              .then((row) => (storedWhenPublished &&= row !== undefined));
          },
        },
      },
      { intervalMs: 10_000, maxBatch: 1000 },
    );
    for (let i = 0; i < 2500; i++) recorder.add([decision()]);
    await recorder.flush();
    expect(published.reduce((a, b) => a + b, 0)).toBe(2500);
    expect(published).toEqual([1000, 1000, 500]);
    const count = await database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('c'))
      .executeTakeFirstOrThrow();
    expect(Number(count.c)).toBe(2500);
    await new Promise((r) => setTimeout(r, 20));
    expect(storedWhenPublished).toBe(true);
  });

  it('keeps a batch whose write failed and writes it on the next flush, publishing nothing before', async () => {
    let down = true;
    const failing = {
      transaction: () => ({
        execute: () => Promise.reject(new Error('database unreachable')),
      }),
    } as unknown as Db;
    const published: string[] = [];
    const errors: string[] = [];
    const recorder = new DecisionRecorder(
      {
        get db() {
          return down ? failing : database.db;
        },
        logger: { error: (_o: unknown, msg: string) => void errors.push(msg) },
        bus: { publish: (events) => void published.push(...events.map((e) => e.id)) },
      },
      { intervalMs: 10_000 },
    );
    const events = [decision(), decision(), decision()];
    recorder.add(events);
    await recorder.flush();
    expect(published).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(recorder.pending).toBe(1);
    down = false;
    await recorder.flush();
    expect(published).toEqual(events.map((e) => e.id));
    expect(recorder.pending).toBe(0);
  });
});
