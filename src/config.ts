import path from 'node:path';
import {
  signInSettings,
  mailSettings,
  federationSettings,
  oidcProviderSettings,
  type FederationPopulation,
  type FederationProviderConfig,
} from './config.sign-in.js';
import { ConfigError, integer, type Env } from './config.values.js';

/** Everything Vigie reads from its environment, parsed once at start-up. */
export interface Config {
  readonly databaseUrl: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly delegation: {
    /** Minimum age, in days, of an approver's own account. */
    readonly approverMinAgeDays: number;
    /** Accounts one delegated administrator may create per rolling 24 hours. */
    readonly maxCreationsPerDay: number;
    /** Accounts one delegated administrator may have pending approval at once. */
    readonly maxPending: number;
  };
  readonly journal: {
    /** Origin line of the signed checkpoints (C2SP tlog-checkpoint). */
    readonly origin: string;
    /** Path of the Ed25519 signing key; created on first start when absent. */
    readonly signingKeyPath: string;
    /** Group-commit window of the journal integrator, in milliseconds. */
    readonly integrateIntervalMs: number;
    /** Ed25519 private key seed from VIGIE_JOURNAL_KEY (base64, 32 bytes); wins over the key file. */
    readonly signingKey?: Buffer;
  };
  /** Lifetime of API tokens: the default and the longest a caller may ask for, per kind. */
  readonly tokens: {
    readonly accountDays: number;
    readonly applicationDays: number;
    /** The token `vigie admin create` prints: short-lived, it only has to last until real setup. */
    readonly bootstrapHours: number;
  };
  /** Live alert streams (SSE): a global cap, a cap per principal, a share kept for the operator. */
  readonly alertStream: {
    readonly maxClients: number;
    readonly maxPerPrincipal: number;
    readonly reservedForOperator: number;
  };
  readonly policyDir: string;
  readonly rulesDir: string;
  /**
   * Whether risk alerts run their graduated responses (step-up, revoke, suspend, group freezes).
   * `VIGIE_RISK_RESPONSES=off` keeps every alert and runs none of them: tuning a new pack on live
   * traffic, or the simulator's unprotected run. Responses a rule declares are the rule's business.
   */
  readonly riskResponses: boolean;
  /** Where alerts are forwarded besides the API and live stream; both optional. */
  readonly alerts: {
    readonly webhook?: { readonly url: string; readonly secret: string };
    readonly syslog?: { readonly protocol: 'udp' | 'tcp'; readonly host: string; readonly port: number };
  };
  /** Limits of the HTTP server against slow or too many clients (src/app.ts). */
  readonly http: {
    /** Time a client has to send the whole request head. */
    readonly headersTimeoutMs: number;
    /** Time a client has to send the whole request, body included (a response may stream longer). */
    readonly requestTimeoutMs: number;
    /** Idle time after a response before a kept-alive connection is closed. */
    readonly keepAliveTimeoutMs: number;
    /** Open connections beyond which new sockets are closed at once. */
    readonly maxConnections: number;
    /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); none by default. */
    readonly trustProxy: readonly string[];
    /** One access-log line per this many fast successful requests (1: every one); errors and slow ones always. */
    readonly accessLogEvery: number;
    /** A request slower than this is always logged. */
    readonly accessLogSlowMs: number;
  };
  /** The brake on failed bearer authentications, per client address (src/http/auth-throttle.ts). */
  readonly authThrottle: {
    readonly windowMs: number;
    /** Failures in a window answered at once; each further one waits before its 401. */
    readonly delayAfter: number;
    readonly delayStepMs: number;
    readonly maxDelayMs: number;
    /** Failures in a window after which the address gets 429 AUTH_THROTTLED until the window ends. */
    readonly limit: number;
    /** Addresses tracked at once; the least recently failing are forgotten first. */
    readonly maxAddresses: number;
  };
  /** Passkeys, enrolment links, sessions and the sign-in brake (src/modules/sign-in/). */
  readonly signIn: {
    /** WebAuthn relying party id: the origin's host or a registrable suffix of it. */
    readonly rpId: string;
    readonly rpName: string;
    /** The one origin ceremonies and cookie-authenticated state changes must come from. */
    readonly origin: string;
    /** Authenticator models (AAGUIDs, lower-case with dashes) allowed to register; empty: any. */
    readonly aaguidAllowlist: readonly string[];
    /**
     * The list each population (sign-in/federation/federation.policy.ts `populationOf`) registers
     * under: its own `VIGIE_PASSKEY_AAGUID_ALLOWLIST_<POPULATION>`, else the general one.
     */
    readonly aaguidAllowlists: Readonly<Record<FederationPopulation, readonly string[]>>;
    readonly challengeTtlMs: number;
    readonly enrolmentTtlHours: number;
    readonly sessionIdleMs: number;
    readonly sessionAbsoluteMs: number;
    /** Failed sign-ins per account (or e-mail) and per client address before a lock. */
    readonly lockAfter: number;
    readonly lockWindowMs: number;
    /** Failures answered at once before each further one is delayed. */
    readonly delayAfter: number;
    /** TOTP as a second sign-in method, where the TOTP policy allows it (VIGIE_TOTP_ENABLED). */
    readonly totpEnabled: boolean;
    /** How old a step-up may be for the acts that need one (VIGIE_STEP_UP_MAX_AGE_SECONDS). */
    readonly stepUpMaxAgeMs: number;
    /** How long a re-enrolment request waits for its second person (VIGIE_REENROLMENT_TTL_HOURS). */
    readonly reenrolmentTtlHours: number;
  };
  /** Upstream OpenID Providers Vigie signs people in through (src/modules/sign-in/federation/); none by default. */
  readonly federation: readonly FederationProviderConfig[];
  /** Vigie as OpenID Provider of the business applications (src/modules/oidc-provider/). */
  readonly oidcProvider: {
    /** Back-channel logout may reach loopback and private addresses (intranet applications). */
    readonly backchannelPrivateNetworks: boolean;
    /** Delays before each delivery attempt of a logout token; its length is the number of attempts. */
    readonly backchannelRetryDelaysMs: readonly number[];
  };
  /** Outgoing mail (enrolment links); without an SMTP URL nothing is sent and an event says so. */
  readonly mail: {
    readonly smtpUrl?: string;
    readonly from: string;
  };
}

