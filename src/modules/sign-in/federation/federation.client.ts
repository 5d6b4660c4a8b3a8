import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import type { FederationProviderConfig } from '../../../config.sign-in.js';
import type { Clock } from '../../../shared/clock.js';
import { refused } from './federation.errors.js';

/** What Vigie keeps of a verified upstream answer: the ID token's facts and the identity claims. */
export interface UpstreamProof {
  readonly issuer: string;
  readonly subject: string;
  readonly acr: string | undefined;
  readonly amr: readonly string[];
  readonly email: string | undefined;
  readonly emailVerified: boolean;
  readonly siret: string | undefined;
}

/** The values a transaction's cookie secret stands for; nothing but the cookie can give them again. */
export interface TransactionSecrets {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export function secretsOf(cookieSecret: string): TransactionSecrets {
  const derive = (label: string) => createHmac('sha256', cookieSecret).update(label).digest('base64url');
  return { state: derive('state'), nonce: derive('nonce'), codeVerifier: derive('pkce-code-verifier') };
}

const TIMEOUT_SECONDS = 10;

const bounded = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined;

/**
 * One upstream OpenID Provider through openid-client: discovery (once, retried after a failure),
 * the authorization URL (code flow, PKCE S256, state, nonce, acr_values, amr asked for), and the
 * callback's full check — iss, aud, azp, exp, iat, nonce, signature against the issuer's JWKS,
 * state, PKCE — then the userinfo of the same subject. Token times are judged by Vigie's clock.
 */
export function createUpstreamClient(
  provider: FederationProviderConfig,
  redirectUri: string,
  deps: { clock: Clock; logger: { warn(obj: object, msg: string): void } },
) {
  let configuration: Promise<oidc.Configuration> | undefined;
  let jwks: oidc.ExportedJWKSCache | undefined;
  /** The issuer's keys, fetched once and kept across the per-callback configurations. */
  const jwksCache = {
    get: () => jwks,
    keep(config: oidc.Configuration) {
      jwks = oidc.getJwksCache(config) ?? jwks;
    },
  };

  function discover(): Promise<oidc.Configuration> {
    configuration ??= oidc
      .discovery(
        new URL(provider.issuer),
        provider.clientId,
        { redirect_uris: [redirectUri], response_types: ['code'] },
        oidc.ClientSecretBasic(provider.clientSecret.reveal()),
        {
          timeout: TIMEOUT_SECONDS,
          execute: [
            // The ID token's signature is checked against the issuer's JWKS even though it comes
            // over TLS from the token endpoint (OIDC Core §3.1.3.7 would let a client skip it).
            oidc.enableNonRepudiationChecks,
            // Plain http only for a loopback issuer, which the configuration alone allows.
            ...(provider.insecureLoopback ? [oidc.allowInsecureRequests] : []),
          ],
        },
      )
      .then((config) => {
        config.timeout = TIMEOUT_SECONDS;
        return config;
      })
      .catch((error: unknown) => {
        configuration = undefined;
        deps.logger.warn({ provider: provider.id, code: codeOf(error) }, 'federation discovery failed');
        throw refused('FEDERATION_PROVIDER_UNAVAILABLE');
      });
    return configuration;
  }

  /** The upstream authorization URL for one transaction. */
  async function authorizationUrl(
    secrets: TransactionSecrets,
    options: { acrValues: readonly string[]; forceLogin: boolean },
  ): Promise<URL> {
    const config = await discover();
    const params: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: provider.scopes,
      state: secrets.state,
      nonce: secrets.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(secrets.codeVerifier),
      code_challenge_method: 'S256',
      // amr is not a standard scope claim: asked for by name in the ID token (OIDC Core §5.5).
      claims: JSON.stringify({ id_token: { amr: { essential: true }, acr: null } }),
    };
    if (options.acrValues.length > 0) params.acr_values = options.acrValues.join(' ');
    if (options.forceLogin) params.prompt = 'login';
    return oidc.buildAuthorizationUrl(config, params);
  }

  /**
   * The discovered configuration with openid-client's clock (Date.now()) moved onto Vigie's, so
   * that exp, iat and auth_time are judged at Vigie's time. Built per callback: no network, and
   * the JWKS already fetched is carried over.
   */
  function atVigieTime(discovered: oidc.Configuration): oidc.Configuration {
    const config = new oidc.Configuration(
      discovered.serverMetadata(),
      provider.clientId,
      {
        ...discovered.clientMetadata(),
        [oidc.clockSkew]: Math.round((deps.clock.now().getTime() - Date.now()) / 1000),
      },
      oidc.ClientSecretBasic(provider.clientSecret.reveal()),
    );
    oidc.enableNonRepudiationChecks(config);
    if (provider.insecureLoopback) oidc.allowInsecureRequests(config);
    config.timeout = TIMEOUT_SECONDS;
    const jwks = jwksCache.get();
    if (jwks) oidc.setJwksCache(config, jwks);
    return config;
  }

  /** Checks the callback and returns the proof, or throws a FEDERATION_* refusal. */
  async function verifyCallback(query: string, secrets: TransactionSecrets): Promise<UpstreamProof> {
    const config = atVigieTime(await discover());
    const current = new URL(redirectUri);
    current.search = query;
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: secrets.codeVerifier,
        expectedState: secrets.state,
        expectedNonce: secrets.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw refusalOf(error, 'callback');
    }
    jwksCache.keep(config);
    const claims = tokens.claims();
    if (!claims) throw refused('FEDERATION_RESPONSE_INVALID');
    let info: oidc.UserInfoResponse;
    try {
      info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (error) {
      throw refusalOf(error, 'userinfo');
    }
    const amr = Array.isArray(claims.amr)
      ? claims.amr.filter((a): a is string => typeof a === 'string' && a.length <= 64)
      : [];
    const email = bounded(info.email ?? claims.email, 254);
    const verified = info.email_verified ?? claims.email_verified;
    return {
      issuer: claims.iss,
      subject: claims.sub,
      acr: bounded(claims.acr, 200),
      amr: amr.slice(0, 10),
      email,
      emailVerified: verified === true,
      siret: bounded(info.siret ?? claims.siret, 14),
    };
  }

  function refusalOf(error: unknown, step: string) {
    const code = codeOf(error);
    deps.logger.warn({ provider: provider.id, step, code }, 'federation answer refused');
    if (error instanceof oidc.AuthorizationResponseError) return refused('FEDERATION_UPSTREAM_ERROR');
    // fetch() fails with a bare TypeError when the network does, and aborts on the timeout.
    const unreachable =
      (error instanceof TypeError && (error as { code?: unknown }).code === undefined) ||
      (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
    if (unreachable) return refused('FEDERATION_PROVIDER_UNAVAILABLE');
    return refused('FEDERATION_RESPONSE_INVALID');
  }

  return { authorizationUrl, verifyCallback };
}

/** A library error's stable code (never its message, which may echo upstream input). */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'unknown';
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
