import { createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** One person known to the upstream, with the claims it releases. */
export interface UpstreamUser {
  readonly email: string;
  readonly emailVerified?: boolean;
  readonly siret?: string;
}

/** How the next upstream login goes: who signs in, and the acr/amr the upstream reports. */
export interface UpstreamLogin {
  readonly sub: string;
  /** The acr reported; a function sees the acr_values Vigie requested. */
  readonly acr: string | ((requested: string | undefined) => string);
  readonly amr: readonly string[];
}

/** Rewrites the ID token the token endpoint returns: its header and claims, and the key it is signed with. */
export type IdTokenTamper = (claims: Record<string, unknown>) => {
  claims: Record<string, unknown>;
  key: 'upstream' | 'other';
};

export interface Upstream {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly users: Map<string, UpstreamUser>;
  /** Set by each test before it drives a login. */
  login: UpstreamLogin | undefined;
  /** When set, the next token response's ID token is re-signed through it (then it clears). */
  tamper: IdTokenTamper | undefined;
  /** The acr_values of each authorization request received, in order. */
  readonly requestedAcr: (string | undefined)[];
  /** The content type of each userinfo response sent. */
  readonly userinfoTypes: string[];
  close(): Promise<void>;
}

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');

function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${b64(signature)}`;
}

/**
 * A real OpenID Provider (panva's oidc-provider) on 127.0.0.1, playing ProConnect for Vigie's tests:
 * its own users, a confidential client for Vigie, RS256 keys of its own, and an interaction handler
 * that logs in whoever `login` names with the acr/amr it says (no form to fill). `tamper` re-signs
 * the next ID token, with the upstream's own key (changed claims) or another one (same kid).
 */
export async function startUpstream(options: { redirectUri: string }): Promise<Upstream> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = 'upstream-1';
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const clientId = 'vigie-test';
  const clientSecret = randomBytes(24).toString('base64url');
  const users = new Map<string, UpstreamUser>();

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        // As ProConnect does: userinfo comes back as a signed JWT (application/jwt).
        userinfo_signed_response_alg: 'RS256',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'email', 'siret'],
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      siret: ['siret'],
    },
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 3600 },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      jwtUserinfo: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount(_ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          email: user.email,
          email_verified: user.emailVerified ?? true,
          ...(user.siret ? { siret: user.siret } : {}),
        }),
      };
    },
  });

  const upstream: Upstream = {
    issuer,
    clientId,
    clientSecret,
    users,
    login: undefined,
    tamper: undefined,
    requestedAcr: [],
    userinfoTypes: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.path === '/auth') upstream.requestedAcr.push(ctx.query.acr_values as string | undefined);
    if (ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      let result;
      if (details.prompt.name === 'login') {
        const login = upstream.login;
        if (!login) throw new Error('the test set no upstream login');
        const requested = details.params.acr_values as string | undefined;
        const acr = typeof login.acr === 'function' ? login.acr(requested) : login.acr;
        result = { login: { accountId: login.sub, acr, amr: [...login.amr] } };
      } else {
        const grant = new provider.Grant({
          accountId: details.session!.accountId,
          clientId: details.params.client_id as string,
        });
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
        };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        result = { consent: { grantId: await grant.save() } };
      }
      const to = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.status = 303;
      ctx.redirect(to);
      return;
    }
    await next();
    if (ctx.path === '/me') upstream.userinfoTypes.push(ctx.type);
    const body = ctx.body as { id_token?: string } | undefined;
    if (ctx.path === '/token' && upstream.tamper && body?.id_token) {
      const [, payload] = body.id_token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      const changed = upstream.tamper(claims);
      upstream.tamper = undefined;
      const key = changed.key === 'upstream' ? privateKey : other;
      ctx.body = { ...body, id_token: signJwt({ alg: 'RS256', typ: 'JWT', kid }, changed.claims, key) };
    }
  });
  const handle = provider.callback();
  server.on('request', (req, res) => void handle(req, res));
  return upstream;
}
