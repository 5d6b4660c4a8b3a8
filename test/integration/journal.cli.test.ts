import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalModule } from '../../src/modules/journal/index.js';
import { exportJournal, verifyExport } from '../../src/modules/journal/journal.export.js';
import { readState } from '../../src/modules/journal/journal.repository.js';
import { makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SEED = crypto.randomBytes(32).toString('base64');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('vigie journal verify, export and verify-export', () => {
  let t: TestApp;
  let journal: JournalModule;
  let tmp: string;
  let adminToken: string;
  let operatorId: string;
  let verifierKey: string;

  const cli = (args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'journal', ...args],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            VIGIE_DATABASE_URL: t.database.url,
            VIGIE_DATA_DIR: tmp,
            VIGIE_JOURNAL_KEY: SEED,
            VIGIE_LOG_LEVEL: 'silent',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, payload, headers: { authorization: `Bearer ${adminToken}` } });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-journal-cli-'));
    t = await createTestApp({ env: { VIGIE_JOURNAL_KEY: SEED } });
    journal = t.container.modules.find((m) => m.name === 'journal') as JournalModule;
    const scene = await makeScene(t.database.db);
    adminToken = scene.adminToken;
    operatorId = scene.operator.id;
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('passes on a fresh instance', async () => {
    const res = await cli(['verify']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^OK/m);
  });

  it('puts every change made through the API in the tree, and then passes', async () => {
    const changes = [
      await api('POST', '/api/v1/organisations', {
        parentId: operatorId,
        name: 'ML Journal',
        kind: 'mission_locale',
      }),
      await api('POST', '/api/v1/tokens', { name: 'journal test' }),
    ];
    for (const res of changes) expect(res.statusCode, res.body).toBe(201);
    const committed = await t.database.db.selectFrom('events').select(['id', 'kind', 'leaf_index']).execute();
    expect(committed.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['organisation.created', 'token.issued']),
    );
    await journal.integrator.integrateAll();
    for (const e of committed) {
      const proof = await api('GET', `/api/v1/journal/proof/inclusion?eventId=${e.id}`);
      expect(proof.statusCode, e.kind).toBe(200);
    }
    verifierKey = (await api('GET', '/api/v1/journal/verifier-key')).json<{ verifierKey: string }>()
      .verifierKey;
    const res = await cli(['verify', '--key', verifierKey]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`${committed.length} entries in the tree`);
  });

  it('exports a bundle that verifies offline with the verifier key alone, and fails once edited', async () => {
    const out = path.join(tmp, 'export');
    const exported = await cli(['export', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['checkpoint', 'entries.ndjson', 'proof.json']);
    const ok = await cli(['verify-export', out, '--key', verifierKey]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK/);

    // The same checks in process, for partial ranges and edits (each spawn costs a second or two).
    const size = (await readState(t.database.db))!.treeSize;
    for (const [from, to] of [
      [1, 2],
      [0, 1],
      [size - 1, size],
    ] as const) {
      const partial = path.join(tmp, `partial-${from}-${to}`);
      await exportJournal(t.database.db, { out: partial, from, to });
      expect(await verifyExport(partial, verifierKey), `${from}-${to}`).toMatchObject({
        ok: true,
        entries: to - from,
      });
    }
    const entries = path.join(out, 'entries.ndjson');
    const original = fs.readFileSync(entries, 'utf8');
    const lines = original.trimEnd().split('\n');
    const edits: Array<[string, string]> = [
      ['value changed, still canonical', original.replace('"success"', '"failure"')],
      ['reformatted', original.replace('{"actor"', '{ "actor"')],
      ['line removed', `${lines.slice(1).join('\n')}\n`],
      ['lines swapped', `${[lines[1], lines[0], ...lines.slice(2)].join('\n')}\n`],
    ];
    for (const [what, text] of edits) {
      fs.writeFileSync(entries, text);
      expect((await verifyExport(out, verifierKey)).ok, what).toBe(false);
    }
    const bad = await cli(['verify-export', out, '--key', verifierKey]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL/);
    fs.writeFileSync(entries, original);
    const otherKey = verifierKey.replace(/^[^+]+/, 'elsewhere.test/log');
    await expect(verifyExport(out, otherKey)).rejects.toThrow(/key id/);
  });

  it('names the first bad index and event id, and catches truncation against a saved checkpoint', async () => {
    const saved = path.join(tmp, 'saved-checkpoint');
    fs.writeFileSync(saved, (await readState(t.database.db))!.checkpoint!);
    const victim = await t.database.db
      .selectFrom('events')
      .select(['seq', 'id', 'payload'])
      .where('leaf_index', '=', 1)
      .executeTakeFirstOrThrow();
    await t.database.db
      .updateTable('events')
      .set({ payload: victim.payload.replace('"vigie"', '"vigiE"') })
      .where('seq', '=', victim.seq)
      .execute();
    const res = await cli(['verify', '--since-checkpoint', saved]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`FAIL LEAF_MISMATCH at index 1, event ${victim.id}`);

    await t.database.db
      .updateTable('events')
      .set({ payload: victim.payload })
      .where('seq', '=', victim.seq)
      .execute();
    await t.database.db.deleteFrom('events').where('leaf_index', '>=', 1).execute();
    const truncated = await cli(['verify', '--since-checkpoint', saved]);
    expect(truncated.code).toBe(1);
    expect(truncated.stdout).toContain('FAIL ENTRY_MISSING at index 1');
  });

  it('refuses to run without a usable key', async () => {
    const res = await cli(['verify', '--key', 'not-a-key']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--key');
  });
});
