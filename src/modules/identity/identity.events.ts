import { createHash } from 'node:crypto';
import type { VigieError } from '../../shared/errors.js';
import type { EventTarget } from '../../shared/event.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import type { EventDraft } from '../events/command.js';
import type { CommandMeta } from './identity.deps.js';

/** An identity event as services describe it: ids and codes only, never a name or an e-mail. */
export function identityEvent(
  kind: string,
  actor: Actor,
  fields: {
    target?: EventTarget;
    organisationId?: string | null;
    data?: Record<string, unknown>;
    meta?: CommandMeta;
  },
): EventDraft {
  return {
    kind,
    actor: eventActorOf(actor),
    outcome: 'success',
    ...(fields.target ? { target: fields.target } : {}),
    ...(fields.organisationId ? { organisationId: fields.organisationId } : {}),
    ...(fields.data ? { data: fields.data } : {}),
    ...(fields.meta ? { context: fields.meta } : {}),
  };
}

/**
 * Describes a refused command: the attempted kind with outcome 'denied' (authorisation, scope, quota)
 * or 'failure' (invalid or conflicting input) and the stable code as reason. Some refusals have a
 * kind of their own (an approval refused, a quota reached), chosen by `kindFor`.
 */
export function refusalOf(
  kind: string,
  actor: Actor,
  fields: () => { target?: EventTarget; organisationId?: string | null; meta?: CommandMeta },
  kindFor: (code: string) => string | undefined = () => undefined,
): (error: VigieError) => EventDraft {
  return (error) => {
    const f = fields();
    const denied =
      error.status === 401 || error.status === 403 || error.status === 404 || error.status === 429;
    return {
      ...identityEvent(kindFor(error.code) ?? kind, actor, f),
      outcome: denied ? 'denied' : 'failure',
      reason: error.code,
      // Error details are codes and numbers by construction (see identity.errors.ts).
      data: { attempted: kind, ...(error.details ?? {}) },
    };
  };
}

/** Free-text reasons stay in the tables; the journal binds to them by digest without holding the text. */
export function reasonDigest(reason: string): string {
  return createHash('sha256').update(reason, 'utf8').digest('hex');
}
