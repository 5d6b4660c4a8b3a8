/**
 * Who is calling, as resolved from a credential. Grants carry the materialised path of their scope
 * organisation so that "does this grant cover organisation X" is a string prefix test.
 */
export interface Grant {
  readonly roleId: string;
  readonly organisationId: string;
  readonly organisationPath: string;
  readonly permissions: ReadonlySet<string>;
  readonly privileged: boolean;
}

/** How a session principal signed in (sign-in module); absent for an API token. */
export interface SessionFacts {
  readonly id: string;
  /** `recovery`: opened with a recovery code, good only for registering a new passkey. */
  readonly method: 'passkey' | 'totp' | 'federated' | 'recovery';
  readonly aal: 'aal1' | 'aal2' | 'aal3';
  /** RFC 8176 authentication method references. */
  readonly amr: readonly string[];
  /** When the session ends at the latest, whatever its activity. */
  readonly absoluteExpiresAt: string;
  /** The last user-verified passkey assertion of this session (step-up), if any. */
  readonly stepUpAt?: string;
}

export interface AccountPrincipal {
  readonly kind: 'account';
  readonly accountId: string;
  readonly organisationId: string;
  /** The API token the principal was resolved from, or its session's id when `session` is set. */
  readonly tokenId: string;
  readonly grants: readonly Grant[];
  readonly authLevel: string;
  readonly session?: SessionFacts;
  /**
   * An API token minted by the operator (CLI, bootstrap) or under a step-up: it may perform the
   * acts that need a step-up (automation). Absent for a session and for any other token.
   */
  readonly tokenStepUp?: true;
}

export interface ApplicationPrincipal {
  readonly kind: 'application';
  readonly applicationId: string;
  readonly organisationId: string;
  readonly tokenId: string;
  readonly scopes: ReadonlySet<string>;
}

export type Principal = AccountPrincipal | ApplicationPrincipal;

/** True when some grant of the principal gives `permission` over the organisation at `targetPath`. */
export function canOn(principal: Principal, permission: string, targetPath: string): boolean {
  if (principal.kind !== 'account') return false;
  return principal.grants.some(
    (g) => g.permissions.has(permission) && targetPath.startsWith(g.organisationPath),
  );
}

/** True when the principal holds `permission` anywhere (for listing, which is then filtered by scope). */
export function canAnywhere(principal: Principal, permission: string): boolean {
  if (principal.kind !== 'account') return false;
  return principal.grants.some((g) => g.permissions.has(permission));
}

/** The scope paths under which the principal holds `permission`. */
export function scopesFor(principal: Principal, permission: string): string[] {
  if (principal.kind !== 'account') return [];
  return principal.grants.filter((g) => g.permissions.has(permission)).map((g) => g.organisationPath);
}

export function actorOf(principal: Principal): { type: 'account' | 'application'; id: string } {
  return principal.kind === 'account'
    ? { type: 'account', id: principal.accountId }
    : { type: 'application', id: principal.applicationId };
}

/** Vigie acting on its own behalf (a detection response, a scheduled job, the CLI bootstrap). */
export interface SystemActor {
  readonly kind: 'system';
  /** What acted, e.g. 'detection:rule-id', 'cli', 'scheduler'. */
  readonly id: string;
}

export type Actor = Principal | SystemActor;

export function eventActorOf(actor: Actor): { type: 'account' | 'application' | 'system'; id: string } {
  return actor.kind === 'system' ? { type: 'system', id: actor.id } : actorOf(actor);
}
