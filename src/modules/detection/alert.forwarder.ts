import type { Config } from '../../config.js';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import type { Alert } from './alert.service.js';

/**
 * Forwarding alerts to a SIEM: a webhook (POST JSON, `x-vigie-signature: sha256=<hex HMAC>` over the
 * exact body, bounded retries with backoff) and syslog RFC 5424 over UDP or TCP (octet-counted
 * framing, RFC 6587). Forwarding runs after commit and never blocks raising.
 */
export interface AlertForwarder {
  forward(alert: Alert): Promise<void>;
}

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly attempts?: number;
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookForwarder(options: WebhookOptions): AlertForwarder {
  const attempts = Math.min(Math.max(options.attempts ?? 3, 1), 10);
  const backoff = options.backoffMs ?? 500;
  return {
    async forward(alert) {
      const body = JSON.stringify({ type: 'alert.raised', alert });
      let lastError = 'unknown';
      for (let i = 0; i < attempts; i++) {
        try {
          const res = await fetch(options.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-vigie-signature': signBody(options.secret, body),
              'x-vigie-delivery': `${alert.id}:${i + 1}`,
            },
            body,
            signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
          });
          if (res.ok) return;
          lastError = `HTTP ${res.status}`;
          // A 4xx other than 429 will not get better by retrying.
          if (res.status >= 400 && res.status < 500 && res.status !== 429) break;
        } catch (error) {
          lastError = error instanceof Error ? error.name : 'error';
        }
        if (i < attempts - 1) await new Promise((r) => setTimeout(r, backoff * 2 ** i));
      }
      throw new Error(`webhook delivery failed after retries: ${lastError}`);
    },
  };
}

const SEVERITY: Record<string, number> = { critical: 2, high: 3, medium: 4, low: 5, informational: 6 };

/** RFC 5424 structured-data parameter value escaping: ", \ and ] are escaped with a backslash. */
const sdEscape = (v: string) => v.replace(/[\\"\]]/g, (c) => `\\${c}`);

/** One RFC 5424 message: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG, facility security/auth (10). */
export function formatSyslog(alert: Alert, hostname = os.hostname()): string {
  const pri = 10 * 8 + (SEVERITY[alert.severity] ?? 5);
  const host = (hostname.replace(/[^\x21-\x7e]/g, '') || '-').slice(0, 255);
  const sd =
    `[vigie@32473 alertId="${sdEscape(alert.id)}" ruleId="${sdEscape(alert.ruleId)}" ` +
    `severity="${sdEscape(alert.severity)}" entityType="${sdEscape(alert.entity.type)}" entityId="${sdEscape(alert.entity.id)}"]`;
  return `<${pri}>1 ${alert.createdAt} ${host} vigie - alert.raised ${sd} ${alert.title}`;
}

export function syslogForwarder(target: {
  protocol: 'udp' | 'tcp';
  host: string;
  port: number;
}): AlertForwarder {
  return {
    forward(alert) {
      const message = Buffer.from(formatSyslog(alert), 'utf8');
      if (target.protocol === 'udp') {
        return new Promise((resolve, reject) => {
          const socket = dgram.createSocket(net.isIPv6(target.host) ? 'udp6' : 'udp4');
          socket.send(message, target.port, target.host, (error) => {
            socket.close();
            if (error) reject(error);
            else resolve();
          });
        });
      }
      return new Promise((resolve, reject) => {
        const socket = net.createConnection({ host: target.host, port: target.port, timeout: 5000 });
        socket.once('error', reject);
        socket.once('timeout', () => socket.destroy(new Error('syslog connection timed out')));
        socket.once('connect', () => {
          socket.end(Buffer.concat([Buffer.from(`${message.length} `), message]), () => resolve());
        });
      });
    },
  };
}

/**
 * Forwarding targets from the environment: VIGIE_ALERT_WEBHOOK_URL + VIGIE_ALERT_WEBHOOK_SECRET, and
 * VIGIE_ALERT_SYSLOG=udp://host:port or tcp://host:port. A webhook without a secret is refused.
 */
/** The forwarders the configuration asks for (VIGIE_ALERT_WEBHOOK_URL/SECRET, VIGIE_ALERT_SYSLOG). */
export function forwardersFromConfig(alerts: Config['alerts']): AlertForwarder[] {
  const out: AlertForwarder[] = [];
  if (alerts.webhook) out.push(webhookForwarder(alerts.webhook));
  if (alerts.syslog) out.push(syslogForwarder(alerts.syslog));
  return out;
}
