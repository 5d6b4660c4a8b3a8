import type { CompiledQuery } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { EventTable } from '../../db/schema.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { VigieEvent } from '../../shared/event.js';
import { PROCESS_ORIGIN } from './origin.js';

/** SQLite caps bound parameters per statement; 12 columns × 400 rows stays well below it. */
const INSERT_CHUNK = 400;

function toRow(event: VigieEvent): Omit<EventTable, 'seq' | 'leaf_index'> {
  return {
    id: event.id,
    time: event.time,
    kind: event.kind,
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    target_type: event.target?.type ?? null,
    target_id: event.target?.id ?? null,
    organisation_id: event.organisationId ?? null,
    outcome: event.outcome,
    source: event.source ?? 'vigie',
    origin: PROCESS_ORIGIN,
    payload: canonicalJson(event),
  };
}

/**
 * Appends events in the caller's transaction. With `ignoreDuplicates`, an event whose id is already
 * stored is skipped (a resent batch is harmless); the ids actually inserted are returned.
 */
export async function insertEvents(
  db: Executor,
  events: readonly VigieEvent[],
  options: { ignoreDuplicates?: boolean } = {},
): Promise<string[]> {
  const inserted: string[] = [];
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    const rows = events.slice(i, i + INSERT_CHUNK).map(toRow);
    let query = db.insertInto('events').values(rows);
    if (options.ignoreDuplicates) query = query.onConflict((oc) => oc.column('id').doNothing());
    const result = await query.returning('id').execute();
    for (const r of result) inserted.push(r.id);
  }
  return inserted;
}

/** The statements of insertEvents (without duplicates handling), compiled: for writeAtomically. */
export function compileInsertEvents(db: Executor, events: readonly VigieEvent[]): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  for (let i = 0; i < events.length; i += INSERT_CHUNK)
    queries.push(
      db
        .insertInto('events')
        .values(events.slice(i, i + INSERT_CHUNK).map(toRow))
        .compile(),
    );
  return queries;
}

export async function findEventById(db: Executor, id: string): Promise<VigieEvent | undefined> {
  const row = await db.selectFrom('events').select('payload').where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.payload) as VigieEvent) : undefined;
}

export interface EventFilter {
  readonly kind?: string;
  readonly actorId?: string;
  readonly targetId?: string;
  readonly organisationId?: string;
  /** Return events with seq strictly greater than this (keyset pagination). */
  readonly afterSeq?: number;
  readonly limit: number;
}

export async function listEvents(
  db: Executor,
  filter: EventFilter,
): Promise<Array<{ seq: number; event: VigieEvent }>> {
  let q = db.selectFrom('events').select(['seq', 'payload']).orderBy('seq', 'asc').limit(filter.limit);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.organisationId) q = q.where('organisation_id', '=', filter.organisationId);
  if (filter.afterSeq !== undefined) q = q.where('seq', '>', filter.afterSeq);
  const rows = await q.execute();
  return rows.map((r) => ({ seq: Number(r.seq), event: JSON.parse(r.payload) as VigieEvent }));
}
