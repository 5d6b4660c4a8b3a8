import net from 'node:net';

/**
 * A minimal SMTP receiver on 127.0.0.1 (RFC 5321's plain dialogue, no TLS, no auth): Vigie mails
 * enrolment links to the simulated staff, and the simulator opens them as each person would.
 */
export interface MailSink {
  readonly url: string;
  /** Waits for the enrolment secret mailed to `to` (the fragment after `/enrol#`). */
  enrolmentSecret(to: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export async function startMailSink(): Promise<MailSink> {
  const secrets = new Map<string, string>();
  const waiters = new Map<string, (secret: string) => void>();
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let recipients: string[] = [];
    let body = '';
    socket.setEncoding('utf8');
    socket.write('220 sim ESMTP\r\n');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            const m = /\/enrol#([A-Za-z0-9_-]+)/.exec(decodeQuotedPrintable(body));
            for (const to of recipients) {
              if (!m) continue;
              const waiter = waiters.get(to);
              if (waiter) {
                waiters.delete(to);
                waiter(m[1]!);
              } else secrets.set(to, m[1]!);
            }
            socket.write('250 OK\r\n');
          } else body += `${line.startsWith('..') ? line.slice(1) : line}\r\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 sim\r\n');
        else if (verb === 'MAIL') {
          recipients = [];
          body = '';
          socket.write('250 OK\r\n');
        } else if (verb === 'RCPT') {
          const m = /<([^>]*)>/.exec(line);
          if (m) recipients.push(m[1]!.toLowerCase());
          socket.write('250 OK\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
        } else socket.write('250 OK\r\n');
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    enrolmentSecret(to, timeoutMs = 30_000) {
      const key = to.toLowerCase();
      const ready = secrets.get(key);
      if (ready) {
        secrets.delete(key);
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(key);
          reject(new Error(`no enrolment mail for ${key}`));
        }, timeoutMs);
        waiters.set(key, (secret) => {
          clearTimeout(timer);
          resolve(secret);
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
