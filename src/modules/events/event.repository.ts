import { CompiledQuery } from 'kysely';
import { dialectOf, type Dialect, type Executor } from '../../db/database.js';
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

/** The columns an append writes, in the order of compileInsertEvents' parameters. */
const COLUMNS = [
  'id',
  'time',
  'kind',
  'actor_type',
  'actor_id',
  'target_type',
  'target_id',
  'organisation_id',
  'outcome',
  'source',
  'origin',
  'payload',
] as const;

/**
 * Rows per statement: a chunk of INSERT_CHUNK, then the rest as powers of two (399 = 256 + 128 + 8 +
 * 4 + 2 + 1). So a few statement texts serve every batch size, and SQLite's writer keeps them all
 * prepared instead of preparing a new 400-row statement for each batch's tail.
 */
function chunkSizes(n: number): number[] {
  const sizes: number[] = [];
  let left = n;
  while (left >= INSERT_CHUNK) {
    sizes.push(INSERT_CHUNK);
    left -= INSERT_CHUNK;
  }
  for (let size = 256; size >= 1; size >>= 1) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

const insertSql = new Map<string, string>();

/** `insert into "events" (…) values (…), …` for `rows` rows, in the dialect's placeholders. */
function insertText(dialect: Dialect, rows: number): string {
  const key = `${dialect}:${rows}`;
  let text = insertSql.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      const marks = COLUMNS.map((_, c) => (dialect === 'postgres' ? `$${r * COLUMNS.length + c + 1}` : '?'));
      tuples.push(`(${marks.join(', ')})`);
    }
    text = `insert into "events" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    insertSql.set(key, text);
  }
  return text;
}

/**
 * The statements of insertEvents (without duplicates handling), compiled: for writeAtomically. Built
 * by hand rather than by Kysely's builder, which costs more per decision than deciding it (it
 * copies and freezes a node per value): the same SQL Kysely would write, parameters in place.
 */
export function compileInsertEvents(db: Executor, events: readonly VigieEvent[]): CompiledQuery[] {
  const dialect = dialectOf(db);
  const queries: CompiledQuery[] = [];
  let at = 0;
  for (const size of chunkSizes(events.length)) {
    const params = new Array<unknown>(size * COLUMNS.length);
    let p = 0;
    for (let i = at; i < at + size; i++) {
      const e = events[i]!;
      params[p++] = e.id;
      params[p++] = e.time;
      params[p++] = e.kind;
      params[p++] = e.actor.type;
      params[p++] = e.actor.id;
      params[p++] = e.target?.type ?? null;
      params[p++] = e.target?.id ?? null;
      params[p++] = e.organisationId ?? null;
      params[p++] = e.outcome;
      params[p++] = e.source ?? 'vigie';
      params[p++] = PROCESS_ORIGIN;
      params[p++] = canonicalJson(e);
    }
    at += size;
    queries.push(CompiledQuery.raw(insertText(dialect, size), params));
  }
  return queries;
}

export async function findEventById(db: Executor, id: string): Promise<VigieEvent | undefined> {
  const row = await db.selectFrom('events').select('payload').where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.payload) as VigieEvent) : undefined;
}
