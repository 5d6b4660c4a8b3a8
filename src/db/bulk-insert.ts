import { CompiledQuery } from 'kysely';
import { dialectOf, type Dialect, type Executor } from './database.js';

/** One column of a bulk insert: its name, its PostgreSQL type, and how a row gives its value. */
export interface BulkColumn<R> {
  readonly name: string;
  readonly pgType: 'text' | 'integer' | 'bigint';
  readonly value: (row: R) => unknown;
}

/** Rows per SQLite statement: 400 rows of 12 columns stay well below SQLite's bound on parameters. */
const SQLITE_CHUNK = 400;

/**
 * Rows per statement on SQLite: chunks of SQLITE_CHUNK, then the rest as powers of two (399 = 256 +
 * 128 + 8 + 4 + 2 + 1). A few statement texts serve every batch size, so the writer thread keeps
 * them all prepared instead of preparing a new statement for each batch's tail.
 */
export function sqliteChunkSizes(n: number): number[] {
  const sizes: number[] = [];
  let left = n;
  while (left >= SQLITE_CHUNK) {
    sizes.push(SQLITE_CHUNK);
    left -= SQLITE_CHUNK;
  }
  for (let size = 256; size >= 1; size >>= 1) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

const texts = new Map<string, string>();

/** `on conflict (column) do nothing`, and the column to return for each row inserted. */
export interface BulkOptions {
  readonly ignoreConflictOn?: string;
  readonly returning?: string;
}

function statementText(
  dialect: Dialect,
  table: string,
  columns: readonly BulkColumn<never>[],
  rows: number,
  options: BulkOptions,
): string {
  const key = [
    dialect,
    table,
    columns.map((c) => c.name).join(','),
    dialect === 'postgres' ? 0 : rows,
    options.ignoreConflictOn ?? '',
    options.returning ?? '',
  ].join(':');
  let text = texts.get(key);
  if (text !== undefined) return text;
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  if (dialect === 'postgres') {
    // One array per column, whatever the number of rows: one statement text, parsed and planned in
    // microseconds, where a VALUES list of 4,000 rows has 48,000 parameters to parse and plan.
    const arrays = columns.map((c, i) => `$${i + 1}::${c.pgType}[]`).join(', ');
    text = `insert into "${table}" (${names}) select * from unnest(${arrays})`;
  } else {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    text = `insert into "${table}" (${names}) values ${Array.from({ length: rows }, () => tuple).join(', ')}`;
  }
  if (options.ignoreConflictOn !== undefined)
    text += ` on conflict ("${options.ignoreConflictOn}") do nothing`;
  if (options.returning !== undefined) text += ` returning "${options.returning}"`;
  texts.set(key, text);
  return text;
}

/**
 * The statements that insert `rows` into `table`, compiled for writeAtomically: on SQLite multi-row
 * VALUES in chunks of a few fixed sizes, on PostgreSQL one `insert … select * from unnest(…)`. Built
 * by hand rather than with Kysely's builder, which copies and freezes a node per value: on the
 * decision path that cost more than deciding.
 */
export function compileBulkInsert<R>(
  db: Executor,
  table: string,
  columns: readonly BulkColumn<R>[],
  rows: readonly R[],
  options: BulkOptions = {},
): CompiledQuery[] {
  if (rows.length === 0) return [];
  const dialect = dialectOf(db);
  if (dialect === 'postgres') {
    const arrays = columns.map(() => new Array<unknown>(rows.length));
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      for (let c = 0; c < columns.length; c++) arrays[c]![r] = columns[c]!.value(row);
    }
    return [CompiledQuery.raw(statementText(dialect, table, columns, rows.length, options), arrays)];
  }
  const queries: CompiledQuery[] = [];
  let at = 0;
  for (const size of sqliteChunkSizes(rows.length)) {
    const params = new Array<unknown>(size * columns.length);
    let p = 0;
    for (let r = at; r < at + size; r++) {
      const row = rows[r]!;
      for (const column of columns) params[p++] = column.value(row);
    }
    at += size;
    queries.push(CompiledQuery.raw(statementText(dialect, table, columns, size, options), params));
  }
  return queries;
}
