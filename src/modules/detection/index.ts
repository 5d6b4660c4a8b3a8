import type { CoreDeps, VigieModule } from '../../container.js';
import { forwardersFromConfig, type AlertForwarder } from './alert.forwarder.js';
import { detectionRoutes } from './detection.routes.js';
import { createDetectionService, type DetectionOptions, type DetectionService } from './detection.service.js';
import type { ResponseActions } from './response.service.js';
import { findReportingScopes } from '../applications/application.repository.js';
import {
  listActivePlatformAdminIds,
  findAccountResponseFacts,
  findOrganisationPath,
} from '../identity/response-facts.repository.js';
import { findEvidenceSources } from './evidence.repository.js';
import { lineageMemberIds } from '../identity/lineage.repository.js';

/** The acts identity and access perform for a response, as the composition root hands them over. */
export interface ResponseCommands {
  readonly identity: Pick<
    ResponseActions['identity'],
    'suspendAccount' | 'suspendLineage' | 'reactivateAccount' | 'revokeAccountTokens'
  >;
  readonly controls: ResponseActions['controls'];
}

/**
 * Adds the read-only facts a response is checked against (the target's place and power, the
 * evidence's origin and its senders' reporting scopes) to identity's and access's commands.
 */
export function responseActions(
  core: Pick<CoreDeps, 'db' | 'clock'>,
  commands: ResponseCommands,
): ResponseActions {
  const { identity } = commands;
  const now = () => core.clock.now().toISOString();
  return {
    controls: commands.controls,
    identity: {
      suspendAccount: (actor, id, reason) => identity.suspendAccount(actor, id, reason),
      suspendLineage: (actor, id, reason) => identity.suspendLineage(actor, id, reason),
      reactivateAccount: (actor, id, reason) => identity.reactivateAccount(actor, id, reason),
      revokeAccountTokens: (actor, id, reason) => identity.revokeAccountTokens(actor, id, reason),
      accountFacts: (id) => findAccountResponseFacts(core.db, id, now()),
      activePlatformAdminIds: () => listActivePlatformAdminIds(core.db, now()),
      lineageOf: (id) => lineageMemberIds(core.db, id),
      organisationPath: (id) => findOrganisationPath(core.db, id),
    },
    evidence: {
      sources: (ids) => findEvidenceSources(core.db, ids),
      reportingPaths: async (ids) =>
        new Map([...(await findReportingScopes(core.db, ids))].map(([id, s]) => [id, s.path])),
      applicationKind: async (id) =>
        (await core.db.selectFrom('applications').select('kind').where('id', '=', id).executeTakeFirst())
          ?.kind,
    },
  };
}

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
  commands: ResponseCommands,
  options: Omit<DetectionOptions, 'actions'> & { forwarders?: readonly AlertForwarder[] } = {},
): DetectionModule {
  const service = createDetectionService(core, {
    ...options,
    actions: responseActions(core, commands),
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
