import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';

/**
 * Every migration, in order. Explicit imports rather than a folder scan, so the same list works from
 * source (tests) and from the compiled build. Each module adds its own file here.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
};
