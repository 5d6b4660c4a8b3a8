import { largestPowerOfTwoBelow, nodeHash } from './merkle.js';

/**
 * Which hashes an RFC 6962 proof is made of, independently of where they are stored. Every proof
 * element is the Merkle Tree Hash of a leaf range [start, end); each such range splits into complete
 * subtrees (a node of height h at position k covers leaves [k·2^h, (k+1)·2^h)). Callers fetch those
 * nodes in one go and fold them. Arithmetic only (no bitwise operators), so sizes may exceed 2^31.
 */

export interface NodeId {
  readonly height: number;
  readonly index: number;
}

export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** The complete subtrees of the RFC 6962 split of [start, end), left to right (largest first). */
export function subtreesOf(range: LeafRange): NodeId[] {
  const nodes: NodeId[] = [];
  let start = range.start;
  const end = range.end;
  while (start < end) {
    const remaining = end - start;
    let size = 1;
    let height = 0;
    while (size * 2 <= remaining && start % (size * 2) === 0) {
      size *= 2;
      height++;
    }
    nodes.push({ height, index: start / size });
    start += size;
  }
  return nodes;
}

/** Inclusion proof of leaf `index` in a tree of `size` leaves, bottom-up (RFC 6962 §2.1.1 PATH). */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError('leaf index outside the tree');
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      ranges.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      ranges.push({ start: lo, end: lo + k });
      lo += k;
    }
  }
  return ranges.reverse();
}

/** Consistency proof from `first` to `second` leaves, in RFC 6962 §2.1.2 SUBPROOF order. */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  if (!(first > 0 && first <= second)) throw new RangeError('consistency needs 0 < first ≤ second');
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = second;
  let m = first;
  let whole = true;
  for (;;) {
    const size = hi - lo;
    if (m === size) {
      if (!whole) ranges.push({ start: lo, end: hi });
      break;
    }
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) {
      ranges.push({ start: lo + k, end: hi });
      hi = lo + k;
    } else {
      ranges.push({ start: lo, end: lo + k });
      m -= k;
      lo += k;
      whole = false;
    }
  }
  return ranges.reverse();
}

/** Folds a range's complete subtrees right to left: MTH(a ‖ b ‖ c) = H(a, H(b, c)). */
export function rangeHash(range: LeafRange, lookup: (node: NodeId) => Buffer): Buffer {
  const nodes = subtreesOf(range);
  let acc = lookup(nodes[nodes.length - 1]!);
  for (let i = nodes.length - 2; i >= 0; i--) acc = nodeHash(lookup(nodes[i]!), acc);
  return acc;
}
