import { Type } from '@sinclair/typebox';
import { Id, Timestamp } from '../../http/schemas.js';

const Closed = { additionalProperties: false } as const;
/** Six digits, nothing else: no spaces, signs, exponents or Unicode digits reach the verifier. */
const TotpCode = Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' });

export const TotpSignInBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 254 }), code: TotpCode },
  Closed,
);
export const TotpConfirmBody = Type.Object({ code: TotpCode }, Closed);

export const TotpEnrolmentStarted = Type.Object({
  totpId: Id,
  uri: Type.String({ description: 'otpauth://totp/… URI, returned this once (show it as a QR code)' }),
  expiresAt: Timestamp,
});
export const TotpConfirmed = Type.Object({ totpId: Id, confirmedAt: Timestamp });
export const TotpRevoked = Type.Object({ totpId: Id, revokedAt: Timestamp, endedSessions: Type.Integer() });
