import type { CompiledQuery } from 'kysely';
import { compileBulkInsert, type BulkColumn } from '../../db/bulk-insert.js';
import type { Executor } from '../../db/database.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { VigieEvent } from '../../shared/event.js';
import { PROCESS_ORIGIN } from './origin.js';

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
 * decision recorder's batches).
 */
export function compileInsertEvents(db: Executor, events: readonly VigieEvent[]): CompiledQuery[] {
  return compileBulkInsert(db, 'events', EVENT_COLUMNS, events);
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
  const queries = compileBulkInsert(db, 'events', EVENT_COLUMNS, events, {
    ...(options.ignoreDuplicates ? { ignoreConflictOn: 'id' } : {}),
    returning: 'id',
  });
  for (const query of queries) {
    const result = await db.executeQuery<{ id: string }>(query);
    for (const r of result.rows) inserted.push(r.id);
  }
  return inserted;
}

export async function findEventById(db: Executor, id: string): Promise<VigieEvent | undefined> {
  const row = await db.selectFrom('events').select('payload').where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.payload) as VigieEvent) : undefined;
}
