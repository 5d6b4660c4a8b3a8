import { InvalidArgumentError, type Command } from 'commander';
import { parseConfig, type Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { exportJournal, verifyExport } from '../modules/journal/journal.export.js';
import { countPendingEvents } from '../modules/journal/journal.repository.js';
import { verifyJournal } from '../modules/journal/journal.verifier.js';
import { recordVerification } from '../modules/journal/journal.verifications.js';
import { systemClock } from '../shared/clock.js';
import { uuidv7Generator } from '../shared/ids.js';
import { formatVerifierKey, parseVerifierKey, type NoteVerifier } from '../modules/journal/signed-note.js';
import { loadSigningKey } from '../modules/journal/signing-key.js';

/** Exit codes: 0 verified, 1 verification failed, 2 the command could not run as asked. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function verifierFor(config: Config, key: string | undefined): Promise<NoteVerifier> {
  if (key) {
    try {
      return parseVerifierKey(key);
    } catch (error) {
      throw new UsageError(`--key: ${(error as Error).message}`);
    }
  }
  try {
    return await loadSigningKey(config.journal, { create: false });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; pass the verifier key with --key`);
  }
}

function wholeNumber(name: string) {
  return (raw: string): number => {
    if (!/^\d{1,15}$/.test(raw)) throw new InvalidArgumentError(`${name} expects a whole number`);
    return Number(raw);
  };
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    process.stderr.write(`vigie journal: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}

/** `vigie journal verify | export | verify-export`. */
export function registerJournalCommands(program: Command): void {
  const journal = program.command('journal').description('prove the journal: verify, export for auditors');

  journal
    .command('verify')
    .description(
      'recompute the Merkle tree from the stored entries and check it against the stored tree state and the latest signed checkpoint; name the first bad index and event id',
    )
    .option('--since-checkpoint <file>', 'also prove the log only grew since this checkpoint, kept elsewhere')
    .option(
      '--key <verifierKey>',
      'verifier key (name+id+key); default: derived from the configured signing key',
    )
    .action((options: { sinceCheckpoint?: string; key?: string }) =>
      run(async () => {
        const config = parseConfig();
        const verifier = await verifierFor(config, options.key);
        let since: string | undefined;
        if (options.sinceCheckpoint) {
          const fs = await import('node:fs/promises');
          since = await fs.readFile(options.sinceCheckpoint, 'utf8').catch(() => {
            throw new UsageError(`cannot read ${options.sinceCheckpoint}`);
          });
        }
        const database = openDatabase(config.databaseUrl, { poolSize: 2 });
        try {
          const startedAt = systemClock.now();
          const report = await verifyJournal(database.db, { verifier, origin: config.journal.origin, since });
          // The outcome is kept (and journaled) for the console's overview; a journal whose tables
          // are missing has nowhere to keep it.
          if (report.problem?.code !== 'NO_STATE') {
            await recordVerification(
              {
                db: database.db,
                bus: { publish: () => undefined },
                clock: systemClock,
                ids: uuidv7Generator(systemClock),
              },
              { via: 'cli', actor: { kind: 'system', id: 'cli' }, startedAt, report },
            );
          }
          const pending = await countPendingEvents(database.db);
          out(
            `journal ${config.journal.origin}: ${report.treeSize} entries in the tree, ${pending} committed and pending`,
          );
          out(`verifier key ${formatVerifierKey(verifier)}`);
          if (report.checkpoint)
            out(`latest checkpoint: size ${report.checkpoint.size}, root ${report.checkpoint.rootHash}`);
          if (report.since) out(`saved checkpoint: size ${report.since.size}, root ${report.since.rootHash}`);
          out(`checked ${report.entriesChecked} entries and ${report.tilesChecked} tiles`);
          if (report.ok) {
            out(
              'OK: entries, tree state and signed checkpoint agree' +
                (since ? '; the log extends the saved checkpoint' : ''),
            );
            return 0;
          }
          const p = report.problem!;
          const where = [
            p.index !== undefined ? `index ${p.index}` : undefined,
            p.eventId !== undefined ? `event ${p.eventId}` : undefined,
          ].filter(Boolean);
          out(`FAIL ${p.code}${where.length ? ` at ${where.join(', ')}` : ''}: ${p.message}`);
          return EXIT_FAILED;
        } finally {
          await database.close();
        }
      }),
    );

  journal
    .command('export')
    .description('write entries (NDJSON), the latest checkpoint and the proof an auditor needs into DIR')
    .requiredOption('--out <dir>', 'folder to write checkpoint, entries.ndjson and proof.json into')
    .option('--from <n>', 'first leaf index (default 0)', wholeNumber('--from'))
    .option('--to <m>', 'leaf index after the last (default: the checkpoint size)', wholeNumber('--to'))
    .action((options: { out: string; from?: number; to?: number }) =>
      run(async () => {
        const config = parseConfig();
        const database = openDatabase(config.databaseUrl, { poolSize: 2 });
        try {
          const result = await exportJournal(database.db, options).catch((error: unknown) => {
            throw new UsageError((error as Error).message);
          });
          out(
            `exported entries [${result.from}, ${result.to}) of a tree of ${result.treeSize} into ${options.out}`,
          );
          return 0;
        } finally {
          await database.close();
        }
      }),
    );

  journal
    .command('verify-export <dir>')
    .description('check an export offline with the verifier key alone')
    .requiredOption('--key <verifierKey>', 'verifier key (name+id+key) published by the journal')
    .action((dir: string, options: { key: string }) =>
      run(async () => {
        try {
          parseVerifierKey(options.key);
        } catch (error) {
          throw new UsageError(`--key: ${(error as Error).message}`);
        }
        const check = await verifyExport(dir, options.key);
        if (check.ok) {
          out(`OK: ${check.entries} entries rebuild the signed root of the tree of ${check.treeSize}`);
          return 0;
        }
        const where = [
          check.index !== undefined ? `index ${check.index}` : undefined,
          check.eventId !== undefined ? `event ${check.eventId}` : undefined,
        ].filter(Boolean);
        out(`FAIL${where.length ? ` at ${where.join(', ')}` : ''}: ${check.problem}`);
        return EXIT_FAILED;
      }),
    );
}
