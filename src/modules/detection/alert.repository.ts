import type { Executor } from '../../db/database.js';
import type { AlertTable, ResponseTable } from '../../db/schema.js';

/** SQL for alerts and responses; the executor comes first so a transaction cannot be forgotten. */
export const OPEN_STATUSES = ['new', 'acknowledged'] as const;

export async function findOpenAlertByDedup(
  db: Executor,
  dedupKey: string,
  sinceIso: string,
): Promise<AlertTable | undefined> {
  return db
    .selectFrom('alerts')
    .selectAll()
    .where('dedup_key', '=', dedupKey)
    .where('last_event_at', '>=', sinceIso)
    .where('status', 'in', [...OPEN_STATUSES])
    .orderBy('last_event_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function insertAlert(db: Executor, row: AlertTable): Promise<void> {
  await db.insertInto('alerts').values(row).execute();
}

export async function updateAlert(db: Executor, id: string, patch: Partial<AlertTable>): Promise<void> {
  await db.updateTable('alerts').set(patch).where('id', '=', id).execute();
}

export async function findAlert(db: Executor, id: string): Promise<AlertTable | undefined> {
  return db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface AlertFilter {
  readonly status?: string;
  readonly severity?: string;
  readonly ruleId?: string;
  readonly entityId?: string;
  /** Organisation paths the reader may see; alerts under any of them are listed. */
  readonly scopePaths: readonly string[];
  /** Whether alerts with no organisation (an IP, for instance) are visible to the reader. */
  readonly includeUnscoped: boolean;
  readonly beforeId?: string;
  readonly limit: number;
}

export async function listAlerts(db: Executor, f: AlertFilter): Promise<AlertTable[]> {
  if (f.scopePaths.length === 0 && !f.includeUnscoped) return [];
  let q = db.selectFrom('alerts').selectAll().orderBy('id', 'desc').limit(f.limit);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.severity) q = q.where('severity', '=', f.severity);
  if (f.ruleId) q = q.where('rule_id', '=', f.ruleId);
  if (f.entityId) q = q.where('entity_id', '=', f.entityId);
  if (f.beforeId) q = q.where('id', '<', f.beforeId);
  q = q.where((eb) =>
    eb.or([
      ...f.scopePaths.map((p) => eb('organisation_path', 'like', `${p}%`)),
      ...(f.includeUnscoped ? [eb('organisation_path', 'is', null)] : []),
    ]),
  );
  return q.execute();
}

export async function insertResponse(db: Executor, row: ResponseTable): Promise<void> {
  await db.insertInto('responses').values(row).execute();
}

export async function findResponse(db: Executor, id: string): Promise<ResponseTable | undefined> {
  return db.selectFrom('responses').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listResponsesOfAlert(db: Executor, alertId: string): Promise<ResponseTable[]> {
  return db.selectFrom('responses').selectAll().where('alert_id', '=', alertId).orderBy('id').execute();
}

/** Marks a response undone only if it still is executed: two analysts cannot undo it twice. */
export async function markResponseUndone(db: Executor, id: string, by: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('responses')
    .set({ status: 'undone', undone_at: at, undone_by: by })
    .where('id', '=', id)
    .where('status', '=', 'executed')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Executed (not undone) responses of one action: the freezes whose expiry is watched. */
export async function listExecutedResponses(db: Executor, action: string): Promise<ResponseTable[]> {
  return db
    .selectFrom('responses')
    .selectAll()
    .where('action', '=', action)
    .where('status', '=', 'executed')
    .limit(1000)
    .execute();
}

/** Links risk observations to the first alert they led to; one already linked keeps its alert. */
export async function linkObservations(db: Executor, ids: readonly string[], alertId: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db
      .updateTable('risk_observations')
      .set({ alert_id: alertId })
      .where('id', 'in', ids.slice(i, i + 500))
      .where('alert_id', 'is', null)
      .execute();
  }
}
