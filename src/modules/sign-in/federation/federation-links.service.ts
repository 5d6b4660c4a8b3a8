import type { AccountPrincipal } from '../../../shared/principal.js';
import { conflict, notFound } from '../../../shared/errors.js';
import { runCommand } from '../../events/command.js';
import { can } from '../../identity/actor.js';
import { visibleAccount } from '../../identity/account.service.js';
import type { CommandMeta } from '../../identity/identity.deps.js';
import { identityErrors } from '../../identity/identity.errors.js';
import { identityEvent, reasonDigest, refusalOf } from '../../identity/identity.events.js';
import { endSessionsOf } from '../session.repository.js';
import type { SignInDeps } from '../sign-in.deps.js';
import * as repo from './federation.repository.js';

/** A federated identity as administrators see it. */
export interface FederatedIdentity {
  readonly id: string;
  readonly accountId: string;
  readonly provider: string;
  readonly issuer: string;
  readonly subject: string;
  readonly rule: string;
  readonly linkedAt: string;
  readonly lastLoginAt: string | null;
  readonly revokedAt: string | null;
}

function present(row: repo.FederatedIdentityRow): FederatedIdentity {
  return {
    id: row.id,
    accountId: row.account_id,
    provider: row.provider,
    issuer: row.issuer,
    subject: row.subject,
    rule: row.rule,
    linkedAt: row.linked_at,
    lastLoginAt: row.last_login_at,
    revokedAt: row.revoked_at,
  };
}

const linkNotFound = () => notFound('FEDERATED_IDENTITY_NOT_FOUND', 'federated identity');

/**
 * The links the operator's rule made between upstream identities and Vigie accounts, for the people
 * who administer those accounts: list them, revoke one (an upstream account taken over, someone who
 * left the structure upstream), restore it. Revoking is containment, like revoking tokens: it needs
 * `account.suspend` over the account's organisation (or is one's own), and no step-up, so that it
 * stays one call away; it ends the account's federated sessions. Restoring lifts a containment, the
 * same power as reactivating: step-up (route) and `account.suspend`. The revoked link stays, so the
 * same upstream subject cannot be linked again by the rule, nor another identity of that issuer be
 * linked to the account in its place.
 */
export function createFederationLinks(deps: SignInDeps) {
  async function list(actor: AccountPrincipal, accountId: string): Promise<FederatedIdentity[]> {
    await visibleAccount(deps.db, actor, accountId);
    return (await repo.listLinksOfAccount(deps.db, accountId)).map(present);
  }

  async function setRevoked(
    actor: AccountPrincipal,
    id: string,
    revoke: boolean,
    reason: string,
    meta: CommandMeta,
  ): Promise<FederatedIdentity> {
    const kind = revoke ? 'federation.revoked' : 'federation.restored';
    let accountId: string | undefined;
    let organisationId: string | null = null;
    return runCommand(
      deps,
      async (ctx) => {
        const link = await repo.findLink(ctx.trx, id);
        if (!link) throw linkNotFound();
        // An identity of an account the actor cannot see does not exist for it.
        const account = await visibleAccount(ctx.trx, actor, link.account_id).catch(() => {
          throw linkNotFound();
        });
        accountId = account.id;
        organisationId = account.organisation_id;
        const own = actor.accountId === account.id;
        // Anyone may cut their own link (a lost upstream account); restoring one's own is not containment.
        if (!(revoke && own) && !can(actor, 'account.suspend', account.organisation_path))
          throw identityErrors.permissionDenied('account.suspend');
        const at = ctx.now.toISOString();
        const changed = await repo.setLinkRevoked(ctx.trx, id, revoke ? { at, by: actor.accountId } : null);
        if (!changed)
          throw revoke
            ? conflict('FEDERATED_IDENTITY_ALREADY_REVOKED', 'this federated identity is already revoked')
            : conflict('FEDERATED_IDENTITY_NOT_REVOKED', 'this federated identity is not revoked');
        const digest = reasonDigest(reason);
        ctx.emit(
          identityEvent(kind, actor, {
            target: { type: 'account', id: account.id },
            organisationId: account.organisation_id,
            data: {
              federatedIdentityId: id,
              provider: link.provider,
              issuer: link.issuer,
              reasonSha256: digest,
            },
            meta,
          }),
        );
        if (revoke) {
          const ended = await endSessionsOf(ctx.trx, account.id, at, 'revoked', { method: 'federated' });
          if (ended.length > 0)
            ctx.emit(
              identityEvent('session.revoked', actor, {
                target: { type: 'account', id: account.id },
                organisationId: account.organisation_id,
                data: { sessionIds: ended, count: ended.length, reasonSha256: digest },
                meta,
              }),
            );
        }
        return present((await repo.findLink(ctx.trx, id))!);
      },
      refusalOf(kind, actor, () => ({
        ...(accountId ? { target: { type: 'account' as const, id: accountId } } : {}),
        organisationId,
        meta,
      })),
    );
  }

  return {
    list,
    revoke: (actor: AccountPrincipal, id: string, reason: string, meta: CommandMeta) =>
      setRevoked(actor, id, true, reason, meta),
    restore: (actor: AccountPrincipal, id: string, reason: string, meta: CommandMeta) =>
      setRevoked(actor, id, false, reason, meta),
  };
}

export type FederationLinks = ReturnType<typeof createFederationLinks>;
