import { VigieError } from '../../shared/errors.js';

/** Stable error codes of the journal's API. */
export const journalErrors = {
  noCheckpoint: () =>
    new VigieError('JOURNAL_NO_CHECKPOINT', 404, 'the journal has not signed a checkpoint yet'),
  beyondTree: (what: string, treeSize: number) =>
    new VigieError('JOURNAL_BEYOND_TREE', 400, `${what} is beyond the current tree`, { treeSize }),
  invalidRange: (message: string) => new VigieError('JOURNAL_RANGE_INVALID', 400, message),
  eventNotFound: () => new VigieError('EVENT_NOT_FOUND', 404, 'event not found'),
  eventPending: () =>
    new VigieError(
      'JOURNAL_EVENT_PENDING',
      409,
      'the event is committed but not yet in the tree; retry in a second',
    ),
  tileNotFound: () => new VigieError('JOURNAL_TILE_NOT_FOUND', 404, 'no such tile'),
  entryTooLarge: (index: number) =>
    new VigieError('JOURNAL_ENTRY_TOO_LARGE', 422, 'an entry of this bundle exceeds 65535 bytes', { index }),
  inconsistent: () =>
    new VigieError(
      'JOURNAL_INCONSISTENT',
      500,
      'stored journal state is inconsistent; run `vigie journal verify`',
    ),
  contentScope: () =>
    new VigieError(
      'JOURNAL_SCOPE_DENIED',
      403,
      'journal entries span every organisation: journal.read must be granted on a top-level organisation',
    ),
};
