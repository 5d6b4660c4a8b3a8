import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/modules/events/command.js';
import type { JournalModule } from '../../src/modules/journal/index.js';
import { verifyCheckpoint } from '../../src/modules/journal/checkpoint.js';
import {
  leafHash,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/modules/journal/merkle.js';
import { parseVerifierKey } from '../../src/modules/journal/signed-note.js';
import { makeAccount, makeScene, grantRole, issueToken } from '../helpers/factories.js';
import { appendTestEvents } from '../helpers/journal-events.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const b64 = (s: string) => Buffer.from(s, 'base64');

describe('the journal HTTP API', () => {
  let t: TestApp;
  let journal: JournalModule;
  let auditor: string;
  let agent: string;
  let localAuditor: string;
  let origin: string;

  const appendEvents = (count: number, kind?: string) => appendTestEvents(t.container.core, count, kind);
  const get = (url: string, token = auditor) =>
    t.app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await createTestApp();
    journal = t.container.modules.find((m) => m.name === 'journal') as JournalModule;
    origin = t.config.journal.origin;
    const scene = await makeScene(t.database.db);
    const a = await makeAccount(t.database.db, { organisationId: scene.operator.id });
    await grantRole(t.database.db, a.id, 'auditor', scene.operator.id);
    auditor = await issueToken(t.database.db, 'account', a.id);
    const g = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, g.id, 'agent', scene.structure.id);
    agent = await issueToken(t.database.db, 'account', g.id);
    const l = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, l.id, 'auditor', scene.structure.id);
    localAuditor = await issueToken(t.database.db, 'account', l.id);
    await appendEvents(300);
    await journal.integrator.integrateAll();
    await appendEvents(5);
    await journal.integrator.integrateAll();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves a signed checkpoint that verifies with the published verifier key', async () => {
    const keyRes = await get('/api/v1/journal/verifier-key');
    expect(keyRes.statusCode).toBe(200);
    const { verifierKey, name, algorithm } = keyRes.json<{
      verifierKey: string;
      name: string;
      algorithm: string;
    }>();
    expect(name).toBe(origin);
    expect(algorithm).toBe('ed25519');
    const res = await get('/api/v1/journal/checkpoint');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const checkpoint = verifyCheckpoint(res.body, parseVerifierKey(verifierKey), origin);
    expect(checkpoint.size).toBe(305n);
    const entries = await get('/api/v1/journal/entries?start=0&end=305');
    const leaves = entries
      .json<{ entries: Array<{ payload: string }> }>()
      .entries.map((e) => leafHash(e.payload));
    expect(rootOfLeafHashes(leaves).equals(checkpoint.rootHash)).toBe(true);
  });

  it('answers inclusion proofs by index and by event id that verify against the checkpoint root', async () => {
    const entries = (await get('/api/v1/journal/entries?start=250&end=260')).json<{
      entries: Array<{ index: number; eventId: string; payload: string }>;
    }>().entries;
    expect(entries.map((e) => e.index)).toEqual([250, 251, 252, 253, 254, 255, 256, 257, 258, 259]);
    for (const entry of entries) {
      const byIndex = (await get(`/api/v1/journal/proof/inclusion?index=${entry.index}&treeSize=300`)).json<{
        hashes: string[];
        rootHash: string;
        leafHash: string;
        eventId: string;
      }>();
      expect(byIndex.eventId).toBe(entry.eventId);
      expect(byIndex.leafHash).toBe(leafHash(entry.payload).toString('base64'));
      verifyInclusion(
        entry.index,
        300,
        leafHash(entry.payload),
        byIndex.hashes.map(b64),
        b64(byIndex.rootHash),
      );
      const byId = (await get(`/api/v1/journal/proof/inclusion?eventId=${entry.eventId}`)).json<{
        hashes: string[];
        rootHash: string;
        treeSize: number;
      }>();
      expect(byId.treeSize).toBe(305);
      verifyInclusion(entry.index, 305, leafHash(entry.payload), byId.hashes.map(b64), b64(byId.rootHash));
    }
  });

  it('keeps every proof right across tree sizes, asked twice (right-edge folds are cached)', async () => {
    const leaves = (await get('/api/v1/journal/entries?start=0&end=305'))
      .json<{ entries: Array<{ payload: string }> }>()
      .entries.map((e) => leafHash(e.payload));
    for (const size of [300, 305, 300]) {
      const root = rootOfLeafHashes(leaves.slice(0, size));
      for (let round = 0; round < 2; round++)
        for (let index = 0; index < size; index += 7) {
          const p = (await get(`/api/v1/journal/proof/inclusion?index=${index}&treeSize=${size}`)).json<{
            hashes: string[];
            rootHash: string;
          }>();
          expect(b64(p.rootHash).equals(root)).toBe(true);
          verifyInclusion(index, size, leaves[index]!, p.hashes.map(b64), root);
        }
    }
  });

  it('answers consistency proofs between any two sizes', async () => {
    for (const [from, to] of [
      [1, 305],
      [255, 256],
      [256, 305],
      [300, 305],
      [7, 300],
      [305, 305],
    ] as const) {
      const res = await get(`/api/v1/journal/proof/consistency?from=${from}&to=${to}`);
      expect(res.statusCode).toBe(200);
      const p = res.json<{ hashes: string[]; firstRoot: string; secondRoot: string }>();
      verifyConsistency(from, to, p.hashes.map(b64), b64(p.firstRoot), b64(p.secondRoot));
    }
  });

  it('serves C2SP tiles and entry bundles that hash to the checkpoint', async () => {
    const full = await get('/api/v1/journal/tile/0/000');
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('application/octet-stream');
    expect(full.rawPayload.length).toBe(256 * 32);
    const partial = await get('/api/v1/journal/tile/0/001.p/49');
    expect(partial.rawPayload.length).toBe(49 * 32);
    const level1 = await get('/api/v1/journal/tile/1/000.p/1');
    expect(level1.rawPayload.length).toBe(32);
    // An earlier checkpoint's partial tile is still served, as a prefix of today's.
    expect((await get('/api/v1/journal/tile/0/001.p/44')).rawPayload).toEqual(
      partial.rawPayload.subarray(0, 44 * 32),
    );
    const bundle = (await get('/api/v1/journal/tile/entries/001.p/49')).rawPayload;
    const hashes: Buffer[] = [];
    for (let at = 0; at < bundle.length;) {
      const length = bundle.readUInt16BE(at);
      hashes.push(leafHash(bundle.subarray(at + 2, at + 2 + length)));
      at += 2 + length;
    }
    expect(Buffer.concat(hashes)).toEqual(partial.rawPayload);
    // Root from tiles alone, as a standard client computes it: H(tile-0 root, root of the partial).
    const tile0 = Array.from({ length: 256 }, (_, i) => full.rawPayload.subarray(i * 32, (i + 1) * 32));
    expect(rootOfLeafHashes(tile0).equals(level1.rawPayload)).toBe(true);
    const cp = (await get('/api/v1/journal/checkpoint')).body.split('\n')[2]!;
    expect(rootOfLeafHashes([...tile0, ...hashes]).toString('base64')).toBe(cp);
  });

  it('answers tiles that do not exist, or malformed paths, with 404', async () => {
    for (const path of [
      '0/001',
      '0/001.p/50',
      '0/002',
      '1/000',
      '0/x000/001',
      '00/000',
      '0/1',
      'entries/001.p/0',
      '64/000',
      '0/000.p/256',
    ]) {
      const res = await get(`/api/v1/journal/tile/${path}`);
      expect(res.statusCode, path).toBe(404);
      expect(res.json().error.code).toMatch(/^(JOURNAL_TILE_NOT_FOUND)$/);
    }
  });

  it('refuses bad ranges and sizes with stable codes', async () => {
    const cases: Array<[string, number, string]> = [
      ['/api/v1/journal/entries?start=10&end=10', 400, 'JOURNAL_RANGE_INVALID'],
      ['/api/v1/journal/entries?start=0&end=1001', 400, 'JOURNAL_RANGE_INVALID'],
      ['/api/v1/journal/entries?start=300&end=306', 400, 'JOURNAL_BEYOND_TREE'],
      ['/api/v1/journal/entries?start=-1&end=3', 400, 'VALIDATION_FAILED'],
      ['/api/v1/journal/entries?start=NaN&end=3', 400, 'VALIDATION_FAILED'],
      ['/api/v1/journal/proof/inclusion?index=305', 400, 'JOURNAL_BEYOND_TREE'],
      ['/api/v1/journal/proof/inclusion?index=3&treeSize=306', 400, 'JOURNAL_BEYOND_TREE'],
      ['/api/v1/journal/proof/inclusion', 400, 'JOURNAL_QUERY_INVALID'],
      [
        '/api/v1/journal/proof/inclusion?index=1&eventId=0190a000-0000-7000-8000-000000000000',
        400,
        'JOURNAL_QUERY_INVALID',
      ],
      [
        '/api/v1/journal/proof/inclusion?eventId=0190a000-0000-7000-8000-000000000000',
        404,
        'EVENT_NOT_FOUND',
      ],
      ['/api/v1/journal/proof/inclusion?eventId=__proto__', 400, 'VALIDATION_FAILED'],
      ['/api/v1/journal/proof/inclusion?index=99999999999999999999', 400, 'VALIDATION_FAILED'],
      ['/api/v1/journal/proof/consistency?from=0&to=3', 400, 'VALIDATION_FAILED'],
      ['/api/v1/journal/proof/consistency?from=4&to=3', 400, 'JOURNAL_RANGE_INVALID'],
      ['/api/v1/journal/proof/consistency?from=4&to=306', 400, 'JOURNAL_BEYOND_TREE'],
    ];
    for (const [url, status, code] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.json().error.code, url).toBe(code);
    }
  });

  it('says when an event is committed but not yet integrated', async () => {
    const { db, bus, clock, ids } = t.container.core;
    const event = await runCommand({ db, bus, clock, ids }, ({ emit }) =>
      Promise.resolve(
        emit({ kind: 'test.pending', actor: { type: 'system', id: 'test' }, outcome: 'success' }),
      ),
    );
    const res = await get(`/api/v1/journal/proof/inclusion?eventId=${event.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('JOURNAL_EVENT_PENDING');
    await journal.integrator.integrateAll();
    expect((await get(`/api/v1/journal/proof/inclusion?eventId=${event.id}`)).statusCode).toBe(200);
  });

  it('is for journal readers only, and entries for those holding it on a top-level organisation', async () => {
    expect((await t.app.inject({ url: '/api/v1/journal/checkpoint' })).statusCode).toBe(401);
    const denied = await get('/api/v1/journal/checkpoint', agent);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('PERMISSION_DENIED');
    expect((await get('/api/v1/journal/checkpoint', localAuditor)).statusCode).toBe(200);
    expect((await get('/api/v1/journal/tile/0/000', localAuditor)).statusCode).toBe(200);
    for (const url of ['/api/v1/journal/entries?start=0&end=1', '/api/v1/journal/tile/entries/000']) {
      const res = await get(url, localAuditor);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code).toBe('JOURNAL_SCOPE_DENIED');
    }
  });

  it('describes every journal route in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ url: '/api/docs/json' })).json<{ paths: Record<string, unknown> }>();
    for (const p of [
      '/api/v1/journal/checkpoint',
      '/api/v1/journal/verifier-key',
      '/api/v1/journal/entries',
      '/api/v1/journal/proof/inclusion',
      '/api/v1/journal/proof/consistency',
      '/api/v1/journal/tile/{*}',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const checkpoint = doc.paths['/api/v1/journal/checkpoint'] as {
      get: { responses: Record<string, { content: Record<string, unknown> }> };
    };
    expect(Object.keys(checkpoint.get.responses['200']!.content)).toEqual(['text/plain']);
    expect(Object.keys(checkpoint.get.responses['404']!.content)).toEqual(['application/json']);
  });
});
