import crypto from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/modules/events/command.js';
import { signCheckpoint } from '../../src/modules/journal/checkpoint.js';
import { createIntegrator } from '../../src/modules/journal/journal.integrator.js';
import { readState } from '../../src/modules/journal/journal.repository.js';
import { verifyJournal } from '../../src/modules/journal/journal.verifier.js';
import { privateKeyFromSeed, signerFromPrivateKey } from '../../src/modules/journal/signed-note.js';
import { canonicalJson } from '../../src/shared/canonical-json.js';
import { ManualClock } from '../../src/shared/clock.js';
import { EventBus } from '../../src/shared/event-bus.js';
import { uuidv7Generator } from '../../src/shared/ids.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const ORIGIN = 'vigie.test/journal';
const signer = signerFromPrivateKey(ORIGIN, privateKeyFromSeed(crypto.randomBytes(32)));
const otherSigner = signerFromPrivateKey(ORIGIN, privateKeyFromSeed(crypto.randomBytes(32)));

const opened: TestDatabase[] = [];
afterEach(async () => {
  for (const d of opened.splice(0)) await d.close();
});

/** A fresh database with `count` events appended in several transactions and integrated. */
async function journalWith(count: number, perBatch = 50) {
  const database = await createTestDatabase();
  opened.push(database);
  const clock = new ManualClock('2026-03-02T09:00:00.000Z');
  const deps = { db: database.db, bus: new EventBus(), clock, ids: uuidv7Generator(clock) };
  const integrator = createIntegrator({
    db: database.db,
    clock,
    logger: pino({ level: 'silent' }),
    origin: ORIGIN,
    intervalMs: 1000,
    signer: () => Promise.resolve(signer),
    batchSize: 97,
  });
  const append = async (n: number) => {
    for (let done = 0; done < n; done += perBatch) {
      await runCommand(deps, ({ emit }) => {
        for (let i = done; i < Math.min(n, done + perBatch); i++) {
          emit({
            kind: 'test.appended',
            actor: { type: 'system', id: 'test' },
            outcome: 'success',
            data: { i },
          });
        }
        return Promise.resolve();
      });
      clock.advance(10);
    }
    await integrator.integrateAll();
  };
  await append(count);
  const verify = (since?: string, verifier = signer) =>
    verifyJournal(database.db, { verifier, origin: ORIGIN, since });
  const eventAt = async (index: number) =>
    await database.db
      .selectFrom('events')
      .select(['seq', 'id', 'payload'])
      .where('leaf_index', '=', index)
      .executeTakeFirstOrThrow();
  const checkpoint = async () => (await readState(database.db))!.checkpoint!;
  /** An attacker with database access but not the key: re-integrates everything from scratch. */
  const rebuildTree = async (sign = true) => {
    await database.db.updateTable('events').set({ leaf_index: null }).execute();
    await database.db.deleteFrom('journal_tiles').execute();
    await database.db
      .updateTable('journal_state')
      .set({
        tree_size: 0,
        root_hash: crypto.hash('sha256', '', 'buffer'),
        frontier: Buffer.alloc(0),
        checkpoint: null,
      })
      .execute();
    if (sign) await integrator.integrateAll();
  };
  return { database, integrator, append, verify, eventAt, checkpoint, rebuildTree };
}

