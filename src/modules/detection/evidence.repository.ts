import type { Executor } from '../../db/database.js';

/**
 * Where each evidence event of a finding came from: 'vigie', or the id of the sending application.
 * A decision the PDP made for an application's request is Vigie's event, but who the subject is
 * was the application's word (AuthZEN's subject is the caller's claim): such a decision counts as
 * the calling application's, so a response on its strength stays within that application's
 * reporting scope, and never reaches a privileged account on its own.
 */
export async function findEvidenceSources(
  db: Executor,
  eventIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (eventIds.length === 0) return out;
  const rows = await db
    .selectFrom('events')
    .select(['id', 'source', 'kind', 'payload'])
    .where('id', 'in', [...new Set(eventIds)])
    .execute();
  for (const r of rows)
    out.set(r.id, r.kind === 'access.decision' ? (callerOf(r.payload) ?? r.source) : r.source);
  return out;
}

function callerOf(payload: string): string | undefined {
  try {
    const app = (JSON.parse(payload) as { data?: { applicationId?: unknown } }).data?.applicationId;
    return typeof app === 'string' ? app : undefined;
  } catch {
    return undefined;
  }
}
