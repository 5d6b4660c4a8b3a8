import type { Actor } from '../../shared/principal.js';
import { decodeCursor, encodeCursor } from '../../http/schemas.js';
import { runCommand } from '../events/command.js';
import { asAdminActor, can, type AdminActor } from './actor.js';
import * as accounts from './account.repository.js';
import { canTransition, presentAccount, type Account, type AccountStatus } from './account.model.js';
import { visibleAccount } from './account.service.js';
import {
  pageLimit,
  type CommandMeta,
  type IdentityDeps,
  type PageRequest,
  type PageResult,
} from './identity.deps.js';
import { identityErrors as E } from './identity.errors.js';
import { identityEvent, reasonDigest, refusalOf } from './identity.events.js';
import { lineageEdges, lineageMemberIds } from './lineage.repository.js';
import { endSessionsOf } from '../sign-in/session.repository.js';
import { revokeTokensOf } from './token.repository.js';

export interface LineageNode {
  readonly accountId: string;
  readonly parentId: string;
  readonly relation: 'created' | 'approved';
  readonly depth: number;
  readonly status: string;
  readonly organisationId: string;
  readonly createdAt: string;
}

const CONTAINABLE: readonly AccountStatus[] = ['pending_approval', 'active'];

/** A refused command on an account, attributed to its organisation once the account could be read. */
function accountRefusal(
  kind: string,
  actor: AdminActor,
  accountId: string,
  organisationId: () => string | null,
  meta: CommandMeta | undefined,
) {
  return refusalOf(kind, actor, () => ({
    target: { type: 'account', id: accountId },
    organisationId: organisationId(),
    meta,
  }));
}

/**
 * Account life-cycle commands other modules call too (detection responses): suspend, suspend a whole
 * lineage, reactivate, disable, revoke tokens. Each is one transaction with its events.
 */
