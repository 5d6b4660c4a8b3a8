import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readState } from '../../src/modules/journal/journal.repository.js';
import { verifyJournal } from '../../src/modules/journal/journal.verifier.js';
import { verifyConsistency } from '../../src/modules/journal/merkle.js';
import { verifyCheckpoint } from '../../src/modules/journal/checkpoint.js';
import { privateKeyFromSeed, signerFromPrivateKey } from '../../src/modules/journal/signed-note.js';
import { makeScene } from '../helpers/factories.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ORIGIN = 'vigie.test/crash';
const SEED = crypto.randomBytes(32);
const signer = signerFromPrivateKey(ORIGIN, privateKeyFromSeed(SEED));
/** Appends acknowledged before the kill (npm test keeps it small; the loop is bounded anyway). */
const BEFORE_KILL = Number(process.env.VIGIE_CRASH_APPENDS ?? 60);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('the journal across a kill -9 of the server', () => {
  let database: TestDatabase;
  let dataDir: string;
  let token: string;
  let parentId: string;
  let server: ChildProcess | undefined;
  let base = '';

  const alive = () => server !== undefined && server.exitCode === null && server.signalCode === null;

  async function startServer(): Promise<void> {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        VIGIE_DATABASE_URL: database.url,
        VIGIE_PORT: String(port),
        VIGIE_HOST: '127.0.0.1',
        VIGIE_DATA_DIR: dataDir,
        VIGIE_JOURNAL_ORIGIN: ORIGIN,
        VIGIE_JOURNAL_KEY: SEED.toString('base64'),
        VIGIE_JOURNAL_INTERVAL_MS: '50',
        VIGIE_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 300; i++) {
      if (!alive()) throw new Error(`server exited: ${stderr.slice(0, 500)}`);
      const ready = await fetch(`${base}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ready) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('server did not become ready');
  }

  const post = (name: string) =>
    fetch(`${base}/api/v1/organisations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ parentId, name, kind: 'mission_locale' }),
    });
  const getText = (url: string) =>
    fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-crash-'));
    const scene = await makeScene(database.db);
    token = scene.adminToken;
    parentId = scene.structure.id;
  });
  afterAll(async () => {
    if (alive()) server!.kill('SIGKILL');
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged event, stays consistent with the last checkpoint and resumes', async () => {
    await startServer();
    const acknowledged: string[] = [];
    let lastCheckpoint: string | undefined;
    // Two steady appenders and a checkpoint reader; the server is killed mid-stream.
    const appender = async (who: number) => {
      for (let i = 0; i < 10_000 && alive(); i++) {
        const res = await post(`Crash ${who}-${i}`).catch(() => undefined);
        if (!res) return;
        if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
        else if (alive()) throw new Error(`append refused: ${res.status} ${await res.text()}`);
      }
    };
    const reader = async () => {
      for (let i = 0; i < 10_000 && alive(); i++) {
        const res = await getText('/api/v1/journal/checkpoint').catch(() => undefined);
        if (res?.status === 200) lastCheckpoint = res.body;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const killer = async () => {
      for (let i = 0; i < 2000 && acknowledged.length < BEFORE_KILL; i++)
        await new Promise((r) => setTimeout(r, 10));
      server!.kill('SIGKILL');
      await new Promise<void>((resolve) => server!.once('exit', () => resolve()));
    };
    await Promise.all([appender(1), appender(2), reader(), killer()]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(BEFORE_KILL);
    expect(lastCheckpoint).toBeDefined();
    const saved = verifyCheckpoint(lastCheckpoint!, signer, ORIGIN);

    // Every acknowledged append is durable, whatever the integrator had reached.
    const stored = await database.db
      .selectFrom('events')
      .select(['target_id'])
      .where('kind', '=', 'organisation.created')
      .execute();
    const storedIds = new Set(stored.map((r) => r.target_id));
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);

    await startServer();
    // The restarted integrator takes in what the killed one had not; then appends resume.
    for (let i = 0; i < 3; i++) expect((await post(`After ${i}`)).status).toBe(201);
    let state = await readState(database.db);
    for (let i = 0; i < 200; i++) {
      const pending = await database.db
        .selectFrom('events')
        .select('id')
        .where('leaf_index', 'is', null)
        .execute();
      state = await readState(database.db);
      if (pending.length === 0 && state!.checkpoint?.includes(`\n${state!.treeSize}\n`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const total = await database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(state!.treeSize).toBe(Number(total.n));

    // The tree extends the last checkpoint seen before the kill, proven over HTTP and by the verifier.
    const current = await getText('/api/v1/journal/checkpoint');
    const now = verifyCheckpoint(current.body, signer, ORIGIN);
    expect(now.size >= saved.size).toBe(true);
    if (saved.size > 0n && now.size > saved.size) {
      const proof = JSON.parse(
        (await getText(`/api/v1/journal/proof/consistency?from=${saved.size}&to=${now.size}`)).body,
      ) as {
        hashes: string[];
      };
      verifyConsistency(
        saved.size,
        now.size,
        proof.hashes.map((h) => Buffer.from(h, 'base64')),
        saved.rootHash,
        now.rootHash,
      );
    }
    const report = await verifyJournal(database.db, {
      verifier: signer,
      origin: ORIGIN,
      since: lastCheckpoint,
    });
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);

    server!.kill('SIGTERM');
    await new Promise<void>((resolve) => server!.once('exit', () => resolve()));
  }, 60_000);
});
