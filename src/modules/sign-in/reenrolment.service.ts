import { canOn, type AccountPrincipal } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { findAccount, findAccountByEmail, lockAccount } from '../identity/account.repository.js';
import { approvalRefusal } from '../identity/delegation.policy.js';
import { canonicalEmail } from '../identity/email.js';
import { isUniqueViolation } from '../identity/identity.errors.js';
import { creationChainTie, isInLineage } from '../identity/lineage.repository.js';
import { scopesFor } from '../../shared/principal.js';
import type { EnrolmentService } from './enrolment.service.js';
import * as repo from './recovery.repository.js';
import type { SignInBrake } from './sign-in.brake.js';
import { SIGN_IN_EVENT_ACTOR, type RequestFacts, type SignInDeps } from './sign-in.deps.js';
import { recoveryErrors as R, signInErrors as E } from './sign-in.errors.js';
import { endSessionsOf } from './session.repository.js';
import { revokeTotpCredential, findLiveTotpCredential } from './totp.repository.js';

type Meta = RequestFacts['meta'];

export interface Reenrolment {
  readonly id: string;
  readonly accountId: string;
  readonly organisationId: string;
  readonly requestedBy: string | null;
  readonly reason: string;
  readonly status: 'pending' | 'approved' | 'cancelled';
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
}

