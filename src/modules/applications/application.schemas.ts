import { Type, type Static } from '@sinclair/typebox';
import { Id, PageQuery, Timestamp } from '../../http/schemas.js';
import { UUID_PATTERN } from '../../shared/ids.js';
import { Reason } from '../identity/identity.schemas.js';
import { APPLICATION_SCOPES } from '../identity/permissions.js';

export const APPLICATION_KINDS = ['business', 'partner'] as const;
export type ApplicationKind = (typeof APPLICATION_KINDS)[number];

/** Printable text without control characters: names end up in consoles and SIEM exports. */
const Name = Type.String({ minLength: 1, maxLength: 120, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

export const ScopeSchema = Type.Union(APPLICATION_SCOPES.map((s) => Type.Literal(s)));

export const ApplicationCreateBody = Type.Object(
  {
    organisationId: Id,
    name: Name,
    kind: Type.Union(APPLICATION_KINDS.map((k) => Type.Literal(k))),
    scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: APPLICATION_SCOPES.length, uniqueItems: true }),
    reportingOrganisationId: Type.Optional(
      Type.String({
        pattern: UUID_PATTERN,
        maxLength: 36,
        description:
          'Organisation whose subtree the application may report events about: its own (the default) ' +
          'or an ancestor, which only someone who may register applications there can set',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ApplicationCreateBody = Static<typeof ApplicationCreateBody>;

export const ApplicationResponse = Type.Object(
  {
    id: Type.String(),
    organisationId: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    status: Type.String(),
    scopes: Type.Array(Type.String()),
    reportingOrganisationId: Type.String({
      description: 'Events it sends may only name accounts and organisations under this organisation',
    }),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);

export const ApplicationParams = Type.Object({ id: Id }, { additionalProperties: false });
export const TokenParams = Type.Object({ id: Id, tokenId: Id }, { additionalProperties: false });

export const ApplicationListQuery = Type.Composite(
  [PageQuery, Type.Object({ organisationId: Type.Optional(Id) })],
  { additionalProperties: false },
);

export const TokenListQuery = Type.Composite([PageQuery], { additionalProperties: false });

export const StatusChangeBody = Type.Object({ reason: Reason }, { additionalProperties: false });

export const TokenCreateBody = Type.Object(
  { name: Name, expiresAt: Type.Optional(Timestamp) },
  { additionalProperties: false },
);

export const TokenRevokeBody = Type.Object(
  { reason: Type.Optional(Reason) },
  { additionalProperties: false },
);

/** A token as listed: never its hash, and its secret only once, at issue. */
export const TokenResponse = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String(),
    createdAt: Type.String(),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
    lastUsedAt: Type.Union([Type.String(), Type.Null()]),
    revokedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

export const IssuedTokenResponse = Type.Object(
  {
    token: TokenResponse,
    secret: Type.String({ description: 'Shown once; store it now: only its hash is kept' }),
  },
  { additionalProperties: false },
);
