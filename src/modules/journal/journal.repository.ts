import type { CompiledQuery } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { TileId } from './tile-layout.js';
import type { StoredTile } from './tile-builder.js';

/** The only SQL of the journal: tree state, tiles, and the journal's view of the events table. */

export interface JournalStateRow {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly frontier: Buffer;
  readonly checkpoint: string | null;
}

function toState(row: { tree_size: number; root_hash: Buffer; frontier: Buffer; checkpoint: string | null }) {
  return {
    treeSize: Number(row.tree_size),
    rootHash: Buffer.from(row.root_hash),
    frontier: Buffer.from(row.frontier),
    checkpoint: row.checkpoint,
  };
}

export async function readState(db: Executor): Promise<JournalStateRow | undefined> {
  const row = await db
    .selectFrom('journal_state')
    .select(['tree_size', 'root_hash', 'frontier', 'checkpoint'])
    .where('id', '=', 1)
    .executeTakeFirst();
  return row ? toState(row) : undefined;
}

/**
 * Takes the journal's write lock for the rest of the transaction: a no-op write to the state row
 * blocks any other integrator (another process on PostgreSQL) until commit, and on SQLite makes the
 * transaction a writer from its first statement instead of failing to upgrade later.
 */
export async function lockState(trx: Executor): Promise<JournalStateRow> {
  await trx
    .updateTable('journal_state')
    .set((eb) => ({ tree_size: eb.ref('tree_size') }))
    .where('id', '=', 1)
    .execute();
  const state = await readState(trx);
  if (!state) throw new Error('journal_state row is missing: migration 0002_journal did not run');
  return state;
}

export async function writeState(
  trx: Executor,
  state: JournalStateRow & { readonly updatedAt: string },
): Promise<void> {
  await trx
    .updateTable('journal_state')
    .set({
      tree_size: state.treeSize,
      root_hash: state.rootHash,
      frontier: state.frontier,
      checkpoint: state.checkpoint,
      updated_at: state.updatedAt,
    })
    .where('id', '=', 1)
    .execute();
}

type TileRow = { level: number; idx: number; width: number; hashes: Uint8Array };

const toTile = (r: TileRow): StoredTile => ({
  level: Number(r.level),
  index: Number(r.idx),
  width: Number(r.width),
  // The drivers hand back bytes of the caller's own (a Buffer, or a Uint8Array from the writer
  // thread): wrapped, not copied; a level-0 tile is 16 KiB.
  data: Buffer.isBuffer(r.hashes)
    ? r.hashes
    : Buffer.from(r.hashes.buffer, r.hashes.byteOffset, r.hashes.byteLength),
});

/** The last tile of every level: where appends continue. */
export async function readRightmostTiles(db: Executor): Promise<StoredTile[]> {
  const rows = await db
    .selectFrom('journal_tiles as t')
    .select(['t.level', 't.idx', 't.width', 't.hashes'])
    .where('t.idx', '=', (eb) =>
      eb
        .selectFrom('journal_tiles as u')
        .select((e) => e.fn.max('u.idx').as('m'))
        .whereRef('u.level', '=', 't.level'),
    )
    .orderBy('t.level')
    .execute();
  return rows.map(toTile);
}

/**
 * The one-tile read, compiled once per executor: an inclusion proof reads a single level-0 tile (the
 * upper ones are cached), and building and compiling the query cost about as much as running it.
 */
const oneTileQueries = new WeakMap<Executor, CompiledQuery<TileRow>>();

function oneTileQuery(db: Executor, id: TileId): CompiledQuery<TileRow> {
  let template = oneTileQueries.get(db);
  if (!template) {
    template = db
      .selectFrom('journal_tiles')
      .select(['level', 'idx', 'width', 'hashes'])
      .where('level', '=', 0)
      .where('idx', '=', 0)
      .compile();
    oneTileQueries.set(db, template);
  }
  return { ...template, parameters: [id.level, id.index] };
}

