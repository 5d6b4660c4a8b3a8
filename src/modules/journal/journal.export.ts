import fs from 'node:fs/promises';
import path from 'node:path';
import type { Executor } from '../../db/database.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import { verifyCheckpoint } from './checkpoint.js';
import { readEntries, readState } from './journal.repository.js';
import { largestPowerOfTwoBelow, leafHash, nodeHash } from './merkle.js';
import { hashRanges } from './proof.repository.js';
import { parseVerifierKey } from './signed-note.js';
import { TileBuilder } from './tile-builder.js';
import type { LeafRange } from './tree-shape.js';

/**
 * An auditor's bundle: `checkpoint` (the signed note), `entries.ndjson` (one leaf per line, the exact
 * bytes that are hashed) and `proof.json` (the subtree hashes outside the exported range that, with
 * the entries, rebuild the checkpoint's root). It verifies offline with the verifier key alone.
 */

export const EXPORT_FILES = {
  checkpoint: 'checkpoint',
  entries: 'entries.ndjson',
  proof: 'proof.json',
} as const;

interface ProofFile {
  readonly format: 'vigie-journal-export/1';
  readonly origin: string;
  readonly treeSize: number;
  readonly from: number;
  readonly to: number;
  /** MTH of each RFC 6962 subtree lying wholly outside [from, to), left to right. */
  readonly nodes: Array<{ start: number; end: number; hash: string }>;
}

/** The subtrees of the RFC 6962 split of [0, size) that lie wholly outside [from, to). */
export function rangesOutside(from: number, to: number, size: number): LeafRange[] {
  const out: LeafRange[] = [];
  const walk = (lo: number, hi: number) => {
    if (hi <= from || lo >= to) out.push({ start: lo, end: hi });
    else if (lo < from || hi > to) {
      const k = largestPowerOfTwoBelow(hi - lo);
      walk(lo, lo + k);
      walk(lo + k, hi);
    }
  };
  if (size > 0) walk(0, size);
  return out;
}

export interface ExportResult {
  readonly treeSize: number;
  readonly from: number;
  readonly to: number;
}

export async function exportJournal(
  db: Executor,
  options: { out: string; from?: number; to?: number },
): Promise<ExportResult> {
  const state = await readState(db);
  if (!state?.checkpoint) throw new Error('the journal has no signed checkpoint yet');
  const size = state.treeSize;
  const from = options.from ?? 0;
  const to = options.to ?? size;
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && from < to && to <= size)) {
    throw new Error(`expected 0 ≤ from < to ≤ ${size} (the checkpoint's size)`);
  }
  await fs.mkdir(options.out, { recursive: true });
  const outside = rangesOutside(from, to, size);
  const hashes = await hashRanges(db, outside);
  const handle = await fs.open(path.join(options.out, EXPORT_FILES.entries), 'w');
  try {
    for (let start = from; start < to; start += 2000) {
      const rows = await readEntries(db, start, Math.min(to, start + 2000));
      if (rows.length !== Math.min(to, start + 2000) - start)
        throw new Error(`entries missing near index ${start}`);
      await handle.write(rows.map((r) => `${r.payload}\n`).join(''));
    }
  } finally {
    await handle.close();
  }
  const proof: ProofFile = {
    format: 'vigie-journal-export/1',
    origin: state.checkpoint.split('\n', 1)[0]!,
    treeSize: size,
    from,
    to,
    nodes: outside.map((r, i) => ({ start: r.start, end: r.end, hash: hashes[i]!.toString('base64') })),
  };
  await fs.writeFile(path.join(options.out, EXPORT_FILES.proof), `${JSON.stringify(proof, null, 2)}\n`);
  await fs.writeFile(path.join(options.out, EXPORT_FILES.checkpoint), state.checkpoint);
  return { treeSize: size, from, to };
}

export interface ExportCheck {
  readonly ok: boolean;
  readonly treeSize?: number;
  readonly entries?: number;
  readonly problem?: string;
  readonly index?: number;
  readonly eventId?: string;
}

/** Checks an export offline: signature, origin, canonical entries, and the root they rebuild. */
export async function verifyExport(dir: string, verifierKey: string): Promise<ExportCheck> {
  const verifier = parseVerifierKey(verifierKey);
  let checkpoint;
  try {
    const note = await fs.readFile(path.join(dir, EXPORT_FILES.checkpoint), 'utf8');
    checkpoint = verifyCheckpoint(note, verifier, verifier.name);
  } catch (error) {
    return { ok: false, problem: `checkpoint: ${(error as Error).message}` };
  }
  let proof: ProofFile;
  try {
    proof = JSON.parse(await fs.readFile(path.join(dir, EXPORT_FILES.proof), 'utf8')) as ProofFile;
  } catch {
    return { ok: false, problem: 'proof.json is missing or not JSON' };
  }
  const size = Number(checkpoint.size);
  const { from, to } = proof;
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && from < to && to <= size)) {
    return { ok: false, problem: 'proof.json has no valid range within the checkpoint' };
  }
  if (proof.treeSize !== size)
    return { ok: false, problem: 'proof.json is for another tree size than the checkpoint' };
  const expected = rangesOutside(proof.from, proof.to, size);
  if (
    !Array.isArray(proof.nodes) ||
    expected.length !== proof.nodes.length ||
    expected.some((r, i) => r.start !== proof.nodes[i]?.start || r.end !== proof.nodes[i]?.end)
  ) {
    return { ok: false, problem: 'proof.json does not hold the subtrees outside the exported range' };
  }
  const provided = new Map(proof.nodes.map((n) => [`${n.start}-${n.end}`, Buffer.from(n.hash, 'base64')]));

  const text = await fs.readFile(path.join(dir, EXPORT_FILES.entries), 'utf8').catch(() => undefined);
  if (text === undefined) return { ok: false, problem: 'entries.ndjson is missing' };
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  if (text.length === 0 || lines.length !== proof.to - proof.from) {
    return {
      ok: false,
      problem: `expected ${proof.to - proof.from} entries, found ${text.length === 0 ? 0 : lines.length}`,
    };
  }
  const leaves: Buffer[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let eventId: string | undefined;
    let canonical = false;
    try {
      const parsed = JSON.parse(line) as { id?: unknown };
      eventId = typeof parsed.id === 'string' ? parsed.id : undefined;
      canonical = canonicalJson(parsed) === line;
    } catch {
      canonical = false;
    }
    if (!canonical) {
      return {
        ok: false,
        index: proof.from + i,
        eventId,
        problem: `entry ${proof.from + i} is not canonical JSON: it was edited`,
      };
    }
    leaves.push(leafHash(line));
  }

  const mth = (lo: number, hi: number): Buffer => {
    const given = provided.get(`${lo}-${hi}`);
    if (given && (hi <= proof.from || lo >= proof.to)) return given;
    if (lo >= proof.from && hi <= proof.to) {
      const builder = new TileBuilder();
      for (let i = lo; i < hi; i++) builder.append(leaves[i - proof.from]!);
      return builder.root();
    }
    const k = largestPowerOfTwoBelow(hi - lo);
    return nodeHash(mth(lo, lo + k), mth(lo + k, hi));
  };
  if (!mth(0, size).equals(checkpoint.rootHash)) {
    return {
      ok: false,
      treeSize: size,
      entries: lines.length,
      problem:
        'the entries do not rebuild the signed root: an entry was changed, removed, added or reordered',
    };
  }
  return { ok: true, treeSize: size, entries: lines.length };
}
