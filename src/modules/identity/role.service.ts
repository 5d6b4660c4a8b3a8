import type { Actor } from '../../shared/principal.js';
import { conflict } from '../../shared/errors.js';
import { decodeCursor } from '../../http/schemas.js';
import { runCommand } from '../events/command.js';
import {
  actorAccountId,
  asAdminActor,
  can,
  isPlatformAdminOver,
  lockActiveActor,
  scopeRoots,
} from './actor.js';
import { findAccount } from './account.repository.js';
import { visibleAccount } from './account.service.js';
import { approvalRefusal } from './delegation.policy.js';
import {
  pageLimit,
  type CommandMeta,
  type IdentityDeps,
  type PageRequest,
  type PageResult,
} from './identity.deps.js';
import { identityErrors as E } from './identity.errors.js';
import { identityEvent, reasonDigest, refusalOf } from './identity.events.js';
import { idPage, page } from './identity.paging.js';
import { creationChainTie, isInLineage } from './lineage.repository.js';
import { findOrganisation } from './organisation.repository.js';
import { BUILTIN_ROLES } from './permissions.js';
import * as repo from './role.repository.js';

import { presentAssignment, presentRole, type Assignment, type Role } from './role.model.js';
export type { Assignment, Role } from './role.model.js';

export interface GrantInput {
  readonly accountId: string;
  readonly roleId: string;
  readonly organisationId: string;
  readonly expiresAt?: string;
}

/**
 * Roles and their assignments. Non-privileged grants are immediate; a privileged grant is recorded
 * pending_approval and takes effect only once a distinct approver approves it (four-eyes).
 */
