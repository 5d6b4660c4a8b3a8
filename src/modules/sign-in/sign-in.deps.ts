import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Dialect } from '../../db/database.js';
import type { EventContext } from '../../shared/event.js';
import type { CommandDeps } from '../events/command.js';

/** What the sign-in services need from the core. */
export interface SignInDeps extends CommandDeps {
  readonly dialect: Dialect;
  readonly signIn: Config['signIn'];
  readonly mail: Config['mail'];
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

/** The request facts sign-in reads: where it came from (for binding and braking) and its event context. */
export interface RequestFacts {
  readonly ip: string;
  readonly userAgent: string | undefined;
  readonly meta: EventContext;
}

/** Vigie's own actor for what happens before anyone is signed in. */
export const SIGN_IN_ACTOR = { kind: 'system', id: 'sign-in' } as const;
/** The same, as an event's actor. */
export const SIGN_IN_EVENT_ACTOR = { type: 'system', id: 'sign-in' } as const;
