import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../../shared/clock.js';
import { VigieError } from '../../shared/errors.js';
import type { EventBus } from '../../shared/event-bus.js';
import type { VigieEvent } from '../../shared/event.js';
import type { IdGenerator } from '../../shared/ids.js';
import { insertEvents } from './event.repository.js';

/** An event as a service describes it; id and time are stamped by the recorder. */
export type EventDraft = Omit<VigieEvent, 'id' | 'time'> & { readonly time?: string };

export interface CommandDeps {
  readonly db: Db;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export interface CommandContext {
  readonly trx: Transaction<Database>;
  /** Records an event that commits with this transaction or not at all. */
  readonly emit: (draft: EventDraft) => VigieEvent;
  readonly now: Date;
}

export function stampEvent(deps: Pick<CommandDeps, 'clock' | 'ids'>, draft: EventDraft): VigieEvent {
  return {
    source: 'vigie',
    ...draft,
    id: deps.ids.next(),
    time: draft.time ?? deps.clock.now().toISOString(),
  };
}

/**
 * Runs one state change and the events describing it in a single transaction, then hands the events
 * to the bus after commit. When the change is refused with a VigieError, `onRefusal` may describe the
 * refusal: that event is written in a transaction of its own (the change's was rolled back) and the
 * error is rethrown, so refused attempts are in the journal too.
 */
export async function runCommand<T>(
  deps: CommandDeps,
  change: (ctx: CommandContext) => Promise<T>,
  onRefusal?: (error: VigieError) => EventDraft | undefined,
): Promise<T> {
  const emitted: VigieEvent[] = [];
  const now = deps.clock.now();
  try {
    const result = await deps.db.transaction().execute(async (trx) => {
      emitted.length = 0;
      const value = await change({
        trx,
        now,
        emit: (draft) => {
          const event = stampEvent(deps, draft);
          emitted.push(event);
          return event;
        },
      });
      if (emitted.length > 0) await insertEvents(trx, emitted);
      return value;
    });
    deps.bus.publish(emitted);
    return result;
  } catch (error) {
    if (error instanceof VigieError && onRefusal) {
      const draft = onRefusal(error);
      if (draft) {
        const refusal = stampEvent(deps, draft);
        await insertEvents(deps.db, [refusal]);
        deps.bus.publish([refusal]);
      }
    }
    throw error;
  }
}
