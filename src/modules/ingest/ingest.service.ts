import { createHash } from 'node:crypto';
import type { CoreDeps } from '../../container.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import { VigieError } from '../../shared/errors.js';
import type { VigieEvent } from '../../shared/event.js';
import { insertEvents } from '../events/event.repository.js';
import { stampEvent } from '../events/command.js';
import { mapLegacy, type MappingDocument } from './legacy-mapping.js';
import { findReportingScopes } from '../applications/application.repository.js';
import { findNamedAccounts, findNamedOrganisations } from './named-entity.repository.js';
import { mapOcsf, MappingError, type EventDraftIn } from './ocsf.mapper.js';
import { namedIds, resolveClaims, type ReportingFacts } from './reporting-scope.js';

/**
 * Ingestion of events that business applications send. Each item is mapped on its own: a bad one is
 * rejected with its index and a reason, the good ones are kept. Ids are derived from the sender's
 * event id (or, without one, from the item's content) and the application, so a resent batch adds
 * nothing. Accepted events commit in transactions of at most 1,000 (the last one with the
 * `ingest.batch_accepted` summary) and are then published for detection.
 */
export const MAX_BATCH = 10_000;

/** An NDJSON line that did not parse: rejected with its own index like any other bad event. */
export class UnparsableItem {
  constructor(readonly reason: string) {}
}
const MAX_EXPANDED = 50_000;
const WRITE_CHUNK = 1_000;
const MAX_PAST_MS = 30 * 86_400_000;
const MAX_FUTURE_MS = 5 * 60_000;

export interface Rejection {
  readonly index: number;
  readonly code: string;
  readonly reason: string;
}

export interface IngestResult {
  readonly accepted: Array<{ index: number; ids: string[] }>;
  readonly rejected: Rejection[];
  readonly inserted: number;
  readonly duplicates: number;
}

export interface IngestDeps extends Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'> {
  /** True when detection is too far behind to take `extra` more events now. */
  readonly isBehind: (extra: number) => boolean;
  /** True when the database writer is backed up: ingestion yields to decisions' journal writes. */
  readonly writerBusy: () => boolean;
  readonly mappings: () => ReadonlyMap<string, MappingDocument>;
}

