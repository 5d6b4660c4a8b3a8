import type { Actor } from '../../shared/principal.js';
import type { Executor } from '../../db/database.js';
import { runCommand } from '../events/command.js';
import {
  actorAccountId,
  asAdminActor,
  can,
  isPlatformAdminOver,
  lockActiveActor,
  scopeRoots,
  type AdminActor,
} from './actor.js';
import * as accounts from './account.repository.js';
import {
  newAccountRow,
  presentAccount,
  type Account,
  type AccountKind,
  type CreationChannel,
} from './account.model.js';
import { approvalRefusal, quotaRefusal, QUOTA_WINDOW_MS } from './delegation.policy.js';
import { canonicalEmail } from './email.js';
import type { CommandMeta, IdentityDeps, PageRequest, PageResult } from './identity.deps.js';
import { identityErrors as E, isUniqueViolation } from './identity.errors.js';
import { identityEvent, refusalOf } from './identity.events.js';
import { idPage } from './identity.paging.js';
import { creationChainTie, isInLineage } from './lineage.repository.js';
import { findOrganisation } from './organisation.repository.js';

export interface CreateAccountInput {
  readonly organisationId: string;
  readonly email: string;
  readonly kind: AccountKind;
  readonly displayName?: string;
}

/** An account the actor may see (account.read over its organisation), or 404. */
export async function visibleAccount(
  db: Executor,
  actor: AdminActor,
  id: string,
  permission = 'account.read',
): Promise<accounts.AccountWithPath> {
  const row = await accounts.findAccount(db, id);
  const own = actor.kind === 'account' && actor.accountId === id;
  if (!row || !(own || can(actor, permission, row.organisation_path))) throw E.accountNotFound();
  return row;
}

