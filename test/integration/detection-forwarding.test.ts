import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import {
  formatSyslog,
  forwardersFromConfig,
  syslogForwarder,
  webhookForwarder,
} from '../../src/modules/detection/alert.forwarder.js';
import type { Alert } from '../../src/modules/detection/alert.service.js';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/** Forwarding to SIEMs (webhook, syslog) and the live SSE stream, over real sockets on 127.0.0.1. */
const alert: Alert = {
  id: '019c0000-0000-7000-8000-000000000001',
  ruleId: 'vigie.honeytoken-touched',
  title: 'Honeytoken record disclosed',
  severity: 'critical',
  status: 'new',
  entity: { type: 'account', id: 'acc-"1"]' },
  organisationId: null,
  tags: ['attack.collection', 'attack.t1213'],
  evidence: [],
  summary: {},
  occurrences: 1,
  firstEventAt: '2026-03-02T09:00:00.000Z',
  lastEventAt: '2026-03-02T09:00:00.000Z',
  raisedEventId: 'e1',
  comment: null,
  updatedBy: null,
  createdAt: '2026-03-02T09:00:00.000Z',
  updatedAt: '2026-03-02T09:00:00.000Z',
};

describe('alert forwarding', () => {
  it('posts the alert to a webhook with an HMAC-SHA256 signature and retries a failure', async () => {
    const received: Array<{ body: string; signature: string | undefined }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, signature: req.headers['x-vigie-signature'] as string | undefined });
        res.statusCode = received.length === 1 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const secret = 'a-shared-secret-of-32-characters';
      await webhookForwarder({
        url: `http://127.0.0.1:${port}/hook`,
        secret,
        attempts: 3,
        backoffMs: 10,
      }).forward(alert);
      expect(received).toHaveLength(2);
      const expected = `sha256=${createHmac('sha256', secret).update(received[1]!.body).digest('hex')}`;
      expect(received[1]!.signature).toBe(expected);
      expect(JSON.parse(received[1]!.body).alert.id).toBe(alert.id);
    } finally {
      server.close();
    }
  });

  it('gives up after the bounded number of attempts', async () => {
    let calls = 0;
    const server = http.createServer((_req, res) => {
      calls++;
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const forwarder = webhookForwarder({
        url: `http://127.0.0.1:${port}/`,
        secret: 'x'.repeat(16),
        attempts: 2,
        backoffMs: 5,
      });
      await expect(forwarder.forward(alert)).rejects.toThrow(/after retries: HTTP 500/);
      expect(calls).toBe(2);
    } finally {
      server.close();
    }
  });

  it('formats RFC 5424 syslog with escaped structured data', () => {
    const line = formatSyslog(alert, 'vigie-host');
    expect(line).toMatch(/^<82>1 2026-03-02T09:00:00\.000Z vigie-host vigie - alert\.raised \[vigie@32473 /);
    expect(line).toContain('entityId="acc-\\"1\\"\\]"');
    expect(line.endsWith(' Honeytoken record disclosed')).toBe(true);
  });

  it('sends syslog over UDP to a local socket', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    try {
      const got = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
      await syslogForwarder({ protocol: 'udp', host: '127.0.0.1', port: socket.address().port }).forward(
        alert,
      );
      expect(await got).toBe(formatSyslog(alert));
    } finally {
      socket.close();
    }
  });

  it('sends syslog over TCP with octet-counted framing', async () => {
    let data = '';
    const server = net.createServer();
    const done = new Promise<void>((resolve) => {
      server.on('connection', (c) => {
        c.on('data', (d: Buffer) => (data += d.toString()));
        c.on('end', resolve);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      await syslogForwarder({ protocol: 'tcp', host: '127.0.0.1', port }).forward(alert);
      await done;
      const message = formatSyslog(alert);
      expect(data).toBe(`${Buffer.byteLength(message)} ${message}`);
    } finally {
      server.close();
    }
  });

  it('reads its targets from the configuration and refuses a webhook without a secret', () => {
    expect(forwardersFromConfig(parseConfig({}).alerts)).toHaveLength(0);
    expect(
      forwardersFromConfig(parseConfig({ VIGIE_ALERT_SYSLOG: 'udp://127.0.0.1:514' }).alerts),
    ).toHaveLength(1);
    expect(() => parseConfig({ VIGIE_ALERT_WEBHOOK_URL: 'http://127.0.0.1/' })).toThrow(
      /VIGIE_ALERT_WEBHOOK_SECRET/,
    );
    expect(() => parseConfig({ VIGIE_ALERT_SYSLOG: 'smtp://x:1' })).toThrow(/VIGIE_ALERT_SYSLOG/);
  });
});

describe('the live alert stream', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('pushes a new alert to a connected analyst over SSE', async () => {
    const db = t.database.db;
    const scene = await makeScene(db);
    const analyst = await makeAccount(db, { organisationId: scene.operator.id });
    await grantRole(db, analyst.id, 'security_analyst', scene.operator.id);
    const agent = await makeAccount(db, { organisationId: scene.structure.id });
    const app = await makeApplication(db, { organisationId: scene.structure.id, scopes: ['event.ingest'] });
    const decoy = await makeSubject(db, { decoy: true });
    const analystToken = await issueToken(db, 'account', analyst.id);
    const appToken = await issueToken(db, 'application', app.id);
    await t.container.start();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;

    const unauthenticated = await fetch(`${base}/api/v1/alerts/stream`);
    expect(unauthenticated.status).toBe(401);
    await unauthenticated.text();

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    const res = await fetch(`${base}/api/v1/alerts/stream`, {
      headers: { authorization: `Bearer ${analystToken}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain(': connected');

    const ingest = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          class_uid: 6003,
          activity_id: 2,
          time: t.clock.now().getTime(),
          metadata: { uid: 'sse-1' },
          actor: { user: { uid: agent.id } },
          resources: [{ uid: decoy.id }],
        },
      ]),
    });
    expect(ingest.status).toBe(200);
    await ingest.text();

    let text = '';
    for (let i = 0; i < 20 && !text.includes('event: alert'); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    clearTimeout(timer);
    controller.abort();
    // A stream left open must not keep the server from closing (afterAll would time out): the
    // server ends live streams itself before it waits for connections.
    const lingering = await fetch(`${base}/api/v1/alerts/stream`, {
      headers: { authorization: `Bearer ${analystToken}` },
    });
    expect(lingering.status).toBe(200);
    void lingering.body!.getReader().read();
    expect(text).toContain('event: alert');
    const data = JSON.parse(/data: (.*)\n/.exec(text)![1]!);
    expect(data).toMatchObject({ ruleId: 'vigie.honeytoken-touched', entity: { id: agent.id } });
    await (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service.settled();
  });
});
