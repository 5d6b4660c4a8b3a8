import type { Config } from '../../config.js';
import type { Dialect } from '../../db/database.js';
import type { EventContext } from '../../shared/event.js';
import type { CommandDeps } from '../events/command.js';

/** What identity's services need from the core; narrowed so that tests can hand in exactly this. */
export interface IdentityDeps extends CommandDeps {
  readonly dialect: Dialect;
  readonly delegation: Config['delegation'];
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
