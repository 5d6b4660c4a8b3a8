import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps, VigieModule } from '../../container.js';
import { accountRoutes } from './account.routes.js';
import { createAccountService } from './account.service.js';
import { createAccountStatusService } from './account-status.service.js';
import { createAdminTokenService } from './admin-token.service.js';
import { createBootstrapService } from './bootstrap.service.js';
import { delegationQuotaRoutes } from './delegation-quota.routes.js';
import type { IdentityDeps } from './identity.deps.js';
import { organisationRoutes } from './organisation.routes.js';
import { createOrganisationService } from './organisation.service.js';
import { roleRoutes } from './role.routes.js';
import { createInventoryService } from './inventory.service.js';
import { createRoleService } from './role.service.js';
import { tokenRoutes } from './token.routes.js';
import { createTokenService } from './token.service.js';

/** Builds identity's services over the core; other modules and the CLI use them directly. */
export function createIdentityService(
  core: Pick<CoreDeps, 'db' | 'dialect' | 'clock' | 'ids' | 'bus' | 'config'>,
) {
  const deps: IdentityDeps = {
    db: core.db,
    dialect: core.dialect,
    clock: core.clock,
    ids: core.ids,
    bus: core.bus,
    delegation: core.config.delegation,
    tokens: core.config.tokens,
  };
  const organisations = createOrganisationService(deps);
  const accounts = createAccountService(deps);
  const accountStatus = createAccountStatusService(deps);
  const roles = createRoleService(deps);
  const tokens = createTokenService(deps);
  return {
    organisations,
    accounts,
    roles,
    tokens,
    privilegedInventory: createInventoryService(deps, { sessionIdleMs: core.config.signIn.sessionIdleMs }),
    bootstrapAdmin: createBootstrapService(deps),
    issueAdminToken: createAdminTokenService(deps),
    suspendAccount: accountStatus.suspendAccount,
    suspendLineage: accountStatus.suspendLineage,
    reactivateAccount: accountStatus.reactivateAccount,
    disableAccount: accountStatus.disableAccount,
    revokeAccountTokens: accountStatus.revokeAccountTokens,
    readLineage: accountStatus.readLineage,
    approveAccount: accounts.approve,
    createAccount: accounts.create,
    grantRole: roles.grant,
    approveGrant: roles.approveGrant,
    revokeRole: roles.revoke,
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

export interface IdentityModule extends VigieModule {
  readonly name: 'identity';
  readonly service: IdentityService;
}

/** Identity: organisations, accounts, roles, delegated administration under four-eyes, API tokens. */
export function createIdentityModule(core: CoreDeps): IdentityModule {
  const service = createIdentityService(core);
  const routes: FastifyPluginAsync = (app) => {
    organisationRoutes(app, service.organisations);
    accountRoutes(app, service.accounts, {
      suspendAccount: service.suspendAccount,
      suspendLineage: service.suspendLineage,
      reactivateAccount: service.reactivateAccount,
      disableAccount: service.disableAccount,
      revokeAccountTokens: service.revokeAccountTokens,
      readLineage: service.readLineage,
    });
    roleRoutes(app, service.roles, service.privilegedInventory);
    tokenRoutes(app, service.tokens);
    delegationQuotaRoutes(app, { db: core.db, clock: core.clock, delegation: core.config.delegation });
    return Promise.resolve();
  };
  return {
    name: 'identity',
    routes,
    service,
    // Built-in roles are code; the catalogue follows it on every start.
    start: () => service.roles.syncBuiltinRoles(),
  };
}

/** Identity's services as registered in a container (for the CLI, tests and later modules). */
export function identityServiceOf(container: { readonly modules: readonly VigieModule[] }): IdentityService {
  const m = container.modules.find((x): x is IdentityModule => x.name === 'identity' && 'service' in x);
  if (!m) throw new Error('the identity module is not registered');
  return m.service;
}