const present = (r: repo.ReenrolmentRow): Reenrolment => ({
  id: r.id,
  accountId: r.account_id,
  organisationId: r.organisation_id,
  requestedBy: r.requested_by,
  reason: r.reason,
  status: r.status as Reenrolment['status'],
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

/**
 * Re-enrolment of an account that lost every authenticator: asked by the holder (from the recovery
 * page, with only an e-mail) or started by an administrator; approved, with a step-up, by a
 * different person holding account.create over the account's organisation under identity's
 * four-eyes rules (not the account, not the requester, outside the creation chain, established).
 * Approval revokes the account's passkeys, TOTP secret, recovery codes and sessions in one
 * transaction; then a new enrolment link is mailed through the enrolment service's re-issue path.
 */
export function createReenrolmentService(
  deps: SignInDeps,
  parts: { enrolment: Pick<EnrolmentService, 'reissue'>; brake: SignInBrake; approverMinAgeDays: number },
) {
  const ttlMs = () => deps.signIn.reenrolmentTtlHours * 3_600_000;

  async function insertPending(
    ctx: Parameters<Parameters<typeof runCommand>[1]>[0],
    account: { id: string; organisation_id: string },
    requestedBy: string | null,
    reason: string,
  ): Promise<repo.ReenrolmentRow | undefined> {
    const existing = await repo.findPendingReenrolment(ctx.trx, account.id);
    if (existing && existing.expires_at > ctx.now.toISOString()) return undefined;
    if (existing)
      await repo.decideReenrolment(ctx.trx, existing.id, {
        status: 'cancelled',
        by: null,
        at: ctx.now.toISOString(),
      });
    const row: repo.ReenrolmentRow = {
      id: deps.ids.next(),
      account_id: account.id,
      organisation_id: account.organisation_id,
      requested_by: requestedBy,
      reason,
      status: 'pending',
      created_at: ctx.now.toISOString(),
      expires_at: new Date(ctx.now.getTime() + ttlMs()).toISOString(),
      decided_by: null,
      decided_at: null,
    };
    try {
      await repo.insertReenrolment(ctx.trx, row);
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
    return row;
  }

  /**
   * The holder asks, with only an e-mail: the answer is the same whatever the e-mail (nothing to
   * enumerate). Each request counts against the address in the sign-in brake, like a failed
   * sign-in, so that a flood is slowed then refused; one request per account stays pending.
   */
  async function requestBySelf(input: { email: string }, request: RequestFacts): Promise<void> {
    await parts.brake.onFailure(request.ip, []);
    const email = canonicalEmail(input.email);
    const found = email ? await findAccountByEmail(deps.db, email) : undefined;
    const account = found ? await findAccount(deps.db, found.id) : undefined;
    if (!account || account.status !== 'active' || account.kind !== 'human') return;
    await runCommand(deps, async (ctx) => {
      const row = await insertPending(ctx, account, null, 'self_request');
      if (!row) return;
      ctx.emit({
        kind: 'reenrolment.requested',
        actor: SIGN_IN_EVENT_ACTOR,
        target: { type: 'account', id: account.id },
        organisationId: account.organisation_id,
        outcome: 'success',
        data: { reenrolmentId: row.id, accountId: account.id, via: 'self', expiresAt: row.expires_at },
        context: request.meta,
      });
    });
  }

  /** An administrator holding account.create over the account's organisation starts one. */
  async function requestByAdmin(
    actor: AccountPrincipal,
    accountId: string,
    reason: string,
    meta: Meta,
  ): Promise<Reenrolment> {
    return runCommand(deps, async (ctx) => {
      await lockAccount(ctx.trx, deps.dialect, accountId);
      const account = await findAccount(ctx.trx, accountId);
      if (!account || !canOn(actor, 'account.read', account.organisation_path)) throw E.accountNotFound();
      if (!canOn(actor, 'account.create', account.organisation_path))
        throw E.permissionDenied('account.create');
      if (account.status !== 'active' || account.kind !== 'human') throw E.accountNotEnrollable();
      const row = await insertPending(ctx, account, actor.accountId, reason);
      if (!row) throw R.reenrolmentPending();
      ctx.emit({
        kind: 'reenrolment.requested',
        actor: { type: 'account', id: actor.accountId },
        target: { type: 'account', id: account.id },
        organisationId: account.organisation_id,
        outcome: 'success',
        data: {
          reenrolmentId: row.id,
          accountId: account.id,
          via: 'administrator',
          expiresAt: row.expires_at,
        },
        context: meta,
      });
      return present(row);
    });
  }

  /** Pending requests the caller could approve (account.create over the account's organisation). */
  async function listPending(actor: AccountPrincipal): Promise<Reenrolment[]> {
    const roots = scopesFor(actor, 'account.create');
    return (await repo.listPendingReenrolments(deps.db, deps.dialect, roots, 200)).map(present);
  }

  /**
   * The second person approves (the route requires a step-up). Refusals are those of identity's
   * four-eyes (APPROVER_IS_TARGET, APPROVER_IS_CREATOR, APPROVER_IN_CREATOR_LINEAGE,
   * APPROVER_IN_CREATION_CHAIN, APPROVER_NOT_ACTIVE, APPROVER_TOO_RECENT), and are journaled.
   */
  async function approve(actor: AccountPrincipal, id: string, meta: Meta): Promise<Reenrolment> {
    let target: { accountId: string; organisationId: string } | undefined;
    const approved = await runCommand(
      deps,
      async (ctx) => {
        const found = await repo.findReenrolment(ctx.trx, id);
        if (!found) throw R.reenrolmentNotFound();
        await lockAccount(ctx.trx, deps.dialect, found.account_id);
        const account = await findAccount(ctx.trx, found.account_id);
        if (!account || !canOn(actor, 'account.read', account.organisation_path))
          throw R.reenrolmentNotFound();
        target = { accountId: account.id, organisationId: account.organisation_id };
        if (!canOn(actor, 'account.create', account.organisation_path))
          throw E.permissionDenied('account.create');
        const at = ctx.now.toISOString();
        if (found.status !== 'pending') throw R.reenrolmentNotPending(found.status);
        if (found.expires_at <= at) throw R.reenrolmentNotPending('expired');
        if (account.status !== 'active' || account.kind !== 'human') throw E.accountNotEnrollable();
        const approver = await findAccount(ctx.trx, actor.accountId);
        if (!approver) throw E.accountNotFound();
        const requesterId = found.requested_by;
        const refusal = approvalRefusal({
          approverId: approver.id,
          approverStatus: approver.status,
          approverCreatedAt: approver.created_at,
          requesterId,
          subjectAccountId: account.id,
          approverInRequesterLineage:
            requesterId !== null && (await isInLineage(ctx.trx, requesterId, approver.id)),
          approverInCreationChain: await creationChainTie(
            ctx.trx,
            approver.id,
            requesterId !== null ? [account.id, requesterId] : [account.id],
          ),
          // Checked above with the permission this act needs (account.create).
          approverHoldsApproveHere: true,
          now: ctx.now,
          minAgeDays: parts.approverMinAgeDays,
        });
        if (refusal) throw refusal;
        if (!(await repo.decideReenrolment(ctx.trx, id, { status: 'approved', by: approver.id, at })))
          throw R.reenrolmentNotPending('changed');
        const passkeysRevoked = await repo.revokePasskeysOf(ctx.trx, account.id, at);
        const totp = await findLiveTotpCredential(ctx.trx, account.id);
        if (totp) await revokeTotpCredential(ctx.trx, totp.id, at);
        const codesRevoked = await repo.revokeRecoveryCodes(ctx.trx, account.id, at);
        const sessionsEnded = await endSessionsOf(ctx.trx, account.id, at, 'reenrolment');
        ctx.emit({
          kind: 'reenrolment.approved',
          actor: { type: 'account', id: approver.id },
          target: { type: 'account', id: account.id },
          organisationId: account.organisation_id,
          outcome: 'success',
          data: {
            reenrolmentId: id,
            accountId: account.id,
            requestedBy: requesterId,
            approvedBy: approver.id,
            passkeysRevoked,
            totpRevoked: totp ? totp.id : null,
            recoveryCodesRevoked: codesRevoked,
            sessionsEnded,
          },
          context: meta,
        });
        if (sessionsEnded.length > 0)
          ctx.emit({
            kind: 'session.revoked',
            actor: { type: 'account', id: approver.id },
            target: { type: 'account', id: account.id },
            organisationId: account.organisation_id,
            outcome: 'success',
            data: { sessionIds: sessionsEnded, count: sessionsEnded.length, reason: 'reenrolment' },
            context: meta,
          });
        return present({ ...found, status: 'approved', decided_by: approver.id, decided_at: at });
      },
      (error) => ({
        kind: 'reenrolment.approved',
        actor: { type: 'account', id: actor.accountId },
        target: { type: 'account', id: target?.accountId ?? id },
        ...(target ? { organisationId: target.organisationId } : {}),
        outcome: error.status === 404 ? 'failure' : 'denied',
        reason: error.code,
        data: { reenrolmentId: id },
        context: meta,
      }),
    );
    // After commit: the link is issued and mailed through enrolment's re-issue path.
    await parts.enrolment.reissue(actor, approved.accountId, meta);
    return approved;
  }

  return { requestBySelf, requestByAdmin, listPending, approve };
}

export type ReenrolmentService = ReturnType<typeof createReenrolmentService>;
