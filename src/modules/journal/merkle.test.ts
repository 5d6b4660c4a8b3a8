import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  ProofError,
  leafHash,
  nodeHash,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
import { TileBuilder } from './tile-builder.js';
import { consistencyRanges, inclusionRanges, rangeHash, type NodeId } from './tree-shape.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../../shared/vectors/merkle');

/** Reads a probe file keeping 64-bit integers exact (JSON.parse would round 2^64 − 1). */
function readProbe(file: string): Record<string, unknown> {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/"(leafIdx|treeSize|size1|size2)": (\d+)/g, '"$1": "$2"');
  return JSON.parse(text) as Record<string, unknown>;
}

function probes(kind: 'inclusion' | 'consistency'): string[] {
  const root = path.join(VECTORS, 'testdata', kind);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) files.push(full);
    }
  };
  walk(root);
  return files.sort();
}

const b64 = (s: unknown) => Buffer.from(String(s), 'base64');
const hashes = (list: unknown) => ((list as string[] | null) ?? []).map(b64);

function outcome(run: () => void): boolean {
  try {
    run();
    return false;
  } catch (error) {
    if (!(error instanceof ProofError)) throw error;
    return true;
  }
}

describe('the transparency-dev Merkle probes', () => {
  const inclusion = probes('inclusion');
  const consistency = probes('consistency');

  it('are all there: 98 inclusion and 98 consistency probes', () => {
    expect(inclusion).toHaveLength(98);
    expect(consistency).toHaveLength(98);
  });

  it.each(inclusion.map((f) => [path.relative(VECTORS, f), f]))(
    'inclusion %s gives its wantErr',
    (_name, file) => {
      const p = readProbe(file);
      const failed = outcome(() =>
        verifyInclusion(
          BigInt(p.leafIdx as string),
          BigInt(p.treeSize as string),
          b64(p.leafHash),
          hashes(p.proof),
          b64(p.root),
        ),
      );
      expect(failed).toBe(p.wantErr);
    },
  );

  it.each(consistency.map((f) => [path.relative(VECTORS, f), f]))(
    'consistency %s gives its wantErr',
    (_name, file) => {
      const p = readProbe(file);
      const failed = outcome(() =>
        verifyConsistency(
          BigInt(p.size1 as string),
          BigInt(p.size2 as string),
          hashes(p.proof),
          b64(p.root1),
          b64(p.root2),
        ),
      );
      expect(failed).toBe(p.wantErr);
    },
  );
});

describe('RFC 6962 tree hashes', () => {
  const roots = JSON.parse(fs.readFileSync(path.join(VECTORS, 'rfc6962-roots.json'), 'utf8')) as {
    leafInputsHex: string[];
    rootHashesHexBySize: string[];
  };
  const leaves = roots.leafInputsHex.map((hex) => leafHash(Buffer.from(hex, 'hex')));

  it('give the reference roots for sizes 0 to 8, recursively and through the tile builder', () => {
    expect(roots.rootHashesHexBySize).toHaveLength(9);
    for (let size = 0; size <= 8; size++) {
      const expected = roots.rootHashesHexBySize[size];
      expect(rootOfLeafHashes(leaves.slice(0, size)).toString('hex')).toBe(expected);
      const builder = new TileBuilder();
      for (const h of leaves.slice(0, size)) builder.append(h);
      expect(builder.root().toString('hex')).toBe(expected);
    }
    expect(EMPTY_ROOT.toString('hex')).toBe(roots.rootHashesHexBySize[0]);
  });

  it('agree between the tile builder and the recursion across tile boundaries', () => {
    const hashesList: Buffer[] = [];
    const builder = new TileBuilder();
    for (let i = 0; i < 70_000; i++) {
      const h = leafHash(`leaf ${i}`);
      hashesList.push(h);
      builder.append(h);
      if ([1, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, 69_999].includes(i)) {
        expect(builder.root().equals(rootOfLeafHashes(hashesList)), `size ${i + 1}`).toBe(true);
      }
    }
    // C2SP: a tree of 70,000 leaves has a level-0 partial tile of 112, level 1 of 17, level 2 of 1.
    expect(builder.takeTouched().map((t) => [t.level, t.index, t.width])).toEqual([
      [0, 273, 112],
      [1, 1, 17],
      [2, 0, 1],
    ]);
  });
});

