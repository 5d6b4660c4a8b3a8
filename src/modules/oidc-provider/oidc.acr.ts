/**
 * Authentication Context Class References Vigie puts in ID tokens, one per session strength
 * (session.strength.ts), from strongest to weakest:
 * - `urn:vigie:acr:phishing-resistant:aal3` — device-bound passkey with user verification;
 * - `urn:vigie:acr:phishing-resistant:aal2` — synced passkey with user verification;
 * - `urn:vigie:acr:phishing-resistant:aal1` — passkey with user presence only (one factor);
 * - `urn:vigie:acr:aal2` — TOTP: two steps, but a code a phishing page can relay.
 * The order is partial: a requested value is met by a session at least as high in AAL and, when the
 * value is phishing-resistant, phishing-resistant too. So TOTP never meets a phishing-resistant
 * request, and a one-factor passkey never meets `urn:vigie:acr:aal2`.
 */
export const ACR_VALUES = [
  'urn:vigie:acr:phishing-resistant:aal3',
  'urn:vigie:acr:phishing-resistant:aal2',
  'urn:vigie:acr:phishing-resistant:aal1',
  'urn:vigie:acr:aal2',
] as const;
export type AcrValue = (typeof ACR_VALUES)[number];

interface AcrFacts {
  readonly level: 1 | 2 | 3;
  readonly phishingResistant: boolean;
}

const FACTS: Record<AcrValue, AcrFacts> = {
  'urn:vigie:acr:phishing-resistant:aal3': { level: 3, phishingResistant: true },
  'urn:vigie:acr:phishing-resistant:aal2': { level: 2, phishingResistant: true },
  'urn:vigie:acr:phishing-resistant:aal1': { level: 1, phishingResistant: true },
  'urn:vigie:acr:aal2': { level: 2, phishingResistant: false },
};

export function isAcrValue(value: string): value is AcrValue {
  return Object.hasOwn(FACTS, value);
}

/** The acr of a session from its strength (authLevel and aal as the session row holds them). */
export function acrOf(session: { authLevel: string; aal: string }): AcrValue {
  const level = session.aal === 'aal3' ? 3 : session.aal === 'aal2' ? 2 : 1;
  if (session.authLevel === 'not_phishing_resistant') return 'urn:vigie:acr:aal2';
  if (level === 3) return 'urn:vigie:acr:phishing-resistant:aal3';
  if (level === 2) return 'urn:vigie:acr:phishing-resistant:aal2';
  return 'urn:vigie:acr:phishing-resistant:aal1';
}

export function satisfies(held: AcrValue, requested: AcrValue): boolean {
  const h = FACTS[held];
  const r = FACTS[requested];
  return h.level >= r.level && (!r.phishingResistant || h.phishingResistant);
}

/**
 * Whether a session meets what the client asked: `acr_values` (space-separated, any one suffices,
 * values Vigie does not know are ignored) or else the client's default. Nothing asked: met.
 */
export function meetsRequest(held: AcrValue, requested: readonly string[]): boolean {
  const known = requested.filter(isAcrValue);
  if (known.length === 0) return true;
  return known.some((r) => satisfies(held, r));
}
