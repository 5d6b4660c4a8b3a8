import fs from 'node:fs';
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
  const allowlist = aaguidList(env, 'VIGIE_PASSKEY_AAGUID_ALLOWLIST') ?? [];
  // A population's own list, when set, replaces the general one for its accounts.
  const allowlists = Object.fromEntries(
    FEDERATION_POPULATIONS.map((p) => [
      p,
      Object.freeze(aaguidList(env, `VIGIE_PASSKEY_AAGUID_ALLOWLIST_${p.toUpperCase()}`) ?? allowlist),
    ]),
  ) as Record<FederationPopulation, readonly string[]>;
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
    aaguidAllowlists: Object.freeze(allowlists),
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

const BACKCHANNEL_DELAYS_MS = [0, 1_000, 4_000, 15_000, 60_000];

/** VIGIE_OIDC_BACKCHANNEL_PRIVATE_NETWORKS and VIGIE_OIDC_BACKCHANNEL_ATTEMPTS. */
export function oidcProviderSettings(env: Env): Config['oidcProvider'] {
  const attempts = integer(env, 'VIGIE_OIDC_BACKCHANNEL_ATTEMPTS', 3, 1, BACKCHANNEL_DELAYS_MS.length);
  return Object.freeze({
    backchannelPrivateNetworks: flag(env, 'VIGIE_OIDC_BACKCHANNEL_PRIVATE_NETWORKS', false),
    backchannelRetryDelaysMs: Object.freeze(BACKCHANNEL_DELAYS_MS.slice(0, attempts)),
  });
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

/**
 * A secret read from the environment or a file, kept out of logs: JSON and util.inspect show
 * `[redacted]`, only `reveal()` gives the value (to the OpenID client, never to a logger).
 */
export class ConfigSecret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

/** Comma-separated AAGUIDs, lower-cased; undefined when the variable is unset or empty. */
function aaguidList(env: Env, name: string): string[] | undefined {
  const list = (env[name] ?? '')
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => a !== '');
  if (list.some((a) => !AAGUID.test(a)))
    throw new ConfigError(name, 'expected comma-separated AAGUIDs (8-4-4-4-12 hex)');
  return list.length > 0 ? list : undefined;
}

export const FEDERATION_POPULATIONS = ['privileged', 'agent', 'partner', 'other'] as const;
export type FederationPopulation = (typeof FEDERATION_POPULATIONS)[number];
export const FEDERATION_LINK_RULES = ['email_siret', 'email'] as const;
export type FederationLinkRule = (typeof FEDERATION_LINK_RULES)[number];

