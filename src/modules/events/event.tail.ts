import type { Db } from '../../db/database.js';
import type { EventBus } from '../../shared/event-bus.js';
import type { VigieEvent } from '../../shared/event.js';
import { PROCESS_ORIGIN } from './origin.js';

const PAGE = 1000;

export interface EventTail {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One pass: publishes what other processes committed since the last pass; returns how many. */
  poll(): Promise<number>;
}

/**
 * Follows the events other processes write to the same database (`vigie app create`, an import,
 * another server) and publishes them on this process's bus, so that the access view and detection see
 * them as they see local ones. It reads in journal order (leaf index, assigned by the integrator in
 * commit order), so an event committed late on PostgreSQL is never skipped.
 */
export function createEventTail(deps: {
  db: Db;
  bus: Pick<EventBus, 'publish'>;
  onError: (error: unknown) => void;
  intervalMs?: number;
}): EventTail {
  const intervalMs = deps.intervalMs ?? 500;
  let cursor = -1;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  async function poll(): Promise<number> {
    let published = 0;
    for (;;) {
      const top = await deps.db
        .selectFrom('events')
        .select((eb) => eb.fn.max('leaf_index').as('top'))
        .executeTakeFirst();
      const upTo = Math.min(Number(top?.top ?? -1), cursor + PAGE);
      if (upTo <= cursor) return published;
      const rows = await deps.db
        .selectFrom('events')
        .select('payload')
        .where('leaf_index', '>', cursor)
        .where('leaf_index', '<=', upTo)
        .where('origin', '<>', PROCESS_ORIGIN)
        .orderBy('leaf_index')
        .execute();
      cursor = upTo;
      if (rows.length > 0) {
        deps.bus.publish(rows.map((r) => JSON.parse(r.payload) as VigieEvent));
        published += rows.length;
      }
    }
  }

  const tick = () => {
    running = poll()
      .then(() => undefined)
      .catch(deps.onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };

  return {
    poll,
    async start() {
      const top = await deps.db
        .selectFrom('events')
        .select((eb) => eb.fn.max('leaf_index').as('top'))
        .executeTakeFirst();
      cursor = Number(top?.top ?? -1);
      stopped = false;
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
