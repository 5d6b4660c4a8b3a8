import path from 'node:path';
import type { CoreDeps, VigieModule } from '../../container.js';
import { VigieError } from '../../shared/errors.js';
import type { AccessService } from '../access/access.service.js';
import type { DetectionService } from '../detection/detection.service.js';
import { createIngestService, type IngestService } from './ingest.service.js';
import { ingestRoutes } from './ingest.routes.js';
import { loadMappings, type MappingDocument } from './legacy-mapping.js';

export interface IngestModule extends VigieModule {
  readonly name: 'ingest';
  readonly service: IngestService;
}

/**
 * Back-pressure bounds, set so that ingestion yields before decisions wait: callers queued for the
 * writer, how long the oldest has waited, decisions not yet journaled (five recorder batches).
 */
const WRITER_MAX_WAITING = 4;
const WRITER_MAX_WAIT_MS = 50;
const MAX_UNJOURNALED_DECISIONS = 5_000;

/**
 * Ingestion of business applications' events (OCSF or mapped legacy JSON). It answers 429 when the
 * detection engine is behind or the database writer is backed up, so nothing is dropped and
 * decisions' journal writes go first. Mapping files: `<rulesDir>/mappings/*.yaml`.
 */
export function createIngestModule(
  core: CoreDeps,
  detection: Pick<DetectionService, 'engine'>,
  access: Pick<AccessService, 'unjournaled'>,
  options: { mappingsDir?: string } = {},
): IngestModule {
  const dir = options.mappingsDir ?? path.join(core.config.rulesDir, 'mappings');
  let mappings: ReadonlyMap<string, MappingDocument> | undefined;
  const load = () => {
    try {
      mappings ??= loadMappings(dir);
      return mappings;
    } catch (error) {
      core.logger.error(
        { err: error instanceof Error ? error.message : 'error' },
        'ingest mapping files refused',
      );
      throw new VigieError('MAPPINGS_INVALID', 503, 'the mapping files are invalid; see the server log');
    }
  };
  const service = createIngestService({
    ...core,
    isBehind: (extra) => detection.engine.isBehind(extra),
    writerBusy: () => {
      const backlog = core.writerBacklog();
      return (
        backlog.waiting >= WRITER_MAX_WAITING ||
        backlog.oldestWaitMs >= WRITER_MAX_WAIT_MS ||
        access.unjournaled >= MAX_UNJOURNALED_DECISIONS
      );
    },
    mappings: load,
  });
  return { name: 'ingest', service, routes: ingestRoutes(service) };
}
