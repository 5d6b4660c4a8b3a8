import { stampEvent, type EventDraft } from '../events/command.js';
import { insertEvents } from '../events/event.repository.js';
import { SIGN_IN_ACTOR, type RequestFacts, type SignInDeps } from './sign-in.deps.js';
import type { SignInFailureReason } from './sign-in.errors.js';

/**
 * Journals a refused sign-in (`failure`, or `denied` when locked) on its own: nothing else is
 * written, so no transaction to share. The reason is for the journal only; the client got one answer.
 */
export async function journalSignInFailure(
  deps: Pick<SignInDeps, 'db' | 'bus' | 'clock' | 'ids'>,
  failure: {
    readonly reason: SignInFailureReason | 'SIGN_IN_LOCKED' | 'CEREMONY_INVALID';
    readonly accountId: string | undefined;
    /** `method` and the credential's id, when one was named (`passkeyId`, `totpId`). */
    readonly data: Record<string, unknown>;
    readonly meta: RequestFacts['meta'];
  },
): Promise<void> {
  const { reason, accountId } = failure;
  const draft: EventDraft = {
    kind: 'auth.sign_in',
    actor: accountId ? { type: 'account', id: accountId } : { type: 'system', id: SIGN_IN_ACTOR.id },
    ...(accountId ? { target: { type: 'account', id: accountId } } : {}),
    outcome: reason === 'SIGN_IN_LOCKED' ? 'denied' : 'failure',
    reason,
    data: failure.data,
    context: failure.meta,
  };
  const event = stampEvent(deps, draft);
  await insertEvents(deps.db, [event]);
  deps.bus.publish([event]);
}