export { ConfigError } from './config.values.js';

function databaseUrl(env: Env, dataDir: string): string {
  const raw = env.VIGIE_DATABASE_URL;
  if (raw === undefined || raw === '') return `sqlite:${path.join(dataDir, 'vigie.db')}`;
  if (raw.startsWith('sqlite:')) {
    if (raw.length === 'sqlite:'.length)
      throw new ConfigError('VIGIE_DATABASE_URL', 'sqlite: needs a file path');
    return raw;
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('VIGIE_DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return raw;
  }
  throw new ConfigError('VIGIE_DATABASE_URL', 'expected sqlite:<path> or postgres://…');
}

function journalKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  const seed = Buffer.from(raw, 'base64');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(raw) || seed.length !== 32) {
    throw new ConfigError('VIGIE_JOURNAL_KEY', 'expected the base64 of a 32-byte Ed25519 private key');
  }
  return seed;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(name, 'expected on or off');
}

function alertTargets(env: Env): Config['alerts'] {
  const out: { webhook?: { url: string; secret: string }; syslog?: Config['alerts']['syslog'] } = {};
  const url = env.VIGIE_ALERT_WEBHOOK_URL;
  if (url) {
    if (!/^https?:\/\/[^\s]{1,2000}$/.test(url))
      throw new ConfigError('VIGIE_ALERT_WEBHOOK_URL', 'expected an http(s) URL');
    const secret = env.VIGIE_ALERT_WEBHOOK_SECRET;
    if (!secret || secret.length < 16) {
      throw new ConfigError(
        'VIGIE_ALERT_WEBHOOK_SECRET',
        'needs at least 16 characters when a webhook is set',
      );
    }
    out.webhook = Object.freeze({ url, secret });
  }
  const syslog = env.VIGIE_ALERT_SYSLOG;
  if (syslog) {
    const m = /^(udp|tcp):\/\/([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(syslog);
    if (!m || Number(m[3]) > 65535) {
      throw new ConfigError('VIGIE_ALERT_SYSLOG', 'expected udp://host:port or tcp://host:port');
    }
    out.syslog = Object.freeze({
      protocol: m[1] as 'udp' | 'tcp',
      host: m[2]!.replace(/^\[|\]$/g, ''),
      port: Number(m[3]),
    });
  }
  return Object.freeze(out);
}

function httpLimits(env: Env): Config['http'] {
  const headersTimeoutMs = integer(env, 'VIGIE_HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'VIGIE_HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('VIGIE_HTTP_HEADERS_TIMEOUT_MS', 'must not exceed VIGIE_HTTP_REQUEST_TIMEOUT_MS');
  }
  const proxies = (env.VIGIE_HTTP_TRUST_PROXY ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  // A list of proxies only: `true` would believe any client's X-Forwarded-For and void the brake.
  if (proxies.some((p) => !/^[0-9a-fA-F.:]{2,45}(\/\d{1,3})?$/.test(p))) {
    throw new ConfigError('VIGIE_HTTP_TRUST_PROXY', 'expected a comma-separated list of addresses or CIDRs');
  }
  return Object.freeze({
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: integer(env, 'VIGIE_HTTP_KEEPALIVE_TIMEOUT_MS', 5_000, 1, 600_000),
    maxConnections: integer(env, 'VIGIE_HTTP_MAX_CONNECTIONS', 2_000, 1, 1_000_000),
    trustProxy: Object.freeze(proxies),
    accessLogEvery: integer(env, 'VIGIE_ACCESS_LOG_EVERY', 100, 1, 1_000_000),
    accessLogSlowMs: integer(env, 'VIGIE_ACCESS_LOG_SLOW_MS', 1_000, 0, 3_600_000),
  });
}

function authThrottle(env: Env): Config['authThrottle'] {
  const delayAfter = integer(env, 'VIGIE_AUTH_FAILURE_DELAY_AFTER', 5, 0, 100_000);
  const limit = integer(env, 'VIGIE_AUTH_FAILURE_LIMIT', 50, 1, 1_000_000);
  if (delayAfter > limit) {
    throw new ConfigError('VIGIE_AUTH_FAILURE_DELAY_AFTER', 'must not exceed VIGIE_AUTH_FAILURE_LIMIT');
  }
  return Object.freeze({
    windowMs: integer(env, 'VIGIE_AUTH_FAILURE_WINDOW_MS', 600_000, 1_000, 86_400_000),
    delayAfter,
    delayStepMs: integer(env, 'VIGIE_AUTH_FAILURE_DELAY_STEP_MS', 250, 0, 60_000),
    maxDelayMs: integer(env, 'VIGIE_AUTH_FAILURE_MAX_DELAY_MS', 3_000, 0, 60_000),
    limit,
    maxAddresses: integer(env, 'VIGIE_AUTH_FAILURE_MAX_ADDRESSES', 10_000, 1, 10_000_000),
  });
}

function alertStreamLimits(env: Env): Config['alertStream'] {
  const maxClients = integer(env, 'VIGIE_ALERT_STREAM_MAX_CLIENTS', 50, 1, 10_000);
  const reservedForOperator = integer(env, 'VIGIE_ALERT_STREAM_RESERVED_OPERATOR', 10, 0, 10_000);
  // The reserve is a share of the cap: as large as the cap, it would leave nothing to anyone else.
  if (reservedForOperator >= maxClients) {
    throw new ConfigError(
      'VIGIE_ALERT_STREAM_RESERVED_OPERATOR',
      'must be below VIGIE_ALERT_STREAM_MAX_CLIENTS',
    );
  }
  return Object.freeze({
    maxClients,
    maxPerPrincipal: integer(env, 'VIGIE_ALERT_STREAM_MAX_PER_PRINCIPAL', 5, 1, 10_000),
    reservedForOperator,
  });
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Parses the environment into a frozen Config; throws ConfigError naming the faulty variable. */
export function parseConfig(env: Env = process.env): Config {
  const dataDir = env.VIGIE_DATA_DIR && env.VIGIE_DATA_DIR !== '' ? env.VIGIE_DATA_DIR : './data';
  const logLevel = env.VIGIE_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('VIGIE_LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const origin = env.VIGIE_JOURNAL_ORIGIN ?? 'vigie.local/journal';
  if (!/^[\x21-\x7e]{1,200}$/.test(origin)) {
    throw new ConfigError('VIGIE_JOURNAL_ORIGIN', 'expected printable ASCII without spaces');
  }
  const config: Config = {
    databaseUrl: databaseUrl(env, dataDir),
    port: integer(env, 'VIGIE_PORT', 8080, 0, 65535),
    host: env.VIGIE_HOST && env.VIGIE_HOST !== '' ? env.VIGIE_HOST : '127.0.0.1',
    dataDir,
    logLevel: logLevel as Config['logLevel'],
    delegation: Object.freeze({
      approverMinAgeDays: integer(env, 'VIGIE_APPROVER_MIN_AGE_DAYS', 7, 0, 3650),
      maxCreationsPerDay: integer(env, 'VIGIE_DELEGATION_MAX_CREATIONS_PER_DAY', 5, 0, 100_000),
      maxPending: integer(env, 'VIGIE_DELEGATION_MAX_PENDING', 3, 0, 100_000),
    }),
    journal: Object.freeze({
      origin,
      signingKeyPath: env.VIGIE_JOURNAL_KEY_PATH ?? path.join(dataDir, 'journal-ed25519.key'),
      integrateIntervalMs: integer(env, 'VIGIE_JOURNAL_INTERVAL_MS', 200, 1, 1000),
      signingKey: journalKey(env.VIGIE_JOURNAL_KEY),
    }),
    tokens: Object.freeze({
      accountDays: integer(env, 'VIGIE_TOKEN_TTL_ACCOUNT_DAYS', 30, 1, 366),
      applicationDays: integer(env, 'VIGIE_TOKEN_TTL_APPLICATION_DAYS', 90, 1, 366),
      bootstrapHours: integer(env, 'VIGIE_TOKEN_TTL_BOOTSTRAP_HOURS', 24, 1, 168),
    }),
    alertStream: alertStreamLimits(env),
    policyDir: env.VIGIE_POLICY_DIR ?? 'policies',
    rulesDir: env.VIGIE_RULES_DIR ?? 'rules',
    riskResponses: onOff(env, 'VIGIE_RISK_RESPONSES', true),
    alerts: alertTargets(env),
    http: httpLimits(env),
    authThrottle: authThrottle(env),
    signIn: signInSettings(env),
    federation: federationSettings(env),
    oidcProvider: oidcProviderSettings(env),
    mail: mailSettings(env, (env.VIGIE_RP_ID ?? 'localhost').toLowerCase()),
  };
  return Object.freeze(config);
}
