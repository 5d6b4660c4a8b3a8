/**
 * VigieEvent: the one event type that runs through identity, access, ingest, the journal and
 * detection. Fields name what they identify; `outcome` records what happened, not only the attempt.
 * An event never carries a secret, a name, a NIR or a contact detail: only opaque ids.
 */
export type EventOutcome = 'success' | 'failure' | 'denied';

/**
 * 'external': a name an application reported that is not a Vigie account (`root` in an SSH log),
 * id `<applicationId>:<name>`; detection keeps no per-account state for it.
 */
export type PrincipalType = 'account' | 'application' | 'system' | 'external';

export interface EventActor {
  readonly type: PrincipalType;
  readonly id: string;
}

export interface EventTarget {
  readonly type: string;
  readonly id: string;
}

export interface EventContext {
  readonly ip?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
  /** Authentication strength of the actor's session, e.g. 'none' | 'password' | 'otp' | 'phishing_resistant'. */
  readonly authLevel?: string;
  readonly channel?: string;
  readonly sessionId?: string;
}

export interface VigieEvent {
  readonly id: string;
  readonly time: string;
  readonly kind: string;
  readonly actor: EventActor;
  readonly target?: EventTarget;
  readonly organisationId?: string;
  readonly context?: EventContext;
  readonly outcome: EventOutcome;
  /** Stable reason code when the outcome is not a success (e.g. DELEGATION_QUOTA_EXCEEDED). */
  readonly reason?: string;
  /** Kind-specific facts, ids and codes only. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Where the event came from: 'vigie' for Vigie's own, an application id for ingested ones. */
  readonly source?: string;
}

export interface OcsfClass {
  readonly classUid: number;
  readonly className: string;
  readonly categoryUid: number;
}

const ACCOUNT_CHANGE: OcsfClass = { classUid: 3001, className: 'Account Change', categoryUid: 3 };
const AUTHENTICATION: OcsfClass = { classUid: 3002, className: 'Authentication', categoryUid: 3 };
const USER_ACCESS: OcsfClass = { classUid: 3005, className: 'User Access Management', categoryUid: 3 };
const ENTITY_MANAGEMENT: OcsfClass = { classUid: 3004, className: 'Entity Management', categoryUid: 3 };
const API_ACTIVITY: OcsfClass = { classUid: 6003, className: 'API Activity', categoryUid: 6 };
const DETECTION_FINDING: OcsfClass = { classUid: 2004, className: 'Detection Finding', categoryUid: 2 };

const BY_PREFIX: ReadonlyArray<readonly [string, OcsfClass]> = [
  ['account.', ACCOUNT_CHANGE],
  ['delegation.', ACCOUNT_CHANGE],
  ['token.', ACCOUNT_CHANGE],
  ['mfa.', ACCOUNT_CHANGE],
  ['passkey.', ACCOUNT_CHANGE],
  ['enrolment.', ACCOUNT_CHANGE],
  ['recovery.', ACCOUNT_CHANGE],
  ['reenrolment.', ACCOUNT_CHANGE],
  ['totp.', ACCOUNT_CHANGE],
  ['federation.', ACCOUNT_CHANGE],
  ['auth.', AUTHENTICATION],
  ['session.', AUTHENTICATION],
  ['oidc.', AUTHENTICATION],
  ['role.', USER_ACCESS],
  ['access.', API_ACTIVITY],
  ['record.', API_ACTIVITY],
  ['budget.', API_ACTIVITY],
  ['alert.', DETECTION_FINDING],
  ['organisation.', ENTITY_MANAGEMENT],
  ['application.', ENTITY_MANAGEMENT],
  ['oidc_client.', ENTITY_MANAGEMENT],
  ['follow.', ENTITY_MANAGEMENT],
  ['subject.', ENTITY_MANAGEMENT],
];

/** Maps an event kind to the OCSF class it exports as; unknown kinds export as API Activity. */
export function ocsfClassOf(kind: string): OcsfClass {
  for (const [prefix, cls] of BY_PREFIX) if (kind.startsWith(prefix)) return cls;
  return API_ACTIVITY;
}
