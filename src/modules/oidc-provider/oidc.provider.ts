import { timingSafeEqual } from 'node:crypto';
import Provider, {
  interactionPolicy,
  type Adapter,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { ACR_VALUES } from './oidc.acr.js';
import { hashOf } from './oidc.adapter.js';
import { ID_TOKEN_ALG } from './oidc.clients.js';

export const OIDC_PREFIX = '/oidc';
export const INTERACTION_PATH = `${OIDC_PREFIX}/interaction`;

/** Lifetimes, in seconds: short-lived access tokens, so that revocation need not reach every cache. */
const TTL = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  IdToken: 10 * 60,
  Interaction: 10 * 60,
  Grant: 12 * 3600,
  Session: 12 * 3600,
} as const;

const escapeHtml = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The provider's error page: French first, English second; only the OAuth error code and text. */
function renderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }) {
  ctx.type = 'html';
  ctx.set('content-security-policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'");
  ctx.body = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Connexion impossible — Vigie</title>
<link rel="stylesheet" href="/assets/sign-in/vigie.css"></head>
<body><main><h1>Connexion impossible <span lang="en">/ Sign-in failed</span></h1>
<p>L’application n’a pas pu vous connecter par Vigie. Revenez à l’application et réessayez.</p>
<p lang="en">The application could not sign you in through Vigie. Go back to it and try again.</p>
<p><code>${escapeHtml(out.error ?? 'server_error')}</code>${
    out.error_description ? ` — ${escapeHtml(out.error_description)}` : ''
  }</p></main></body></html>`;
  return Promise.resolve();
}

function ownToken(_ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }) {
  return token.clientId === client.clientId;
}

export interface ProviderInput {
  readonly issuer: string;
  readonly adapter: new (model: string) => Adapter;
  readonly jwks: readonly Record<string, unknown>[];
  readonly cookieKeys: string[];
  readonly findAccount: Configuration['findAccount'];
  /** Back-channel logout to loopback and private addresses (intranet applications); off by default. */
  readonly allowPrivateNetworks: boolean;
  /** Behind a trusted reverse proxy: read X-Forwarded-Proto for secure cookies. */
  readonly behindProxy: boolean;
}

/**
 * oidc-provider as Vigie configures it: code flow with PKCE S256 for every client, no dynamic
 * registration, DPoP (RFC 9449), introspection, revocation and back-channel logout; every
 * authorisation goes through Vigie's interaction (the `vigie_session` check), so a Vigie session
 * ended since the provider's own session began stops new codes at once.
 */
export function createProvider(input: ProviderInput): Provider {
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check(
        'vigie_session',
        'Vigie checks its own session on every authorisation',
        (ctx: KoaContextWithOIDC) =>
          ctx.oidc.result?.login
            ? interactionPolicy.Check.NO_NEED_TO_PROMPT
            : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );
  const configuration: Configuration = {
    adapter: input.adapter,
    findAccount: input.findAccount,
    jwks: { keys: input.jwks },
    cookies: { keys: input.cookieKeys },
    // acr, amr and auth_time in every ID token, not only when a request names them: the
    // applications (and the PDP after them) read the session's strength from there.
    claims: {
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'email'],
    acrValues: [...ACR_VALUES],
    responseTypes: ['code'],
    clientAuthMethods: ['none', 'client_secret_basic'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: ID_TOKEN_ALG,
      token_endpoint_auth_method: 'none',
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'],
    },
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`, policy },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: true },
      backchannelLogout: { enabled: true },
      // An application introspects or revokes its own tokens only: one business application
      // learns nothing of the sessions of another.
      revocation: { enabled: true, allowedPolicy: ownToken },
      introspection: { enabled: true, allowedPolicy: ownToken },
      rpInitiatedLogout: { enabled: false },
      userinfo: { enabled: true },
    },
    pkce: { required: () => true },
    // Browser calls (a single-page application's token request) only from the origin of one of
    // the client's own redirect URIs.
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    routes: {
      authorization: `${OIDC_PREFIX}/auth`,
      token: `${OIDC_PREFIX}/token`,
      jwks: `${OIDC_PREFIX}/jwks`,
      userinfo: `${OIDC_PREFIX}/me`,
      introspection: `${OIDC_PREFIX}/token/introspection`,
      revocation: `${OIDC_PREFIX}/token/revocation`,
      end_session: `${OIDC_PREFIX}/session/end`,
      pushed_authorization_request: `${OIDC_PREFIX}/request`,
      challenge: `${OIDC_PREFIX}/challenge`,
    },
    ttl: { ...TTL },
    renderError,
    fetch: (url, options) => {
      // oidc-provider refuses loopback and private targets by its own dispatcher; intranet
      // applications (and the tests' local receiver) need them when the operator allows it.
      if (input.allowPrivateNetworks) delete (options as { dispatcher?: unknown }).dispatcher;
      return globalThis.fetch(url, options);
    },
  };
  const provider = new Provider(input.issuer, configuration);
  provider.proxy = input.behindProxy;
  // A confidential client's `client_secret` in the metadata is the SHA-256 of its secret: compare
  // the hash of what is presented, in constant time. HMAC algorithms are disabled, so the provider
  // never uses client_secret as a key.
  provider.Client.prototype.compareClientSecret = function (this: { clientSecret?: string }, actual: string) {
    const expected = Buffer.from(this.clientSecret ?? '', 'utf8');
    const presented = Buffer.from(hashOf(String(actual)), 'utf8');
    return expected.length === presented.length && timingSafeEqual(expected, presented);
  };
  // Every ID token carries `sid`, the handle of back-channel logout and of the PDP's session lookup.
  provider.Client.prototype.includeSid = () => true;
  return provider;
}