export function createRoleService(deps: IdentityDeps) {
  async function syncBuiltinRoles(): Promise<void> {
    await repo.upsertBuiltinRoles(deps.db, BUILTIN_ROLES);
  }

  async function listRoles(req: PageRequest): Promise<PageResult<Role>> {
    const limit = pageLimit(req.limit);
    const afterId = decodeCursor(req.cursor);
    const rows = await repo.listRoles(deps.db, {
      ...(afterId !== undefined ? { afterId } : {}),
      limit: limit + 1,
    });
    // Role ids are names, not UUIDs: the cursor is decoded but not checked as an id.
    return page(rows.map(presentRole), limit);
  }

  async function grant(actorIn: Actor, input: GrantInput, meta?: CommandMeta): Promise<Assignment> {
    const actor = asAdminActor(actorIn);
    const id = deps.ids.next();
    const granterId = actorAccountId(actor);
    let privileged = false;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const account = await visibleAccount(trx, actor, input.accountId);
        const org = await findOrganisation(trx, input.organisationId);
        if (!org || !can(actor, 'organisation.read', org.path)) throw E.organisationNotFound();
        const role = await repo.findRole(trx, input.roleId);
        if (!role) throw E.roleNotFound();
        if (!can(actor, 'role.grant', org.path)) throw E.permissionDenied('role.grant');
        if (granterId === account.id) throw E.selfGrant();
        privileged = role.privileged === 1;
        if (!isPlatformAdminOver(actor, org.path) && (privileged || role.delegable !== 1))
          throw E.roleNotDelegable(role.id);
        await lockActiveActor(trx, deps.dialect, actor);
        if (account.status === 'disabled')
          throw conflict('ACCOUNT_DISABLED', 'a disabled account holds no role');
        const at = now.toISOString();
        if (input.expiresAt !== undefined && !(Date.parse(input.expiresAt) > now.getTime()))
          throw E.expiryInPast();
        const expiresAt = input.expiresAt !== undefined ? new Date(input.expiresAt).toISOString() : null;
        if (
          await repo.findLiveAssignment(trx, {
            accountId: account.id,
            roleId: role.id,
            organisationId: org.id,
            now: at,
          })
        )
          throw E.roleAlreadyGranted();
        const row: repo.AssignmentRow = {
          id,
          account_id: account.id,
          role_id: role.id,
          organisation_id: org.id,
          status: privileged ? 'pending_approval' : 'active',
          granted_by: granterId,
          granted_at: at,
          approved_by: null,
          approved_at: privileged ? null : at,
          expires_at: expiresAt,
          revoked_by: null,
          revoked_at: null,
        };
        await repo.insertAssignment(trx, row);
        ctx.emit(
          identityEvent(privileged ? 'role.grant_requested' : 'role.granted', actor, {
            target: { type: 'account', id: account.id },
            organisationId: org.id,
            data: { assignmentId: id, roleId: role.id, privileged, expiresAt },
            meta,
          }),
        );
        return presentAssignment(row);
      },
      refusalOf('role.granted', actor, () => ({
        target: { type: 'account', id: input.accountId },
        organisationId: input.organisationId,
        meta,
      })),
    );
  }

  /** A visible assignment: the reader holds role.read over its scope, or it is the reader's own. */
  async function visibleAssignment(
    db: Parameters<typeof repo.findAssignment>[0],
    actor: ReturnType<typeof asAdminActor>,
    id: string,
  ): Promise<repo.AssignmentWithPath> {
    const row = await repo.findAssignment(db, id);
    const own = row !== undefined && actor.kind === 'account' && actor.accountId === row.account_id;
    if (!row || !(own || can(actor, 'role.read', row.organisation_path))) throw E.assignmentNotFound();
    return row;
  }

  async function approveGrant(actorIn: Actor, assignmentId: string, meta?: CommandMeta): Promise<Assignment> {
    const actor = asAdminActor(actorIn);
    let target: { accountId: string; organisationId: string } | undefined;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const a = await visibleAssignment(trx, actor, assignmentId);
        target = { accountId: a.account_id, organisationId: a.organisation_id };
        if (actor.kind !== 'account') throw E.applicationNotAllowed();
        if (a.status !== 'pending_approval') throw E.notPending(a.status);
        const approver = await findAccount(trx, actor.accountId);
        if (!approver) throw E.approverNotActive();
        const refusal = approvalRefusal({
          approverId: approver.id,
          approverStatus: approver.status,
          approverCreatedAt: approver.created_at,
          requesterId: a.granted_by,
          subjectAccountId: a.account_id,
          approverInRequesterLineage:
            a.granted_by !== null && (await isInLineage(trx, a.granted_by, approver.id)),
          // The grantee's chain and the granter's: neither side may be tied to the approver.
          approverInCreationChain: await creationChainTie(
            trx,
            approver.id,
            a.granted_by !== null ? [a.account_id, a.granted_by] : [a.account_id],
          ),
          approverHoldsApproveHere: can(actor, 'account.approve', a.organisation_path),
          now,
          minAgeDays: deps.delegation.approverMinAgeDays,
        });
        if (refusal) throw refusal;
        const at = now.toISOString();
        const approved = await repo.updateAssignment(trx, a.id, 'pending_approval', {
          status: 'active',
          approved_by: approver.id,
          approved_at: at,
        });
        if (!approved) throw E.notPending('changed');
        ctx.emit(
          identityEvent('role.granted', actor, {
            target: { type: 'account', id: a.account_id },
            organisationId: a.organisation_id,
            data: {
              assignmentId: a.id,
              roleId: a.role_id,
              privileged: true,
              grantedBy: a.granted_by,
              approvedBy: approver.id,
            },
            meta,
          }),
        );
        return presentAssignment({ ...a, status: 'active', approved_by: approver.id, approved_at: at });
      },
      refusalOf(
        'role.granted',
        actor,
        () => ({
          target: { type: 'account', id: target?.accountId ?? assignmentId },
          organisationId: target?.organisationId ?? null,
          meta,
        }),
        () => 'role.approval_refused',
      ),
    );
  }

  async function revoke(
    actorIn: Actor,
    assignmentId: string,
    reason: string,
    meta?: CommandMeta,
  ): Promise<Assignment> {
    const actor = asAdminActor(actorIn);
    let target: { accountId: string; organisationId: string } | undefined;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const a = await visibleAssignment(trx, actor, assignmentId);
        target = { accountId: a.account_id, organisationId: a.organisation_id };
        if (!can(actor, 'role.grant', a.organisation_path)) throw E.permissionDenied('role.grant');
        const role = (await repo.findRole(trx, a.role_id))!;
        // What a delegated administrator cannot grant, it cannot take away either.
        if (
          !isPlatformAdminOver(actor, a.organisation_path) &&
          (role.privileged === 1 || role.delegable !== 1)
        )
          throw E.roleNotDelegable(role.id);
        if (a.status !== 'active' && a.status !== 'pending_approval') throw E.assignmentNotActive(a.status);
        const at = now.toISOString();
        const revokedBy = actorAccountId(actor);
        const revoked = await repo.updateAssignment(trx, a.id, a.status, {
          status: 'revoked',
          revoked_by: revokedBy,
          revoked_at: at,
        });
        if (!revoked) throw E.assignmentNotActive('changed');
        ctx.emit(
          identityEvent('role.revoked', actor, {
            target: { type: 'account', id: a.account_id },
            organisationId: a.organisation_id,
            data: {
              assignmentId: a.id,
              roleId: a.role_id,
              from: a.status,
              reasonSha256: reasonDigest(reason),
            },
            meta,
          }),
        );
        return presentAssignment({ ...a, status: 'revoked', revoked_by: revokedBy, revoked_at: at });
      },
      refusalOf('role.revoked', actor, () => ({
        target: { type: 'account', id: target?.accountId ?? assignmentId },
        organisationId: target?.organisationId ?? null,
        meta,
      })),
    );
  }

  async function getAssignment(actorIn: Actor, id: string): Promise<Assignment> {
    return presentAssignment(await visibleAssignment(deps.db, asAdminActor(actorIn), id));
  }

  async function listAssignments(
    actorIn: Actor,
    filter: { accountId?: string; roleId?: string; status?: string } & PageRequest,
  ): Promise<PageResult<Assignment>> {
    const actor = asAdminActor(actorIn);
    return idPage(
      filter,
      (window) =>
        repo.listAssignments(deps.db, deps.dialect, {
          roots: scopeRoots(actor, 'role.read'),
          ...(filter.accountId !== undefined ? { accountId: filter.accountId } : {}),
          ...(filter.roleId !== undefined ? { roleId: filter.roleId } : {}),
          ...(filter.status !== undefined ? { status: filter.status } : {}),
          ...window,
        }),
      presentAssignment,
    );
  }

  /** Whether a role id names a privileged role (an unknown one is not: grant answers it 404). */
  async function isPrivilegedRole(roleId: string): Promise<boolean> {
    return (await repo.findRole(deps.db, roleId))?.privileged === 1;
  }

  return {
    syncBuiltinRoles,
    listRoles,
    isPrivilegedRole,
    grant,
    approveGrant,
    revoke,
    getAssignment,
    listAssignments,
  };
}

export type RoleService = ReturnType<typeof createRoleService>;
