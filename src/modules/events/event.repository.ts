import type { CompiledQuery } from 'kysely';
import { compileBulkInsert, type BulkColumn } from '../../db/bulk-insert.js';
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

/** The columns an append writes: every one but `seq` (assigned) and `leaf_index` (integration). */
const EVENT_COLUMNS: ReadonlyArray<BulkColumn<VigieEvent>> = [
  { name: 'id', pgType: 'text', value: (e) => e.id },
  { name: 'time', pgType: 'text', value: (e) => e.time },
  { name: 'kind', pgType: 'text', value: (e) => e.kind },
  { name: 'actor_type', pgType: 'text', value: (e) => e.actor.type },
  { name: 'actor_id', pgType: 'text', value: (e) => e.actor.id },
  { name: 'target_type', pgType: 'text', value: (e) => e.target?.type ?? null },
  { name: 'target_id', pgType: 'text', value: (e) => e.target?.id ?? null },
  { name: 'organisation_id', pgType: 'text', value: (e) => e.organisationId ?? null },
  { name: 'outcome', pgType: 'text', value: (e) => e.outcome },
  { name: 'source', pgType: 'text', value: (e) => e.source ?? 'vigie' },
  { name: 'origin', pgType: 'text', value: () => PROCESS_ORIGIN },
  { name: 'payload', pgType: 'text', value: (e) => canonicalJson(e) },
];

/**
 * The statements of insertEvents (without duplicates handling), compiled: for writeAtomically (the
 * decision recorder's batches). The same rows as toRow, built without Kysely's builder.
 */
export function compileInsertEvents(db: Executor, events: readonly VigieEvent[]): CompiledQuery[] {
  return compileBulkInsert(db, 'events', EVENT_COLUMNS, events);
}

export async function findEventById(db: Executor, id: string): Promise<VigieEvent | undefined> {
  const row = await db.selectFrom('events').select('payload').where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.payload) as VigieEvent) : undefined;
}
