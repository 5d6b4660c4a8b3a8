/** A service's page of a list read by id: its items and the id to continue after (null at the end). */
export interface KeysetPage<T> {
  readonly items: T[];
  readonly nextAfter: string | null;
}

/** Drops the look-ahead row a list query read (it asked for `limit + 1`) and presents the rest. */
export function keysetPage<R, T extends { id: string }>(
  rows: readonly R[],
  limit: number,
  present: (row: R) => T,
): KeysetPage<T> {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map((row) => present(row));
  return { items, nextAfter: more ? (items[items.length - 1]?.id ?? null) : null };
}
