import { HASH_SIZE } from './merkle.js';
import type { NodeId } from './tree-shape.js';

/**
 * The C2SP tlog-tiles layout: tile N of level L holds the hashes of height 8L covering leaves
 * [N·256^(L+1), (N+1)·256^(L+1)). Vigie stores each tile as its 256-hash bottom row (exactly what is
 * served) followed by the complete interior rows of heights 1–7 of that tile, so that any node of
 * the tree is one stored tile away and a proof reads O(log n) rows without rehashing a tile.
 */

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Rows stored per tile: the bottom row and the seven interior rows above it (the tile root is not kept: it is a hash of the level above). */
export const TILE_ROWS = TILE_HEIGHT;

export interface TileId {
  readonly level: number;
  readonly index: number;
}

export interface TilePosition extends TileId {
  /** Height inside the tile, 0–7. */
  readonly row: number;
  /** Position in that row. */
  readonly offset: number;
}

/** Where the hash of a complete subtree lives. */
export function tileOf(node: NodeId): TilePosition {
  const level = Math.floor(node.height / TILE_HEIGHT);
  const row = node.height - level * TILE_HEIGHT;
  const perTile = 2 ** (TILE_HEIGHT - row);
  const index = Math.floor(node.index / perTile);
  return { level, index, row, offset: node.index - index * perTile };
}

/** Number of hashes in row `row` of a tile whose bottom row has `width` hashes. */
export const rowLength = (width: number, row: number): number => Math.floor(width / 2 ** row);

/** Byte offset of row `row` in a stored tile of `width`. */
export function rowOffset(width: number, row: number): number {
  let hashes = 0;
  for (let r = 0; r < row; r++) hashes += rowLength(width, r);
  return hashes * HASH_SIZE;
}

/** Stored size in bytes of a tile of `width` (all rows). */
export const storedTileBytes = (width: number): number => rowOffset(width, TILE_ROWS);

/** A hash read from a stored tile, or undefined when the tile is too narrow to hold it. */
export function hashInTile(stored: Buffer, width: number, row: number, offset: number): Buffer | undefined {
  if (offset >= rowLength(width, row)) return undefined;
  const at = rowOffset(width, row) + offset * HASH_SIZE;
  return stored.subarray(at, at + HASH_SIZE);
}

/** Width of the level-L tile of a tree of `size` leaves at tile `index` (0 when it does not exist). */
export function tileWidthAt(size: number, level: number, index: number): number {
  const hashesAtLevel = Math.floor(size / TILE_WIDTH ** level);
  const before = index * TILE_WIDTH;
  if (hashesAtLevel <= before) return 0;
  return Math.min(TILE_WIDTH, hashesAtLevel - before);
}

/** `x001/x234/067` for 1234067: zero-padded groups of three digits, all but the last prefixed x. */
export function encodeTileIndex(index: number): string {
  const digits = String(index);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups: string[] = [];
  for (let i = 0; i < padded.length; i += 3) groups.push(padded.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export function tilePath(level: number | 'entries', index: number, width: number): string {
  const suffix = width === TILE_WIDTH ? '' : `.p/${width}`;
  return `tile/${level}/${encodeTileIndex(index)}${suffix}`;
}

export interface ParsedTilePath {
  readonly level: number | 'entries';
  readonly index: number;
  /** 256 for a full tile, 1–255 for a partial one. */
  readonly width: number;
}

/**
 * Parses the part after `tile/` in canonical form only (no leading zero groups, no leading zeros in
 * L or W), so that each resource has exactly one URL. Returns undefined for anything else.
 */
export function parseTilePath(rest: string): ParsedTilePath | undefined {
  if (rest.length > 64) return undefined;
  const parts = rest.split('/');
  const first = parts.shift();
  let level: number | 'entries';
  if (first === 'entries') level = 'entries';
  else if (first !== undefined && /^(0|[1-9][0-9]?)$/.test(first) && Number(first) <= 63)
    level = Number(first);
  else return undefined;
  let width = TILE_WIDTH;
  if (parts.length >= 2 && /\.p$/.test(parts[parts.length - 2]!)) {
    const w = parts.pop()!;
    if (!/^[1-9][0-9]{0,2}$/.test(w) || Number(w) > 255) return undefined;
    width = Number(w);
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -2);
  }
  if (parts.length === 0 || parts.length > 5) return undefined;
  let digits = '';
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const m = (last ? /^([0-9]{3})$/ : /^x([0-9]{3})$/).exec(parts[i]!);
    if (!m) return undefined;
    digits += m[1];
  }
  if (parts.length > 1 && digits.startsWith('000')) return undefined;
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) return undefined;
  return { level, index, width };
}
