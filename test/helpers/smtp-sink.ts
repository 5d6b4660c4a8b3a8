import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SinkMail {
  readonly to: string[];
  readonly raw: string;
}

/**
 * A local SMTP server on 127.0.0.1 (random port) that keeps every message it receives, so that a
 * test can read the enrolment link Vigie mailed. `failFirst` refuses that many deliveries first.
 */
export async function startSmtpSink(options: { failFirst?: number } = {}) {
  const mails: SinkMail[] = [];
  let refusals = options.failFirst ?? 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusals > 0) {
          refusals -= 1;
          const error = Object.assign(new Error('try again later'), { responseCode: 451 });
          return callback(error);
        }
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** The enrolment link mailed to `to`, waiting up to `timeoutMs` for it. */
    async linkFor(to: string, timeoutMs = 10_000): Promise<{ url: string; secret: string }> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const mail = [...mails].reverse().find((m) => m.to.includes(to));
        const match = mail
          ? /(https?:\/\/[^\s]+\/enrol#([A-Za-z0-9_-]{43}))/.exec(mail.raw.replace(/=\r?\n/g, ''))
          : null;
        if (match) return { url: match[1]!, secret: match[2]! };
        if (Date.now() > until) throw new Error(`no enrolment mail for ${to}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
