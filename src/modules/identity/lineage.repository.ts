import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';

/**
 * An account's lineage: every account it created or approved, and theirs, transitively. One
 * recursive CTE, the same text on SQLite and PostgreSQL. UNION (not UNION ALL) over ids makes the
 * recursion stop even if created/approved links ever formed a loop.
 */
const MEMBERS = (rootId: string) => sql`
  with recursive lineage(id) as (
    select id from accounts where created_by = ${rootId} or approved_by = ${rootId}
    union
    select a.id from accounts a join lineage l on a.created_by = l.id or a.approved_by = l.id
  )`;

export async function lineageMemberIds(db: Executor, rootId: string): Promise<string[]> {
  const r = await sql<{
    id: string;
  }>`${MEMBERS(rootId)} select id from lineage where id <> ${rootId} order by id`.execute(db);
  return r.rows.map((row) => row.id);
}

export async function isInLineage(db: Executor, rootId: string, candidateId: string): Promise<boolean> {
  const r = await sql<{
    one: number;
  }>`${MEMBERS(rootId)} select 1 as one from lineage where id = ${candidateId}`.execute(db);
  return r.rows.length > 0;
}

export interface LineageEdge {
  readonly id: string;
  readonly parent_id: string;
  readonly relation: 'created' | 'approved';
  readonly depth: number;
  readonly status: string;
  readonly organisation_id: string;
  readonly created_at: string;
  readonly organisation_path: string;
}

/** Maximum depth of a lineage read: far beyond any real chain, it only bounds pathological data. */
export const LINEAGE_MAX_DEPTH = 32;

/** The lineage as edges (who created or approved whom), each node with its depth from the root. */
export async function lineageEdges(
  db: Executor,
  rootId: string,
  page: { afterKey?: string; limit: number },
): Promise<LineageEdge[]> {
  const r = await sql<LineageEdge>`
    with recursive edges(id, parent_id, relation, depth) as (
      select id, cast(${rootId} as text),
             case when created_by = ${rootId} then cast('created' as text) else cast('approved' as text) end,
             1
        from accounts where created_by = ${rootId} or approved_by = ${rootId}
      union
      select a.id, e.id,
             case when a.created_by = e.id then cast('created' as text) else cast('approved' as text) end,
             e.depth + 1
        from accounts a join edges e on a.created_by = e.id or a.approved_by = e.id
       where e.depth < ${LINEAGE_MAX_DEPTH}
    )
    select e.id, e.parent_id, e.relation, min(e.depth) as depth, a.status, a.organisation_id, a.created_at,
           o.path as organisation_path
      from edges e
      join accounts a on a.id = e.id
      join organisations o on o.id = a.organisation_id
     where e.id <> ${rootId} and (e.id || '|' || e.parent_id) > ${page.afterKey ?? ''}
     group by e.id, e.parent_id, e.relation, a.status, a.organisation_id, a.created_at, o.path
     order by e.id || '|' || e.parent_id
     limit ${page.limit}`.execute(db);
  return r.rows.map((row) => ({ ...row, depth: Number(row.depth) }));
}

/** How an approver is tied to the creation chain of what it approves; see creationChainTie. */
export type CreationChainRelation = 'ancestor' | 'descendant_of_ancestor';

/**
 * Whether `approverId` belongs to the creation chain of `targetIds` (the account approved, or the
 * grantee and its granter), following `created_by` only. The chain of an account is itself, its
 * creator, that creator's creator and so on up to a founding administrator (created_by null).
 * 'ancestor': the approver is in that chain. 'descendant_of_ancestor': the approver was created,
 * directly or not, by someone in that chain (a sibling, a cousin, the creator's other creatures).
 *
 * Both are read upwards: the approver's own chain meets the target's exactly when it descends from
 * one of the target's ancestors, and walking up costs the depth of two chains, where walking down
 * from a founding administrator would read its whole tree. Two recursive CTEs, the same text on
 * SQLite and PostgreSQL, each bounded by LINEAGE_MAX_DEPTH (UNION also ends loops).
 */
export async function creationChainTie(
  db: Executor,
  approverId: string,
  targetIds: readonly string[],
): Promise<CreationChainRelation | undefined> {
  if (targetIds.length === 0) return undefined;
  const r = await sql<{ id: string; approver_depth: number | string }>`
    with recursive
      target_chain(id, depth) as (
        select id, 0 from accounts where id in (${sql.join(targetIds)})
        union
        select a.created_by, c.depth + 1
          from accounts a join target_chain c on a.id = c.id
         where a.created_by is not null and c.depth < ${LINEAGE_MAX_DEPTH}
      ),
      approver_chain(id, depth) as (
        select id, 0 from accounts where id = ${approverId}
        union
        select a.created_by, c.depth + 1
          from accounts a join approver_chain c on a.id = c.id
         where a.created_by is not null and c.depth < ${LINEAGE_MAX_DEPTH}
      )
    select p.id, min(p.depth) as approver_depth
      from approver_chain p join target_chain t on t.id = p.id
     group by p.id
     order by min(p.depth)
     limit 1`.execute(db);
  const first = r.rows[0];
  if (!first) return undefined;
  return Number(first.approver_depth) === 0 ? 'ancestor' : 'descendant_of_ancestor';
}
