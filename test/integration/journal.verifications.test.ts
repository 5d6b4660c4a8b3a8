import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalModule } from '../../src/modules/journal/index.js';
import { makeAccount, makeScene, grantRole, issueToken } from '../helpers/factories.js';
import { appendTestEvents } from '../helpers/journal-events.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

interface Latest {
  running: { startedAt: string; requestedBy: string } | null;
  last: {
    via: string;
    requestedBy: string;
    ok: boolean;
    treeSize: number;
    entriesChecked: number;
    problem?: { code: string; index?: number; eventId?: string };
  } | null;
}

describe('full verifications of the journal, started over the API and kept for the overview', () => {
  let t: TestApp;
  let journal: JournalModule;
  let auditor: string;
  let auditorId: string;
  let localAuditor: string;
  let agent: string;

  const call = (method: 'GET' | 'POST', url: string, token: string) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
  const latest = async (token = auditor) =>
    (await call('GET', '/api/v1/journal/verifications/latest', token)).json<Latest>();
  /** Polls until no verification runs (bounded: 200 × 25 ms). */
  async function settled(): Promise<Latest> {
    for (let i = 0; i < 200; i++) {
      const l = await latest();
      if (!l.running) return l;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the verification did not end');
  }

  beforeAll(async () => {
    t = await createTestApp();
    journal = t.container.modules.find((m) => m.name === 'journal') as JournalModule;
    const scene = await makeScene(t.database.db);
    const a = await makeAccount(t.database.db, { organisationId: scene.operator.id });
    await grantRole(t.database.db, a.id, 'auditor', scene.operator.id);
    auditorId = a.id;
    auditor = await issueToken(t.database.db, 'account', a.id);
    const l = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, l.id, 'auditor', scene.structure.id);
    localAuditor = await issueToken(t.database.db, 'account', l.id);
    const g = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, g.id, 'agent', scene.structure.id);
    agent = await issueToken(t.database.db, 'account', g.id);
    await appendTestEvents(t.container.core, 300);
    await journal.integrator.integrateAll();
  });
  afterAll(async () => {
    await t.close();
  });

  it('says none ran yet, then records a passing run with who asked and journals it', async () => {
    expect(await latest()).toEqual({ running: null, last: null });
    const started = await call('POST', '/api/v1/journal/verifications', auditor);
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ status: 'running' });
    const { last } = await settled();
    expect(last).toMatchObject({ via: 'api', requestedBy: `account:${auditorId}`, ok: true });
    expect(last!.treeSize).toBeGreaterThanOrEqual(300);
    expect(last!.entriesChecked).toBe(last!.treeSize);
    const event = await t.database.db
      .selectFrom('events')
      .select(['kind', 'outcome', 'actor_id'])
      .where('kind', '=', 'journal.verified')
      .executeTakeFirstOrThrow();
    expect(event).toEqual({ kind: 'journal.verified', outcome: 'success', actor_id: auditorId });
  });

  it('is started by top-level journal readers only; anyone reading the journal sees the outcome', async () => {
    const local = await call('POST', '/api/v1/journal/verifications', localAuditor);
    expect(local.statusCode).toBe(403);
    expect(local.json().error.code).toBe('JOURNAL_SCOPE_DENIED');
    const denied = await call('POST', '/api/v1/journal/verifications', agent);
    expect(denied.statusCode).toBe(403);
    expect((await call('GET', '/api/v1/journal/verifications/latest', agent)).statusCode).toBe(403);
    expect((await latest(localAuditor)).last?.ok).toBe(true);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/journal/verifications' })).statusCode).toBe(
      401,
    );
  });

  it('runs one at a time', async () => {
    const first = await call('POST', '/api/v1/journal/verifications', auditor);
    const second = await call('POST', '/api/v1/journal/verifications', auditor);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('JOURNAL_VERIFICATION_RUNNING');
    await settled();
  });

  it('records a failing run with the code and the index of the first bad entry', async () => {
    await journal.integrator.integrateAll();
    const victim = await t.database.db
      .selectFrom('events')
      .select(['seq', 'id', 'payload'])
      .where('leaf_index', '=', 120)
      .executeTakeFirstOrThrow();
    await t.database.db
      .updateTable('events')
      .set({ payload: victim.payload.replace('"success"', '"succesS"') })
      .where('seq', '=', victim.seq)
      .execute();
    expect((await call('POST', '/api/v1/journal/verifications', auditor)).statusCode).toBe(202);
    const { last } = await settled();
    expect(last).toMatchObject({
      ok: false,
      problem: { code: 'LEAF_MISMATCH', index: 120, eventId: victim.id },
    });
    const failure = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'journal.verified')
      .where('outcome', '=', 'failure')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(failure.payload)).toMatchObject({
      outcome: 'failure',
      reason: 'LEAF_MISMATCH',
      data: { index: 120 },
    });
  });
});

describe('a full verification while Vigie goes on journaling', () => {
  it('passes: the running integrator waits for it, and takes in what was committed meanwhile', async () => {
    const t = await createTestApp({ start: true, env: { VIGIE_JOURNAL_INTERVAL_MS: '5' } });
    try {
      const scene = await makeScene(t.database.db);
      const a = await makeAccount(t.database.db, { organisationId: scene.operator.id });
      await grantRole(t.database.db, a.id, 'auditor', scene.operator.id);
      const token = await issueToken(t.database.db, 'account', a.id);
      const append = (n: number) => appendTestEvents(t.container.core, n);
      for (let i = 0; i < 80; i++) await append(500);
      const call = (method: 'GET' | 'POST', url: string) =>
        t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
      expect((await call('POST', '/api/v1/journal/verifications')).statusCode).toBe(202);
      let latest: Latest | undefined;
      // Events keep arriving while it runs (bounded: 400 rounds).
      for (let i = 0; i < 400; i++) {
        await append(50);
        latest = (await call('GET', '/api/v1/journal/verifications/latest')).json<Latest>();
        if (!latest.running && latest.last) break;
      }
      expect(latest?.last).toMatchObject({ ok: true });
      expect(latest!.last!.treeSize).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});
