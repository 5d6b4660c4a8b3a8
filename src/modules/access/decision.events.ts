import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { AccessDisclosureTable } from '../../db/schema.js';
import type { VigieEvent } from '../../shared/event.js';
import type { IdGenerator } from '../../shared/ids.js';
import type { AccessView } from './access.view.js';
import { UNKNOWN_RECORD_RULE, type Decision, type DecisionRequest } from './pdp.js';
import { own } from './policy.facts.js';
import type { RecordPseudonymiser } from './record-pseudonym.js';

/*
 * The events a decision produces: always one `access.decision` (allow or deny, with reasons,
 * obligations and the policy version), plus `budget.soft_exceeded` when a soft threshold is crossed
 * and `access.break_glass_used` when a break-glass rule allowed it (for review and the person's
 * access ledger). Events carry ids and codes only, never record contents.
 */

const text = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;

export interface DecisionRecord {
  readonly events: VigieEvent[];
  readonly disclosure: AccessDisclosureTable | undefined;
  readonly approvalUsed: { id: string; at: string } | undefined;
}

export function decisionEvents(
  ids: IdGenerator,
  view: AccessView,
  request: DecisionRequest,
  d: Decision,
  nowMs: number,
  meta: { requestId?: string; windowMinutes: number; pseudonymise: RecordPseudonymiser },
): DecisionRecord {
  const time = new Date(nowMs).toISOString();
  const account = request.subject.type === 'account' ? view.accounts.get(request.subject.id) : undefined;
  const caller = request.callerId !== undefined ? view.applications.get(request.callerId) : undefined;
  const actor = account
    ? { type: 'account' as const, id: account.id }
    : request.callerId !== undefined
      ? { type: 'application' as const, id: request.callerId }
      : { type: 'system' as const, id: 'pdp' };
  const authLevel = text(own(request.context, 'auth_level'), 40);
  const session = request.session;
  // The network and browser the calling application says its user has (issue 12): kept so that
  // rules see reads as well as sign-ins, labelled as the application's claim. A named Vigie session
  // wins: its network is the one it was opened from (a change ends it), so the claim is dropped.
  const claimedIp = session ? undefined : text(own(request.context, 'ip'), 45);
  const ip = claimedIp !== undefined && isIP(claimedIp) !== 0 ? claimedIp : undefined;
  const userAgent = session ? undefined : text(own(request.context, 'user_agent'), 200);
  const breakGlass = d.breakGlass
    ? (own(request.context, 'break_glass') as Record<string, unknown> | undefined)
    : undefined;
  const id = ids.next();
  const organisationId = account?.organisationId ?? caller?.organisationId;
  // An unknown record's id is whatever the caller sent (a NIR, in the probe): the journal keeps its
  // keyed digest, enough to see the same probe again, never the id itself.
  const unknownRecord = !d.decision && d.ruleIds[0] === UNKNOWN_RECORD_RULE;
  const decision: VigieEvent = {
    id,
    time,
    kind: 'access.decision',
    actor,
    target: {
      type: request.resource.type === 'record' ? 'record' : request.resource.type,
      id: unknownRecord ? meta.pseudonymise(request.resource.id) : request.resource.id,
    },
    ...(organisationId !== undefined ? { organisationId } : {}),
    context: {
      ...(meta.requestId !== undefined ? { requestId: meta.requestId.slice(0, 200) } : {}),
      ...(authLevel !== undefined ? { authLevel } : {}),
      ...(session?.id !== undefined ? { sessionId: session.id } : {}),
      ...(ip !== undefined ? { ip } : {}),
      ...(userAgent !== undefined ? { userAgent } : {}),
    },
    outcome: d.decision ? 'success' : 'denied',
    ...(d.decision ? {} : { reason: d.reasons[0] ?? 'not_permitted' }),
    data: {
      action: request.action.name,
      decision: d.decision,
      reasons: d.reasons,
      obligations: d.obligations,
      policyVersion: d.policyVersion,
      ruleIds: d.ruleIds,
      ...(request.callerId !== undefined ? { applicationId: request.callerId } : {}),
      ...(account ? {} : { subject: { type: request.subject.type, id: request.subject.id } }),
      ...(breakGlass ? { breakGlass: true } : {}),
      ...(unknownRecord ? { unknownRecord: true } : {}),
      // Where the strength came from: Vigie's session (with its network, or why it lent none), or
      // the application's word. Never the cookie secret nor the access token.
      ...(session
        ? session.problem === undefined
          ? { authSource: 'session', networkPrefix: session.networkPrefix }
          : { authSource: 'session', sessionProblem: session.problem }
        : authLevel !== undefined
          ? { authSource: 'claimed' }
          : {}),
      ...(ip !== undefined || userAgent !== undefined ? { networkSource: 'application' } : {}),
    },
    source: 'vigie',
  };
  const events: VigieEvent[] = [decision];
  for (const s of d.budget?.softExceeded ?? []) {
    events.push({
      id: ids.next(),
      time,
      kind: 'budget.soft_exceeded',
      actor: { type: 'system', id: 'pdp' },
      target: { type: s.dimension, id: s.id },
      ...(organisationId !== undefined ? { organisationId } : {}),
      outcome: 'success',
      data: {
        // Whose soft budget it is, readable as the acting account by detection's fast volume signal.
        ...(s.dimension === 'account' ? { accountId: s.id } : {}),
        count: s.count,
        soft: s.soft,
        hard: s.hard,
        windowMinutes: meta.windowMinutes,
        decisionEventId: id,
        policyVersion: d.policyVersion,
      },
      source: 'vigie',
    });
  }
  const justification = breakGlass ? text(own(breakGlass, 'justification'), 500) : undefined;
  if (breakGlass) {
    events.push({
      id: ids.next(),
      time,
      kind: 'access.break_glass_used',
      actor,
      target: decision.target!,
      ...(organisationId !== undefined ? { organisationId } : {}),
      outcome: 'success',
      data: {
        decisionEventId: id,
        purpose: text(own(breakGlass, 'purpose'), 100),
        // The agent's free text may name a person: the immutable journal keeps only its digest; the
        // words stay in access_disclosures for the reviewer, where they can be erased.
        ...(justification !== undefined
          ? { justificationSha256: createHash('sha256').update(justification, 'utf8').digest('hex') }
          : {}),
        review: 'pending',
      },
      source: 'vigie',
    });
  }
  const b = d.budget;
  const disclosure: AccessDisclosureTable | undefined =
    d.decision && b?.recordId !== undefined
      ? {
          event_id: id,
          time,
          record_id: b.recordId,
          account_id: b.accountId ?? null,
          organisation_id: b.organisationId ?? null,
          application_id: b.applicationId ?? null,
          break_glass: d.breakGlass ? 1 : 0,
          justification: d.breakGlass ? (justification ?? null) : null,
        }
      : d.decision && d.breakGlass && account && request.resource.type === 'record'
        ? {
            event_id: id,
            time,
            record_id: request.resource.id,
            account_id: account.id,
            organisation_id: null,
            application_id: null,
            break_glass: 1,
            justification: justification ?? null,
          }
        : undefined;
  return {
    events,
    disclosure,
    approvalUsed: b?.approvalId !== undefined ? { id: b.approvalId, at: time } : undefined,
  };
}
