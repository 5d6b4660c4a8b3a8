import fs from 'node:fs';
import { Argument, Option, type Command } from 'commander';
import pino from 'pino';
import { parseConfig, type Config } from '../config.js';
import { openRuntime } from '../runtime.js';
import { VigieError } from '../shared/errors.js';
import type { SystemActor } from '../shared/principal.js';
import {
  createImportService,
  DEFAULT_BATCH_SIZE,
  type ImportSummary,
} from '../modules/imports/import.service.js';
import type { ImportKind } from '../modules/imports/importer.js';
import type { ImportFormat } from '../modules/imports/record.source.js';
import { createProgress, formatDuration, type ProgressStream } from './progress.js';

export interface ImportArgs {
  readonly kind: ImportKind;
  readonly file: string;
  readonly format?: ImportFormat;
  readonly batchSize?: number;
  readonly rejects?: string;
  readonly json?: boolean;
}

export interface CommandIo {
  readonly config: Config;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: ProgressStream;
}

/** Exit codes: 0 every line imported, 2 some lines rejected, 1 the import could not run or stopped. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_SOME_REJECTED = 2;

const IMPORT_ACTOR: SystemActor = { kind: 'system', id: 'cli:import' };
const grouped = (n: number) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/**
 * `vigie import organisations|accounts|roles|follows FILE`: the operator's bulk provisioning. A thin adapter
 * over the import service: progress on stderr, the summary on stdout, rejected lines as NDJSON in
 * `--rejects FILE` (line number, code, message; never the line's content).
 */
export async function runImportCommand(args: ImportArgs, io: CommandIo): Promise<number> {
  // Logs go to stderr with the progress bar, so stdout carries the summary alone.
  const logger = pino({ level: io.config.logLevel, base: { service: 'vigie' } }, pino.destination(2));
  let rejectsFd: number | undefined;
  const runtime = await openRuntime(io.config, { logger });
  try {
    if (args.rejects !== undefined) rejectsFd = fs.openSync(args.rejects, 'w');
    const total = fs.existsSync(args.file) ? fs.statSync(args.file).size : undefined;
    const progress = createProgress({
      stream: io.stderr,
      label: `import ${args.kind}`,
      ...(total !== undefined ? { total } : {}),
    });
    let last = { count: 0, done: 0, rejected: 0 };
    const service = createImportService(runtime.container.core);
    const summary = await service.importFile(IMPORT_ACTOR, {
      kind: args.kind,
      file: args.file,
      ...(args.format ? { format: args.format } : {}),
      ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      onProgress: (p) => {
        last = { count: p.lines, done: p.bytes, rejected: p.rejected };
        progress.update(last);
      },
      onReject: (r) => {
        if (rejectsFd !== undefined) fs.writeSync(rejectsFd, `${JSON.stringify(r)}\n`);
      },
    });
    progress.finish({ ...last, done: summary.bytes });
    io.stdout.write(args.json ? `${JSON.stringify(summary)}\n` : describe(summary, args.rejects));
    if (summary.aborted) return EXIT_FAILED;
    return summary.rejected > 0 ? EXIT_SOME_REJECTED : EXIT_OK;
  } catch (error) {
    if (!(error instanceof VigieError)) throw error;
    io.stderr.write(`vigie import: ${error.message} (${error.code})\n`);
    return EXIT_FAILED;
  } finally {
    if (rejectsFd !== undefined) fs.closeSync(rejectsFd);
    await runtime.close();
  }
}

function describe(s: ImportSummary, rejectsFile: string | undefined): string {
  const seconds = s.elapsedMs / 1000;
  const out = [
    `import ${s.kind} (${s.format}): ${grouped(s.lines)} lines, ${grouped(s.imported)} imported, ` +
      `${grouped(s.unchanged)} already present, ${grouped(s.rejected)} rejected; ` +
      `${s.batches} batches (${s.failedBatches} rolled back) in ${formatDuration(seconds)} ` +
      `(${grouped(Math.round(s.lines / Math.max(seconds, 1e-3)))} lines/s)`,
  ];
  if (s.aborted) out.push('stopped: several batches in a row were rolled back by the database');
  if (s.rejected > 0) {
    out.push(
      `rejected by reason: ${Object.entries(s.rejectedByCode)
        .map(([code, n]) => `${code} ${grouped(n)}`)
        .join(', ')}`,
    );
    for (const r of s.firstRejects) out.push(`  line ${r.line}: ${r.code} ${r.message}`);
    if (s.rejected > s.firstRejects.length)
      out.push(
        rejectsFile
          ? `  … all ${grouped(s.rejected)} in ${rejectsFile}`
          : `  … ${grouped(s.rejected - s.firstRejects.length)} more (use --rejects FILE to list them all)`,
      );
  }
  return `${out.join('\n')}\n`;
}

function positiveInteger(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new Error('expected a whole number');
  return Number(value);
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('bulk-import organisations, accounts, role assignments or follows from CSV or NDJSON')
    .addArgument(
      new Argument('<kind>', 'what the file holds').choices([
        'organisations',
        'accounts',
        'roles',
        'follows',
      ]),
    )
    .argument('<file>', 'the file to import (.csv, .ndjson or .jsonl)')
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension)').choices(['csv', 'ndjson']),
    )
    .option('--batch-size <n>', `rows per transaction (default ${DEFAULT_BATCH_SIZE})`, positiveInteger)
    .option('--rejects <file>', 'write every rejected line (number, code, reason) to this NDJSON file')
    .option('--json', 'print the summary as JSON')
    .action(async (kind: ImportKind, file: string, options: Omit<ImportArgs, 'kind' | 'file'>) => {
      process.exitCode = await runImportCommand(
        { kind, file, ...options },
        { config: parseConfig(), stdout: process.stdout, stderr: process.stderr },
      );
    });
}
