import type { Actor } from '../../shared/principal.js';
import { asAdminActor, scopeRoots } from './actor.js';
import type { IdentityDeps, PageRequest } from './identity.deps.js';
import { idPage } from './identity.paging.js';
import { authenticationOf } from './inventory.repository.js';
import * as repo from './role.repository.js';

/**
 * The privileged-account inventory: every live or requested grant of a privileged role within the
 * reader's inventory.read scope, with who granted and approved it, when the holder was last seen,
 * its MFA strength (null until interactive sign-in records one), and its authentication: passkeys
 * (user-verified, device-bound or synced), TOTP, and the strength of its live sessions.
 */
export function createInventoryService(
  deps: Pick<IdentityDeps, 'db' | 'dialect' | 'clock'>,
  options: { sessionIdleMs: number },
) {
  return async function privilegedInventory(actorIn: Actor, req: PageRequest) {
    const actor = asAdminActor(actorIn);
    const page = await idPage(
      req,
      (window) =>
        repo.privilegedInventory(deps.db, deps.dialect, {
          roots: scopeRoots(actor, 'inventory.read'),
          ...window,
        }),
      (r) => ({
        id: r.assignment_id,
        accountId: r.account_id,
        accountOrganisationId: r.account_organisation_id,
        accountStatus: r.account_status,
        roleId: r.role_id,
        organisationId: r.organisation_id,
        assignmentStatus: r.assignment_status,
        grantedBy: r.granted_by,
        grantedAt: r.granted_at,
        approvedBy: r.approved_by,
        approvedAt: r.approved_at,
        expiresAt: r.expires_at,
        lastSeenAt: r.last_seen_at,
        mfaStrength: r.mfa_strength,
      }),
    );
    const now = deps.clock.now();
    const strength = await authenticationOf(
      deps.db,
      page.items.map((i) => i.accountId),
      {
        now: now.toISOString(),
        idleSince: new Date(now.getTime() - options.sessionIdleMs).toISOString(),
      },
    );
    return { ...page, items: page.items.map((i) => ({ ...i, authentication: strength.get(i.accountId)! })) };
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