/** One upstream OpenID Provider (ProConnect-like) Vigie federates with, as a relying party. */
export interface FederationProviderConfig {
  /** The path segment of its routes, `[a-z0-9-]`, e.g. `proconnect`. */
  readonly id: string;
  /** Shown on the sign-in page. */
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: ConfigSecret;
  /** Space-separated scopes requested; always holds `openid`. */
  readonly scopes: string;
  /** acr_values requested on a first round, before Vigie knows who signs in (may be empty). */
  readonly acrValues: readonly string[];
  /** acr values accepted per population (the same list is requested on a second round); empty: any. */
  readonly acceptedAcr: Readonly<Record<FederationPopulation, readonly string[]>>;
  /** An upstream proof with one of these acr, or one of these amr, is phishing-resistant. */
  readonly phishingResistantAcr: readonly string[];
  readonly phishingResistantAmr: readonly string[];
  /** How a first federated login finds the Vigie account it links to. */
  readonly linkRule: FederationLinkRule;
  /** Whether the e-mail claim must come with `email_verified: true`. */
  readonly requireEmailVerified: boolean;
  /** Plain http is allowed for a loopback issuer only (tests, a local provider). */
  readonly insecureLoopback: boolean;
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const ACR_OR_AMR = /^[\x21-\x7e]{1,200}$/;

/**
 * VIGIE_FEDERATION_PROVIDERS (comma-separated ids) and, per id, VIGIE_FEDERATION_<ID>_…: ISSUER,
 * CLIENT_ID, CLIENT_SECRET_FILE or CLIENT_SECRET, and the optional NAME, SCOPES, ACR_VALUES,
 * ACR_PRIVILEGED / ACR_AGENT / ACR_PARTNER / ACR_OTHER, PHISHING_RESISTANT_ACR / _AMR, LINK_RULE,
 * REQUIRE_EMAIL_VERIFIED. A secret file others may read stops Vigie, as for its other keys.
 */
export function federationSettings(env: Env): readonly FederationProviderConfig[] {
  const ids = (env.VIGIE_FEDERATION_PROVIDERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.some((id) => !PROVIDER_ID.test(id)))
    throw new ConfigError('VIGIE_FEDERATION_PROVIDERS', 'expected comma-separated ids such as proconnect');
  if (new Set(ids).size !== ids.length)
    throw new ConfigError('VIGIE_FEDERATION_PROVIDERS', 'an id is listed twice');
  return Object.freeze(ids.map((id) => providerSettings(env, id)));
}

function providerSettings(env: Env, id: string): FederationProviderConfig {
  const prefix = `VIGIE_FEDERATION_${id.toUpperCase().replaceAll('-', '_')}_`;
  const name = (key: string) => `${prefix}${key}`;
  const words = (key: string, fallback = ''): string[] => {
    const list = (env[name(key)] ?? fallback).split(/\s+/).filter((w) => w !== '');
    if (list.length > 20 || list.some((w) => !ACR_OR_AMR.test(w)))
      throw new ConfigError(name(key), 'expected up to 20 space-separated values of printable ASCII');
    return list;
  };
  const issuer = env[name('ISSUER')] ?? '';
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(name('ISSUER'), 'expected the issuer URL, such as https://auth.example.gouv.fr');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new ConfigError(name('ISSUER'), 'must be https:// (plain http only on 127.0.0.1)');
  const clientId = env[name('CLIENT_ID')] ?? '';
  if (!/^[\x21-\x7e]{1,200}$/.test(clientId))
    throw new ConfigError(name('CLIENT_ID'), 'expected the client id the provider registered for Vigie');
  const scopes = words('SCOPES', 'openid email siret');
  if (!scopes.includes('openid')) throw new ConfigError(name('SCOPES'), 'must include openid');
  const linkRule = env[name('LINK_RULE')] ?? 'email_siret';
  if (!(FEDERATION_LINK_RULES as readonly string[]).includes(linkRule))
    throw new ConfigError(name('LINK_RULE'), `expected one of ${FEDERATION_LINK_RULES.join(', ')}`);
  return Object.freeze({
    id,
    name: (env[name('NAME')] ?? id).slice(0, 64),
    issuer,
    clientId,
    clientSecret: clientSecret(env, name('CLIENT_SECRET'), name('CLIENT_SECRET_FILE')),
    scopes: scopes.join(' '),
    acrValues: Object.freeze(words('ACR_VALUES')),
    acceptedAcr: Object.freeze({
      privileged: Object.freeze(words('ACR_PRIVILEGED')),
      agent: Object.freeze(words('ACR_AGENT')),
      partner: Object.freeze(words('ACR_PARTNER')),
      other: Object.freeze(words('ACR_OTHER')),
    }),
    phishingResistantAcr: Object.freeze(words('PHISHING_RESISTANT_ACR')),
    phishingResistantAmr: Object.freeze(words('PHISHING_RESISTANT_AMR')),
    linkRule: linkRule as FederationLinkRule,
    requireEmailVerified: flag(env, name('REQUIRE_EMAIL_VERIFIED'), true),
    insecureLoopback: url.protocol === 'http:',
  });
}

function clientSecret(env: Env, inline: string, file: string): ConfigSecret {
  const fromEnv = env[inline];
  const path = env[file];
  if ((fromEnv ?? '') !== '' && (path ?? '') !== '')
    throw new ConfigError(inline, `set ${inline} or ${file}, not both`);
  let value: string;
  if (path !== undefined && path !== '') {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path);
    } catch {
      throw new ConfigError(file, 'cannot read this file');
    }
    if (!stat.isFile()) throw new ConfigError(file, 'is not a file');
    if ((stat.mode & 0o077) !== 0)
      throw new ConfigError(file, 'must be readable by its owner only (chmod 600)');
    value = fs.readFileSync(path, 'utf8').trim();
  } else value = fromEnv ?? '';
  if (value.length < 16 || value.length > 512 || /\s/.test(value))
    throw new ConfigError(file, 'the client secret must be 16 to 512 characters without spaces');
  return new ConfigSecret(value);
}
