import type { Grant } from '../../shared/principal.js';

export type TotpRefusal = 'disabled' | 'privileged_role' | 'agent_role' | 'partner_organisation';

/** Partner organisations whose accounts reach personal records. */
const PARTNER_KIND = 'training_organisation';
const PERSONAL_RECORDS_ROLE = 'agent';

/**
 * Whether an account may enrol or sign in with TOTP, a code a phishing page can relay. The rule,
 * checked at enrolment, at its confirmation and at every sign-in (a role granted later closes it):
 * - never when VIGIE_TOTP_ENABLED is false;
 * - never for an account holding any privileged role (in any organisation);
 * - never for an account holding the `agent` role (it reads personal records), wherever granted;
 * - never for an account whose own organisation is a `training_organisation` (a partner).
 * Pure: the caller loads the grants and the organisation kind.
 */
export function totpRefusal(facts: {
  readonly enabled: boolean;
  readonly grants: readonly Pick<Grant, 'roleId' | 'privileged'>[];
  readonly organisationKind: string;
}): TotpRefusal | undefined {
  if (!facts.enabled) return 'disabled';
  if (facts.grants.some((g) => g.privileged)) return 'privileged_role';
  if (facts.grants.some((g) => g.roleId === PERSONAL_RECORDS_ROLE)) return 'agent_role';
  if (facts.organisationKind === PARTNER_KIND) return 'partner_organisation';
  return undefined;
}
