import type { CoreDeps, VigieModule } from '../../container.js';
import { applicationRoutes } from './application.routes.js';
import { createApplicationsService, type ApplicationsService } from './application.service.js';

export interface ApplicationsModule extends VigieModule {
  readonly service: ApplicationsService;
}

/** Registered business and partner applications: the service principals that call the PDP and ingest. */
export function createApplicationsModule(
  core: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'config'>,
): ApplicationsModule {
  const service = createApplicationsService(core);
  return { name: 'applications', service, routes: applicationRoutes(service) };
}
