import { Type } from '@sinclair/typebox';
import { Id, Timestamp } from '../../http/schemas.js';
import { AuthenticationResponse } from './sign-in.schemas.js';

const Closed = { additionalProperties: false } as const;
const Email = Type.String({ minLength: 3, maxLength: 254 });

export const StepUpVerifyBody = Type.Object({ ceremonyId: Id, response: AuthenticationResponse }, Closed);
export const SteppedUp = Type.Object({ sessionId: Id, stepUpAt: Timestamp, validUntil: Timestamp });

export const RecoveryCodes = Type.Object({
  codes: Type.Array(Type.String({ description: 'XXXX-XXXX-XXXX-XXXX, shown this once' })),
  batchId: Id,
  generatedAt: Timestamp,
});
export const RecoveryStatus = Type.Object({
  remaining: Type.Integer(),
  generatedAt: Type.Union([Timestamp, Type.Null()]),
});
/** A code as typed: Crockford base32, dashes and spaces allowed. */
export const RecoveryUseBody = Type.Object(
  { email: Email, code: Type.String({ minLength: 1, maxLength: 40 }) },
  Closed,
);
export const ReenrolmentSelfBody = Type.Object({ email: Email }, Closed);

export const Reenrolment = Type.Object({
  id: Id,
  accountId: Id,
  organisationId: Id,
  requestedBy: Type.Union([Id, Type.Null()]),
  reason: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('cancelled')]),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  decidedBy: Type.Union([Id, Type.Null()]),
  decidedAt: Type.Union([Timestamp, Type.Null()]),
});
