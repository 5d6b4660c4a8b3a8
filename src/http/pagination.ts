import type { KeysetPage } from '../shared/keyset-page.js';
import { encodeCursor } from './schemas.js';

/** A service page as the API answers it: the id to continue after becomes an opaque cursor. */
export function wirePage<T>(page: KeysetPage<T>): { items: T[]; nextCursor: string | null } {
  return { items: page.items, nextCursor: page.nextAfter === null ? null : encodeCursor(page.nextAfter) };
}
