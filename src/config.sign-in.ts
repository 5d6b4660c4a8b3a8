import type { Config } from './config.js';
import { ConfigError, integer, type Env } from './config.values.js';

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** VIGIE_RP_ID, VIGIE_ORIGIN (a mismatch refused), the AAGUID allow-list, sessions and the lock. */
export function signInSettings(env: Env): Config['signIn'] {
  const rpId = (env.VIGIE_RP_ID ?? 'localhost').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(rpId))
    throw new ConfigError('VIGIE_RP_ID', 'expected a host name such as vigie.example.fr');
  const origin = env.VIGIE_ORIGIN ?? 'http://localhost:8080';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new ConfigError('VIGIE_ORIGIN', 'expected an origin such as https://vigie.example.fr');
  }
  if (!/^https?:$/.test(url.protocol) || url.origin !== origin)
    throw new ConfigError('VIGIE_ORIGIN', 'expected a bare origin (scheme, host, port; no path)');
  if (url.protocol === 'http:' && url.hostname !== 'localhost')
    throw new ConfigError('VIGIE_ORIGIN', 'must be https:// except on localhost');
  // WebAuthn refuses a mismatch in every browser; better to refuse it at start-up.
  if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`))
    throw new ConfigError('VIGIE_RP_ID', `must be the host of VIGIE_ORIGIN or a suffix of it`);
  const allowlist = (env.VIGIE_PASSKEY_AAGUID_ALLOWLIST ?? '')
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => a !== '');
  if (allowlist.some((a) => !AAGUID.test(a)))
    throw new ConfigError(
      'VIGIE_PASSKEY_AAGUID_ALLOWLIST',
      'expected comma-separated AAGUIDs (8-4-4-4-12 hex)',
    );
  const lockAfter = integer(env, 'VIGIE_SIGN_IN_LOCK_AFTER', 10, 1, 10);
  const delayAfter = integer(env, 'VIGIE_SIGN_IN_DELAY_AFTER', 3, 0, 10);
  if (delayAfter > lockAfter)
    throw new ConfigError('VIGIE_SIGN_IN_DELAY_AFTER', 'must not exceed VIGIE_SIGN_IN_LOCK_AFTER');
  const idleMinutes = integer(env, 'VIGIE_SESSION_IDLE_MINUTES', 30, 1, 1440);
  const absoluteHours = integer(env, 'VIGIE_SESSION_ABSOLUTE_HOURS', 12, 1, 168);
  if (idleMinutes > absoluteHours * 60)
    throw new ConfigError('VIGIE_SESSION_IDLE_MINUTES', 'must not exceed VIGIE_SESSION_ABSOLUTE_HOURS');
  return Object.freeze({
    rpId,
    rpName: env.VIGIE_RP_NAME && env.VIGIE_RP_NAME !== '' ? env.VIGIE_RP_NAME.slice(0, 64) : 'Vigie',
    origin,
    aaguidAllowlist: Object.freeze(allowlist),
    challengeTtlMs: 5 * 60_000,
    enrolmentTtlHours: integer(env, 'VIGIE_ENROLMENT_TTL_HOURS', 72, 1, 720),
    sessionIdleMs: idleMinutes * 60_000,
    sessionAbsoluteMs: absoluteHours * 3_600_000,
    lockAfter,
    lockWindowMs: integer(env, 'VIGIE_SIGN_IN_LOCK_MINUTES', 15, 1, 1440) * 60_000,
    delayAfter,
    totpEnabled: flag(env, 'VIGIE_TOTP_ENABLED', true),
    stepUpMaxAgeMs: integer(env, 'VIGIE_STEP_UP_MAX_AGE_SECONDS', 300, 30, 300) * 1000,
    reenrolmentTtlHours: integer(env, 'VIGIE_REENROLMENT_TTL_HOURS', 72, 1, 720),
  });
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `expected true or false, got "${raw.slice(0, 40)}"`);
}

/** VIGIE_SMTP_URL and VIGIE_MAIL_FROM. */
export function mailSettings(env: Env, rpId: string): Config['mail'] {
  const smtpUrl = env.VIGIE_SMTP_URL;
  const from = env.VIGIE_MAIL_FROM && env.VIGIE_MAIL_FROM !== '' ? env.VIGIE_MAIL_FROM : `vigie@${rpId}`;
  if (!/^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/.test(from))
    throw new ConfigError('VIGIE_MAIL_FROM', 'expected an e-mail address');
  if (smtpUrl === undefined || smtpUrl === '') return Object.freeze({ from });
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new ConfigError('VIGIE_SMTP_URL', 'expected smtp://host:port or smtps://host:port');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new ConfigError('VIGIE_SMTP_URL', 'expected smtp://host:port or smtps://host:port');
  return Object.freeze({ smtpUrl, from });
}
