import { describe, expect, it } from 'vitest';
import { ConnectionQueue } from './sqlite-worker.driver.js';

/** Who holds the writer next, in order, for callers queued behind a first holder. */
async function grantOrder(queue: ConnectionQueue, lanes: Array<'first' | 'normal'>): Promise<string[]> {
  const order: string[] = [];
  await queue.acquire();
  const waits = lanes.map((lane, i) =>
    queue.acquire(lane).then(() => {
      order.push(`${lane}${i}`);
      queue.release();
    }),
  );
  queue.release();
  await Promise.all(waits);
  return order;
}

describe("the SQLite writer's queue", () => {
  it('serves each lane first come first served', async () => {
    expect(await grantOrder(new ConnectionQueue(), ['normal', 'normal', 'normal'])).toEqual([
      'normal0',
      'normal1',
      'normal2',
    ]);
  });

  it('lets a decision batch pass a line of ingestion chunks after one of them, and take turns', async () => {
    const order = await grantOrder(new ConnectionQueue(), [
      'normal',
      'normal',
      'normal',
      'normal',
      'first',
      'first',
    ]);
    expect(order).toEqual(['first4', 'normal0', 'first5', 'normal1', 'normal2', 'normal3']);
  });

  it('never starves the normal lane behind a stream of decision batches', async () => {
    const order = await grantOrder(new ConnectionQueue(), ['normal', 'first', 'first', 'first', 'normal']);
    expect(order).toEqual(['first1', 'normal0', 'first2', 'normal4', 'first3']);
  });

  it('counts both lanes in the backlog ingestion backs off on', async () => {
    const queue = new ConnectionQueue();
    await queue.acquire();
    const a = queue.acquire('normal');
    const b = queue.acquire('first');
    expect(queue.backlog().waiting).toBe(2);
    expect(queue.backlog().oldestWaitMs).toBeGreaterThanOrEqual(0);
    queue.release();
    await b;
    queue.release();
    await a;
    queue.release();
    expect(queue.backlog()).toEqual({ waiting: 0, oldestWaitMs: 0 });
  });
});
