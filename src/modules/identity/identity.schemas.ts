import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorResponses, Id, Page, PageQuery, Timestamp } from '../../http/schemas.js';
import { ACCOUNT_KINDS, ACCOUNT_STATUSES, CREATION_CHANNELS } from './account.model.js';
import { EMAIL_MAX_LENGTH } from './email.js';
import { ORGANISATION_KINDS } from './organisation.service.js';

/** Bounded TypeBox schemas of identity's API; responses list only public fields. */
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
const Closed = { additionalProperties: false } as const;

/**
 * Free text without control characters: PostgreSQL refuses NUL in text (a 500 otherwise), and names
 * end up in consoles and SIEM exports. A reason may span lines; a name may not, nor be blank.
 */
const SingleLine = (minLength: number, maxLength: number) =>
  Type.String({ minLength, maxLength, pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$' });
export const Reason = Type.String({
  minLength: 3,
  maxLength: 500,
  pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]+$',
});

export const IdParams = Type.Object({ id: Id }, Closed);
export const ReasonBody = Type.Object({ reason: Reason }, Closed);
export const Errors = { ...ErrorResponses, 429: Type.Ref('ErrorResponse') };

export const OrganisationKind = literals(ORGANISATION_KINDS);
export const OrganisationStatus = literals(['active', 'suspended', 'offboarded'] as const);
const Name = SingleLine(1, 200);
const Siret = Type.String({ minLength: 14, maxLength: 20, description: '14 digits; spaces allowed' });
const DateOnly = Type.String({ format: 'date', maxLength: 10 });

export const Organisation = Type.Object({
  id: Id,
  parentId: Nullable(Id),
  depth: Type.Integer(),
  name: Type.String(),
  kind: Type.String(),
  siret: Nullable(Type.String()),
  status: Type.String(),
  contractEndDate: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const CreateOrganisationBody = Type.Object(
  {
    parentId: Id,
    name: Name,
    kind: OrganisationKind,
    siret: Type.Optional(Siret),
    contractEndDate: Type.Optional(DateOnly),
  },
  Closed,
);

export const UpdateOrganisationBody = Type.Object(
  {
    name: Type.Optional(Name),
    kind: Type.Optional(OrganisationKind),
    siret: Type.Optional(Nullable(Siret)),
    contractEndDate: Type.Optional(Nullable(DateOnly)),
    parentId: Type.Optional(Id),
  },
  { ...Closed, minProperties: 1 },
);

export const OrganisationQuery = Type.Composite(
  [
    PageQuery,
    Type.Object({
      parentId: Type.Optional(Id),
      kind: Type.Optional(OrganisationKind),
      status: Type.Optional(OrganisationStatus),
    }),
  ],
  Closed,
);

export const AccountKind = literals(ACCOUNT_KINDS);
export const AccountStatus = literals(ACCOUNT_STATUSES);

export const Account = Type.Object({
  id: Id,
  organisationId: Id,
  kind: Type.String(),
  email: Type.String(),
  displayName: Nullable(Type.String()),
  status: Type.String(),
  statusReason: Nullable(Type.String()),
  statusChangedAt: Type.String(),
  createdBy: Nullable(Type.String()),
  approvedBy: Nullable(Type.String()),
  approvedAt: Nullable(Type.String()),
  creationChannel: literals(CREATION_CHANNELS),
  mfaStrength: Nullable(Type.String()),
  lastSeenAt: Nullable(Type.String()),
  createdAt: Type.String(),
});

export const CreateAccountBody = Type.Object(
  {
    organisationId: Id,
    email: Type.String({ minLength: 3, maxLength: EMAIL_MAX_LENGTH + 8 }),
    kind: Type.Optional(AccountKind),
    displayName: Type.Optional(SingleLine(1, 200)),
  },
  Closed,
);

export const AccountQuery = Type.Composite(
  [
    PageQuery,
    Type.Object({
      organisationId: Type.Optional(Id),
      status: Type.Optional(AccountStatus),
      kind: Type.Optional(AccountKind),
      createdBy: Type.Optional(Id),
      q: Type.Optional(
        Type.String({
          minLength: 2,
          maxLength: 100,
          description: 'Part of the e-mail address, or the whole account id',
        }),
      ),
    }),
  ],
  Closed,
);

export const SuspendBody = Type.Object(
  { reason: Reason, lineage: Type.Optional(Type.Boolean({ default: false })) },
  Closed,
);

export const SuspendResult = Type.Object({ account: Account, suspended: Type.Array(Id) });

export const LineageNode = Type.Object({
  accountId: Id,
  parentId: Id,
  relation: literals(['created', 'approved'] as const),
  depth: Type.Integer(),
  status: Type.String(),
  organisationId: Id,
  createdAt: Type.String(),
});
export const LineagePage = Type.Composite([Page(LineageNode), Type.Object({ rootId: Id })]);

export const Role = Type.Object({
  id: Type.String(),
  description: Type.String(),
  permissions: Type.Array(Type.String()),
  privileged: Type.Boolean(),
  delegable: Type.Boolean(),
  builtin: Type.Boolean(),
});

const RoleId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' });

export const Assignment = Type.Object({
  id: Id,
  accountId: Id,
  roleId: Type.String(),
  organisationId: Id,
  status: Type.String(),
  grantedBy: Nullable(Type.String()),
  grantedAt: Type.String(),
  approvedBy: Nullable(Type.String()),
  approvedAt: Nullable(Type.String()),
  expiresAt: Nullable(Type.String()),
  revokedBy: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});

export const GrantBody = Type.Object(
  { accountId: Id, roleId: RoleId, organisationId: Id, expiresAt: Type.Optional(Timestamp) },
  Closed,
);

export const AssignmentQuery = Type.Composite(
  [
    PageQuery,
    Type.Object({
      accountId: Type.Optional(Id),
      roleId: Type.Optional(RoleId),
      status: Type.Optional(literals(['active', 'pending_approval', 'revoked'] as const)),
    }),
  ],
  Closed,
);

export const InventoryItem = Type.Object({
  id: Id,
  accountId: Id,
  accountOrganisationId: Id,
  accountStatus: Type.String(),
  roleId: Type.String(),
  organisationId: Id,
  assignmentStatus: Type.String(),
  grantedBy: Nullable(Type.String()),
  grantedAt: Type.String(),
  approvedBy: Nullable(Type.String()),
  approvedAt: Nullable(Type.String()),
  expiresAt: Nullable(Type.String()),
  lastSeenAt: Nullable(Type.String()),
  mfaStrength: Nullable(Type.String()),
  authentication: Type.Object(
    {
      passkeys: Type.Object({
        count: Type.Integer(),
        userVerified: Type.Integer({ description: 'registered with user verification (PIN, biometric)' }),
        deviceBound: Type.Integer({ description: 'not backup-eligible: claims to stay on its device' }),
        synced: Type.Integer({ description: 'backup-eligible: can be synced (at most AAL2)' }),
      }),
      totp: Type.Boolean({ description: 'a confirmed, unrevoked TOTP credential' }),
      sessions: Type.Array(
        Type.Object({
          id: Id,
          method: Type.String({ description: 'passkey | totp' }),
          authLevel: Type.String({
            description: 'phishing_resistant | phishing_resistant_single_factor | not_phishing_resistant',
          }),
          aal: Type.String({ description: 'NIST SP 800-63B assurance level: aal1 | aal2 | aal3' }),
          signedInAt: Type.String(),
          lastSeenAt: Type.String(),
        }),
        { description: 'live sessions, most recently seen first (at most 10)' },
      ),
    },
    { description: 'how the holder can sign in, and how strongly they are signed in now' },
  ),
});

export const ApiToken = Type.Object({
  id: Id,
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Type.String(),
  expiresAt: Nullable(Type.String()),
  lastUsedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});

export const IssuedToken = Type.Composite([ApiToken, Type.Object({ secret: Type.String() })]);

export const IssueTokenBody = Type.Object(
  {
    name: SingleLine(1, 100),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
  },
  Closed,
);

export { Page, PageQuery };
