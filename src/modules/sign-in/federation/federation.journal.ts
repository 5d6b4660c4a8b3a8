import { stampEvent, type EventDraft } from '../../events/command.js';
import { insertEvents } from '../../events/event.repository.js';
import { SIGN_IN_ACTOR, type RequestFacts, type SignInDeps } from '../sign-in.deps.js';

/**
 * Journals a refused federated sign-in as `auth.sign_in` (method `federated`): `denied` when the
 * brake held it, `failure` otherwise. Nothing else is written with it, so it stands alone.
 */
export async function journalFederatedFailure(
  deps: Pick<SignInDeps, 'db' | 'bus' | 'clock' | 'ids'>,
  failure: {
    readonly reason: string;
    readonly accountId: string | undefined;
    readonly data: Record<string, unknown>;
    readonly meta: RequestFacts['meta'];
  },
): Promise<void> {
  const { accountId } = failure;
  const draft: EventDraft = {
    kind: 'auth.sign_in',
    actor: accountId ? { type: 'account', id: accountId } : { type: 'system', id: SIGN_IN_ACTOR.id },
    ...(accountId ? { target: { type: 'account', id: accountId } } : {}),
    outcome: failure.reason === 'SIGN_IN_LOCKED' ? 'denied' : 'failure',
    reason: failure.reason,
    data: { method: 'federated', ...failure.data },
    context: failure.meta,
  };
  const event = stampEvent(deps, draft);
  await insertEvents(deps.db, [event]);
  deps.bus.publish([event]);
}