/** Reads the given tiles in one query (a proof needs a handful of them). */
export async function readTiles(db: Executor, ids: readonly TileId[]): Promise<StoredTile[]> {
  if (ids.length === 0) return [];
  if (ids.length === 1) return (await db.executeQuery(oneTileQuery(db, ids[0]!))).rows.map(toTile);
  const rows = await db
    .selectFrom('journal_tiles')
    .select(['level', 'idx', 'width', 'hashes'])
    .where((eb) => eb.or(ids.map((t) => eb.and([eb('level', '=', t.level), eb('idx', '=', t.index)]))))
    .execute();
  return rows.map(toTile);
}

export async function readTilesOfLevel(db: Executor, level: number, fromIndex: number, limit: number) {
  const rows = await db
    .selectFrom('journal_tiles')
    .select(['level', 'idx', 'width', 'hashes'])
    .where('level', '=', level)
    .where('idx', '>=', fromIndex)
    .orderBy('idx')
    .limit(limit)
    .execute();
  return rows.map(toTile);
}

export async function countTiles(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('journal_tiles')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function upsertTiles(trx: Executor, tiles: readonly StoredTile[]): Promise<void> {
  for (const t of tiles) {
    await trx
      .insertInto('journal_tiles')
      .values({ level: t.level, idx: t.index, width: t.width, hashes: t.data })
      .onConflict((oc) =>
        oc.columns(['level', 'idx']).doUpdateSet((eb) => ({
          width: eb.ref('excluded.width'),
          hashes: eb.ref('excluded.hashes'),
        })),
      )
      .execute();
  }
}

export interface PendingEvent {
  readonly seq: number;
  readonly payload: string;
}

/** Committed events not yet in the tree, in seq order. */
export async function readPendingEvents(trx: Executor, limit: number): Promise<PendingEvent[]> {
  const rows = await trx
    .selectFrom('events')
    .select(['seq', 'payload'])
    .where('leaf_index', 'is', null)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), payload: r.payload }));
}

export async function countPendingEvents(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('leaf_index', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Gives the events `seqs` (ascending) the leaf indexes firstIndex, firstIndex + 1, … One statement
 * per run of consecutive seqs (usually one: gaps only come from rolled-back or in-flight inserts).
 */
export async function assignLeafIndexes(trx: Executor, seqs: readonly number[], firstIndex: number) {
  let i = 0;
  while (i < seqs.length) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j]! + 1) j++;
    const offset = firstIndex + i - seqs[i]!;
    await trx
      .updateTable('events')
      .set((eb) => ({ leaf_index: eb('seq', '+', offset) }))
      .where('seq', '>=', seqs[i]!)
      .where('seq', '<=', seqs[j]!)
      .where('leaf_index', 'is', null)
      .execute();
    i = j + 1;
  }
}

export interface JournalEntryRow {
  readonly leafIndex: number;
  readonly seq: number;
  readonly eventId: string;
  readonly payload: string;
  readonly columns: {
    readonly kind: string;
    readonly time: string;
    readonly actorType: string;
    readonly actorId: string;
    readonly outcome: string;
  };
}

/** Integrated entries with leaf_index in [start, end), in index order. */
export async function readEntries(db: Executor, start: number, end: number): Promise<JournalEntryRow[]> {
  const rows = await db
    .selectFrom('events')
    .select(['leaf_index', 'seq', 'id', 'payload', 'kind', 'time', 'actor_type', 'actor_id', 'outcome'])
    .where('leaf_index', '>=', start)
    .where('leaf_index', '<', end)
    .orderBy('leaf_index')
    .execute();
  return rows.map((r) => ({
    leafIndex: Number(r.leaf_index),
    seq: Number(r.seq),
    eventId: r.id,
    payload: r.payload,
    columns: { kind: r.kind, time: r.time, actorType: r.actor_type, actorId: r.actor_id, outcome: r.outcome },
  }));
}

export async function findEventLeaf(db: Executor, eventId: string) {
  const row = await db
    .selectFrom('events')
    .select(['leaf_index', 'payload'])
    .where('id', '=', eventId)
    .executeTakeFirst();
  return row
    ? { leafIndex: row.leaf_index === null ? null : Number(row.leaf_index), payload: row.payload }
    : undefined;
}

/** Largest leaf index present, to spot entries beyond the recorded tree. */
export async function maxLeafIndex(db: Executor): Promise<number | null> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('leaf_index').as('m'))
    .executeTakeFirst();
  return row?.m === null || row?.m === undefined ? null : Number(row.m);
}
