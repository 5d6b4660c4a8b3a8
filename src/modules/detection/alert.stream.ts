import type { ServerResponse } from 'node:http';
import type { AccountPrincipal } from '../../shared/principal.js';
import type { AlertTable } from '../../db/schema.js';
import { alertVisibleTo, type Alert } from './alert.service.js';

/**
 * Live alerts for the console (Server-Sent Events). The number of listeners is bounded; each gets a
 * comment line as heartbeat so proxies keep the connection; a listener only receives alerts it may
 * read. A slow listener whose buffer fills up is dropped rather than buffered without bound.
 */
interface Listener {
  readonly principal: AccountPrincipal;
  readonly res: ServerResponse;
}

export class AlertStream {
  readonly #listeners = new Set<Listener>();
  readonly #max: number;
  readonly #timer: NodeJS.Timeout;

  constructor(options: { maxClients?: number; heartbeatMs?: number } = {}) {
    this.#max = options.maxClients ?? 50;
    this.#timer = setInterval(() => this.#broadcastRaw(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
    this.#timer.unref();
  }

  get size(): number {
    return this.#listeners.size;
  }

  get full(): boolean {
    return this.#listeners.size >= this.#max;
  }

  add(principal: AccountPrincipal, res: ServerResponse): void {
    const listener = { principal, res };
    this.#listeners.add(listener);
    res.on('close', () => this.#listeners.delete(listener));
    res.write(': connected\n\n');
  }

  #write(l: Listener, chunk: string): void {
    if (l.res.writableLength > 1024 * 1024) {
      this.#listeners.delete(l);
      l.res.destroy();
      return;
    }
    l.res.write(chunk);
  }

  #broadcastRaw(chunk: string): void {
    for (const l of this.#listeners) this.#write(l, chunk);
  }

  publish(alert: Alert, row: Pick<AlertTable, 'organisation_path'>): void {
    const chunk = `id: ${alert.id}\nevent: alert\ndata: ${JSON.stringify(alert)}\n\n`;
    for (const l of this.#listeners) {
      if (alertVisibleTo(l.principal, row as AlertTable)) this.#write(l, chunk);
    }
  }

  /** Ends every stream and closes its connection: a closing server must not wait for clients. */
  close(): void {
    clearInterval(this.#timer);
    for (const l of this.#listeners) {
      l.res.end();
      l.res.socket?.destroy();
    }
    this.#listeners.clear();
  }
}
