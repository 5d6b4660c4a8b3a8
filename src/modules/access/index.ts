import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps, VigieModule } from '../../container.js';
import { accessAdminRoutes } from './access-admin.routes.js';
import { accessStatsRoutes } from './access-stats.routes.js';
import { createAccessStats } from './access-stats.service.js';
import { createAccessControls, type AccessControls } from './access.controls.js';
import { createAccessService, type AccessService } from './access.service.js';
import { authzenRoutes } from './authzen.routes.js';
import type { RecorderOptions } from './decision.recorder.js';
import { createSearchService } from './search.service.js';
import {
  createSessionFacts,
  databaseSessionSource,
  type SessionFacts,
  type SessionFactsSource,
} from './session-facts.js';

export interface AccessModule extends VigieModule {
  /** The PDP: evaluate, dry-run, the view and the ledger. */
  readonly service: AccessService;
  /** Freezes and step-up flags, for detection responses and the security team. */
  readonly controls: AccessControls;
  /** Resolves the Vigie sessions AuthZEN requests name (strength, time, network). */
  readonly sessions: SessionFacts;
}

export interface AccessModuleOptions {
  policyDir?: string;
  recorder?: RecorderOptions;
  /**
   * Where named sessions are read: by default Vigie's sessions table, without access tokens. Wire the
   * OpenID Provider with `withAccessTokens(databaseSessionSource(db), sessionOfAccessToken)`.
   */
  sessionSource?: SessionFactsSource;
}

/**
 * Access decisions: the AuthZEN 1.0 PDP over an in-memory view, with disclosure budgets, and the
 * administration of its policy and controls.
 */
export function createAccessModule(
  core: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'logger' | 'config'>,
  options: AccessModuleOptions = {},
): AccessModule {
  const service = createAccessService(core, options);
  const controls = createAccessControls(core, () => service.view);
  const sessions = createSessionFacts({
    source: options.sessionSource ?? databaseSessionSource(core.db),
    bus: core.bus,
    clock: core.clock,
    idleMs: core.config.signIn.sessionIdleMs,
  });
  const search = createSearchService(service, core.ids, core.clock, sessions);
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(authzenRoutes(service, search, sessions));
    await app.register(accessAdminRoutes(core, service, controls, sessions));
    await app.register(
      accessStatsRoutes(createAccessStats({ db: core.db, clock: core.clock, access: service })),
    );
  };
  return {
    name: 'access',
    service,
    controls,
    sessions,
    routes,
    start: () => {
      sessions.start();
      return service.start();
    },
    stop: () => {
      sessions.stop();
      return service.stop();
    },
  };
}
