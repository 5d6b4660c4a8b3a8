import type { Executor } from '../../db/database.js';
import type { VigieEvent } from '../../shared/event.js';
import { verifyCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  readEntries,
  readState,
  readTiles,
  readTilesOfLevel,
  type JournalEntryRow,
} from './journal.repository.js';
import { HASH_SIZE, leafHash } from './merkle.js';
import type { NoteVerifier } from './signed-note.js';
import { TILE_WIDTH } from './tile-layout.js';
import { TileBuilder, type StoredTile } from './tile-builder.js';

export interface VerifyProblem {
  readonly code:
    | 'NO_STATE'
    | 'CHECKPOINT_INVALID'
    | 'CHECKPOINT_MISMATCH'
    | 'ENTRY_MISSING'
    | 'ENTRY_BEYOND_TREE'
    | 'ENTRY_COLUMNS_MISMATCH'
    | 'LEAF_MISMATCH'
    | 'TILE_MISMATCH'
    | 'ROOT_MISMATCH'
    | 'TRUNCATED'
    | 'REWRITTEN';
  readonly message: string;
  readonly index?: number;
  readonly eventId?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly treeSize: number;
  readonly entriesChecked: number;
  readonly tilesChecked: number;
  readonly checkpoint?: { size: number; rootHash: string };
  readonly since?: { size: number; rootHash: string };
  readonly problem?: VerifyProblem;
}

// A page of entries is a whole number of level-0 tiles, read alongside in one query.
const TILES_PER_PAGE = 8;
const PAGE = TILES_PER_PAGE * TILE_WIDTH;
const TILE_CHECK_BATCH = 64;

class Failed extends Error {
  constructor(readonly problem: VerifyProblem) {
    super(problem.message);
  }
}

/**
 * Recomputes the whole tree from the stored entries and checks it, tile by tile, against the stored
 * tree state, the stored root and frontier, and the latest signed checkpoint; with `since`, also
 * checks that the log still holds, unchanged, the tree of a checkpoint kept elsewhere (truncation
 * and rewrites). Stops at the first problem and names its leaf index and event id.
 */
export async function verifyJournal(
  db: Executor,
  options: { verifier: NoteVerifier; origin: string; since?: string },
): Promise<VerifyReport> {
  let entriesChecked = 0;
  let tilesChecked = 0;
  let treeSize = 0;
  let checkpointInfo: VerifyReport['checkpoint'];
  let sinceInfo: VerifyReport['since'];
  try {
    const state = await readState(db);
    if (!state) throw new Failed({ code: 'NO_STATE', message: 'journal tables are missing' });
    treeSize = state.treeSize;
    if (state.checkpoint !== null) {
      const c = openCheckpoint(state.checkpoint, options, 'stored checkpoint');
      checkpointInfo = { size: Number(c.size), rootHash: c.rootHash.toString('base64') };
      if (c.size !== BigInt(state.treeSize) || !c.rootHash.equals(state.rootHash)) {
        throw new Failed({
          code: 'CHECKPOINT_MISMATCH',
          message: 'stored tree state differs from the signed checkpoint',
        });
      }
    } else if (state.treeSize > 0) {
      throw new Failed({
        code: 'CHECKPOINT_INVALID',
        message: 'entries are integrated but no checkpoint is stored',
      });
    }
    let since: Checkpoint | undefined;
    if (options.since !== undefined) {
      since = openCheckpoint(options.since, options, 'saved checkpoint');
      sinceInfo = { size: Number(since.size), rootHash: since.rootHash.toString('base64') };
      if (since.size > BigInt(state.treeSize)) {
        throw new Failed({
          code: 'TRUNCATED',
          index: state.treeSize,
          message: `the log holds ${state.treeSize} entries, fewer than the ${since.size} of the saved checkpoint: it was truncated`,
        });
      }
    }

    const pendingTiles: StoredTile[] = [];
    const idsByIndex = new Map<number, string>();
    const builder = new TileBuilder((t) => pendingTiles.push(t));
    const checkSince = () => {
      if (since && BigInt(builder.size) === since.size && !builder.root().equals(since.rootHash)) {
        throw new Failed({
          code: 'REWRITTEN',
          index: Number(since.size) - 1,
          message: `entries before index ${since.size} no longer hash to the saved checkpoint's root: the log was rewritten`,
        });
      }
    };
    checkSince();
    for (let start = 0; ; start += PAGE) {
      const rows = await readEntries(db, start, start + PAGE);
      const leafTiles = new Map(
        (await readTilesOfLevel(db, 0, start / TILE_WIDTH, TILES_PER_PAGE)).map((t) => [t.index, t]),
      );
      for (const row of rows) {
        const expected = builder.size;
        if (row.leafIndex >= state.treeSize) {
          throw new Failed({
            code: 'ENTRY_BEYOND_TREE',
            index: row.leafIndex,
            eventId: row.eventId,
            message: `an entry claims index ${row.leafIndex}, beyond the tree of ${state.treeSize}`,
          });
        }
        if (row.leafIndex !== expected) {
          throw new Failed({
            code: 'ENTRY_MISSING',
            index: expected,
            message: `no entry at index ${expected} (next stored entry is ${row.leafIndex}, event ${row.eventId})`,
          });
        }
        const hash = leafHash(row.payload);
        checkLeaf(leafTiles, row, hash);
        checkColumns(row);
        builder.append(hash);
        idsByIndex.set(row.leafIndex, row.eventId);
        entriesChecked++;
        checkSince();
      }
      if (pendingTiles.length >= TILE_CHECK_BATCH) {
        tilesChecked += await compareTiles(db, pendingTiles.splice(0), idsByIndex);
        const checkedUpTo = Math.floor(builder.size / TILE_WIDTH) * TILE_WIDTH;
        for (const index of idsByIndex.keys()) {
          if (index >= checkedUpTo) break;
          idsByIndex.delete(index);
        }
      }
      if (rows.length < PAGE) break;
    }
    if (builder.size < state.treeSize) {
      throw new Failed({
        code: 'ENTRY_MISSING',
        index: builder.size,
        message: `no entry at index ${builder.size}: the tree has ${state.treeSize} entries (truncated?)`,
      });
    }
    tilesChecked += await compareTiles(db, [...pendingTiles, ...builder.takeTouched()], idsByIndex);
    if (!builder.root().equals(state.rootHash) || !Buffer.concat(builder.frontier()).equals(state.frontier)) {
      throw new Failed({
        code: 'ROOT_MISMATCH',
        message: 'recomputed root or frontier differs from the stored one',
      });
    }
    return { ok: true, treeSize, entriesChecked, tilesChecked, checkpoint: checkpointInfo, since: sinceInfo };
  } catch (error) {
    if (!(error instanceof Failed)) throw error;
    return {
      ok: false,
      treeSize,
      entriesChecked,
      tilesChecked,
      checkpoint: checkpointInfo,
      since: sinceInfo,
      problem: error.problem,
    };
  }
}

