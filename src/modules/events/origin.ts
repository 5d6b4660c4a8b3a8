import { randomUUID } from 'node:crypto';

/**
 * Identifies this process among those writing the same database (the server, a CLI import, another
 * server). Stored beside each event it writes, outside the event itself, so that a server can take in
 * the events the others committed without publishing its own twice.
 */
export const PROCESS_ORIGIN = randomUUID();
