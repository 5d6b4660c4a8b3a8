import { sql } from 'kysely';
import { dialectOf, type Executor } from '../../db/database.js';

/*
 * The read-only aggregates of the security overview. Every query is bounded by a time window (the
 * service caps it) and reads an index: `access_disclosures_time` for disclosures, the primary key
 * `seq` for the journal's decision events (the events table keeps no time index, see migration
 * 0012, so the window's first seq is found by a binary search on seq).
 */

export interface Window {
  readonly since: string;
  readonly until: string;
}

/** Organisation paths the reader may see ('/root/…/'), or null for operator-wide readers. */
export type ScopePaths = readonly string[] | null;

/** `organisation_id` within one of the scope's subtrees (a range of the materialised path). */
function inScope(scope: ScopePaths) {
  if (scope === null) return sql<boolean>`1 = 1`;
  const paths = sql.join(
    scope.map((p) => sql`organisations.path like ${`${p}%`}`),
    sql` or `,
  );
  return sql<boolean>`organisation_id in (select organisations.id from organisations where ${paths})`;
}

export interface HourRow {
  readonly hour: string;
  readonly disclosures: number;
  readonly records: number;
}

/** Disclosures and distinct records per hour ('YYYY-MM-DDTHH'), oldest first. */
export async function disclosuresPerHour(db: Executor, w: Window, scope: ScopePaths): Promise<HourRow[]> {
  const hour = sql<string>`substr(time, 1, 13)`;
  const rows = await db
    .selectFrom('access_disclosures')
    .select([
      hour.as('hour'),
      (eb) => eb.fn.countAll<number | string>().as('disclosures'),
      (eb) => eb.fn.count<number | string>('record_id').distinct().as('records'),
    ])
    .where('time', '>=', w.since)
    .where('time', '<', w.until)
    .where(inScope(scope))
    .groupBy(hour)
    .orderBy(hour)
    .execute();
  return rows.map((r) => ({ hour: r.hour, disclosures: Number(r.disclosures), records: Number(r.records) }));
}

export type Discloser = 'account_id' | 'organisation_id' | 'application_id';

/** The `limit` accounts, organisations or applications that disclosed the most distinct records. */
export async function topDisclosers(
  db: Executor,
  by: Discloser,
  w: Window,
  scope: ScopePaths,
  limit: number,
): Promise<{ id: string; records: number }[]> {
  const records = sql<number | string>`count(distinct record_id)`;
  const rows = await db
    .selectFrom('access_disclosures')
    .select([sql<string>`${sql.ref(by)}`.as('id'), records.as('records')])
    .where('time', '>=', w.since)
    .where('time', '<', w.until)
    .where(by, 'is not', null)
    .where(inScope(scope))
    .groupBy(by)
    .orderBy(records, 'desc')
    .orderBy(by)
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, records: Number(r.records) }));
}

/**
 * A seq at or before the first of Vigie's own events at or after `time`. Vigie stamps its events
 * with its clock as it writes them, so their time grows with seq; ingested events carry the time
 * their sender reported and are skipped by the probe. The search aims `SKEW_MS` early for the
 * clocks of several servers; callers still filter on time. About forty point reads instead of a
 * scan of the whole journal.
 */
export async function firstSeqAtOrAfter(db: Executor, time: string): Promise<number | undefined> {
  const bounds = await db
    .selectFrom('events')
    .select([(eb) => eb.fn.min('seq').as('lo'), (eb) => eb.fn.max('seq').as('hi')])
    .executeTakeFirst();
  if (bounds?.lo == null || bounds.hi == null) return undefined;
  const target = new Date(Date.parse(time) - SKEW_MS).toISOString();
  let lo = Number(bounds.lo);
  let hi = Number(bounds.hi) + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const row = await db
      .selectFrom('events')
      .select(['seq', 'time'])
      .where('seq', '>=', mid)
      .where('source', '=', 'vigie')
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    if (!row || row.time >= target) hi = mid;
    else lo = Number(row.seq) + 1;
  }
  return lo > Number(bounds.hi) ? undefined : lo;
}

/** How far apart the clocks of Vigie's servers may be, for the search above. */
const SKEW_MS = 5 * 60_000;

/** Denied `access.decision` events in the window, by their first reason code. */
export async function denialsByReason(
  db: Executor,
  w: Window,
  scope: ScopePaths,
): Promise<{ reason: string; count: number }[]> {
  const from = await firstSeqAtOrAfter(db, w.since);
  if (from === undefined) return [];
  const reason =
    dialectOf(db) === 'postgres'
      ? sql<string | null>`(payload::jsonb ->> 'reason')`
      : sql<string | null>`json_extract(payload, '$.reason')`;
  const rows = await db
    .selectFrom('events')
    .select([reason.as('reason'), (eb) => eb.fn.countAll<number | string>().as('count')])
    .where('seq', '>=', from)
    .where('kind', '=', 'access.decision')
    .where('outcome', '=', 'denied')
    .where('time', '>=', w.since)
    .where('time', '<', w.until)
    .where(inScope(scope))
    .groupBy(reason)
    .execute();
  return rows
    .map((r) => ({ reason: r.reason ?? 'not_permitted', count: Number(r.count) }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

export interface DisclosureRow {
  readonly event_id: string;
  readonly time: string;
  readonly record_id: string;
  readonly application_id: string | null;
  readonly break_glass: number;
}

/** An account's disclosures since `since`, newest first (never the break-glass justification). */
export async function disclosuresOfAccount(
  db: Executor,
  accountId: string,
  since: string,
  limit: number,
): Promise<DisclosureRow[]> {
  return db
    .selectFrom('access_disclosures')
    .select(['event_id', 'time', 'record_id', 'application_id', 'break_glass'])
    .where('time', '>=', since)
    .where('account_id', '=', accountId)
    .orderBy('time', 'desc')
    .orderBy('event_id', 'desc')
    .limit(limit)
    .execute();
}

export interface DecisionRow {
  readonly id: string;
  readonly time: string;
  readonly target_id: string | null;
  readonly payload: string;
}

/**
 * An account's `access.decision` events since `since`, newest first: read backwards on seq from the
 * end of the journal and stopped at the window's first seq, so at worst the window is scanned.
 */
export async function decisionsOfAccount(
  db: Executor,
  accountId: string,
  since: string,
  limit: number,
): Promise<DecisionRow[]> {
  const from = await firstSeqAtOrAfter(db, since);
  if (from === undefined) return [];
  return db
    .selectFrom('events')
    .select(['id', 'time', 'target_id', 'payload'])
    .where('seq', '>=', from)
    .where('kind', '=', 'access.decision')
    .where('actor_type', '=', 'account')
    .where('actor_id', '=', accountId)
    .where('time', '>=', since)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}
