import path from 'node:path';
import type { CoreDeps, VigieModule } from '../../container.js';
import { VigieError } from '../../shared/errors.js';
import type { DetectionService } from '../detection/detection.service.js';
import { createIngestService, type IngestService } from './ingest.service.js';
import { ingestRoutes } from './ingest.routes.js';
import { loadMappings, type MappingDocument } from './legacy-mapping.js';

export interface IngestModule extends VigieModule {
  readonly name: 'ingest';
  readonly service: IngestService;
}

/**
 * Ingestion of business applications' events (OCSF or mapped legacy JSON). It answers 429 when the
 * detection engine is behind, so nothing is dropped. Mapping files: `<rulesDir>/mappings/*.yaml`.
 */
export function createIngestModule(
  core: CoreDeps,
  detection: Pick<DetectionService, 'engine'>,
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
    mappings: load,
  });
  return { name: 'ingest', service, routes: ingestRoutes(service) };
}
