import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord } from '../../src/modules/imports/csv.parser.js';
import { LineSplitter } from '../../src/modules/imports/line.splitter.js';

function parse(text: string, chunkSize = text.length || 1): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunkSize) out.push(...parser.push(text.slice(i, i + chunkSize)));
  out.push(...parser.end());
  return out;
}

/** The same text split at every chunk size from 1 to 7 must parse the same: chunk edges are invisible. */
function parseEverySplit(text: string): CsvRecord[] {
  const whole = parse(text);
  for (let size = 1; size <= 7; size++) expect(parse(text, size)).toEqual(whole);
  return whole;
}

describe('the RFC 4180 CSV parser', () => {
  it('splits plain fields and records, with or without a final line break', () => {
    expect(parseEverySplit('a,b,c\n1,2,3\n')).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', '2', '3'] },
    ]);
    expect(parseEverySplit('a,b\n1,2')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
    ]);
  });

  it('reads CRLF, LF and bare CR line breaks and counts lines across them', () => {
    expect(parseEverySplit('a\r\nb\nc\rd\r\n')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, fields: ['b'] },
      { line: 3, fields: ['c'] },
      { line: 4, fields: ['d'] },
    ]);
  });

  it('keeps commas, escaped quotes and line breaks inside quoted fields', () => {
    expect(parseEverySplit('"a,b","say ""hi""","line1\r\nline2"\r\nnext,"",x\r\n')).toEqual([
      { line: 1, fields: ['a,b', 'say "hi"', 'line1\r\nline2'] },
      { line: 3, fields: ['next', '', 'x'] },
    ]);
  });

  it('reports empty fields and skips empty lines', () => {
    expect(parseEverySplit(',,\n\n\r\nx,,y\n')).toEqual([
      { line: 1, fields: ['', '', ''] },
      { line: 4, fields: ['x', '', 'y'] },
    ]);
  });

  it('reports a quote inside an unquoted field on its line and resumes at the next line', () => {
    expect(parseEverySplit('ok,1\nbad"x,2\nok,3\n')).toEqual([
      { line: 1, fields: ['ok', '1'] },
      { line: 2, error: expect.stringContaining('a quote inside an unquoted field') },
      { line: 3, fields: ['ok', '3'] },
    ]);
  });

  it('reports text after a closing quote', () => {
    const records = parseEverySplit('"a"b,c\nd\n');
    expect(records[0]).toEqual({ line: 1, error: expect.stringContaining('after a closing quote') });
    expect(records[1]).toEqual({ line: 2, fields: ['d'] });
  });

  it('reports an unterminated quoted field with the line it starts on', () => {
    expect(parseEverySplit('a\n"open\nstill open')).toEqual([
      { line: 1, fields: ['a'] },
      { line: 2, error: expect.stringContaining('unterminated') },
    ]);
  });

  it('bounds the length of one record', () => {
    const parser = new CsvParser({ maxRecordLength: 10 });
    const out = [...parser.push(`${'x'.repeat(50)}\nshort\n`), ...parser.end()];
    expect(out).toEqual([
      { line: 1, error: expect.stringContaining('longer than 10') },
      { line: 2, fields: ['short'] },
    ]);
  });

  it('round-trips any table written by the RFC rules, however it is chunked', () => {
    const cell = fc.string({
      unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', 'é'),
      maxLength: 6,
    });
    const table = fc.array(fc.array(cell, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(table, fc.integer({ min: 1, max: 9 }), (rows, chunk) => {
        const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
        const text = rows.map((r) => r.map(quote).join(',')).join('\r\n') + '\r\n';
        const parsed = parse(text, chunk);
        expect(parsed.map((r) => ('fields' in r ? r.fields : r.error))).toEqual(rows);
      }),
      { numRuns: 300, seed: 20260302 },
    );
  });
});

describe('the NDJSON line splitter', () => {
  it('numbers LF and CRLF lines across chunk edges and skips over-long lines without holding them', () => {
    const splitter = new LineSplitter({ maxLength: 8 });
    const chunks = ['{"a":1}\r', '\n', 'x'.repeat(20), 'y'.repeat(20), '\n{"b":2}', '\nlast'];
    const out = chunks.flatMap((c) => splitter.push(c)).concat(splitter.end());
    expect(out).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, tooLong: true },
      { line: 3, text: '{"b":2}' },
      { line: 4, text: 'last' },
    ]);
  });
});
