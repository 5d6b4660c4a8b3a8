import type { ClientRow } from './oidc.repository.js';

/** The signing algorithm of ID tokens unless a client asks otherwise; RS256 is also served. */
export const ID_TOKEN_ALG = 'ES256';

/**
 * The oidc-provider metadata of a registered application: code flow only, PKCE (S256) always,
 * a public client (`none`) or a confidential one (`client_secret_basic`, whose `client_secret` here
 * is the SHA-256 of the secret: the provider compares hashes, see oidc.provider.ts), DPoP-bound
 * access tokens when registered so, back-channel logout with `sid` when it has a URI.
 */
export function clientMetadataOf(row: ClientRow & { name: string }): Record<string, unknown> {
  return {
    client_id: row.application_id,
    client_name: row.name,
    application_type: 'web',
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: row.secret_hash === null ? 'none' : 'client_secret_basic',
    ...(row.secret_hash === null ? {} : { client_secret: row.secret_hash }),
    id_token_signed_response_alg: ID_TOKEN_ALG,
    dpop_bound_access_tokens: row.dpop_required === 1,
    ...(row.backchannel_logout_uri === null
      ? {}
      : { backchannel_logout_uri: row.backchannel_logout_uri, backchannel_logout_session_required: true }),
    ...(row.default_acr === null ? {} : { default_acr_values: [row.default_acr] }),
  };
}
