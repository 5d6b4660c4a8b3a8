import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessModule } from '../../src/modules/access/index.js';
import { createDetectionModule, type DetectionModule } from '../../src/modules/detection/index.js';
import type { IdentityModule } from '../../src/modules/identity/index.js';
import { grantRole, issueToken, makeAccount, makeApplication, makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Late events (issue 8, item 10): ingestion accepts events up to 30 days old, and detection now
 * evaluates them in their own event time within each key's state instead of dropping them from
 * every windowed rule; what they raise is marked late with the delay. And the warm start replays the
 * newest events of its window, so the last hour's windows survive a restart on a busy system.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const detectionModule = (t: TestApp) =>
  t.container.modules.find((m) => m.name === 'detection') as DetectionModule;

async function setScene(t: TestApp) {
  const db = t.database.db;
  const scene = await makeScene(db);
  const analyst = await makeAccount(db, { organisationId: scene.operator.id, approvedBy: scene.admin.id });
  await grantRole(db, analyst.id, 'security_analyst', scene.operator.id);
  const app = await makeApplication(db, { organisationId: scene.structure.id, scopes: ['event.ingest'] });
  return {
    ...scene,
    analystToken: await issueToken(db, 'account', analyst.id),
    appToken: await issueToken(db, 'application', app.id),
  };
}
type Scene = Awaited<ReturnType<typeof setScene>>;

let uid = 0;
/** An OCSF Authentication (3002) sign-in from `ip`, `agoMs` before the test clock. */
const signIn = (t: TestApp, user: string, ip: string, agoMs: number, failed = true) => ({
  class_uid: 3002,
  activity_id: 1,
  time: t.clock.now().getTime() - agoMs,
  metadata: { uid: `ssh-${++uid}` },
  status_id: failed ? 2 : 1,
  user: { uid: user },
  src_endpoint: { ip },
});

async function ingest(t: TestApp, s: Scene, items: unknown[]) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: auth(s.appToken),
    payload: items,
  });
  expect(res.statusCode).toBe(200);
  return res.json<{
    accepted: Array<{ index: number }>;
    rejected: Array<{ index: number; code: string }>;
  }>();
}

