import crypto from 'node:crypto';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing and proof verification, with no I/O.
 *
 * Sizes and indices are exact: verification works on bigint (trees beyond 2^53 leaves, up to
 * 2^64 - 1, as the transparency-dev probes require) and nothing here uses 32-bit bitwise
 * operators, which would silently wrap sizes beyond 2^31.
 */

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Buffer = crypto.hash('sha256', Buffer.alloc(0), 'buffer');

/** Leaf hash: SHA-256(0x00 ‖ leaf). The leaf is the canonical JSON text of an event, as UTF-8. */
export function leafHash(leaf: string | Uint8Array): Buffer {
  const bytes = typeof leaf === 'string' ? Buffer.from(leaf, 'utf8') : leaf;
  const input = Buffer.allocUnsafe(bytes.length + 1);
  input[0] = LEAF_PREFIX;
  input.set(bytes, 1);
  return crypto.hash('sha256', input, 'buffer');
}

// One scratch buffer for node hashes: hashing is synchronous, so it is never shared mid-use.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return crypto.hash('sha256', nodeInput, 'buffer');
}

/** Root of a list of leaf hashes, straight from the RFC 6962 recursion (for tests and small trees). */
export function rootOfLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  if (hashes.length === 1) return Buffer.from(hashes[0]!);
  const k = largestPowerOfTwoBelow(hashes.length);
  return nodeHash(rootOfLeafHashes(hashes.slice(0, k)), rootOfLeafHashes(hashes.slice(k)));
}

/** Largest power of two strictly smaller than n (n ≥ 2), by arithmetic so that n may exceed 2^31. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class ProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProofError';
  }
}

type Size = number | bigint;

function toBig(value: Size, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new ProofError(`${name} is negative`);
    return value;
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new ProofError(`${name} is not a whole number`);
  return BigInt(value);
}

function checkHash(hash: Uint8Array, what: string): void {
  if (hash.length !== HASH_SIZE) throw new ProofError(`${what} is ${hash.length} bytes, not ${HASH_SIZE}`);
}

const odd = (x: bigint) => x % 2n === 1n;

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2). Throws ProofError on any failure, including a
 * malformed hash or an index outside the tree; returns normally when the proof holds.
 */
export function verifyInclusion(
  leafIndex: Size,
  treeSize: Size,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const index = toBig(leafIndex, 'leaf index');
  const size = toBig(treeSize, 'tree size');
  if (index >= size) throw new ProofError(`leaf index ${index} is outside a tree of size ${size}`);
  checkHash(leaf, 'leaf hash');
  for (const p of proof) checkHash(p, 'proof hash');
  // Exact doubles below 2^53 are much cheaper than bigint; the arithmetic is the same either way.
  const r =
    size <= MAX_SAFE
      ? chainInclusionSmall(Number(index), Number(size) - 1, leaf, proof)
      : chainInclusionBig(index, size - 1n, leaf, proof);
  if (!r.equals(root)) throw new ProofError('inclusion proof does not lead to the root');
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** RFC 9162 §2.1.3.2 steps 2–5 on doubles: halving is Math.floor(x / 2), LSB is x % 2. */
function chainInclusionSmall(
  fnIn: number,
  snIn: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  let fn = fnIn;
  let sn = snIn;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) throw new ProofError('inclusion proof is longer than the path');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('inclusion proof is shorter than the path');
  return r;
}

/** The same on bigint, for trees of 2^53 leaves and more (up to 2^64 − 1). */
function chainInclusionBig(
  fnIn: bigint,
  snIn: bigint,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  let fn = fnIn;
  let sn = snIn;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0n) throw new ProofError('inclusion proof is longer than the path');
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!odd(fn) && fn !== 0n) {
        fn /= 2n;
        sn /= 2n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn /= 2n;
    sn /= 2n;
  }
  if (sn !== 0n) throw new ProofError('inclusion proof is shorter than the path');
  return r;
}

/**
 * Verifies a consistency proof between two tree sizes (RFC 9162 §2.1.4.2). A proof from the empty
 * tree is refused as meaningless; equal sizes need an empty proof and equal roots.
 */
export function verifyConsistency(
  size1: Size,
  size2: Size,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const first = toBig(size1, 'first size');
  const second = toBig(size2, 'second size');
  if (second < first) throw new ProofError(`second size ${second} is smaller than first size ${first}`);
  if (first === 0n) throw new ProofError('a consistency proof from the empty tree is meaningless');
  if (first === second) {
    if (proof.length > 0) throw new ProofError('equal sizes need an empty proof');
    if (!Buffer.from(root1).equals(root2)) throw new ProofError('equal sizes but different roots');
    return;
  }
  if (proof.length === 0) throw new ProofError('empty consistency proof');
  for (const p of proof) checkHash(p, 'proof hash');
  checkHash(root1, 'first root');
  checkHash(root2, 'second root');

  let path = proof;
  // A first tree that is a complete subtree is its own first node; RFC 9162 prepends it.
  if (isPowerOfTwo(first)) path = [root1, ...proof];
  let fn = first - 1n;
  let sn = second - 1n;
  while (odd(fn)) {
    fn /= 2n;
    sn /= 2n;
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0n) throw new ProofError('consistency proof is longer than the path');
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0n) {
          fn /= 2n;
          sn /= 2n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn /= 2n;
    sn /= 2n;
  }
  if (sn !== 0n) throw new ProofError('consistency proof is shorter than the path');
  if (!fr.equals(root1)) throw new ProofError('consistency proof does not lead to the first root');
  if (!sr.equals(root2)) throw new ProofError('consistency proof does not lead to the second root');
}

function isPowerOfTwo(n: bigint): boolean {
  let x = n;
  while (x > 1n && x % 2n === 0n) x /= 2n;
  return x === 1n;
}
