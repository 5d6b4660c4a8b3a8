import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

describe('parseConfig', () => {
  it('defaults to the embedded SQLite database under ./data on port 8080', () => {
    const c = parseConfig({});
    expect(c.databaseUrl).toBe('sqlite:data/vigie.db');
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe('./data');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('accepts a PostgreSQL URL', () => {
    expect(parseConfig({ VIGIE_DATABASE_URL: 'postgres://u@127.0.0.1:5432/v' }).databaseUrl).toBe(
      'postgres://u@127.0.0.1:5432/v',
    );
  });

  it('limits slow clients and failed authentications by default, with no proxy trusted', () => {
    const c = parseConfig({});
    expect(c.http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 2_000,
      trustProxy: [],
      accessLogEvery: 100,
      accessLogSlowMs: 1_000,
    });
    expect(c.authThrottle).toMatchObject({ windowMs: 600_000, delayAfter: 5, limit: 50 });
    expect(parseConfig({ VIGIE_HTTP_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16' }).http.trustProxy).toEqual([
      '10.0.0.1',
      '10.1.0.0/16',
    ]);
  });

  it('refuses an access-log sampling of 0 and a malformed slow threshold, naming the variable', () => {
    expect(() => parseConfig({ VIGIE_ACCESS_LOG_EVERY: '0' })).toThrow(/VIGIE_ACCESS_LOG_EVERY/);
    expect(() => parseConfig({ VIGIE_ACCESS_LOG_SLOW_MS: '1e3' })).toThrow(/VIGIE_ACCESS_LOG_SLOW_MS/);
  });

  it('refuses a headers timeout longer than the request timeout, and a delay threshold above the limit', () => {
    expect(() =>
      parseConfig({ VIGIE_HTTP_HEADERS_TIMEOUT_MS: '20000', VIGIE_HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow('VIGIE_HTTP_HEADERS_TIMEOUT_MS');
    expect(() =>
      parseConfig({ VIGIE_AUTH_FAILURE_DELAY_AFTER: '60', VIGIE_AUTH_FAILURE_LIMIT: '50' }),
    ).toThrow('VIGIE_AUTH_FAILURE_DELAY_AFTER');
  });

  it.each([
    ['VIGIE_PORT', 'eighty'],
    ['VIGIE_PORT', '70000'],
    ['VIGIE_DATABASE_URL', 'mysql://x'],
    ['VIGIE_DATABASE_URL', 'sqlite:'],
    ['VIGIE_DELEGATION_MAX_PENDING', '-1'],
    ['VIGIE_LOG_LEVEL', 'loud'],
    ['VIGIE_TOKEN_TTL_ACCOUNT_DAYS', '0'],
    ['VIGIE_TOKEN_TTL_APPLICATION_DAYS', '400'],
    ['VIGIE_TOKEN_TTL_BOOTSTRAP_HOURS', '1.5'],
    ['VIGIE_ALERT_STREAM_MAX_PER_PRINCIPAL', '0'],
    ['VIGIE_ALERT_STREAM_RESERVED_OPERATOR', '50'],
    ['VIGIE_HTTP_HEADERS_TIMEOUT_MS', '10'],
    ['VIGIE_HTTP_MAX_CONNECTIONS', '0'],
    ['VIGIE_HTTP_TRUST_PROXY', 'true'],
    ['VIGIE_AUTH_FAILURE_LIMIT', '0'],
    ['VIGIE_AUTH_FAILURE_WINDOW_MS', 'NaN'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(name);
  });
});

describe('sign-in settings', () => {
  it('defaults to RP localhost, origin http://localhost:8080, 72 h links, 30 min idle, 12 h sessions, lock after 10', () => {
    const { signIn, mail } = parseConfig({});
    expect(signIn).toMatchObject({
      rpId: 'localhost',
      origin: 'http://localhost:8080',
      aaguidAllowlist: [],
      enrolmentTtlHours: 72,
      sessionIdleMs: 30 * 60_000,
      sessionAbsoluteMs: 12 * 3_600_000,
      lockAfter: 10,
      totpEnabled: true,
    });
    expect(parseConfig({ VIGIE_TOTP_ENABLED: 'false' }).signIn.totpEnabled).toBe(false);
    expect(mail).toEqual({ from: 'vigie@localhost' });
  });

  it('accepts an RP ID that is a suffix of the origin host, and a list of AAGUIDs', () => {
    const { signIn } = parseConfig({
      VIGIE_RP_ID: 'example.fr',
      VIGIE_ORIGIN: 'https://vigie.example.fr',
      VIGIE_PASSKEY_AAGUID_ALLOWLIST:
        'EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4, 00000000-0000-0000-0000-000000000000',
    });
    expect(signIn.aaguidAllowlist).toEqual([
      'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
      '00000000-0000-0000-0000-000000000000',
    ]);
    // Without a list of its own, each population registers under the general one.
    expect(signIn.aaguidAllowlists.partner).toEqual(signIn.aaguidAllowlist);
  });

  it('gives a population its own AAGUID list, which replaces the general one for it alone', () => {
    const { signIn } = parseConfig({
      VIGIE_PASSKEY_AAGUID_ALLOWLIST: '00000000-0000-0000-0000-000000000000',
      VIGIE_PASSKEY_AAGUID_ALLOWLIST_PRIVILEGED: 'EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4',
    });
    expect(signIn.aaguidAllowlists.privileged).toEqual(['ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4']);
    expect(signIn.aaguidAllowlists.agent).toEqual(['00000000-0000-0000-0000-000000000000']);
  });

  it.each([
    [{ VIGIE_RP_ID: 'evil.example' }, 'VIGIE_RP_ID'],
    [{ VIGIE_ORIGIN: 'https://vigie.example.fr/path' }, 'VIGIE_ORIGIN'],
    [{ VIGIE_ORIGIN: 'http://vigie.example.fr', VIGIE_RP_ID: 'vigie.example.fr' }, 'VIGIE_ORIGIN'],
    [{ VIGIE_PASSKEY_AAGUID_ALLOWLIST: 'yubikey' }, 'VIGIE_PASSKEY_AAGUID_ALLOWLIST'],
    [{ VIGIE_PASSKEY_AAGUID_ALLOWLIST_AGENT: 'yubikey' }, 'VIGIE_PASSKEY_AAGUID_ALLOWLIST_AGENT'],
    [{ VIGIE_SIGN_IN_LOCK_AFTER: '11' }, 'VIGIE_SIGN_IN_LOCK_AFTER'],
    [{ VIGIE_SESSION_IDLE_MINUTES: '800', VIGIE_SESSION_ABSOLUTE_HOURS: '12' }, 'VIGIE_SESSION_IDLE_MINUTES'],
    [{ VIGIE_SMTP_URL: 'http://mail.example' }, 'VIGIE_SMTP_URL'],
    [{ VIGIE_MAIL_FROM: 'not an address' }, 'VIGIE_MAIL_FROM'],
    [{ VIGIE_TOTP_ENABLED: 'yes' }, 'VIGIE_TOTP_ENABLED'],
  ])('refuses %j naming %s', (env, name) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(name);
  });
});