describe('journal verification', () => {
  it('passes on an untouched journal of several tiles', async () => {
    const j = await journalWith(700);
    const report = await j.verify();
    expect(report.problem).toBeUndefined();
    expect(report).toMatchObject({ ok: true, treeSize: 700, entriesChecked: 700 });
    expect(report.tilesChecked).toBeGreaterThanOrEqual(4);
  });

  it('passes on an empty journal, before and after its first checkpoint', async () => {
    const database = await createTestDatabase();
    opened.push(database);
    expect((await verifyJournal(database.db, { verifier: signer, origin: ORIGIN })).ok).toBe(true);
  });

  it('names the index and event id of a payload changed by one byte', async () => {
    const j = await journalWith(600);
    const victim = await j.eventAt(300);
    const changed = victim.payload.replace('"success"', '"succesS"');
    await j.database.db
      .updateTable('events')
      .set({ payload: changed })
      .where('seq', '=', victim.seq)
      .execute();
    const report = await j.verify();
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ code: 'LEAF_MISMATCH', index: 300, eventId: victim.id });
  });

  it('notices an indexed column edited behind the payload', async () => {
    const j = await journalWith(120);
    const victim = await j.eventAt(42);
    await j.database.db
      .updateTable('events')
      .set({ kind: 'test.innocent' })
      .where('seq', '=', victim.seq)
      .execute();
    expect((await j.verify()).problem).toMatchObject({
      code: 'ENTRY_COLUMNS_MISMATCH',
      index: 42,
      eventId: victim.id,
    });
  });

  it('names the index of a deleted row', async () => {
    const j = await journalWith(300);
    const victim = await j.eventAt(17);
    await j.database.db.deleteFrom('events').where('seq', '=', victim.seq).execute();
    expect((await j.verify()).problem).toMatchObject({ code: 'ENTRY_MISSING', index: 17 });
  });

  it('names the index and event id of a row inserted in the middle', async () => {
    const j = await journalWith(300);
    // Shift every later entry up by one (through negative values: leaf_index is unique) and forge one at 100.
    await j.database.db
      .updateTable('events')
      .set({ leaf_index: sql`-leaf_index - 1` })
      .where('leaf_index', '>=', 100)
      .execute();
    await j.database.db
      .updateTable('events')
      .set({ leaf_index: sql`-leaf_index` })
      .where('leaf_index', '<', 0)
      .execute();
    const forgedEvent = {
      id: crypto.randomUUID(),
      time: '2026-03-02T09:00:00.000Z',
      kind: 'test.forged',
      actor: { type: 'system', id: 'test' },
      outcome: 'success',
    } as const;
    await j.database.db
      .insertInto('events')
      .values({
        id: forgedEvent.id,
        time: forgedEvent.time,
        kind: forgedEvent.kind,
        actor_type: 'system',
        actor_id: 'test',
        origin: 'attacker',
        target_type: null,
        target_id: null,
        organisation_id: null,
        outcome: 'success',
        source: 'vigie',
        payload: canonicalJson(forgedEvent),
        leaf_index: 100,
      })
      .execute();
    const report = await j.verify();
    expect(report.problem).toMatchObject({ index: 100, eventId: forgedEvent.id });
    expect(['LEAF_MISMATCH', 'ENTRY_BEYOND_TREE']).toContain(report.problem!.code);
  });

  it('names the first of two swapped rows', async () => {
    const j = await journalWith(300);
    const a = await j.eventAt(260);
    const b = await j.eventAt(270);
    await j.database.db.updateTable('events').set({ leaf_index: -1 }).where('seq', '=', a.seq).execute();
    await j.database.db.updateTable('events').set({ leaf_index: 260 }).where('seq', '=', b.seq).execute();
    await j.database.db.updateTable('events').set({ leaf_index: 270 }).where('seq', '=', a.seq).execute();
    expect((await j.verify()).problem).toMatchObject({ code: 'LEAF_MISMATCH', index: 260, eventId: b.id });
  });

  it('names where a truncated log ends', async () => {
    const j = await journalWith(300);
    await j.database.db.deleteFrom('events').where('leaf_index', '>=', 250).execute();
    expect((await j.verify()).problem).toMatchObject({ code: 'ENTRY_MISSING', index: 250 });
  });

  it('catches truncation rebuilt into a self-consistent log against a saved checkpoint', async () => {
    const j = await journalWith(300);
    const saved = await j.checkpoint();
    await j.database.db.deleteFrom('events').where('leaf_index', '>=', 250).execute();
    // The attacker rebuilds the tree and even signs with the stolen key: the log alone looks fine.
    await j.rebuildTree();
    expect((await j.verify()).ok).toBe(true);
    const report = await j.verify(saved);
    expect(report.problem).toMatchObject({ code: 'TRUNCATED', index: 250 });
  });

  it('catches a rewrite rebuilt into a self-consistent log against a saved checkpoint', async () => {
    const j = await journalWith(300);
    const saved = await j.checkpoint();
    const victim = await j.eventAt(5);
    await j.database.db
      .updateTable('events')
      .set({ payload: victim.payload.replace('"i":5', '"i":6') })
      .where('seq', '=', victim.seq)
      .execute();
    await j.rebuildTree();
    await j.append(10);
    expect((await j.verify()).ok).toBe(true);
    expect((await j.verify(saved)).problem).toMatchObject({ code: 'REWRITTEN' });
  });

  it('refuses tree state that the signed checkpoint does not cover', async () => {
    const j = await journalWith(100);
    const saved = await j.checkpoint();
    await j.rebuildTree(false);
    await j.database.db.updateTable('journal_state').set({ checkpoint: saved }).execute();
    expect((await j.verify()).problem).toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    // Nor will the integrator sign on top of it.
    await expect(j.integrator.integrateOnce()).rejects.toThrow(/does not match the stored tree state/);
  });

  it('rejects a checkpoint signed by another key, or for another origin', async () => {
    const j = await journalWith(10);
    const genuine = await j.checkpoint();
    const state = (await readState(j.database.db))!;
    const forged = signCheckpoint(
      { origin: ORIGIN, size: BigInt(state.treeSize), rootHash: state.rootHash },
      otherSigner,
    );
    await j.database.db.updateTable('journal_state').set({ checkpoint: forged }).execute();
    expect((await j.verify()).problem).toMatchObject({ code: 'CHECKPOINT_INVALID' });
    const elsewhere = signerFromPrivateKey('elsewhere.test/log', signer.privateKey);
    const otherOrigin = signCheckpoint(
      { origin: 'elsewhere.test/log', size: BigInt(state.treeSize), rootHash: state.rootHash },
      elsewhere,
    );
    await j.database.db.updateTable('journal_state').set({ checkpoint: otherOrigin }).execute();
    expect((await j.verify()).problem).toMatchObject({ code: 'CHECKPOINT_INVALID' });
    // A saved checkpoint from another key is refused too.
    await j.database.db.updateTable('journal_state').set({ checkpoint: genuine }).execute();
    expect((await j.verify()).ok).toBe(true);
    expect((await j.verify(forged)).problem).toMatchObject({ code: 'CHECKPOINT_INVALID' });
    expect((await j.verify(otherOrigin)).problem).toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });

  it('refuses to sign a tree inconsistent with its last checkpoint', async () => {
    const j = await journalWith(300);
    const before = await j.checkpoint();
    // Someone rewrites the stored hash of the first 256 entries (level-1 tile): the next tree,
    // proven from storage, no longer extends the signed one, and the integrator refuses to sign.
    await j.database.db
      .updateTable('journal_tiles')
      .set({ hashes: Buffer.alloc(32, 7) })
      .where('level', '=', 1)
      .where('idx', '=', 0)
      .execute();
    await expect(j.append(1)).rejects.toThrow(/does not extend the signed tree/);
    await expect(j.integrator.integrateOnce()).rejects.toThrow(/stored tiles do not give the stored root/);
    expect(await j.checkpoint()).toBe(before);
    expect((await j.verify()).problem).toMatchObject({ code: 'TILE_MISMATCH' });
  });
});
