import type { Kysely } from 'kysely';

/* Migrations are frozen once released: a later change is a new file, never an edit of this one. */

/*
 * The journal's `events` table keeps only the indexes a query uses (issue 9). `events_actor`
 * (actor_id, seq), `events_target` (target_id, seq) and `events_kind_time` (kind, time) served no
 * query: the journal reads by seq, leaf index and id, detection's warm start by seq and time, the
 * PDP's budgets rebuild from `access_disclosures`. Yet every event paid for them,
 * and the first two dearly: an actor or a record id is a random key, so each decision dirtied its
 * own leaf page of each, and a 4,000-decision commit wrote about two 4 KiB pages per event to the WAL
 * (docs/journal.md, "Writing on SQLite"). A query that needs such a lookup later adds the index it
 * needs, on what it reads.
 */
const DROPPED = [
  { name: 'events_kind_time', columns: ['kind', 'time'] },
  { name: 'events_actor', columns: ['actor_id', 'seq'] },
  { name: 'events_target', columns: ['target_id', 'seq'] },
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const index of DROPPED) await db.schema.dropIndex(index.name).ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of DROPPED)
    await db.schema
      .createIndex(index.name)
      .on('events')
      .columns([...index.columns])
      .execute();
}