/** A UUID-shaped (version 8) id, stable for the same application and sender id. */
export function derivedEventId(applicationId: string, key: string): string {
  const h = createHash('sha256').update(`${applicationId}\n${key}`).digest();
  h[6] = 0x80 | (h[6]! & 0x0f);
  h[8] = 0x80 | (h[8]! & 0x3f);
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function createIngestService(deps: IngestDeps) {
  /** The sender's drafts for one item, before its claims are checked; throws MappingError. */
  function toDrafts(item: unknown, applicationId: string, mapping: MappingDocument | undefined) {
    if (item instanceof UnparsableItem) throw new MappingError('INVALID_JSON', item.reason);
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new MappingError('NOT_AN_OBJECT', 'each event must be a JSON object');
    const obj = item as Record<string, unknown>;
    let drafts: EventDraftIn[];
    if (mapping) drafts = [mapLegacy(mapping, obj, applicationId)];
    else if (typeof obj.class_uid === 'number') drafts = mapOcsf(obj, applicationId);
    else
      throw new MappingError(
        'UNKNOWN_FORMAT',
        'expected an OCSF event (class_uid) or a ?mapping= for this format',
      );
    return { obj, drafts };
  }

  function toEvents(
    obj: Record<string, unknown>,
    drafts: readonly EventDraftIn[],
    applicationId: string,
    facts: ReportingFacts,
  ): VigieEvent[] {
    const now = deps.clock.now().getTime();
    return drafts.map((d) => {
      if (d.timeMs < now - MAX_PAST_MS)
        throw new MappingError('TIME_TOO_OLD', 'time is more than 30 days in the past');
      if (d.timeMs > now + MAX_FUTURE_MS)
        throw new MappingError('TIME_IN_FUTURE', 'time is more than 5 minutes in the future');
      const claims = resolveClaims(d, applicationId, facts);
      const key =
        d.sourceId ?? `content:${canonicalJson(obj)}${drafts.length > 1 ? `#${d.target?.id ?? ''}` : ''}`;
      const event = stampEvent(deps, {
        kind: d.kind,
        actor: claims.actor,
        ...(claims.target ? { target: claims.target } : {}),
        ...(claims.organisationId ? { organisationId: claims.organisationId } : {}),
        ...(d.context ? { context: d.context } : {}),
        outcome: d.outcome,
        ...(d.reason ? { reason: d.reason } : {}),
        ...(d.data ? { data: d.data } : {}),
        source: applicationId,
        time: new Date(d.timeMs).toISOString(),
      });
      return { ...event, id: derivedEventId(applicationId, key) };
    });
  }

  /** The sender's reporting scope and every account and organisation the batch names, in three queries. */
  async function reportingFacts(
    applicationId: string,
    drafts: readonly EventDraftIn[],
  ): Promise<ReportingFacts> {
    const named = namedIds(drafts);
    const [scopes, accounts, organisations] = await Promise.all([
      findReportingScopes(deps.db, [applicationId]),
      findNamedAccounts(deps.db, named.accounts),
      findNamedOrganisations(deps.db, named.organisations),
    ]);
    const scope = scopes.get(applicationId);
    if (!scope) throw new VigieError('APPLICATION_NOT_FOUND', 403, 'the application is not registered');
    return { scopePath: scope.path, accounts, organisations };
  }

  return {
    /** Maps, stores and publishes a batch; throws 413 for an oversized batch and 429 when detection is behind. */
    async ingest(
      applicationId: string,
      items: readonly unknown[],
      mappingName?: string,
    ): Promise<IngestResult> {
      if (items.length > MAX_BATCH)
        throw new VigieError('BATCH_TOO_LARGE', 413, `a batch holds at most ${MAX_BATCH} events`, {
          max: MAX_BATCH,
        });
      const mapping = mappingName === undefined ? undefined : deps.mappings().get(mappingName);
      if (mappingName !== undefined && !mapping)
        throw new VigieError('MAPPING_NOT_FOUND', 404, 'no mapping file has this name');
      if (deps.isBehind(items.length))
        throw new VigieError('INGEST_BACKPRESSURE', 429, 'detection is behind; retry this batch later', {
          retryAfterSeconds: 1,
        });
      if (deps.writerBusy())
        throw new VigieError('INGEST_BACKPRESSURE', 429, 'the journal is busy; retry this batch later', {
          retryAfterSeconds: 1,
        });

      const accepted: Array<{ index: number; ids: string[] }> = [];
      const rejected: Rejection[] = [];
      const events: VigieEvent[] = [];
      const seen = new Set<string>();
      let drafted = 0;
      const mapped: Array<ReturnType<typeof toDrafts> | MappingError> = items.map((item) => {
        try {
          const one = toDrafts(item, applicationId, mapping);
          // Checked here too, so an oversized batch is not all mapped before the first refusal.
          if (drafted + one.drafts.length > MAX_EXPANDED)
            throw new MappingError(
              'BATCH_EXPANDS_TOO_MUCH',
              `a batch may expand to at most ${MAX_EXPANDED} events`,
            );
          drafted += one.drafts.length;
          return one;
        } catch (error) {
          if (!(error instanceof MappingError)) throw error;
          return error;
        }
      });
      const facts = await reportingFacts(
        applicationId,
        mapped.flatMap((m) => (m instanceof MappingError ? [] : m.drafts)),
      );
      mapped.forEach((item, index) => {
        try {
          if (item instanceof MappingError) throw item;
          const fresh = toEvents(item.obj, item.drafts, applicationId, facts).filter((e) => !seen.has(e.id));
          if (events.length + fresh.length > MAX_EXPANDED)
            throw new MappingError(
              'BATCH_EXPANDS_TOO_MUCH',
              `a batch may expand to at most ${MAX_EXPANDED} events`,
            );
          for (const e of fresh) seen.add(e.id);
          events.push(...fresh);
          accepted.push({ index, ids: fresh.map((e) => e.id) });
        } catch (error) {
          if (!(error instanceof MappingError)) throw error;
          rejected.push({ index, code: error.code, reason: error.message });
        }
      });

      // One transaction per WRITE_CHUNK events: a large batch never holds the single SQLite writer
      // long enough to hold up decisions' writes. Each chunk is published once committed, so that
      // detection sees whatever is stored even if a later chunk fails; ids derive from the sender's,
      // so resending the batch completes it without duplicates.
      const insertedIds = new Set<string>();
      for (let start = 0; start === 0 || start < events.length; start += WRITE_CHUNK) {
        const chunk = events.slice(start, start + WRITE_CHUNK);
        const last = start + WRITE_CHUNK >= events.length;
        let summary: VigieEvent | undefined;
        let fresh: VigieEvent[] = [];
        await deps.db.transaction().execute(async (trx) => {
          const ids = new Set(await insertEvents(trx, chunk, { ignoreDuplicates: true }));
          fresh = chunk.filter((e) => ids.has(e.id));
          if (!last) return;
          const inserted = insertedIds.size + fresh.length;
          summary = stampEvent(deps, {
            kind: 'ingest.batch_accepted',
            actor: { type: 'application', id: applicationId },
            outcome: 'success',
            data: {
              received: items.length,
              accepted: accepted.length,
              rejected: rejected.length,
              inserted,
              duplicates: events.length - inserted,
            },
          });
          await insertEvents(trx, [summary]);
        });
        for (const e of fresh) insertedIds.add(e.id);
        const stored = summary ? [...fresh, summary] : fresh;
        if (stored.length > 0) deps.bus.publish(stored);
      }
      const inserted = events.filter((e) => insertedIds.has(e.id));
      return { accepted, rejected, inserted: inserted.length, duplicates: events.length - inserted.length };
    },
  };
}

export type IngestService = ReturnType<typeof createIngestService>;