export function createAccountStatusService(deps: IdentityDeps) {
  async function transition(
    actorIn: Actor,
    accountId: string,
    spec: { to: AccountStatus; kind: string; permission: string; reason: string },
    meta?: CommandMeta,
  ): Promise<Account> {
    const actor = asAdminActor(actorIn);
    let organisationId: string | null = null;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        await accounts.lockAccount(trx, deps.dialect, accountId);
        const row = await visibleAccount(trx, actor, accountId);
        organisationId = row.organisation_id;
        if (!can(actor, spec.permission, row.organisation_path)) throw E.permissionDenied(spec.permission);
        // Reactivation never skips four-eyes: an account nobody approved goes back to pending.
        const to: AccountStatus =
          spec.to === 'active' && row.approved_at === null ? 'pending_approval' : spec.to;
        if (spec.to === 'active' && row.status !== 'suspended')
          throw E.illegalTransition(row.status, spec.to);
        if (!canTransition(row.status, to)) throw E.illegalTransition(row.status, spec.to);
        const at = now.toISOString();
        const changed = await accounts.setAccountStatus(trx, [row.id], {
          status: to,
          reason: spec.reason,
          at,
          fromStatuses: [row.status],
        });
        if (changed !== 1) throw E.illegalTransition(row.status, spec.to);
        ctx.emit(
          identityEvent(spec.kind, actor, {
            target: { type: 'account', id: row.id },
            organisationId: row.organisation_id,
            data: { from: row.status, to, reasonSha256: reasonDigest(spec.reason) },
            meta,
          }),
        );
        return presentAccount({ ...row, status: to, status_reason: spec.reason, status_changed_at: at });
      },
      accountRefusal(spec.kind, actor, accountId, () => organisationId, meta),
    );
  }

  /** A one-account status command: where it moves the account, its event kind, its permission. */
  const statusCommand =
    (to: AccountStatus, kind: string, permission: string) =>
    (actor: Actor, accountId: string, reason: string, meta?: CommandMeta) =>
      transition(actor, accountId, { to, kind, permission, reason }, meta);

  /** Suspends one account (it keeps its tokens, which resolve to nothing while it is suspended). */
  const suspendAccount = statusCommand('suspended', 'account.suspended', 'account.suspend');
  const reactivateAccount = statusCommand('active', 'account.reactivated', 'account.reactivate');
  const disableAccount = statusCommand('disabled', 'account.disabled', 'account.suspend');

  /**
   * Suspends an account and every account of its lineage (created or approved by it, transitively)
   * in ONE transaction: either the whole line is contained or nothing changes. Each suspended account
   * gets its own account.suspended event carrying data.lineageRoot.
   */
  async function suspendLineage(
    actorIn: Actor,
    accountId: string,
    reason: string,
    meta?: CommandMeta,
  ): Promise<{ root: Account; suspended: string[] }> {
    const actor = asAdminActor(actorIn);
    let organisationId: string | null = null;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const rootSeen = await visibleAccount(trx, actor, accountId);
        organisationId = rootSeen.organisation_id;
        if (!can(actor, 'lineage.suspend', rootSeen.organisation_path))
          throw E.permissionDenied('lineage.suspend');
        const memberIds = await lineageMemberIds(trx, rootSeen.id);
        // Statuses are read under lock: an approval racing the containment waits for it, then fails.
        await accounts.lockAccounts(trx, deps.dialect, [rootSeen.id, ...memberIds]);
        const members: accounts.AccountWithPath[] = [];
        for (const id of memberIds) {
          const m = await accounts.findAccount(trx, id);
          if (m) members.push(m);
        }
        const root = (await accounts.findAccount(trx, rootSeen.id))!;
        if (root.status === 'disabled') throw E.illegalTransition(root.status, 'suspended');
        const outside = members.filter((m) => !can(actor, 'lineage.suspend', m.organisation_path)).length;
        if (outside > 0) throw E.lineageOutOfScope(outside);
        const targets = [root, ...members].filter((a) => CONTAINABLE.includes(a.status as AccountStatus));
        const at = now.toISOString();
        const changed = await accounts.setAccountStatus(
          trx,
          targets.map((a) => a.id),
          { status: 'suspended', reason, at, fromStatuses: CONTAINABLE },
        );
        if (changed !== targets.length) throw E.lineageChanged();
        const digest = reasonDigest(reason);
        for (const a of targets) {
          ctx.emit(
            identityEvent('account.suspended', actor, {
              target: { type: 'account', id: a.id },
              organisationId: a.organisation_id,
              data: { from: a.status, to: 'suspended', lineageRoot: root.id, reasonSha256: digest },
              meta,
            }),
          );
        }
        const after = (await accounts.findAccount(trx, root.id))!;
        return { root: presentAccount(after), suspended: targets.map((a) => a.id) };
      },
      accountRefusal('account.suspended', actor, accountId, () => organisationId, meta),
    );
  }

  /**
   * Revokes every live API token of the account and ends its signed-in sessions (containment that
   * survives a reactivation): token.revoked, and session.revoked when a session was live.
   */
  async function revokeAccountTokens(
    actorIn: Actor,
    accountId: string,
    reason: string,
    meta?: CommandMeta,
  ): Promise<{ revoked: number }> {
    const actor = asAdminActor(actorIn);
    let organisationId: string | null = null;
    return runCommand(
      deps,
      async (ctx) => {
        const { trx, now } = ctx;
        const row = await visibleAccount(trx, actor, accountId);
        organisationId = row.organisation_id;
        const own = actor.kind === 'account' && actor.accountId === row.id;
        if (!own && !can(actor, 'account.suspend', row.organisation_path))
          throw E.permissionDenied('account.suspend');
        const revoked = await revokeTokensOf(trx, 'account', row.id, now.toISOString());
        const sessions = await endSessionsOf(trx, row.id, now.toISOString(), 'revoked');
        ctx.emit(
          identityEvent('token.revoked', actor, {
            target: { type: 'account', id: row.id },
            organisationId: row.organisation_id,
            data: { count: revoked, all: true, reasonSha256: reasonDigest(reason) },
            meta,
          }),
        );
        if (sessions.length > 0) {
          ctx.emit(
            identityEvent('session.revoked', actor, {
              target: { type: 'account', id: row.id },
              organisationId: row.organisation_id,
              data: { sessionIds: sessions, count: sessions.length, reasonSha256: reasonDigest(reason) },
              meta,
            }),
          );
        }
        return { revoked, sessionsEnded: sessions.length };
      },
      accountRefusal('token.revoked', actor, accountId, () => organisationId, meta),
    );
  }

  /**
   * The lineage tree as edges, paged. Nodes outside the reader's lineage.read scope are left out:
   * a reader learns nothing about other tenants' accounts.
   */
  async function readLineage(
    actorIn: Actor,
    accountId: string,
    req: PageRequest,
  ): Promise<PageResult<LineageNode>> {
    const actor = asAdminActor(actorIn);
    const root = await visibleAccount(deps.db, actor, accountId, 'lineage.read');
    if (!can(actor, 'lineage.read', root.organisation_path)) throw E.permissionDenied('lineage.read');
    const limit = pageLimit(req.limit);
    const afterKey = decodeCursor(req.cursor);
    if (afterKey !== undefined && !/^[0-9a-f-]{36}\|[0-9a-f-]{36}$/.test(afterKey)) throw E.invalidCursor();
    const edges = await lineageEdges(deps.db, root.id, {
      ...(afterKey ? { afterKey } : {}),
      limit: limit + 1,
    });
    const more = edges.length > limit;
    const kept = edges.slice(0, limit);
    const last = kept[kept.length - 1];
    return {
      items: kept
        .filter((e) => can(actor, 'lineage.read', e.organisation_path))
        .map((e) => ({
          accountId: e.id,
          parentId: e.parent_id,
          relation: e.relation,
          depth: e.depth,
          status: e.status,
          organisationId: e.organisation_id,
          createdAt: e.created_at,
        })),
      nextCursor: more && last ? encodeCursor(`${last.id}|${last.parent_id}`) : null,
    };
  }

  return {
    suspendAccount,
    suspendLineage,
    reactivateAccount,
    disableAccount,
    revokeAccountTokens,
    readLineage,
  };
}

export type AccountStatusService = ReturnType<typeof createAccountStatusService>;
