import { Type, type Static } from '@sinclair/typebox';
import { Id } from '../../http/schemas.js';
import { ACR_VALUES } from './oidc.acr.js';

const Uri = Type.String({ minLength: 8, maxLength: 2000, pattern: '^https?://[^\\s#]+$' });

export const OidcClientParams = Type.Object({ id: Id }, { additionalProperties: false });

export const OidcClientBody = Type.Object(
  {
    redirectUris: Type.Array(Uri, {
      minItems: 1,
      maxItems: 10,
      uniqueItems: true,
      description: 'Exact redirect URIs (https, or http on localhost/127.0.0.1 only); no fragment',
    }),
    postLogoutRedirectUris: Type.Optional(Type.Array(Uri, { maxItems: 10, uniqueItems: true })),
    backchannelLogoutUri: Type.Optional(
      Type.Union([Uri, Type.Null()], {
        description: 'OpenID Back-Channel Logout 1.0: Vigie posts a logout token here when a session ends',
      }),
    ),
    dpopRequired: Type.Boolean({
      description:
        'Access tokens are sender-constrained (DPoP, RFC 9449): a token request without a proof is refused',
    }),
    confidential: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'A confidential client authenticates with a secret (client_secret_basic) besides PKCE; the secret is shown once',
      }),
    ),
    rotateSecret: Type.Optional(Type.Boolean({ description: 'Issue a new secret (confidential clients)' })),
    defaultAcr: Type.Optional(
      Type.Union([...ACR_VALUES.map((a) => Type.Literal(a)), Type.Null()], {
        description: 'The acr every sign-in for this client must meet unless the request names acr_values',
      }),
    ),
  },
  { additionalProperties: false },
);
export type OidcClientBody = Static<typeof OidcClientBody>;

export const OidcClientResponse = Type.Object(
  {
    applicationId: Type.String(),
    clientId: Type.String({ description: 'The client_id: the application id' }),
    redirectUris: Type.Array(Type.String()),
    postLogoutRedirectUris: Type.Array(Type.String()),
    backchannelLogoutUri: Type.Union([Type.String(), Type.Null()]),
    dpopRequired: Type.Boolean(),
    confidential: Type.Boolean(),
    defaultAcr: Type.Union([Type.String(), Type.Null()]),
    clientSecret: Type.Optional(
      Type.String({ description: 'Only in the answer that issued it; Vigie keeps its SHA-256 alone' }),
    ),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
