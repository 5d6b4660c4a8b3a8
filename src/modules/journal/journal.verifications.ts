import type { Logger } from 'pino';
import type { Executor } from '../../db/database.js';
import type { Selectable } from 'kysely';
import type { JournalVerificationTable } from '../../db/schema.js';
import { conflict } from '../../shared/errors.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import { runCommand, type CommandDeps } from '../events/command.js';
import type { NoteVerifier } from './signed-note.js';
import { verifyJournal, type VerifyReport } from './journal.verifier.js';

/** The outcome of one full verification of the journal, as the console shows it. */
export interface VerificationRecord {
  readonly id: string;
  readonly via: 'api' | 'cli';
  readonly requestedBy: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ok: boolean;
  readonly treeSize: number;
  readonly entriesChecked: number;
  readonly tilesChecked: number;
  readonly checkpointSize?: number;
  readonly problem?: { readonly code: string; readonly index?: number; readonly eventId?: string };
}

const present = (row: Omit<Selectable<JournalVerificationTable>, 'seq'>): VerificationRecord => ({
  id: row.id,
  via: row.via,
  requestedBy: row.requested_by,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  ok: Number(row.ok) === 1,
  treeSize: Number(row.tree_size),
  entriesChecked: Number(row.entries_checked),
  tilesChecked: Number(row.tiles_checked),
  ...(row.checkpoint_size !== null ? { checkpointSize: Number(row.checkpoint_size) } : {}),
  ...(row.problem_code !== null
    ? {
        problem: {
          code: row.problem_code,
          ...(row.problem_index !== null ? { index: Number(row.problem_index) } : {}),
          ...(row.problem_event_id !== null ? { eventId: row.problem_event_id } : {}),
        },
      }
    : {}),
});

/**
 * Stores a verification's outcome and journals it (`journal.verified`, a failure when the journal
 * did not verify) in one transaction. The message of a problem stays out of both: the code, the leaf
 * index and the event id name it.
 */
export async function recordVerification(
  deps: CommandDeps,
  run: { via: 'api' | 'cli'; actor: Actor; startedAt: Date; report: VerifyReport },
): Promise<VerificationRecord> {
  const { report } = run;
  const by = eventActorOf(run.actor);
  return runCommand(deps, async ({ trx, emit, now }) => {
    const row = {
      id: deps.ids.next(),
      via: run.via,
      requested_by: by.type === 'system' ? by.id : `${by.type}:${by.id}`,
      started_at: run.startedAt.toISOString(),
      finished_at: now.toISOString(),
      ok: report.ok ? 1 : 0,
      tree_size: report.treeSize,
      entries_checked: report.entriesChecked,
      tiles_checked: report.tilesChecked,
      checkpoint_size: report.checkpoint?.size ?? null,
      problem_code: report.problem?.code ?? null,
      problem_index: report.problem?.index ?? null,
      problem_event_id: report.problem?.eventId ?? null,
    };
    await trx.insertInto('journal_verifications').values(row).execute();
    emit({
      kind: 'journal.verified',
      actor: by,
      outcome: report.ok ? 'success' : 'failure',
      ...(report.problem ? { reason: report.problem.code } : {}),
      data: {
        verificationId: row.id,
        via: run.via,
        treeSize: report.treeSize,
        entriesChecked: report.entriesChecked,
        ...(report.problem?.index !== undefined ? { index: report.problem.index } : {}),
      },
    });
    return present(row);
  });
}

/** The verification that finished last, if any ran. */
export async function latestVerification(db: Executor): Promise<VerificationRecord | undefined> {
  const row = await db
    .selectFrom('journal_verifications')
    .selectAll()
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? present(row) : undefined;
}

export interface VerificationRunnerDeps {
  readonly command: CommandDeps;
  readonly logger: Logger;
  readonly origin: string;
  readonly verifier: () => Promise<NoteVerifier>;
  /** Holds this process's integration back while the tree is read (the integrator's `exclusive`). */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * Full verifications started from the API: one at a time (it reads every entry and tile), run in the
 * background between two integration rounds (which wait for it, so the tree does not grow while it
 * is read; decisions and events go on being committed meanwhile), its outcome recorded when it ends.
 * Only an outcome is ever written.
 */
export function createVerificationRunner(deps: VerificationRunnerDeps) {
  let current: { startedAt: Date; requestedBy: string; done: Promise<void> } | undefined;

  return {
    /** Starts a verification for `actor`; refused with 409 while another is running. */
    start(actor: Actor): { startedAt: string } {
      if (current) {
        throw conflict('JOURNAL_VERIFICATION_RUNNING', 'a verification of the journal is already running', {
          startedAt: current.startedAt.toISOString(),
        });
      }
      const startedAt = deps.command.clock.now();
      const by = eventActorOf(actor);
      const done = (async () => {
        try {
          const verifier = await deps.verifier();
          const report = await deps.exclusive(() =>
            verifyJournal(deps.command.db, { verifier, origin: deps.origin }),
          );
          await recordVerification(deps.command, { via: 'api', actor, startedAt, report });
        } catch (error) {
          deps.logger.error({ err: error }, 'journal verification could not run');
        } finally {
          current = undefined;
        }
      })();
      current = { startedAt, requestedBy: `${by.type}:${by.id}`, done };
      return { startedAt: startedAt.toISOString() };
    },

    /** The run in progress, if any. */
    running(): { startedAt: string; requestedBy: string } | undefined {
      return current
        ? { startedAt: current.startedAt.toISOString(), requestedBy: current.requestedBy }
        : undefined;
    },

    latest: () => latestVerification(deps.command.db),

    /** Waits for the run in progress to end (its outcome recorded), so a stop does not cut it. */
    async settle(): Promise<void> {
      await current?.done;
    },
  };
}

export type VerificationRunner = ReturnType<typeof createVerificationRunner>;