function openCheckpoint(note: string, options: { verifier: NoteVerifier; origin: string }, what: string) {
  try {
    return verifyCheckpoint(note, options.verifier, options.origin);
  } catch (error) {
    throw new Failed({ code: 'CHECKPOINT_INVALID', message: `${what}: ${(error as Error).message}` });
  }
}

/** The leaf hash must be the one stored in its level-0 tile when the entry was integrated. */
function checkLeaf(tiles: Map<number, StoredTile>, row: JournalEntryRow, hash: Buffer): void {
  const tileIndex = Math.floor(row.leafIndex / TILE_WIDTH);
  const offset = row.leafIndex - tileIndex * TILE_WIDTH;
  const tile = tiles.get(tileIndex);
  const stored =
    tile && offset < tile.width
      ? tile.data.subarray(offset * HASH_SIZE, (offset + 1) * HASH_SIZE)
      : undefined;
  if (stored?.equals(hash)) return;
  throw new Failed({
    code: 'LEAF_MISMATCH',
    index: row.leafIndex,
    eventId: row.eventId,
    message: stored
      ? `the entry at index ${row.leafIndex} does not hash to the stored leaf hash: its payload or position was changed`
      : `no stored leaf hash for index ${row.leafIndex}: the tree state lost it`,
  });
}

/** The indexed columns are derived from the payload; a difference means someone edited one of them. */
function checkColumns(row: JournalEntryRow): void {
  let event: VigieEvent;
  try {
    event = JSON.parse(row.payload) as VigieEvent;
  } catch {
    event = {} as VigieEvent;
  }
  const c = row.columns;
  if (
    event.id !== row.eventId ||
    event.kind !== c.kind ||
    event.time !== c.time ||
    event.actor?.type !== c.actorType ||
    event.actor?.id !== c.actorId ||
    event.outcome !== c.outcome
  ) {
    throw new Failed({
      code: 'ENTRY_COLUMNS_MISMATCH',
      index: row.leafIndex,
      eventId: row.eventId,
      message: `the columns of the entry at index ${row.leafIndex} do not match its payload`,
    });
  }
}

async function compareTiles(db: Executor, rebuilt: StoredTile[], idsByIndex: Map<number, string>) {
  if (rebuilt.length === 0) return 0;
  const stored = new Map((await readTiles(db, rebuilt)).map((t) => [`${t.level}/${t.index}`, t]));
  for (const tile of rebuilt) {
    const have = stored.get(`${tile.level}/${tile.index}`);
    if (have && have.width === tile.width && have.data.equals(tile.data)) continue;
    if (tile.level === 0) {
      for (let i = 0; i < tile.width; i++) {
        const a = tile.data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
        const b = have?.data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
        if (b && b.length === HASH_SIZE && a.equals(b)) continue;
        const index = tile.index * TILE_WIDTH + i;
        throw new Failed({
          code: 'LEAF_MISMATCH',
          index,
          eventId: idsByIndex.get(index),
          message: `the entry at index ${index} does not hash to the stored leaf hash: its payload or position was changed`,
        });
      }
    }
    throw new Failed({
      code: 'TILE_MISMATCH',
      index: tile.index * TILE_WIDTH ** (tile.level + 1),
      message: `stored tile ${tile.level}/${tile.index} differs from the one recomputed from the entries`,
    });
  }
  return rebuilt.length;
}
