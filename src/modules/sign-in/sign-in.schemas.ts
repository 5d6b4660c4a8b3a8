import { Type } from '@sinclair/typebox';
import { Id, Timestamp } from '../../http/schemas.js';

const Closed = { additionalProperties: false } as const;
const b64url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' });
/** A credential id is at most 1023 bytes (WebAuthn L3): 1364 base64url characters. */
const CredentialId = b64url(1364);
const Extensions = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 });
const Attachment = Type.Optional(Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]));
/** What a person names a passkey: one line, bounded. */
export const PasskeyName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\u0000-\\u001f\\u007f]*$',
});
const CeremonyId = Id;

export const RegistrationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    authenticatorAttachment: Attachment,
    clientExtensionResults: Extensions,
    response: Type.Object(
      {
        clientDataJSON: b64url(4096),
        attestationObject: b64url(32768),
        authenticatorData: Type.Optional(b64url(16384)),
        transports: Type.Optional(
          Type.Array(Type.String({ maxLength: 32, pattern: '^[a-z-]+$' }), { maxItems: 8 }),
        ),
        publicKeyAlgorithm: Type.Optional(Type.Integer({ minimum: -65535, maximum: 65535 })),
        publicKey: Type.Optional(b64url(4096)),
      },
      Closed,
    ),
  },
  Closed,
);

export const AuthenticationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    authenticatorAttachment: Attachment,
    clientExtensionResults: Extensions,
    response: Type.Object(
      {
        clientDataJSON: b64url(4096),
        authenticatorData: b64url(16384),
        signature: b64url(2048),
        userHandle: Type.Optional(b64url(128)),
      },
      Closed,
    ),
  },
  Closed,
);

export const Ceremony = Type.Object({
  ceremonyId: CeremonyId,
  options: Type.Unknown({ description: 'PublicKeyCredential options JSON, for @simplewebauthn/browser' }),
});

export const SignInOptionsBody = Type.Object(
  { email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })) },
  Closed,
);
export const SignInVerifyBody = Type.Object(
  { ceremonyId: CeremonyId, response: AuthenticationResponse },
  Closed,
);
export const EnrolmentOptionsBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 64 }) },
  Closed,
);
export const RegistrationVerifyBody = Type.Object(
  { ceremonyId: CeremonyId, response: RegistrationResponse, name: Type.Optional(PasskeyName) },
  Closed,
);
export const RenameBody = Type.Object({ name: PasskeyName }, Closed);
export const IdParams = Type.Object({ id: Id }, Closed);

export const SignedIn = Type.Object({
  accountId: Id,
  sessionId: Id,
  aal: Type.String(),
  expiresAt: Timestamp,
});

export const Passkey = Type.Object({
  id: Id,
  name: Type.String(),
  aaguid: Type.String(),
  synced: Type.Boolean(),
  backedUp: Type.Boolean(),
  transports: Type.Array(Type.String()),
  createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});

export const Session = Type.Object({
  id: Id,
  current: Type.Boolean(),
  authLevel: Type.String(),
  aal: Type.String(),
  networkPrefix: Type.String(),
  browserFamily: Type.String(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  absoluteExpiresAt: Timestamp,
});

export const IssuedLink = Type.Object({
  linkId: Id,
  accountId: Id,
  expiresAt: Timestamp,
  delivery: Type.Union([Type.Literal('queued'), Type.Literal('not_configured')]),
});
