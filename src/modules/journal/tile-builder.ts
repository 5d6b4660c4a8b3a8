import crypto from 'node:crypto';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './merkle.js';
import { TILE_ROWS, TILE_WIDTH, rowLength, rowOffset, storedTileBytes } from './tile-layout.js';

/** A tile as stored: its coordinates, its width and its rows (bottom row first). */
export interface StoredTile {
  readonly level: number;
  readonly index: number;
  readonly width: number;
  readonly data: Buffer;
}

/** Byte offset of each row in a full tile; an open tile is kept in that layout. */
const FULL_OFFSETS = Array.from({ length: TILE_ROWS }, (_, r) => rowOffset(TILE_WIDTH, r));
const FULL_BYTES = storedTileBytes(TILE_WIDTH);

interface OpenTile {
  index: number;
  /** The tile's rows at their full-tile offsets; counts[h] hashes of row h are filled. */
  slab: Buffer;
  counts: number[];
  /** The last hash of each row whose count is odd: the left sibling of the next one. */
  lefts: Array<Uint8Array | undefined>;
}

const openTile = (index: number): OpenTile => ({
  index,
  slab: Buffer.allocUnsafe(FULL_BYTES),
  counts: new Array<number>(TILE_ROWS).fill(0),
  lefts: new Array<Uint8Array | undefined>(TILE_ROWS).fill(undefined),
});

const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/**
 * The right edge of the tree: the rightmost tile of every level, grown one leaf hash at a time. Each
 * hash is computed exactly once (n leaf hashes by the caller, n − 1 node hashes here), as in a
 * minimal RFC 6962 loop, and written straight into the tile's slab (siblings are adjacent, so a node
 * hash reads 64 contiguous bytes). Completed tiles go to `onFullTile` and are forgotten: memory stays
 * O(log n) whatever the size. Used by the integrator (which persists the tiles it touched) and by
 * the verifier (which compares what it rebuilds with what is stored).
 */
export class TileBuilder {
  #size: number;
  readonly #open: OpenTile[] = [];
  readonly #touched: boolean[] = [];
  readonly #onFullTile: (tile: StoredTile) => void;

  constructor(onFullTile: (tile: StoredTile) => void = () => {}, size = 0) {
    this.#onFullTile = onFullTile;
    this.#size = size;
  }

  /** Resumes from the rightmost stored tile of each level of a tree of `size` leaves. */
  static resume(size: number, rightmost: readonly StoredTile[], onFullTile?: (tile: StoredTile) => void) {
    const builder = new TileBuilder(onFullTile, size);
    for (const tile of rightmost) {
      const open = openTile(tile.index);
      for (let r = 0; r < TILE_ROWS; r++) {
        const n = rowLength(tile.width, r);
        const from = rowOffset(tile.width, r);
        tile.data.copy(open.slab, FULL_OFFSETS[r], from, from + n * HASH_SIZE);
        open.counts[r] = n;
        if (n % 2 === 1) open.lefts[r] = tile.data.subarray(from + (n - 1) * HASH_SIZE, from + n * HASH_SIZE);
      }
      builder.#open[tile.level] = open;
    }
    return builder;
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (SHA-256(0x00 ‖ leaf)). */
  append(leafHash: Uint8Array): void {
    this.#appendAt(0, leafHash);
    this.#size++;
  }

  #appendAt(level: number, hash: Uint8Array): void {
    let tile = this.#open[level];
    if (tile === undefined || tile.counts[0] === TILE_WIDTH) {
      tile = openTile(tile === undefined ? 0 : tile.index + 1);
      this.#open[level] = tile;
    }
    this.#touched[level] = true;
    const { slab, counts, lefts } = tile;
    let current = hash;
    for (let h = 0; ; h++) {
      const count = counts[h]!;
      slab.set(current, FULL_OFFSETS[h]! + count * HASH_SIZE);
      counts[h] = count + 1;
      if (count % 2 === 0) {
        lefts[h] = current;
        return;
      }
      nodeInput.set(lefts[h]!, 1);
      nodeInput.set(current, 1 + HASH_SIZE);
      lefts[h] = undefined;
      const parent = crypto.hash('sha256', nodeInput, 'buffer');
      if (h + 1 === TILE_ROWS) {
        // The tile is full: its root is the next hash of the level above.
        this.#onFullTile({ level, index: tile.index, width: TILE_WIDTH, data: slab });
        this.#appendAt(level + 1, parent);
        return;
      }
      current = parent;
    }
  }

  /** The rightmost tile of every level touched since the last call (full or partial), serialised. */
  takeTouched(): StoredTile[] {
    const tiles: StoredTile[] = [];
    for (let level = 0; level < this.#touched.length; level++) {
      if (!this.#touched[level]) continue;
      const tile = this.#open[level]!;
      const width = tile.counts[0]!;
      tiles.push({ level, index: tile.index, width, data: serialise(tile, width) });
      this.#touched[level] = false;
    }
    return tiles;
  }

  /** The complete subtrees on the right edge, largest first: the tree's compact frontier. */
  frontier(): Buffer[] {
    const nodes: Buffer[] = [];
    for (const tile of this.#open) {
      for (let h = 0; h < TILE_ROWS; h++) {
        const count = tile.counts[h]!;
        if (count % 2 === 1) {
          const at = FULL_OFFSETS[h]! + (count - 1) * HASH_SIZE;
          nodes.push(Buffer.from(tile.slab.subarray(at, at + HASH_SIZE)));
        }
      }
    }
    return nodes.reverse();
  }

  /** Root hash of the current tree. */
  root(): Buffer {
    return rootOfFrontier(this.frontier());
  }
}

/** Folds a frontier (largest subtree first) into the root: H(a, H(b, c)). */
export function rootOfFrontier(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return EMPTY_ROOT;
  let acc = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHash(frontier[i]!, acc);
  return acc;
}

/** The stored form of an open tile of `width`: each row cut to its complete nodes, rows back to back. */
function serialise(tile: OpenTile, width: number): Buffer {
  const out = Buffer.allocUnsafe(storedTileBytes(width));
  for (let r = 0; r < TILE_ROWS; r++) {
    const from = FULL_OFFSETS[r]!;
    tile.slab.copy(out, rowOffset(width, r), from, from + rowLength(width, r) * HASH_SIZE);
  }
  return out;
}