describe('proofs far beyond 2^31 leaves', () => {
  // A tree whose leaves all hash alike: every complete subtree of height h has the same hash, so any
  // node of a huge tree is cheap to compute and proofs can be built and checked at any size.
  const levels: Buffer[] = [leafHash('same')];
  const nodeOfHeight = (h: number) => {
    while (levels.length <= h) levels.push(nodeHash(levels[levels.length - 1]!, levels[levels.length - 1]!));
    return levels[h]!;
  };
  const lookup = (n: NodeId) => nodeOfHeight(n.height);

  it('verifies inclusion and consistency at sizes near 2^40 and 2^52', () => {
    for (const [size, index] of [
      [2 ** 40 + 12_345, 2 ** 39 + 777],
      [2 ** 52 + 3, 2 ** 52 + 2],
      [2 ** 31 + 1, 2 ** 31],
    ] as const) {
      const root = rangeHash({ start: 0, end: size }, lookup);
      const proof = inclusionRanges(index, size).map((r) => rangeHash(r, lookup));
      expect(() => verifyInclusion(index, size, levels[0]!, proof, root)).not.toThrow();
      expect(() => verifyInclusion(BigInt(index), BigInt(size), levels[0]!, proof, root)).not.toThrow();
      expect(() => verifyInclusion(index, size, leafHash('other'), proof, root)).toThrow(ProofError);
      expect(() => verifyInclusion(index, size, levels[0]!, proof.slice(1), root)).toThrow(ProofError);
      expect(() => verifyInclusion(index, size * 2, levels[0]!, proof, root)).toThrow(ProofError);
      const first = index;
      const firstRoot = rangeHash({ start: 0, end: first }, lookup);
      const consistency = consistencyRanges(first, size).map((r) => rangeHash(r, lookup));
      expect(() => verifyConsistency(first, size, consistency, firstRoot, root)).not.toThrow();
      expect(() => verifyConsistency(first, size, consistency.slice(0, -1), firstRoot, root)).toThrow(
        ProofError,
      );
      expect(() => verifyConsistency(first, size, consistency, root, firstRoot)).toThrow(ProofError);
    }
  });

  it('refuses sizes that are not exact whole numbers', () => {
    const h = leafHash('x');
    expect(() => verifyInclusion(2 ** 53 + 2, 2 ** 54, h, [], h)).toThrow(/not a whole number/);
    expect(() => verifyInclusion(Number.NaN, 1, h, [], h)).toThrow(ProofError);
    expect(() => verifyInclusion(-1, 1, h, [], h)).toThrow(ProofError);
  });
});

describe('generated proofs', () => {
  it('verify for every index and every pair of sizes up to 40 leaves', () => {
    const leaves = Array.from({ length: 40 }, (_, i) => leafHash(`entry ${i}`));
    const complete = new Map<string, Buffer>();
    const lookup = (n: NodeId) => {
      const key = `${n.height}:${n.index}`;
      let h = complete.get(key);
      if (!h) {
        const span = 2 ** n.height;
        h = rootOfLeafHashes(leaves.slice(n.index * span, (n.index + 1) * span));
        complete.set(key, h);
      }
      return h;
    };
    for (let size = 1; size <= 40; size++) {
      const root = rootOfLeafHashes(leaves.slice(0, size));
      for (let i = 0; i < size; i++) {
        const proof = inclusionRanges(i, size).map((r) => rangeHash(r, lookup));
        verifyInclusion(i, size, leaves[i]!, proof, root);
      }
      for (let first = 1; first <= size; first++) {
        const proof = consistencyRanges(first, size).map((r) => rangeHash(r, lookup));
        verifyConsistency(first, size, proof, rootOfLeafHashes(leaves.slice(0, first)), root);
      }
    }
  });
});
