import { VigieError } from '../../shared/errors.js';
import { CsvParser } from './csv.parser.js';
import { LineSplitter } from './line.splitter.js';

export type ImportFormat = 'csv' | 'ndjson';

/** Why one line was refused; the message names the field, never echoes its value. */
export interface LineIssue {
  readonly code: string;
  readonly message: string;
}

/** One record of the file: its fields by name (absent when empty), or why it could not be read. */
export type SourceRecord =
  | { readonly line: number; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly line: number; readonly issue: LineIssue };

export interface RecordShape {
  readonly allowed: readonly string[];
  readonly required: readonly string[];
}

/** The format a file name implies, if any. */
export function formatOf(file: string): ImportFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return undefined;
}

const printable = (name: string) => name.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);

/**
 * Reads records from text chunks, a chunk's worth at a time (arrays keep the per-record cost low on
 * 1.6 M lines). The source is pulled, so a slow consumer slows the file read: nothing piles up.
 */
export async function* readRecords(
  chunks: AsyncIterable<string>,
  format: ImportFormat,
  shape: RecordShape,
): AsyncGenerator<SourceRecord[]> {
  if (format === 'ndjson') yield* readNdjson(chunks, shape);
  else yield* readCsv(chunks, shape);
}

async function* readNdjson(
  chunks: AsyncIterable<string>,
  shape: RecordShape,
): AsyncGenerator<SourceRecord[]> {
  const allowed = new Set(shape.allowed);
  const splitter = new LineSplitter();
  let first = true;
  const convert = (lines: ReturnType<LineSplitter['push']>): SourceRecord[] => {
    const out: SourceRecord[] = [];
    for (const l of lines) {
      if ('tooLong' in l) {
        out.push({ line: l.line, issue: { code: 'LINE_TOO_LONG', message: 'the line is too long' } });
        continue;
      }
      let text = l.text;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (text.trim() === '') continue;
      out.push(parseJsonLine(l.line, text, allowed));
    }
    return out;
  };
  for await (const chunk of chunks) {
    const records = convert(splitter.push(chunk));
    if (records.length > 0) yield records;
  }
  const rest = convert(splitter.end());
  if (rest.length > 0) yield rest;
}

function parseJsonLine(line: number, text: string, allowed: ReadonlySet<string>): SourceRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, issue: { code: 'INVALID_JSON', message: 'the line is not valid JSON' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, issue: { code: 'INVALID_JSON', message: 'each line must be a JSON object' } };
  }
  // JSON.parse makes "__proto__" an own key, so it is caught here like any other unknown field.
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      return { line, issue: { code: 'UNKNOWN_FIELD', message: `unknown field "${printable(key)}"` } };
    }
  }
  return { line, fields: value as Record<string, unknown> };
}

async function* readCsv(chunks: AsyncIterable<string>, shape: RecordShape): AsyncGenerator<SourceRecord[]> {
  const parser = new CsvParser();
  let header: string[] | undefined;
  const convert = (records: ReturnType<CsvParser['push']>): SourceRecord[] => {
    const out: SourceRecord[] = [];
    for (const r of records) {
      if ('error' in r) {
        out.push({ line: r.line, issue: { code: 'MALFORMED_CSV', message: r.error } });
        continue;
      }
      if (header === undefined) {
        header = checkHeader(r.fields, shape, r.line);
        continue;
      }
      if (r.fields.length !== header.length) {
        out.push({
          line: r.line,
          issue: {
            code: 'WRONG_FIELD_COUNT',
            message: `expected ${header.length} fields, found ${r.fields.length}`,
          },
        });
        continue;
      }
      const fields: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (let k = 0; k < header.length; k++) {
        const v = r.fields[k]!;
        if (v !== '') fields[header[k]!] = v;
      }
      out.push({ line: r.line, fields });
    }
    return out;
  };
  for await (const chunk of chunks) {
    const records = convert(parser.push(chunk));
    if (records.length > 0) yield records;
  }
  const rest = convert(parser.end());
  if (rest.length > 0) yield rest;
}

/** The header names the columns; an unknown, repeated or missing one stops the import before any write. */
function checkHeader(fields: string[], shape: RecordShape, line: number): string[] {
  const names = fields.map((f, k) => (k === 0 ? f.replace(/^\uFEFF/, '') : f).trim());
  const allowed = new Set(shape.allowed);
  const seen = new Set<string>();
  for (const name of names) {
    if (!allowed.has(name))
      throw new VigieError(
        'IMPORT_UNKNOWN_COLUMN',
        400,
        `line ${line}: unknown column "${printable(name)}"`,
        {
          allowed: shape.allowed,
        },
      );
    if (seen.has(name))
      throw new VigieError('IMPORT_DUPLICATE_COLUMN', 400, `line ${line}: column "${name}" appears twice`);
    seen.add(name);
  }
  for (const name of shape.required) {
    if (!seen.has(name))
      throw new VigieError(
        'IMPORT_MISSING_COLUMN',
        400,
        `line ${line}: required column "${name}" is missing`,
      );
  }
  return names;
}
