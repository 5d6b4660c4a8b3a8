import type { EventActor, EventTarget } from '../../shared/event.js';
import { isUuid } from '../../shared/ids.js';
import type { NamedAccount } from './named-entity.repository.js';
import { MappingError, type EventDraftIn } from './ocsf.mapper.js';

/**
 * An ingested event is a claim by its sender, and a sender is only believed about its own part of
 * the tree (its reporting scope). A partner application naming a platform administrator, or an
 * organisation elsewhere, is refused: otherwise any `event.ingest` token could aim detection, and
 * its automatic responses, at anyone. Names that are no Vigie account (`root` in an SSH log) become
 * external principals, which the detection engine keeps no per-account state for.
 */
export interface ReportingFacts {
  /** Path of the sender's reporting organisation: everything it names must be under it. */
  readonly scopePath: string;
  readonly accounts: ReadonlyMap<string, NamedAccount>;
  readonly organisations: ReadonlyMap<string, string>;
}

export interface ResolvedClaims {
  readonly actor: EventActor;
  readonly target?: EventTarget;
  readonly organisationId?: string;
}

const outOfScope = (what: string) =>
  new MappingError(
    'ACTOR_OUT_OF_SCOPE',
    `the event names ${what} outside the reporting scope of this application`,
  );

/** The ids a batch of drafts names, to load them in one query each. */
export function namedIds(drafts: readonly EventDraftIn[]): { accounts: string[]; organisations: string[] } {
  const accounts = new Set<string>();
  const organisations = new Set<string>();
  for (const d of drafts) {
    if (d.actor.type === 'user' && isUuid(d.actor.id)) accounts.add(d.actor.id);
    if (d.target?.type === 'user' && isUuid(d.target.id)) accounts.add(d.target.id);
    if (d.organisationId !== undefined && isUuid(d.organisationId)) organisations.add(d.organisationId);
  }
  return { accounts: [...accounts], organisations: [...organisations] };
}

/** The id of an external principal: scoped by the sender, since `root` of one system is not another's. */
export const externalId = (applicationId: string, name: string) => `${applicationId}:${name}`;

/**
 * Turns the sender's claims into the event's actor, target and organisation; throws
 * ACTOR_OUT_OF_SCOPE or ORGANISATION_MISMATCH. An account's organisation comes from the directory.
 */
export function resolveClaims(d: EventDraftIn, applicationId: string, facts: ReportingFacts): ResolvedClaims {
  let accountOrg: string | undefined;
  const principal = (p: { type: string; id: string }, role: 'actor' | 'target') => {
    if (p.type !== 'user') return { type: p.type, id: p.id };
    const account = facts.accounts.get(p.id);
    if (!account) return { type: 'external' as const, id: externalId(applicationId, p.id) };
    if (!account.organisationPath.startsWith(facts.scopePath)) throw outOfScope(`an account (${role})`);
    accountOrg ??= account.organisationId;
    return { type: 'account' as const, id: p.id };
  };
  const actor = principal(d.actor, 'actor') as EventActor;
  const target = d.target ? principal(d.target, 'target') : undefined;
  const claimed = d.organisationId;
  if (claimed !== undefined) {
    if (accountOrg !== undefined && claimed !== accountOrg)
      throw new MappingError(
        'ORGANISATION_MISMATCH',
        'the organisation given contradicts the organisation of the account the event names',
      );
    const path = facts.organisations.get(claimed);
    if (accountOrg === undefined && (path === undefined || !path.startsWith(facts.scopePath)))
      throw outOfScope('an organisation');
  }
  const organisationId = accountOrg ?? claimed;
  return { actor, ...(target ? { target } : {}), ...(organisationId ? { organisationId } : {}) };
}
