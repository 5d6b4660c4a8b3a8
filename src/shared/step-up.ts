import type { AccountPrincipal } from './principal.js';

/**
 * The acts that need a step-up (issue 10, item 8), plus what would let a session thief skip it
 * (minting an API token) or keep the account once the session is gone (recovery codes, a TOTP
 * secret) or take over another one (approving a re-enrolment). The act's name is journaled with the step-up it consumed.
 */
export type StepUpAct =
  | 'account.approve'
  | 'role.grant_privileged'
  | 'access.export'
  | 'access.break_glass'
  | 'account.suspend'
  | 'response.execute'
  | 'token.issue'
  | 'recovery.generate'
  | 'totp.enrol'
  | 'reenrolment.approve';

/** Why a principal may not perform a step-up act now. */
export type StepUpRefusal =
  'step_up_missing' | 'step_up_expired' | 'passkey_session_required' | 'token_without_step_up';

/**
 * Pure: whether the principal may perform a step-up act at `nowMs`. A session must have been opened
 * with a passkey and hold a user-verified assertion at most `maxAgeMs` old (a TOTP, recovery or
 * federated session never can: no passkey to assert); an API token must have been minted by the
 * operator or under a step-up.
 */
export function stepUpRefusal(
  principal: AccountPrincipal,
  nowMs: number,
  maxAgeMs: number,
): StepUpRefusal | undefined {
  const session = principal.session;
  if (!session) return principal.tokenStepUp ? undefined : 'token_without_step_up';
  if (session.method !== 'passkey') return 'passkey_session_required';
  if (session.stepUpAt === undefined) return 'step_up_missing';
  const age = nowMs - Date.parse(session.stepUpAt);
  // A step-up stamped in the future (a clock moved back) is no evidence of anything recent.
  if (!(age >= 0 && age <= maxAgeMs)) return 'step_up_expired';
  return undefined;
}
