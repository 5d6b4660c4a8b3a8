import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigieEvent } from '../../src/shared/event.js';
import { makeOrganisation, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf } from './access-scene.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('events committed by another process', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let training: Awaited<ReturnType<typeof makeOrganisation>>;
  const seen: VigieEvent[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { VIGIE_JOURNAL_INTERVAL_MS: '50' } });
    scene = await makeScene(t.database.db);
    training = await makeOrganisation(t.database.db, {
      parent: scene.operator,
      kind: 'training_organisation',
    });
    await t.container.start();
    t.container.core.bus.subscribe((events) => seen.push(...events));
  });
  afterAll(async () => {
    await t.close();
  });

  it('reach this process through the journal, once, and the access view takes them in', async () => {
    // `vigie app create` in its own process, as an operator would run it beside the server.
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'app',
        'create',
        '--organisation',
        training.id,
        '--name',
        'Portail OF',
        '--scopes',
        'pdp.evaluate',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, VIGIE_DATABASE_URL: t.database.url, VIGIE_LOG_LEVEL: 'silent' },
        timeout: 60_000,
      },
    );
    expect(cli.status).toBe(0);
    const token = /vig_[A-Za-z0-9_-]{43}/.exec(cli.stdout)?.[0];
    expect(token).toBeDefined();

    // Bounded wait: integration every 50 ms, then the tail's next pass.
    const deadline = Date.now() + 10_000;
    while (!seen.some((e) => e.kind === 'application.registered') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const registered = seen.filter((e) => e.kind === 'application.registered');
    expect(registered).toHaveLength(1);
    await accessOf(t).service.settled();

    // The PDP knows the new application without a restart: an allow or a deny, not an unknown caller.
    const res = await t.app.inject({
      method: 'POST',
      url: '/access/v1/evaluation',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        subject: { type: 'application', id: registered[0]!.target!.id },
        action: { name: 'read' },
        resource: { type: 'record', id: 'DE-1' },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().context?.reasons ?? []).not.toContain('application_inactive');
  });

  it('does not publish this process its own events a second time', async () => {
    const before = seen.length;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/organisations',
      headers: { authorization: `Bearer ${scene.adminToken}` },
      payload: { parentId: scene.network.id, name: 'Mission Locale du Nord', kind: 'mission_locale' },
    });
    expect(res.statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, 800));
    expect(seen.slice(before).filter((e) => e.kind === 'organisation.created')).toHaveLength(1);
  });
});
