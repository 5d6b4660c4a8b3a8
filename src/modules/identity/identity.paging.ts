import { wirePage } from '../../http/pagination.js';
import { keysetPage } from '../../shared/keyset-page.js';
import { cursorId } from './actor.js';
import { pageLimit, type PageRequest, type PageResult } from './identity.deps.js';

/** Trims the look-ahead row fetched to know whether another page exists. */
export function page<T extends { id: string }>(items: T[], limit: number): PageResult<T> {
  return wirePage(keysetPage(items, limit, (item) => item));
}

/** The keyset window a list query reads: rows after the cursor's id, one more than the page. */
export interface IdWindow {
  readonly afterId?: string;
  readonly limit: number;
}

/**
 * One page of a list paged by id: checks the limit then the cursor (in that order, as the API
 * always has), reads one look-ahead row through `fetch`, and presents the page.
 */
export async function idPage<R, T extends { id: string }>(
  req: PageRequest,
  fetch: (window: IdWindow) => Promise<R[]>,
  present: (row: R) => T,
): Promise<PageResult<T>> {
  const limit = pageLimit(req.limit);
  const afterId = cursorId(req.cursor);
  const rows = await fetch({ ...(afterId !== undefined ? { afterId } : {}), limit: limit + 1 });
  return wirePage(keysetPage(rows, limit, present));
}
