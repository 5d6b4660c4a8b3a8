import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps, VigieModule } from '../../container.js';
import { accessAdminRoutes } from './access-admin.routes.js';
import { createAccessControls, type AccessControls } from './access.controls.js';
import { createAccessService, type AccessService } from './access.service.js';
import { authzenRoutes } from './authzen.routes.js';
import type { RecorderOptions } from './decision.recorder.js';
import { createSearchService } from './search.service.js';

export interface AccessModule extends VigieModule {
  /** The PDP: evaluate, dry-run, the view and the ledger. */
  readonly service: AccessService;
  /** Freezes and step-up flags, for detection responses and the security team. */
  readonly controls: AccessControls;
}

/**
 * Access decisions: the AuthZEN 1.0 PDP over an in-memory view, with disclosure budgets, and the
 * administration of its policy and controls.
 */
export function createAccessModule(
  core: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'logger' | 'config'>,
  options: { policyDir?: string; recorder?: RecorderOptions } = {},
): AccessModule {
  const service = createAccessService(core, options);
  const controls = createAccessControls(core, () => service.view);
  const search = createSearchService(service, core.ids, core.clock);
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(authzenRoutes(service, search));
    await app.register(accessAdminRoutes(core, service, controls));
  };
  return {
    name: 'access',
    service,
    controls,
    routes,
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
