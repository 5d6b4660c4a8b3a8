import type { CoreDeps, VigieModule } from '../../container.js';
import { caseloadRoutes } from './caseload.routes.js';
import { createCaseloadService, type CaseloadService } from './caseload.service.js';

export interface CaseloadModule extends VigieModule {
  readonly service: CaseloadService;
}

/** Data subjects (opaque ids only) and who follows them: what the access view reads its relations from. */
export function createCaseloadModule(core: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'>): CaseloadModule {
  const service = createCaseloadService(core);
  return { name: 'caseload', service, routes: caseloadRoutes(service) };
}
