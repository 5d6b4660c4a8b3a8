import type { Executor } from '../../db/database.js';
import { EMPTY_ROOT } from './merkle.js';
import { readTiles } from './journal.repository.js';
import type { StoredTile } from './tile-builder.js';
import { TILE_WIDTH, hashInTile, rowLength, tileOf, type TileId } from './tile-layout.js';
import {
  consistencyRanges,
  inclusionRanges,
  nodeKey,
  nodesOf,
  rangeHash,
  type LeafRange,
  type NodeId,
} from './tree-shape.js';

/** Raised when stored tiles lack a node that a tree of the recorded size must have. */
export class MissingNodeError extends Error {
  constructor(readonly node: NodeId) {
    super(`stored tree state lacks node height ${node.height} index ${node.index}`);
    this.name = 'MissingNodeError';
  }
}

/**
 * Committed tiles of level 1 and above, and partial tiles (the right edge), per database. A committed
 * tile of width w never changes (a wider version only appends), nearly every proof needs them, and
 * there are only about n / 65 536 of them; a cached tile too narrow for a node is simply read again.
 * Tiles read inside a transaction are never cached (it may roll back), nor full level-0 tiles (one
 * per 256 entries): a proof reads exactly one of those from the database.
 */
const upperTiles = new WeakMap<object, Map<string, StoredTile>>();
const UPPER_CACHE_LIMIT = 1024;

async function loadTiles(
  db: Executor,
  ids: readonly TileId[],
  wide: (tile: StoredTile) => boolean,
): Promise<Map<string, StoredTile>> {
  let cache: Map<string, StoredTile> | undefined;
  if (!db.isTransaction) {
    cache = upperTiles.get(db);
    if (!cache) upperTiles.set(db, (cache = new Map<string, StoredTile>()));
  }
  const found = new Map<string, StoredTile>();
  const missing: TileId[] = [];
  for (const id of ids) {
    const key = `${id.level}/${id.index}`;
    const hit = cache?.get(key);
    if (hit && wide(hit)) found.set(key, hit);
    else missing.push(id);
  }
  for (const t of await readTiles(db, missing)) {
    const key = `${t.level}/${t.index}`;
    found.set(key, t);
    const worthKeeping = t.level > 0 || t.width < TILE_WIDTH; // upper levels, and the right edge
    if (cache && worthKeeping && (cache.size < UPPER_CACHE_LIMIT || cache.has(key))) cache.set(key, t);
  }
  return found;
}

/**
 * Hashes of ranges that split into several subtrees, per database, outside transactions. Such a range
 * lies on the tree's right edge, and the proofs against one tree size share them: at 1 M leaves every
 * leaf of the left half has the same top-level sibling, a range of six subtrees. Cached, a range
 * costs a lookup instead of a fold of up to log n hashes. Committed leaves never change, so neither
 * do these hashes.
 */
const foldedRanges = new WeakMap<object, Map<string, Buffer>>();
const FOLDED_CACHE_LIMIT = 4096;

/**
 * Resolves the hashes of the given leaf ranges from stored tiles: every complete subtree they need is
 * read from one of O(log n) tiles, fetched in a single query.
 */
export async function hashRanges(db: Executor, ranges: readonly LeafRange[]): Promise<Buffer[]> {
  if (ranges.length === 0) return [];
  let folded: Map<string, Buffer> | undefined;
  if (!db.isTransaction) {
    folded = foldedRanges.get(db);
    if (!folded) foldedRanges.set(db, (folded = new Map<string, Buffer>()));
  }
  const known = ranges.map((r) => folded?.get(`${r.start}-${r.end}`));
  const open = ranges.filter((_, i) => known[i] === undefined);
  if (open.length === 0) return known as Buffer[];
  const nodes = nodesOf(open);
  const positions = nodes.map(tileOf);
  const tileIds = new Map<string, TileId>();
  // The widest row position each tile must cover, so that a cached narrower copy is read again.
  const needs = new Map<string, Array<{ row: number; offset: number }>>();
  for (const t of positions) {
    const key = `${t.level}/${t.index}`;
    tileIds.set(key, { level: t.level, index: t.index });
    const list = needs.get(key) ?? [];
    list.push({ row: t.row, offset: t.offset });
    needs.set(key, list);
  }
  const tiles = await loadTiles(db, [...tileIds.values()], (tile) =>
    (needs.get(`${tile.level}/${tile.index}`) ?? []).every((p) => p.offset < rowLength(tile.width, p.row)),
  );
  const found = new Map<string, Buffer>();
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const at = positions[i]!;
    const tile = tiles.get(`${at.level}/${at.index}`);
    const hash = tile && hashInTile(tile.data, tile.width, at.row, at.offset);
    if (!hash) throw new MissingNodeError(n);
    found.set(nodeKey(n), hash);
  }
  const lookup = (n: NodeId) => found.get(nodeKey(n))!;
  return ranges.map((r, i) => {
    const cached = known[i];
    if (cached) return cached;
    const hash = rangeHash(r, lookup);
    if (folded && !isOneNode(r)) {
      if (folded.size >= FOLDED_CACHE_LIMIT) folded.clear();
      folded.set(`${r.start}-${r.end}`, hash);
    }
    return hash;
  });
}

/** A range that is one complete subtree: its length a power of two, its start a multiple of it. */
function isOneNode(r: LeafRange): boolean {
  const length = r.end - r.start;
  return Number.isInteger(Math.log2(length)) && r.start % length === 0;
}

export const inclusionProof = (db: Executor, index: number, size: number): Promise<Buffer[]> =>
  hashRanges(db, inclusionRanges(index, size));

export const consistencyProof = (db: Executor, first: number, second: number): Promise<Buffer[]> =>
  first === second ? Promise.resolve([]) : hashRanges(db, consistencyRanges(first, second));

export async function rootAt(db: Executor, size: number): Promise<Buffer> {
  if (size === 0) return EMPTY_ROOT;
  const [root] = await hashRanges(db, [{ start: 0, end: size }]);
  return root!;
}
