import type { CoreDeps, VigieModule } from '../../container.js';
import { forwardersFromConfig, type AlertForwarder } from './alert.forwarder.js';
import { detectionRoutes } from './detection.routes.js';
import { createDetectionService, type DetectionOptions, type DetectionService } from './detection.service.js';
import type { ResponseActions } from './response.service.js';

export interface DetectionModule extends VigieModule {
  readonly name: 'detection';
  readonly service: DetectionService;
}

/**
 * Detection and response: the streaming engine over the event bus, alerts (API, live stream,
 * forwarding, OCSF export) and the responses rules declare. Responses act through identity's and
 * access's own services, as a person would.
 */
export function createDetectionModule(
  core: CoreDeps,
  actions: ResponseActions,
  options: Omit<DetectionOptions, 'actions'> & { forwarders?: readonly AlertForwarder[] } = {},
): DetectionModule {
  const service = createDetectionService(core, {
    ...options,
    actions,
    forwarders: options.forwarders ?? forwardersFromConfig(core.config.alerts),
  });
  return {
    name: 'detection',
    service,
    routes: detectionRoutes(service),
    start: () => service.start(),
    stop: () => service.stop(),
  };
}