/** Accounts: creation under delegation quotas, four-eyes approval, reads scoped to the caller. */
export function createAccountService(deps: IdentityDeps) {
  /**
   * Creates an account. A platform administrator's (or Vigie's own) creation is active at once; a
   * delegated administrator's stays pending_approval until a distinct approver approves it, and
   * counts against that administrator's quotas.
   */
  async function create(
    actorIn: Actor,
    input: CreateAccountInput,
    meta?: CommandMeta,
    channel: CreationChannel = 'api',
  ): Promise<Account> {
    const actor = asAdminActor(actorIn);
    const id = deps.ids.next();
    const creatorId = actorAccountId(actor);
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const org = await findOrganisation(trx, input.organisationId);
        if (!org || !can(actor, 'organisation.read', org.path)) throw E.organisationNotFound();
        if (!can(actor, 'account.create', org.path)) throw E.permissionDenied('account.create');
        if (org.status !== 'active') throw E.organisationNotActive();
        const email = canonicalEmail(input.email);
        if (!email) throw E.invalidEmail();
        const delegated = !isPlatformAdminOver(actor, org.path);
        // Locks the creator's row too, so that its quota counts are serialised on PostgreSQL.
        await lockActiveActor(trx, deps.dialect, actor);
        if (delegated && creatorId) {
          const refusal = quotaRefusal({
            createdInWindow: await accounts.countCreatedSince(
              trx,
              creatorId,
              new Date(now.getTime() - QUOTA_WINDOW_MS).toISOString(),
            ),
            pending: await accounts.countPendingCreatedBy(trx, creatorId),
            maxCreationsPerDay: deps.delegation.maxCreationsPerDay,
            maxPending: deps.delegation.maxPending,
          });
          if (refusal) throw refusal;
        }
        if (await accounts.emailExists(trx, email)) throw E.emailTaken();
        const at = now.toISOString();
        const row = newAccountRow(
          {
            id,
            organisation_id: org.id,
            kind: input.kind,
            email,
            display_name: input.displayName ?? null,
            status: delegated ? 'pending_approval' : 'active',
            created_by: creatorId,
            // A platform administrator's creation is its own approval; the approved_at marks it as vetted.
            approved_at: delegated ? null : at,
            creation_channel: channel,
            status_reason: null,
          },
          at,
        );
        try {
          await accounts.insertAccount(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw E.emailTaken();
          throw error;
        }
        ctx.emit(
          identityEvent('account.created', actor, {
            target: { type: 'account', id },
            organisationId: org.id,
            data: {
              status: row.status,
              kind: row.kind,
              creationChannel: channel,
              createdBy: creatorId,
              delegated,
            },
            meta,
          }),
        );
        return presentAccount(row);
      },
      refusalOf(
        'account.created',
        actor,
        () => ({
          organisationId: input.organisationId,
          meta,
          ...(creatorId ? { target: { type: 'account', id: creatorId } } : {}),
        }),
        (code) => (code === 'DELEGATION_QUOTA_EXCEEDED' ? 'delegation.quota_exceeded' : undefined),
      ),
    );
  }

  /** Four-eyes approval of a pending account; every refusal is journaled as account.approval_refused. */
  async function approve(actorIn: Actor, accountId: string, meta?: CommandMeta): Promise<Account> {
    const actor = asAdminActor(actorIn);
    let organisationId: string | undefined;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        // Lock before reading: a suspension committed meanwhile must be seen, never overwritten.
        await accounts.lockAccount(trx, deps.dialect, accountId);
        const target = await visibleAccount(trx, actor, accountId);
        organisationId = target.organisation_id;
        if (actor.kind !== 'account') throw E.applicationNotAllowed();
        if (target.status !== 'pending_approval') throw E.notPending(target.status);
        const approver = await accounts.findAccount(trx, actor.accountId);
        if (!approver) throw E.approverNotActive();
        const refusal = approvalRefusal({
          approverId: approver.id,
          approverStatus: approver.status,
          approverCreatedAt: approver.created_at,
          requesterId: target.created_by,
          subjectAccountId: target.id,
          approverInRequesterLineage:
            target.created_by !== null && (await isInLineage(trx, target.created_by, approver.id)),
          approverInCreationChain: await creationChainTie(trx, approver.id, [target.id]),
          approverHoldsApproveHere: can(actor, 'account.approve', target.organisation_path),
          now,
          minAgeDays: deps.delegation.approverMinAgeDays,
        });
        if (refusal) throw refusal;
        const at = now.toISOString();
        if (!(await accounts.markApproved(trx, target.id, approver.id, at))) throw E.notPending('changed');
        ctx.emit(
          identityEvent('account.approved', actor, {
            target: { type: 'account', id: target.id },
            organisationId: target.organisation_id,
            data: { createdBy: target.created_by, approvedBy: approver.id },
            meta,
          }),
        );
        return presentAccount({
          ...target,
          status: 'active',
          approved_by: approver.id,
          approved_at: at,
          status_changed_at: at,
        });
      },
      refusalOf(
        'account.approved',
        actor,
        () => ({ target: { type: 'account', id: accountId }, organisationId: organisationId ?? null, meta }),
        () => 'account.approval_refused',
      ),
    );
  }

  async function get(actorIn: Actor, id: string): Promise<Account> {
    return presentAccount(await visibleAccount(deps.db, asAdminActor(actorIn), id));
  }

  async function list(
    actorIn: Actor,
    filter: {
      organisationId?: string;
      status?: string;
      kind?: string;
      createdBy?: string;
      q?: string;
    } & PageRequest,
  ): Promise<PageResult<Account>> {
    const actor = asAdminActor(actorIn);
    return idPage(
      filter,
      (window) =>
        accounts.listAccounts(deps.db, deps.dialect, {
          roots: scopeRoots(actor, 'account.read'),
          ...(filter.organisationId !== undefined ? { organisationId: filter.organisationId } : {}),
          ...(filter.status !== undefined ? { status: filter.status } : {}),
          ...(filter.kind !== undefined ? { kind: filter.kind } : {}),
          ...(filter.createdBy !== undefined ? { createdBy: filter.createdBy } : {}),
          ...(filter.q !== undefined ? { search: filter.q } : {}),
          ...window,
        }),
      presentAccount,
    );
  }

  return { create, approve, get, list };
}

export type AccountService = ReturnType<typeof createAccountService>;
