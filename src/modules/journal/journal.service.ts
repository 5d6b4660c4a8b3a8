import type { Db } from '../../db/database.js';
import { parseCheckpoint } from './checkpoint.js';
import { journalErrors } from './journal.errors.js';
import { findEventLeaf, readEntries, readState, readTiles } from './journal.repository.js';
import { leafHash } from './merkle.js';
import { MissingNodeError, consistencyProof, inclusionProof, rootAt } from './proof.repository.js';
import { formatVerifierKey, type NoteSigner } from './signed-note.js';
import { TILE_WIDTH, tileWidthAt } from './tile-layout.js';

export const MAX_ENTRIES_PER_PAGE = 1000;
const MAX_BUNDLE_ENTRY = 0xffff;

export interface JournalServiceDeps {
  readonly db: Db;
  readonly signer: () => Promise<NoteSigner>;
}

export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly eventId: string;
  readonly leafHash: Buffer;
  readonly rootHash: Buffer;
  readonly hashes: Buffer[];
}

/** Reads of the journal for auditors: checkpoints, entries, proofs and tiles, all from storage. */
export function createJournalService(deps: JournalServiceDeps) {
  const { db } = deps;

  async function currentSize(): Promise<number> {
    return (await readState(db))?.treeSize ?? 0;
  }

  async function withProofErrors<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof MissingNodeError) throw journalErrors.inconsistent();
      throw error;
    }
  }

  return {
    /** The last signed checkpoint, as the C2SP signed note. */
    async latestCheckpoint(): Promise<{ note: string; treeSize: number; rootHash: Buffer }> {
      const state = await readState(db);
      if (!state?.checkpoint) throw journalErrors.noCheckpoint();
      const body = parseCheckpoint(state.checkpoint.slice(0, state.checkpoint.lastIndexOf('\n\n') + 1));
      return { note: state.checkpoint, treeSize: Number(body.size), rootHash: body.rootHash };
    },

    /** `origin+keyid+base64(0x01 ‖ public key)`. */
    async verifierKey(): Promise<{ name: string; verifierKey: string }> {
      const signer = await deps.signer();
      return { name: signer.name, verifierKey: formatVerifierKey(signer) };
    },

    /** Entries [start, end) of the tree, at most MAX_ENTRIES_PER_PAGE. */
    async entries(start: number, end: number) {
      if (end <= start) throw journalErrors.invalidRange('end must be greater than start');
      if (end - start > MAX_ENTRIES_PER_PAGE) {
        throw journalErrors.invalidRange(`at most ${MAX_ENTRIES_PER_PAGE} entries per request`);
      }
      const treeSize = await currentSize();
      if (end > treeSize) throw journalErrors.beyondTree('end', treeSize);
      const rows = await readEntries(db, start, end);
      if (rows.length !== end - start || rows.some((r, i) => r.leafIndex !== start + i)) {
        throw journalErrors.inconsistent();
      }
      return {
        treeSize,
        entries: rows.map((r) => ({ index: r.leafIndex, eventId: r.eventId, payload: r.payload })),
      };
    },

    async inclusionByIndex(index: number, treeSize?: number): Promise<InclusionProof> {
      const size = treeSize ?? (await currentSize());
      const current = treeSize === undefined ? size : await currentSize();
      if (size > current) throw journalErrors.beyondTree('treeSize', current);
      if (index >= size) throw journalErrors.beyondTree('index', size);
      const [entry] = await readEntries(db, index, index + 1);
      if (!entry) throw journalErrors.inconsistent();
      return withProofErrors(async () => ({
        leafIndex: index,
        treeSize: size,
        eventId: entry.eventId,
        leafHash: leafHash(entry.payload),
        rootHash: await rootAt(db, size),
        hashes: await inclusionProof(db, index, size),
      }));
    },

    async inclusionByEventId(eventId: string, treeSize?: number): Promise<InclusionProof> {
      const found = await findEventLeaf(db, eventId);
      if (!found) throw journalErrors.eventNotFound();
      if (found.leafIndex === null) throw journalErrors.eventPending();
      const current = await currentSize();
      const size = treeSize ?? current;
      if (size > current) throw journalErrors.beyondTree('treeSize', current);
      if (found.leafIndex >= size) throw journalErrors.beyondTree('the event', size);
      return withProofErrors(async () => ({
        leafIndex: found.leafIndex!,
        treeSize: size,
        eventId,
        leafHash: leafHash(found.payload),
        rootHash: await rootAt(db, size),
        hashes: await inclusionProof(db, found.leafIndex!, size),
      }));
    },

    async consistency(from: number, to?: number) {
      const current = await currentSize();
      const second = to ?? current;
      if (from < 1)
        throw journalErrors.invalidRange(
          'from must be at least 1: nothing is consistent with the empty tree',
        );
      if (second > current) throw journalErrors.beyondTree('to', current);
      if (from > second) throw journalErrors.invalidRange('from must not exceed to');
      return withProofErrors(async () => ({
        from,
        to: second,
        firstRoot: await rootAt(db, from),
        secondRoot: await rootAt(db, second),
        hashes: await consistencyProof(db, from, second),
      }));
    },

    /** A hash tile's bottom row, full (width 256) or partial, as served by C2SP tlog-tiles. */
    async hashTile(level: number, index: number, width: number): Promise<Buffer> {
      // A partial tile of an earlier checkpoint is a prefix of today's wider (or full) tile.
      if (tileWidthAt(await currentSize(), level, index) < width) throw journalErrors.tileNotFound();
      const [tile] = await readTiles(db, [{ level, index }]);
      if (!tile || tile.width < width) throw journalErrors.inconsistent();
      return tile.data.subarray(0, width * 32);
    },

    /** Entries of level-0 tile `index`, each as a big-endian uint16 length and the leaf bytes. */
    async entryBundle(index: number, width: number): Promise<Buffer> {
      const available = tileWidthAt(await currentSize(), 0, index);
      if (available < width) throw journalErrors.tileNotFound();
      const start = index * TILE_WIDTH;
      const rows = await readEntries(db, start, start + width);
      if (rows.length !== width) throw journalErrors.inconsistent();
      const parts: Buffer[] = [];
      for (const r of rows) {
        const leaf = Buffer.from(r.payload, 'utf8');
        if (leaf.length > MAX_BUNDLE_ENTRY) throw journalErrors.entryTooLarge(r.leafIndex);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(leaf.length, 0);
        parts.push(length, leaf);
      }
      return Buffer.concat(parts);
    },
  };
}

export type JournalService = ReturnType<typeof createJournalService>;
