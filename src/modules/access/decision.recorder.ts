import { writeAtomically, type Db } from '../../db/database.js';
import type { AccessDisclosureTable } from '../../db/schema.js';
import type { EventBus } from '../../shared/event-bus.js';
import type { VigieEvent } from '../../shared/event.js';
import { compileInsertEvents } from '../events/event.repository.js';
import { compileInsertDisclosures, compileMarkApprovalsUsed } from './access.repository.js';

export interface RecorderDeps {
  readonly db: Db;
  readonly bus: Pick<EventBus, 'publish'>;
  readonly logger: { error(details: object, message: string): void };
}

export interface RecorderOptions {
  /** Longest a decision waits in memory before its batch is written. */
  readonly intervalMs?: number;
  /** A batch this large is written at once, without waiting for the interval. */
  readonly maxBatch?: number;
}

/**
 * Appends decision events (and the disclosures they counted) to the journal in batches: one
 * transaction per batch of up to `maxBatch` decisions or every `intervalMs`, then publishes the
 * batch on the bus. A batch is one message to SQLite's writer thread (writeAtomically). While one
 * batch is written the next one grows: under load batches get large, and a large batch means fewer
 * commits (each waits for a disk flush). Decisions are answered before their batch commits, so
 * decision throughput is bound by the PDP, not by commits; a crash can lose at most the last interval's decisions, which is
 * the price of not making each one wait for a disk flush. A failed batch is kept and retried.
 */
interface Entry {
  readonly events: readonly VigieEvent[];
  readonly disclosure: AccessDisclosureTable | undefined;
  readonly approvalUsed: { id: string; at: string } | undefined;
}

export class DecisionRecorder {
  /** One entry per decision (its events, the disclosure it counted, the approval it consumed). */
  #entries: Entry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** A write is queued and has not started yet: it will take what is buffered by then. */
  #queued = false;
  readonly #intervalMs: number;
  readonly #maxBatch: number;

  constructor(
    private readonly deps: RecorderDeps,
    options: RecorderOptions = {},
  ) {
    this.#intervalMs = options.intervalMs ?? 50;
    this.#maxBatch = options.maxBatch ?? 4000;
  }

  /** Decisions (or other event groups) buffered and not yet committed. */
  get pending(): number {
    return this.#entries.length;
  }

  add(
    events: readonly VigieEvent[],
    disclosure?: AccessDisclosureTable,
    approvalUsed?: { id: string; at: string },
  ): void {
    this.#entries.push({ events, disclosure, approvalUsed });
    if (this.#entries.length >= this.#maxBatch) {
      void this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Writes everything buffered so far, in batches; resolves once committed (or failed and kept). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#queued) return this.#chain;
    this.#queued = true;
    this.#chain = this.#chain.then(async () => {
      this.#queued = false;
      while (this.#entries.length > 0) {
        if (!(await this.#writeBatch())) return;
      }
    });
    return this.#chain;
  }

  /** Writes one batch of at most maxBatch decisions; false when the write failed (kept for retry). */
  async #writeBatch(): Promise<boolean> {
    const batch = this.#entries.splice(0, this.#maxBatch);
    const events = batch.flatMap((e) => e.events);
    const disclosures = batch.flatMap((e) => (e.disclosure ? [e.disclosure] : []));
    const approvals = batch.flatMap((e) => (e.approvalUsed ? [e.approvalUsed] : []));
    try {
      const db = this.deps.db;
      await writeAtomically(db, [
        ...compileInsertEvents(db, events),
        ...compileInsertDisclosures(db, disclosures),
        ...compileMarkApprovalsUsed(db, approvals),
      ]);
    } catch (error) {
      this.deps.logger.error(
        { err: { message: (error as Error).message }, batch: batch.length },
        'decision batch not written; kept for retry',
      );
      this.#entries = batch.concat(this.#entries);
      if (this.#timer === undefined) {
        this.#timer = setTimeout(() => void this.flush(), Math.max(this.#intervalMs, 1000));
        this.#timer.unref();
      }
      return false;
    }
    this.deps.bus.publish(events);
    return true;
  }
}
