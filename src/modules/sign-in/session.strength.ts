/**
 * How strong a passkey sign-in is, as NIST SP 800-63B (rev. 4) and RFC 8176 name it:
 * - user verified, device-bound (not backup-eligible): AAL3, amr hwk + user + mfa. Honest limit:
 *   Vigie requests no attestation, so "hardware-bound" is the authenticator's own claim (BE flag
 *   unset), not a certified fact;
 * - user verified, synced (backup-eligible): AAL2 — a syncable key can leave the device, which
 *   800-63B-4 caps at AAL2; amr swk + user + mfa;
 * - user present only (no PIN or biometric): one factor, AAL1; amr hwk or swk + user.
 * Every passkey is phishing-resistant (origin-bound), so authLevel says whether it was also two-factor.
 */
export interface SessionStrength {
  readonly authLevel:
    'phishing_resistant' | 'phishing_resistant_single_factor' | 'not_phishing_resistant' | 'recovery_code';
  readonly aal: 'aal1' | 'aal2' | 'aal3';
  readonly amr: readonly string[];
}

export function strengthOf(facts: { userVerified: boolean; deviceType: string }): SessionStrength {
  const synced = facts.deviceType === 'multiDevice';
  const key = synced ? 'swk' : 'hwk';
  if (!facts.userVerified)
    return { authLevel: 'phishing_resistant_single_factor', aal: 'aal1', amr: [key, 'user'] };
  return { authLevel: 'phishing_resistant', aal: synced ? 'aal2' : 'aal3', amr: [key, 'mfa', 'user'] };
}

/**
 * A TOTP sign-in: a code typed from an authenticator app, which a phishing page can relay, so not
 * phishing-resistant. Counted AAL2 as issue 10 decided (the app sits behind the phone's own unlock);
 * Vigie cannot verify that unlock, which strictly makes it a single-factor OTP (see docs/sign-in.md).
 * amr `otp` (RFC 8176).
 */
/**
 * A recovery session: a one-time code (an 800-63B look-up secret) that opens nothing but the
 * registration of a new passkey. AAL1; RFC 8176 registers no method for a look-up secret, so amr is
 * empty rather than a value that would claim more.
 */
export const RECOVERY_STRENGTH: SessionStrength = Object.freeze({
  authLevel: 'recovery_code',
  aal: 'aal1',
  amr: Object.freeze([]),
});

export const TOTP_STRENGTH: SessionStrength = Object.freeze({
  authLevel: 'not_phishing_resistant',
  aal: 'aal2',
  amr: Object.freeze(['otp']),
});

/**
 * A federated sign-in (method `federated`). Vigie cannot see the upstream's authenticator, so a
 * proof the operator lists as phishing-resistant counts AAL2 at most; a proof that is not is never
 * enough alone: the local passkey that must follow gives the session its strength, and the
 * upstream's amr are kept beside the passkey's for the record. Upstream amr are filtered to RFC 8176
 * shaped tokens.
 */
export function federatedStrengthOf(facts: {
  readonly upstreamAmr: readonly string[];
  readonly phishingResistant: boolean;
  readonly localPasskey?: SessionStrength;
}): SessionStrength {
  const upstream = facts.upstreamAmr.filter((a) => /^[a-z]{2,8}$/.test(a)).map((a) => `fed:${a}`);
  if (facts.localPasskey)
    return { ...facts.localPasskey, amr: [...new Set([...facts.localPasskey.amr, 'fed', ...upstream])] };
  // A relayable upstream proof alone opens nothing: reaching here without a passkey is a bug.
  if (!facts.phishingResistant)
    throw new Error('a federated proof that is not phishing-resistant needs a passkey');
  return { authLevel: 'phishing_resistant', aal: 'aal2', amr: ['fed', ...upstream] };
}
