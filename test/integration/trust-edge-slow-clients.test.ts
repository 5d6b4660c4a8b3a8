import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeScene } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Slow clients on real sockets (issue 8, item 9): a request head or body sent a byte at a time, an
 * idle kept-alive connection and connections beyond the cap are cut off, while a long-lived SSE
 * response outlives the request timeout. Timeouts are shortened through configuration.
 */
const HEADERS_TIMEOUT_MS = 800;
const REQUEST_TIMEOUT_MS = 1200;
const KEEPALIVE_TIMEOUT_MS = 300;
const MAX_CONNECTIONS = 6;

let t: TestApp;
let port: number;
let adminToken: string;
const open = new Set<net.Socket>();

beforeAll(async () => {
  t = await createTestApp({
    env: {
      VIGIE_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      VIGIE_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      VIGIE_HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_TIMEOUT_MS),
      VIGIE_HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
    start: true,
  });
  adminToken = (await makeScene(t.database.db)).adminToken;
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterEach(() => {
  for (const s of open) s.destroy();
  open.clear();
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await t.close();
});

interface Tracked {
  readonly socket: net.Socket;
  readonly received: () => string;
  readonly closed: Promise<number>;
  isClosed(): boolean;
}

/** A client socket that records what it receives and when it was closed (ms after connecting). */
function connect(): Promise<Tracked> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ port, host: '127.0.0.1' });
    open.add(socket);
    let data = '';
    let closedFlag = false;
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise<number>((done) =>
      socket.on('close', () => {
        closedFlag = true;
        open.delete(socket);
        done(performance.now() - started);
      }),
    );
    socket.once('connect', () =>
      resolve({ socket, received: () => data, closed, isClosed: () => closedFlag }),
    );
    socket.once('error', reject);
  });
}

/** Writes `text` a byte every `everyMs` until the server closes the socket or the text runs out. */
async function trickle(c: Tracked, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  for (const ch of text) {
    if (c.isClosed() || c.socket.destroyed) break;
    c.socket.write(ch);
    sent += 1;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('slow clients are cut off', () => {
  it('closes a socket that sends its request head a byte at a time once the headers timeout passes', async () => {
    const c = await connect();
    // Long enough to take 8 s at 40 ms a byte: the server must cut it well before.
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
    const sent = await trickle(c, head, 40);
    const closedAfter = await c.closed;
    expect(sent).toBeLessThan(head.length);
    expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(closedAfter).toBeLessThan(HEADERS_TIMEOUT_MS + 2_500);
    expect(c.received()).not.toContain('"status":"ok"');
  });

  it('closes a socket that never sends a byte', async () => {
    const c = await connect();
    const closedAfter = await Promise.race([c.closed, pause(HEADERS_TIMEOUT_MS + 3_000).then(() => -1)]);
    expect(closedAfter).toBeGreaterThan(0);
  });

  it('closes a socket whose body trickles in past the request timeout', async () => {
    const c = await connect();
    c.socket.write(
      'POST /api/v1/organisations HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'Content-Type: application/json\r\nContent-Length: 400\r\n\r\n',
    );
    const body = `{"name":"${'b'.repeat(380)}"}`;
    const sent = await trickle(c, body, 40);
    const closedAfter = await c.closed;
    expect(sent).toBeLessThan(body.length);
    expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(closedAfter).toBeLessThan(REQUEST_TIMEOUT_MS + 2_500);
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const c = await connect();
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await pause(100);
    expect(c.received()).toContain('200 OK');
    expect(c.received().toLowerCase()).toContain('keep-alive: timeout=');
    const closedAfter = await Promise.race([c.closed, pause(KEEPALIVE_TIMEOUT_MS + 3_000).then(() => -1)]);
    expect(closedAfter).toBeGreaterThan(0);
  });

  it('closes new sockets beyond the connection cap and keeps serving the others', async () => {
    const held: Tracked[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i += 1) held.push(await connect());
    await new Promise<void>((resolve, reject) => {
      t.app.server.getConnections((error, count) => {
        if (error) return reject(error);
        expect(count).toBe(MAX_CONNECTIONS);
        resolve();
      });
    });
    const extra = await connect();
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const refusedAfter = await Promise.race([extra.closed, pause(HEADERS_TIMEOUT_MS - 200).then(() => -1)]);
    expect(refusedAfter).toBeGreaterThan(0);
    expect(extra.received()).toBe('');
    expect(held.every((h) => !h.isClosed())).toBe(true);

    // A held connection is still served, and once one closes a new client gets in.
    held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await held[0]!.closed;
    expect(held[0]!.received()).toContain('"status":"ok"');
    const next = await connect();
    next.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await next.closed;
    expect(next.received()).toContain('"status":"ok"');
  });

  it('keeps an SSE alert stream open longer than the request timeout', async () => {
    const c = await connect();
    c.socket.write(
      `GET /api/v1/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminToken}\r\n\r\n`,
    );
    await pause(REQUEST_TIMEOUT_MS + HEADERS_TIMEOUT_MS + 1_000);
    expect(c.isClosed()).toBe(false);
    expect(c.received()).toContain('200 OK');
    expect(c.received()).toContain('text/event-stream');
    expect(c.received()).toContain(': connected');
  });
});
