import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.js';

export interface EnrolmentMail {
  readonly to: string;
  readonly link: string;
  readonly expiresAt: string;
}

export type MailOutcome =
  | { readonly kind: 'sent'; readonly attempts: number }
  | { readonly kind: 'failed'; readonly attempts: number; readonly code: string }
  | { readonly kind: 'not_configured' };

const ATTEMPTS = 3;

/** The URL's host and port, with timeouts so that a silent server cannot hold a delivery forever. */
function smtpOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port === '' ? (u.protocol === 'smtps:' ? 465 : 25) : Number(u.port),
    secure: u.protocol === 'smtps:',
    ...(u.username
      ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } }
      : {}),
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 10_000,
  };
}

/** The message, French first then English; the link is its only secret, and appears nowhere else. */
export function enrolmentMessage(mail: EnrolmentMail, from: string) {
  const until = mail.expiresAt.slice(0, 16).replace('T', ' ');
  return {
    from,
    to: mail.to,
    subject: 'Vigie : enregistrez votre clé d’accès / register your passkey',
    text: [
      'Bonjour,',
      '',
      'Votre compte Vigie est actif. Ouvrez ce lien pour enregistrer votre clé d’accès',
      `(valable une seule fois, jusqu’au ${until} UTC) :`,
      '',
      mail.link,
      '',
      'Si vous n’attendiez pas ce message, ne l’ouvrez pas et prévenez votre administrateur.',
      '',
      '—',
      '',
      `Your Vigie account is active. Open the link above once, before ${until} UTC, to register`,
      'your passkey. If you did not expect this message, do not open it and tell your administrator.',
    ].join('\n'),
  };
}

/**
 * Sends enrolment mail through the configured SMTP server with bounded retries (3 attempts, 0.5 s
 * then 1 s apart). Errors are reduced to a code: a server's reply may quote the message.
 */
export function createEnrolmentMailer(config: Config['mail']) {
  const transport = config.smtpUrl ? nodemailer.createTransport(smtpOptions(config.smtpUrl)) : undefined;

  async function send(mail: EnrolmentMail): Promise<MailOutcome> {
    if (!transport) return { kind: 'not_configured' };
    let code = 'SMTP_ERROR';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      try {
        await transport.sendMail(enrolmentMessage(mail, config.from));
        return { kind: 'sent', attempts: attempt };
      } catch (error) {
        const c = (error as { code?: unknown }).code;
        code = typeof c === 'string' && /^[A-Z_]{1,40}$/.test(c) ? c : 'SMTP_ERROR';
        if (attempt < ATTEMPTS) await sleep(500 * attempt, undefined, { ref: false });
      }
    }
    return { kind: 'failed', attempts: ATTEMPTS, code };
  }

  return { send, close: () => transport?.close() };
}

export type EnrolmentMailer = ReturnType<typeof createEnrolmentMailer>;
