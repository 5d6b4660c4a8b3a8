import type { Executor } from '../../db/database.js';

/** Where each evidence event of a finding came from: 'vigie', or the id of the sending application. */
export async function findEvidenceSources(
  db: Executor,
  eventIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (eventIds.length === 0) return out;
  const rows = await db
    .selectFrom('events')
    .select(['id', 'source'])
    .where('id', 'in', [...new Set(eventIds)])
    .execute();
  for (const r of rows) out.set(r.id, r.source);
  return out;
}
