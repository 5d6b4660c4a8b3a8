import type { Executor } from '../../db/database.js';
import { EMPTY_ROOT, nodeHash } from './merkle.js';
import { readTiles } from './journal.repository.js';
import type { StoredTile } from './tile-builder.js';
import { TILE_WIDTH, hashInTile, rowLength, tileOf, type TileId, type TilePosition } from './tile-layout.js';
import { consistencyRanges, inclusionRanges, subtreesOf, type LeafRange, type NodeId } from './tree-shape.js';

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
 * per 256 entries): a proof reads exactly one of those from the database. Kept by level, then by
 * index, so that finding a node's tile builds no key string.
 */
type TilesByLevel = Array<Map<number, StoredTile> | undefined>;
const upperTiles = new WeakMap<object, { readonly levels: TilesByLevel; size: number }>();
const UPPER_CACHE_LIMIT = 1024;

const tileIn = (levels: TilesByLevel, level: number, index: number): StoredTile | undefined =>
  levels[level]?.get(index);

function putTile(levels: TilesByLevel, tile: StoredTile): void {
  let byIndex = levels[tile.level];
  if (!byIndex) levels[tile.level] = byIndex = new Map();
  byIndex.set(tile.index, tile);
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

function cachesOf(db: Executor) {
  if (db.isTransaction) return undefined;
  let tiles = upperTiles.get(db);
  if (!tiles) upperTiles.set(db, (tiles = { levels: [], size: 0 }));
  let folded = foldedRanges.get(db);
  if (!folded) foldedRanges.set(db, (folded = new Map<string, Buffer>()));
  return { tiles, folded };
}

const covers = (tile: StoredTile | undefined, at: TilePosition): tile is StoredTile =>
  tile !== undefined && at.offset < rowLength(tile.width, at.row);

/**
 * Resolves the hashes of the given leaf ranges from stored tiles: every complete subtree they need is
 * read from one of O(log n) tiles, fetched in a single query. This is an inclusion proof's whole
 * cost besides that query, so it keeps to arrays: the subtrees of every range in one list, in order,
 * with the position where each range's own subtrees begin.
 */
export async function hashRanges(db: Executor, ranges: readonly LeafRange[]): Promise<Buffer[]> {
  if (ranges.length === 0) return [];
  const caches = cachesOf(db);
  const out = new Array<Buffer | undefined>(ranges.length);
  const nodes: NodeId[] = [];
  const positions: TilePosition[] = [];
  /** Where range i's subtrees begin in `nodes` and end (at begins[i + 1]); none when its hash is cached. */
  const begins = new Array<number>(ranges.length + 1);
  for (let i = 0; i < ranges.length; i++) {
    const subtrees = subtreesOf(ranges[i]!);
    const hit = subtrees.length > 1 ? caches?.folded.get(rangeKey(ranges[i]!)) : undefined;
    begins[i] = nodes.length;
    if (hit) {
      out[i] = hit;
      continue;
    }
    for (const n of subtrees) {
      nodes.push(n);
      positions.push(tileOf(n));
    }
  }
  begins[ranges.length] = nodes.length;
  if (nodes.length === 0) return out as Buffer[];

  // The tiles to read: those not cached, or cached too narrow for one of the nodes (a handful).
  const missing: TileId[] = [];
  for (const at of positions) {
    if (caches && covers(tileIn(caches.tiles.levels, at.level, at.index), at)) continue;
    if (!missing.some((t) => t.level === at.level && t.index === at.index))
      missing.push({ level: at.level, index: at.index });
  }
  const read: TilesByLevel = [];
  for (const t of await readTiles(db, missing)) {
    putTile(read, t);
    // Upper levels, and the right edge, are worth keeping; full level-0 tiles are not.
    if (!caches || (t.level === 0 && t.width === TILE_WIDTH)) continue;
    const kept = caches.tiles;
    const known = tileIn(kept.levels, t.level, t.index) !== undefined;
    if (kept.size >= UPPER_CACHE_LIMIT && !known) continue;
    putTile(kept.levels, t);
    if (!known) kept.size++;
  }

  const hashOf = (k: number): Buffer => {
    const at = positions[k]!;
    const fresh = tileIn(read, at.level, at.index);
    const tile = covers(fresh, at) ? fresh : caches && tileIn(caches.tiles.levels, at.level, at.index);
    const hash = tile && hashInTile(tile.data, tile.width, at.row, at.offset);
    if (!hash) throw new MissingNodeError(nodes[k]!);
    return hash;
  };
  for (let i = 0; i < ranges.length; i++) {
    if (out[i]) continue;
    // Folded right to left: MTH(a ‖ b ‖ c) = H(a, H(b, c)) (as rangeHash does).
    const first = begins[i]!;
    let k = begins[i + 1]! - 1;
    let acc = hashOf(k);
    while (--k >= first) acc = nodeHash(hashOf(k), acc);
    out[i] = acc;
    if (caches && begins[i + 1]! - first > 1) {
      if (caches.folded.size >= FOLDED_CACHE_LIMIT) caches.folded.clear();
      caches.folded.set(rangeKey(ranges[i]!), acc);
    }
  }
  return out as Buffer[];
}

const rangeKey = (r: LeafRange): string => `${r.start}-${r.end}`;

export const inclusionProof = (db: Executor, index: number, size: number): Promise<Buffer[]> =>
  hashRanges(db, inclusionRanges(index, size));

export const consistencyProof = (db: Executor, first: number, second: number): Promise<Buffer[]> =>
  first === second ? Promise.resolve([]) : hashRanges(db, consistencyRanges(first, second));

export async function rootAt(db: Executor, size: number): Promise<Buffer> {
  if (size === 0) return EMPTY_ROOT;
  const [root] = await hashRanges(db, [{ start: 0, end: size }]);
  return root!;
}
