import type { Logger } from 'pino';
import type { Db } from '../../db/database.js';
import type { Clock } from '../../shared/clock.js';
import { parseCheckpoint, signCheckpoint } from './checkpoint.js';
import {
  assignLeafIndexes,
  lockState,
  readPendingEvents,
  readRightmostTiles,
  upsertTiles,
  writeState,
} from './journal.repository.js';
import { leafHash, verifyConsistency } from './merkle.js';
import { consistencyProof } from './proof.repository.js';
import type { NoteSigner } from './signed-note.js';
import { TileBuilder, type StoredTile } from './tile-builder.js';

export interface IntegratorDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'error' | 'warn'>;
  readonly origin: string;
  readonly intervalMs: number;
  readonly signer: () => Promise<NoteSigner>;
  /** Largest number of events per transaction: keeps each transaction short. */
  readonly batchSize?: number;
  readonly onIntegrated?: (batch: { count: number; treeSize: number; ms: number }) => void;
}

export interface Integrator {
  /** Integrates one batch of committed events; returns how many were taken in. */
  integrateOnce(): Promise<number>;
  /** Integrates until nothing is pending (bounded by `maxBatches`). */
  integrateAll(maxBatches?: number): Promise<number>;
  /**
   * Runs `work` between two scheduled rounds, holding the next one back until it ends: a full
   * verification reads a tree that does not grow under it (this process's integrator only).
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  start(): void;
  stop(): Promise<void>;
}

export class JournalInconsistentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalInconsistentError';
  }
}

const DEFAULT_BATCH = 4096;

/**
 * Group commit: every `intervalMs`, takes the committed events that are not yet in the tree (in seq
 * order), gives them consecutive leaf indexes, stores the tiles they changed and the new frontier,
 * and signs a checkpoint, all in one transaction: a crash leaves the whole batch integrated or none
 * of it. Leaf indexes are assigned here rather than at insert time, so PostgreSQL sequences that
 * commit out of order are harmless; the state-row lock keeps integrators of several processes apart.
 */
export function createIntegrator(deps: IntegratorDeps): Integrator {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH;
  const completed: StoredTile[] = [];
  let cache: { size: number; root: Buffer; builder: TileBuilder } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  // Scheduled rounds and exclusive work run one after the other, in the order they were asked.
  let turn: Promise<unknown> = Promise.resolve();
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const next = turn.then(work, work);
    turn = next.catch(() => undefined);
    return next;
  }

  async function integrateOnce(): Promise<number> {
    const signer = await deps.signer();
    const started = performance.now();
    const outcome = await deps.db.transaction().execute(async (trx) => {
      const state = await lockState(trx);
      const pending = await readPendingEvents(trx, batchSize);
      if (pending.length === 0 && state.checkpoint !== null) return undefined;

      let builder: TileBuilder;
      if (cache && cache.size === state.treeSize && cache.root.equals(state.rootHash)) {
        builder = cache.builder;
      } else {
        builder = TileBuilder.resume(state.treeSize, await readRightmostTiles(trx), (t) => completed.push(t));
        if (!builder.root().equals(state.rootHash)) {
          throw new JournalInconsistentError('stored tiles do not give the stored root hash');
        }
      }
      cache = undefined; // until this transaction commits, the in-memory edge may be ahead of storage
      completed.length = 0;
      for (const e of pending) builder.append(leafHash(e.payload));
      await assignLeafIndexes(
        trx,
        pending.map((e) => e.seq),
        state.treeSize,
      );
      const touched = new Map<string, StoredTile>();
      for (const t of [...completed, ...builder.takeTouched()]) touched.set(`${t.level}/${t.index}`, t);
      await upsertTiles(trx, [...touched.values()]);

      const size = builder.size;
      const root = builder.root();
      await checkExtendsPrevious(trx, state, size, root);
      const checkpoint = signCheckpoint({ origin: deps.origin, size: BigInt(size), rootHash: root }, signer);
      await writeState(trx, {
        treeSize: size,
        rootHash: root,
        frontier: Buffer.concat(builder.frontier()),
        checkpoint,
        updatedAt: deps.clock.now().toISOString(),
      });
      return { count: pending.length, size, root, builder };
    });
    if (!outcome) return 0;
    cache = { size: outcome.size, root: outcome.root, builder: outcome.builder };
    deps.onIntegrated?.({ count: outcome.count, treeSize: outcome.size, ms: performance.now() - started });
    return outcome.count;
  }

  /** Never sign a tree that does not extend the last signed one: prove it from what is stored. */
  async function checkExtendsPrevious(
    trx: Parameters<typeof consistencyProof>[0],
    state: { treeSize: number; rootHash: Buffer; checkpoint: string | null },
    size: number,
    root: Buffer,
  ) {
    if (state.checkpoint !== null) {
      const previous = parseCheckpoint(state.checkpoint.slice(0, state.checkpoint.lastIndexOf('\n\n') + 1));
      if (previous.size !== BigInt(state.treeSize) || !previous.rootHash.equals(state.rootHash)) {
        throw new JournalInconsistentError('the last signed checkpoint does not match the stored tree state');
      }
    }
    if (state.treeSize === 0) return;
    const proof = await consistencyProof(trx, state.treeSize, size);
    try {
      verifyConsistency(state.treeSize, size, proof, state.rootHash, root);
    } catch (error) {
      throw new JournalInconsistentError(
        `new tree of ${size} does not extend the signed tree of ${state.treeSize}: ${(error as Error).message}`,
      );
    }
  }

  async function integrateAll(maxBatches = 1_000_000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await integrateOnce();
      total += n;
      if (n < batchSize) break;
    }
    return total;
  }

  // Fixed cadence: the next round starts one window after this one started, so an event waits at
  // most about one window plus one integration, however long the integration took.
  function schedule(lastStart = performance.now()) {
    if (!running) return;
    const wait = Math.max(0, deps.intervalMs - (performance.now() - lastStart));
    timer = setTimeout(() => {
      const started = performance.now();
      inFlight = serial(() => integrateAll(64))
        .catch((error: unknown) => {
          cache = undefined;
          deps.logger.error({ err: error }, 'journal integration failed; retrying');
        })
        .finally(() => schedule(started));
    }, wait);
  }

  return {
    integrateOnce,
    integrateAll,
    exclusive: (work) => serial(work),
    start() {
      if (running) return;
      running = true;
      schedule(performance.now());
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await inFlight;
      // Take in what committed meanwhile, so a clean stop leaves nothing pending.
      await integrateAll(64).catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'journal integration on stop failed');
      });
    },
  };
}