interface AlertView {
  entity: { type: string; id: string };
  summary: Record<string, unknown>;
  firstEventAt: string;
}
async function alertsFor(t: TestApp, s: Scene, ruleId: string, entityId: string): Promise<AlertView[]> {
  const res = await t.app.inject({
    url: `/api/v1/alerts?ruleId=${ruleId}&entityId=${encodeURIComponent(entityId)}`,
    headers: auth(s.analystToken),
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: AlertView[] }>().items;
}

const spraying = 'vigie.password-spraying';
const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('late events meet the windowed rules in their own time', () => {
  let t: TestApp;
  let s: Scene;

  beforeAll(async () => {
    t = await createTestApp();
    s = await setScene(t);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('raises password spraying from SSH logs ingested three hours late, marked late with the delay', async () => {
    // A live sign-in first: the engine's clock is now, as on a running system.
    await ingest(t, s, [signIn(t, 'someone', '198.51.100.1', 0, false)]);
    await detectionModule(t).service.settled();
    // Hostile user ids among the sprayed ones: they are values like any other.
    const sprayed = [...users('root', 8), '__proto__', 'constructor'];
    const batch = sprayed.map((u, i) => signIn(t, u, '203.0.113.7', 3 * HOUR - i * 30_000));
    const answer = await ingest(t, s, batch);
    expect(answer.accepted).toHaveLength(10);
    await detectionModule(t).service.settled();

    const [alert, ...more] = await alertsFor(t, s, spraying, '203.0.113.7');
    expect(more).toHaveLength(0);
    expect(alert).toMatchObject({ entity: { type: 'ip', id: '203.0.113.7' } });
    expect(alert!.summary).toMatchObject({ count: 10, late: true });
    const delay = alert!.summary.lateByMs as number;
    expect(delay).toBeGreaterThan(3 * HOUR - 5 * MIN);
    expect(delay).toBeLessThanOrEqual(3 * HOUR);
    expect(alert!.firstEventAt).toBe(new Date(t.clock.now().getTime() - 3 * HOUR + 9 * 30_000).toISOString());
  });

  it('counts a late stream apart from the live window of the same address', async () => {
    const ip = '203.0.113.8';
    // Live: three failures now. Late: ten failures two hours ago, from the same address.
    await ingest(
      t,
      s,
      users('live', 3).map((u) => signIn(t, u, ip, 0)),
    );
    await detectionModule(t).service.settled();
    expect(await alertsFor(t, s, spraying, ip)).toHaveLength(0);
    await ingest(
      t,
      s,
      users('old', 10).map((u, i) => signIn(t, u, ip, 2 * HOUR - i * MIN)),
    );
    await detectionModule(t).service.settled();
    const alerts = await alertsFor(t, s, spraying, ip);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toMatchObject({ count: 10, late: true });
  });

  it('places out-of-order events in time order within a window', async () => {
    const ip = '203.0.113.9';
    // Ten failures over fourteen minutes, sent newest first: most are behind the newest by more
    // than five minutes, which the engine used to drop.
    const batch = users('rev', 10).map((u, i) => signIn(t, u, ip, i * 90_000));
    await ingest(t, s, batch);
    await detectionModule(t).service.settled();
    const alerts = await alertsFor(t, s, spraying, ip);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toMatchObject({ count: 10, late: true });
  });

  it('stays quiet when late failures are spread wider than the window, and refuses the too old', async () => {
    const ip = '203.0.113.10';
    // Ten failures four hours ago, two minutes apart: never ten within fifteen minutes.
    const spread = users('wide', 10).map((u, i) => signIn(t, u, ip, 4 * HOUR - i * 2 * MIN));
    const tooOld = signIn(t, 'ancient', ip, 31 * 24 * HOUR);
    const answer = await ingest(t, s, [...spread, tooOld, { class_uid: 3002, time: 'NaN' }]);
    expect(answer.accepted).toHaveLength(10);
    expect(answer.rejected.map((r) => r.code).sort()).toEqual(['INVALID_TIME', 'TIME_TOO_OLD']);
    await detectionModule(t).service.settled();
    expect(await alertsFor(t, s, spraying, ip)).toHaveLength(0);
  });

  it('says how an event of a given time is considered', () => {
    const detection = detectionModule(t).service;
    const now = t.clock.now().getTime();
    expect(detection.consideration(now)).toBe('evaluated');
    expect(detection.consideration(now - 4 * MIN)).toBe('evaluated');
    expect(detection.consideration(now - 3 * HOUR)).toBe('late');
    expect(detection.consideration(now - 29 * 24 * HOUR)).toBe('late');
    expect(detection.consideration(now - 31 * 24 * HOUR)).toBe('not_evaluated');
    expect(detection.consideration(Number.NaN)).toBe('not_evaluated');
  });
});

describe('warm start replays the newest events of its window', () => {
  let t: TestApp;
  let s: Scene;

  beforeAll(async () => {
    t = await createTestApp();
    s = await setScene(t);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps the last hour window across a restart when the journal holds more than the limit', async () => {
    const ip = '192.0.2.44';
    // Old, unrelated history: two days ago, thirty sign-ins (plus one batch event).
    await ingest(
      t,
      s,
      users('old', 30).map((u) => signIn(t, u, '192.0.2.1', 2 * 24 * HOUR, false)),
    );
    // Then nine failures for nine accounts from one address in the last ten minutes: one short of
    // the spraying bound.
    await ingest(
      t,
      s,
      users('victim', 9).map((u, i) => signIn(t, u, ip, 10 * MIN - i * MIN)),
    );
    const before = detectionModule(t);
    await before.service.settled();
    expect(await alertsFor(t, s, spraying, ip)).toHaveLength(0);
    const total = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(total.n)).toBeGreaterThan(20);

    // Restart detection with room for twenty events: the newest twenty hold the nine failures.
    await before.stop?.();
    const identity = t.container.modules.find((m) => m.name === 'identity') as IdentityModule;
    const access = t.container.modules.find((m) => m.name === 'access') as AccessModule;
    // Wired as the composition root wires it, with room for twenty events in the warm start.
    const restarted = createDetectionModule(
      { ...t.container.core, logger: pino({ level: 'silent' }) },
      { identity: identity.service, controls: access.controls },
      { warmUp: { days: 30, maxEvents: 20 }, forwarders: [] },
    );
    await restarted.start?.();
    try {
      await ingest(t, s, [signIn(t, 'victim-9', ip, 0)]);
      await restarted.service.settled();
      const alerts = await alertsFor(t, s, spraying, ip);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.summary).toMatchObject({ count: 10 });
      expect(alerts[0]!.summary.late).toBeUndefined();
    } finally {
      await restarted.stop?.();
    }
  });
});
