import { createHash, randomBytes } from 'node:crypto';
import type { CoreDeps } from '../../container.js';
import { forbidden, invalid, notFound } from '../../shared/errors.js';
import { canOn, eventActorOf, type AccountPrincipal, type Actor } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { clearControl, findActiveControl, insertApproval, insertControl } from './access.repository.js';
import type { AccessView, ControlTargetType } from './access.view.js';

export type ControlDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'>;

export interface ControlTarget {
  readonly type: ControlTargetType;
  readonly id: string;
}

/** Result of a control change: `changed` is false when the control was already in that state. */
export interface ControlResult {
  readonly changed: boolean;
  readonly controlId: string | undefined;
}

export interface AccessControls {
  /** Stops every disclosure by the target (budgets frozen) until unfrozen. Journaled `budget.frozen`. */
  freezeBudgets(actor: Actor, target: ControlTarget, reason: string): Promise<ControlResult>;
  unfreezeBudgets(actor: Actor, target: ControlTarget, reason: string): Promise<ControlResult>;
  /** Requires a fresh phishing-resistant authentication of the account. Journaled `access.step_up_required`. */
  requireStepUp(actor: Actor, accountId: string, reason: string): Promise<ControlResult>;
  clearStepUp(actor: Actor, accountId: string, reason: string): Promise<ControlResult>;
  /** Four-eyes approval of a large export; returns the one-time token for the requester. */
  approveExport(
    approver: AccountPrincipal,
    input: { requesterAccountId: string; maxRecords: number; purpose: string },
  ): Promise<{ approvalId: string; token: string; expiresAt: string }>;
}

const APPROVAL_TTL_MS = 60 * 60 * 1000;

function checkReason(reason: string): void {
  if (typeof reason !== 'string' || reason.length < 3 || reason.length > 500) {
    throw invalid('INVALID_REASON', 'a reason of 3 to 500 characters is required');
  }
}

/**
 * The controls other parts of Vigie (detection responses, the security team) apply to the PDP.
 * Each is persisted and journaled in one transaction, then applied to the in-memory view.
 */
export function createAccessControls(deps: ControlDeps, viewOf: () => AccessView): AccessControls {
  function known(target: ControlTarget): void {
    const v = viewOf();
    const exists =
      target.type === 'account'
        ? v.accounts.has(target.id)
        : target.type === 'organisation'
          ? v.organisations.has(target.id)
          : v.applications.has(target.id);
    if (!exists) throw notFound('CONTROL_TARGET_NOT_FOUND', `${target.type}`);
  }

  async function set(
    kind: 'freeze' | 'step_up',
    eventKind: string,
    actor: Actor,
    target: ControlTarget,
    reason: string,
  ) {
    checkReason(reason);
    known(target);
    const result = await runCommand(deps, async ({ trx, emit, now }) => {
      const existing = await findActiveControl(trx, kind, target.type, target.id);
      if (existing) return { changed: false, controlId: existing.id, at: Date.parse(existing.created_at) };
      const id = deps.ids.next();
      await insertControl(trx, {
        id,
        kind,
        target_type: target.type,
        target_id: target.id,
        reason,
        created_by: `${eventActorOf(actor).type}:${eventActorOf(actor).id}`,
        created_at: now.toISOString(),
        cleared_by: null,
        cleared_at: null,
      });
      emit({
        kind: eventKind,
        actor: eventActorOf(actor),
        target,
        outcome: 'success',
        data: { controlId: id, reason },
      });
      return { changed: true, controlId: id, at: now.getTime() };
    });
    const v = viewOf();
    if (kind === 'freeze') v.frozen.add(`${target.type}:${target.id}`);
    else v.stepUp.set(target.id, result.at);
    return { changed: result.changed, controlId: result.controlId };
  }

  async function clear(
    kind: 'freeze' | 'step_up',
    eventKind: string,
    actor: Actor,
    target: ControlTarget,
    reason: string,
  ) {
    checkReason(reason);
    const result = await runCommand(deps, async ({ trx, emit, now }) => {
      const existing = await findActiveControl(trx, kind, target.type, target.id);
      if (!existing) return { changed: false, controlId: undefined };
      const by = eventActorOf(actor);
      await clearControl(trx, existing.id, `${by.type}:${by.id}`, now.toISOString());
      emit({
        kind: eventKind,
        actor: by,
        target,
        outcome: 'success',
        data: { controlId: existing.id, reason },
      });
      return { changed: true, controlId: existing.id };
    });
    const v = viewOf();
    if (kind === 'freeze') v.frozen.delete(`${target.type}:${target.id}`);
    else v.stepUp.delete(target.id);
    return result;
  }

  return {
    freezeBudgets: (actor, target, reason) => set('freeze', 'budget.frozen', actor, target, reason),
    unfreezeBudgets: (actor, target, reason) => clear('freeze', 'budget.unfrozen', actor, target, reason),
    requireStepUp: (actor, accountId, reason) =>
      set('step_up', 'access.step_up_required', actor, { type: 'account', id: accountId }, reason),
    clearStepUp: (actor, accountId, reason) =>
      clear('step_up', 'access.step_up_cleared', actor, { type: 'account', id: accountId }, reason),

    async approveExport(approver, input) {
      checkReason(input.purpose);
      const requester = viewOf().accounts.get(input.requesterAccountId);
      const org = requester ? viewOf().organisations.get(requester.organisationId) : undefined;
      if (!requester || !org || !canOn(approver, 'account.approve', org.path)) {
        throw notFound('ACCOUNT_NOT_FOUND', 'account');
      }
      if (requester.id === approver.accountId) {
        throw forbidden(
          'FOUR_EYES_REQUIRED',
          'an export must be approved by another person than its requester',
        );
      }
      const token = `vxa_${randomBytes(32).toString('base64url')}`;
      const hash = createHash('sha256').update(token).digest('hex');
      const created = await runCommand(deps, async ({ trx, emit, now }) => {
        const id = deps.ids.next();
        const expiresAt = new Date(now.getTime() + APPROVAL_TTL_MS).toISOString();
        await insertApproval(trx, {
          id,
          token_hash: hash,
          requester_account_id: requester.id,
          approver_account_id: approver.accountId,
          max_records: input.maxRecords,
          purpose: input.purpose,
          created_at: now.toISOString(),
          expires_at: expiresAt,
          used_at: null,
        });
        emit({
          kind: 'access.export_approved',
          actor: eventActorOf(approver),
          target: { type: 'account', id: requester.id },
          organisationId: requester.organisationId,
          outcome: 'success',
          data: { approvalId: id, maxRecords: input.maxRecords, purpose: input.purpose, expiresAt },
        });
        return { id, expiresAt };
      });
      viewOf().approvals.set(hash, {
        id: created.id,
        requesterAccountId: requester.id,
        maxRecords: input.maxRecords,
        expiresAtMs: Date.parse(created.expiresAt),
        usedAtMs: undefined,
      });
      return { approvalId: created.id, token, expiresAt: created.expiresAt };
    },
  };
}
