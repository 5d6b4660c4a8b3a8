import type { ServerResponse } from 'node:http';
import { VigieError } from '../../shared/errors.js';
import { scopesFor, type AccountPrincipal } from '../../shared/principal.js';
import type { AlertTable } from '../../db/schema.js';
import { alertVisibleTo, type Alert } from './alert.service.js';

/**
 * Live alerts for the console (Server-Sent Events). Each listener gets a comment line as heartbeat so
 * proxies keep the connection; a listener only receives alerts it may read. A slow listener whose
 * buffer fills up is dropped rather than buffered without bound.
 *
 * Listeners are bounded three ways, so that nobody can starve the operator's security team (one
 * structure's auditor once held all 50 streams): at most `maxPerPrincipal` per account; at most
 * `maxClients` in all; and the last `reservedForOperator` of those only for principals reading alerts
 * over a top-level organisation (the operator), whoever else is connected.
 */
interface Listener {
  readonly principal: AccountPrincipal;
  readonly key: string;
  readonly res: ServerResponse;
}

export interface AlertStreamLimits {
  readonly maxClients: number;
  readonly maxPerPrincipal: number;
  readonly reservedForOperator: number;
}

/** Seconds a refused client is told to wait: streams end when consoles close, not in milliseconds. */
export const ALERT_STREAM_RETRY_AFTER_S = 30;

/** A scope at the root of the organisation tree ('/<id>/'): the operator itself. */
const isRootScope = (path: string) => path.split('/').length === 3;

const keyOf = (p: AccountPrincipal) => `account:${p.accountId}`;

export class AlertStream {
  readonly #listeners = new Set<Listener>();
  readonly #perPrincipal = new Map<string, number>();
  readonly #limits: AlertStreamLimits;
  readonly #timer: NodeJS.Timeout;

  constructor(options: Partial<AlertStreamLimits> & { heartbeatMs?: number } = {}) {
    this.#limits = {
      maxClients: options.maxClients ?? 50,
      maxPerPrincipal: options.maxPerPrincipal ?? 5,
      reservedForOperator: options.reservedForOperator ?? 10,
    };
    this.#timer = setInterval(() => this.#broadcastRaw(': heartbeat\n\n'), options.heartbeatMs ?? 15_000);
    this.#timer.unref();
  }

  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Why this principal may not open one more stream now (429 ALERT_STREAM_LIMIT, `details.limit` =
   * `principal` | `global`), or undefined. Checked and followed by add() in the same tick.
   */
  refusal(principal: AccountPrincipal): VigieError | undefined {
    const { maxClients, maxPerPrincipal, reservedForOperator } = this.#limits;
    if ((this.#perPrincipal.get(keyOf(principal)) ?? 0) >= maxPerPrincipal)
      return streamLimit('principal', maxPerPrincipal);
    const operator = scopesFor(principal, 'alert.read').some(isRootScope);
    const room = operator ? maxClients : maxClients - reservedForOperator;
    if (this.#listeners.size >= room) return streamLimit('global', room);
    return undefined;
  }

  add(principal: AccountPrincipal, res: ServerResponse): void {
    const listener = { principal, key: keyOf(principal), res };
    this.#listeners.add(listener);
    this.#perPrincipal.set(listener.key, (this.#perPrincipal.get(listener.key) ?? 0) + 1);
    res.on('close', () => this.#remove(listener));
    res.write(': connected\n\n');
  }

  #remove(l: Listener): void {
    if (!this.#listeners.delete(l)) return;
    const left = (this.#perPrincipal.get(l.key) ?? 1) - 1;
    if (left > 0) this.#perPrincipal.set(l.key, left);
    else this.#perPrincipal.delete(l.key);
  }

  #write(l: Listener, chunk: string): void {
    if (l.res.writableLength > 1024 * 1024) {
      this.#remove(l);
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
    this.#perPrincipal.clear();
  }
}

function streamLimit(limit: 'principal' | 'global', max: number): VigieError {
  return new VigieError(
    'ALERT_STREAM_LIMIT',
    429,
    limit === 'principal'
      ? `at most ${max} live alert streams per account; close one first`
      : 'too many live alert streams are open; retry later',
    { limit, max },
  );
}
