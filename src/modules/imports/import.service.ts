import fs from 'node:fs';
import type { CoreDeps } from '../../container.js';
import { invalid } from '../../shared/errors.js';
import { eventActorOf, type SystemActor } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { createAccountImporter } from './account.importer.js';
import { LineRejected } from './field.reader.js';
import { createFollowImporter } from './follow.importer.js';
import type { Importer, ImportKind, PendingRow } from './importer.js';
import { createOrganisationImporter } from './organisation.importer.js';
import { createRoleImporter } from './role.importer.js';
import { formatOf, readRecords, type ImportFormat } from './record.source.js';

export type ImportDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'>;

export interface RejectedLine {
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

export interface ImportProgress {
  readonly lines: number;
  readonly imported: number;
  readonly rejected: number;
  readonly bytes: number;
}

export interface ImportSummary {
  readonly importId: string;
  readonly kind: ImportKind;
  readonly format: ImportFormat;
  readonly lines: number;
  readonly imported: number;
  readonly unchanged: number;
  readonly rejected: number;
  readonly batches: number;
  readonly failedBatches: number;
  readonly rejectedByCode: Record<string, number>;
  /** The first rejected lines, for the summary; all of them go to onReject. */
  readonly firstRejects: RejectedLine[];
  readonly aborted: boolean;
  readonly elapsedMs: number;
}

export interface ImportRequest {
  readonly kind: ImportKind;
  readonly chunks: AsyncIterable<string>;
  readonly format: ImportFormat;
  readonly batchSize?: number;
  readonly bytesRead?: () => number;
  readonly onProgress?: (progress: ImportProgress) => void;
  readonly onReject?: (rejected: RejectedLine) => void;
}

export const DEFAULT_BATCH_SIZE = 5_000;
export const MAX_BATCH_SIZE = 50_000;
const FIRST_REJECTS_KEPT = 20;
/** Batches failing one after another mean the database, not the file, is at fault: stop. */
const MAX_CONSECUTIVE_FAILED_BATCHES = 3;

/**
 * The bulk import engine. Lines are streamed, validated one by one against in-memory caches and
 * gathered into batches; each batch is written in one transaction together with one
 * `<kind>.imported` event, so a batch lands whole or not at all. A bad line is reported with its line
 * number and reason and the good lines around it are kept; a batch the database refuses is reported
 * line by line and the import goes on with the next one.
 */
export function createImportService(deps: ImportDeps) {
  function importerFor(kind: ImportKind): Importer<unknown> {
    switch (kind) {
      case 'organisations':
        return createOrganisationImporter(deps.ids);
      case 'accounts':
        return createAccountImporter(deps.ids);
      case 'roles':
        return createRoleImporter(deps.ids);
      case 'follows':
        return createFollowImporter(deps.ids);
    }
  }

  async function run(actor: SystemActor, request: ImportRequest): Promise<ImportSummary> {
    const batchSize = checkedBatchSize(request.batchSize);
    const started = Date.now();
    const importId = deps.ids.next();
    const now = deps.clock.now().toISOString();
    const importer = importerFor(request.kind);
    await importer.prepare(deps.db);

    let lines = 0;
    let imported = 0;
    let unchanged = 0;
    let rejected = 0;
    let batches = 0;
    let failedBatches = 0;
    let consecutiveFailures = 0;
    const rejectedByCode: Record<string, number> = {};
    const firstRejects: RejectedLine[] = [];
    let batch: PendingRow<unknown>[] = [];

    const reject = (r: RejectedLine) => {
      rejected++;
      rejectedByCode[r.code] = (rejectedByCode[r.code] ?? 0) + 1;
      if (firstRejects.length < FIRST_REJECTS_KEPT) firstRejects.push(r);
      request.onReject?.(r);
    };
    const progress = () =>
      request.onProgress?.({ lines, imported, rejected, bytes: request.bytesRead?.() ?? 0 });

    async function flush(): Promise<void> {
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      batches++;
      try {
        const outcome = await runCommand(deps, async (ctx) => {
          const { trx } = ctx;
          const result = await importer.write(trx, rows);
          if (result.insertedIds.length > 0) {
            ctx.emit({
              kind: importer.eventKind,
              actor: eventActorOf(actor),
              target: { type: 'import', id: importId },
              outcome: 'success',
              context: { channel: 'import' },
              data: {
                batch: batches,
                count: result.insertedIds.length,
                unchanged: result.unchanged,
                firstId: result.insertedIds[0],
                lastId: result.insertedIds[result.insertedIds.length - 1],
                firstLine: rows[0]!.line,
                lastLine: rows[rows.length - 1]!.line,
                ...result.counts,
              },
            });
          }
          return result;
        });
        importer.committed(rows);
        imported += outcome.insertedIds.length;
        unchanged += outcome.unchanged;
        consecutiveFailures = 0;
      } catch (error) {
        importer.discarded(rows);
        failedBatches++;
        consecutiveFailures++;
        const cause = databaseCause(error);
        const span = `lines ${rows[0]!.line}–${rows[rows.length - 1]!.line}`;
        for (const r of rows)
          reject({
            line: r.line,
            code: 'BATCH_FAILED',
            message: `batch ${batches} (${span}) was rolled back: ${cause}`,
          });
      }
      progress();
    }

    let aborted = false;
    outer: for await (const records of readRecords(request.chunks, request.format, importer.shape)) {
      for (const record of records) {
        lines++;
        if ('issue' in record) {
          reject({ line: record.line, ...record.issue });
          continue;
        }
        try {
          batch.push({ line: record.line, row: importer.validate(record.fields, now) });
        } catch (error) {
          if (!(error instanceof LineRejected)) throw error;
          reject({ line: record.line, code: error.code, message: error.message });
          continue;
        }
        if (batch.length >= batchSize) {
          await flush();
          if (consecutiveFailures >= MAX_CONSECUTIVE_FAILED_BATCHES) {
            aborted = true;
            break outer;
          }
        }
      }
      progress();
    }
    if (!aborted) await flush();
    progress();

    return {
      importId,
      kind: request.kind,
      format: request.format,
      lines,
      imported,
      unchanged,
      rejected,
      batches,
      failedBatches,
      rejectedByCode,
      firstRejects,
      aborted,
      elapsedMs: Date.now() - started,
    };
  }

  return {
    run,

    /** Imports a file, streamed in 1 MiB chunks; the format comes from `format` or the extension. */
    async importFile(
      actor: SystemActor,
      request: Omit<ImportRequest, 'chunks' | 'format' | 'bytesRead'> & {
        file: string;
        format?: ImportFormat;
      },
    ): Promise<ImportSummary & { bytes: number }> {
      const format = request.format ?? formatOf(request.file);
      if (format === undefined)
        throw invalid(
          'IMPORT_FORMAT_UNKNOWN',
          'cannot tell the format from the extension: use --format csv|ndjson',
        );
      let stat: fs.Stats;
      try {
        stat = fs.statSync(request.file);
      } catch {
        throw invalid('IMPORT_FILE_UNREADABLE', 'the file cannot be read');
      }
      if (!stat.isFile()) throw invalid('IMPORT_FILE_UNREADABLE', 'not a regular file');
      checkedBatchSize(request.batchSize);
      const stream = fs.createReadStream(request.file, { encoding: 'utf8', highWaterMark: 1 << 20 });
      try {
        const summary = await run(actor, {
          ...request,
          format,
          chunks: stream as AsyncIterable<string>,
          bytesRead: () => stream.bytesRead,
        });
        return { ...summary, bytes: stat.size };
      } finally {
        stream.destroy();
      }
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;

function checkedBatchSize(requested: number | undefined): number {
  const batchSize = requested ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE)
    throw invalid('IMPORT_BATCH_SIZE', `the batch size must be between 1 and ${MAX_BATCH_SIZE}`);
  return batchSize;
}

/**
 * The database's reason, short: driver messages name the constraint, not the values (those sit in
 * PostgreSQL's `detail`, which is left out), so no personal data reaches the report.
 */
function databaseCause(error: unknown): string {
  const message = error instanceof Error ? error.message : 'unknown error';
  return message.split('\n')[0]!.slice(0, 200);
}
