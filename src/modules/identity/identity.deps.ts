import type { Config } from '../../config.js';
import type { Dialect } from '../../db/database.js';
import type { EventContext } from '../../shared/event.js';
import type { CommandDeps } from '../events/command.js';
import { identityErrors } from './identity.errors.js';

/** What identity's services need from the core; narrowed so that tests can hand in exactly this. */
export interface IdentityDeps extends CommandDeps {
  readonly dialect: Dialect;
  readonly delegation: Config['delegation'];
  readonly tokens: Config['tokens'];
}

/** Where a command came from, recorded on its events (request id, client address, channel). */
export type CommandMeta = EventContext;

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface PageResult<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/**
 * The page size, checked again behind the schema: the query-string coercion turns `limit=1e400` into
 * Infinity, which passes the schema's bounds and would reach the SQL LIMIT.
 */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw identityErrors.invalidLimit(MAX_PAGE);
  return limit;
}
