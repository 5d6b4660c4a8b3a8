import type { VigieError } from '../../shared/errors.js';
import type { EventDraft } from '../events/command.js';
import { canOn, eventActorOf, scopesFor, type Actor } from '../../shared/principal.js';

/**
 * Scope checks shared by the caseload and applications services. The system actor (the operator's own
 * CLI on the server) acts everywhere; a principal acts where one of its grants covers the object.
 */
export function allows(actor: Actor, permission: string, organisationPath: string): boolean {
  return actor.kind === 'system' || canOn(actor, permission, organisationPath);
}

/** A root organisation's path has one segment: a grant there covers the whole deployment. */
export function holdsOperatorWide(actor: Actor, permission: string): boolean {
  if (actor.kind === 'system') return true;
  return scopesFor(actor, permission).some((p) => /^\/[^/]+\/$/.test(p));
}

/** Paths under which the actor holds a permission; undefined means everywhere. */
export function pathsFor(actor: Actor, permission: string): string[] | undefined {
  if (holdsOperatorWide(actor, permission)) return undefined;
  return actor.kind === 'system' ? undefined : scopesFor(actor, permission);
}

/**
 * Describes a refused command as an event of the same kind with a non-success outcome, so refused
 * attempts reach the journal too. Only ids validated by the schema go in it.
 */
export function refusalOf(
  actor: Actor,
  kind: string,
  target: { type: string; id: string } | undefined,
): (error: VigieError) => EventDraft {
  return (error) => ({
    kind,
    actor: eventActorOf(actor),
    ...(target ? { target } : {}),
    outcome: error.status === 403 || error.status === 404 ? 'denied' : 'failure',
    reason: error.code,
  });
}
