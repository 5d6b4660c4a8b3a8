/**
 * A streaming RFC 4180 parser: fields separated by commas, records by CRLF (a bare LF or CR is
 * accepted too), fields optionally enclosed in double quotes, a quote inside a quoted field written
 * as two quotes, line breaks allowed inside quoted fields. It is fed chunks of any size and reports
 * each record with the physical line it starts on, so a rejected record can be named by its line.
 * A malformed record becomes an error record and parsing resumes at the next line.
 */
export type CsvRecord =
  { readonly line: number; readonly fields: string[] } | { readonly line: number; readonly error: string };

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;

type State = 'start' | 'unquoted' | 'quoted' | 'quote_in_quoted' | 'skip';

export class CsvParser {
  #state: State = 'start';
  #field = '';
  #fields: string[] = [];
  #line = 1;
  #recordLine = 1;
  #recordLength = 0;
  #afterCr = false;
  #quotedCr = false;
  #out: CsvRecord[] = [];
  readonly #maxRecordLength: number;

  constructor(options: { maxRecordLength?: number } = {}) {
    this.#maxRecordLength = options.maxRecordLength ?? 64 * 1024;
  }

  /** Parses a chunk; returns the records it completed. */
  push(chunk: string): CsvRecord[] {
    this.#out = [];
    const n = chunk.length;
    let i = 0;
    if (this.#afterCr && n > 0) {
      this.#afterCr = false;
      if (chunk.charCodeAt(0) === LF) i = 1;
    }
    for (; i < n; i++) {
      const c = chunk.charCodeAt(i);
      switch (this.#state) {
        case 'start':
          if (c === QUOTE) this.#state = 'quoted';
          else if (c === COMMA) this.#endField();
          else if (c === CR || c === LF) i = this.#lineBreak(chunk, i, c);
          else {
            // Copy the run of plain characters at once: most fields are unquoted.
            const end = scanPlain(chunk, i);
            this.#field += chunk.slice(i, end);
            i = end - 1;
            this.#state = 'unquoted';
          }
          break;
        case 'unquoted':
          if (c === COMMA) this.#endField();
          else if (c === CR || c === LF) i = this.#lineBreak(chunk, i, c);
          else if (c === QUOTE) this.#fail('a quote inside an unquoted field (enclose the field in quotes)');
          else {
            const end = scanPlain(chunk, i);
            this.#field += chunk.slice(i, end);
            i = end - 1;
          }
          break;
        case 'quoted':
          if (c === QUOTE) {
            if (this.#quotedCr) this.#countBreaks('');
            this.#state = 'quote_in_quoted';
          } else {
            const q = chunk.indexOf('"', i);
            const end = q === -1 ? n : q;
            const text = chunk.slice(i, end);
            this.#field += text;
            this.#countBreaks(text);
            i = end - 1;
          }
          break;
        case 'quote_in_quoted':
          if (c === QUOTE) {
            this.#field += '"';
            this.#state = 'quoted';
          } else if (c === COMMA) this.#endField();
          else if (c === CR || c === LF) i = this.#lineBreak(chunk, i, c);
          else this.#fail('a character after a closing quote (a quote inside a quoted field is written "")');
          break;
        case 'skip':
          if (c === CR || c === LF) {
            i = this.#consumeBreak(chunk, i, c);
            this.#resetRecord();
          }
          break;
      }
      if (this.#field.length + this.#recordLength > this.#maxRecordLength && this.#state !== 'skip') {
        this.#fail(`a record longer than ${this.#maxRecordLength} characters`);
      }
    }
    return this.#out;
  }

  /** Ends the input; returns the last record, if any. */
  end(): CsvRecord[] {
    this.#out = [];
    if (this.#state === 'quoted') {
      this.#out.push({
        line: this.#recordLine,
        error: 'an unterminated quoted field at the end of the file',
      });
    } else if (this.#state !== 'skip') {
      this.#endRecord();
    }
    this.#resetRecord();
    return this.#out;
  }

  #endField(): void {
    this.#recordLength += this.#field.length + 1;
    this.#fields.push(this.#field);
    this.#field = '';
    this.#state = 'start';
  }

  #endRecord(): void {
    // An empty line is no record: files often end with one.
    if (this.#fields.length === 0 && this.#field === '' && this.#state === 'start') return;
    this.#fields.push(this.#field);
    this.#out.push({ line: this.#recordLine, fields: this.#fields });
  }

  #lineBreak(chunk: string, i: number, c: number): number {
    this.#endRecord();
    const next = this.#consumeBreak(chunk, i, c);
    this.#resetRecord();
    return next;
  }

  /** Counts one line break (CRLF, LF or CR); returns the index of its last character. */
  #consumeBreak(chunk: string, i: number, c: number): number {
    this.#line++;
    if (c === CR) {
      if (i + 1 < chunk.length) return chunk.charCodeAt(i + 1) === LF ? i + 1 : i;
      this.#afterCr = true;
    }
    return i;
  }

  /** Counts line breaks inside a quoted field; a CR ending a chunk waits to see if an LF follows. */
  #countBreaks(text: string): void {
    if (this.#quotedCr) {
      this.#quotedCr = false;
      if (text.charCodeAt(0) !== LF) this.#line++;
    }
    const last = text.length - 1;
    for (let k = 0; k <= last; k++) {
      const c = text.charCodeAt(k);
      if (c === LF) this.#line++;
      else if (c === CR) {
        if (k === last) this.#quotedCr = true;
        else if (text.charCodeAt(k + 1) !== LF) this.#line++;
      }
    }
  }

  #resetRecord(): void {
    this.#fields = [];
    this.#field = '';
    this.#recordLength = 0;
    this.#state = 'start';
    this.#recordLine = this.#line;
  }

  #fail(reason: string): void {
    this.#out.push({ line: this.#recordLine, error: `malformed CSV: ${reason}` });
    this.#fields = [];
    this.#field = '';
    this.#state = 'skip';
  }
}

function scanPlain(chunk: string, from: number): number {
  let i = from;
  const n = chunk.length;
  while (i < n) {
    const c = chunk.charCodeAt(i);
    if (c === COMMA || c === QUOTE || c === CR || c === LF) break;
    i++;
  }
  return i;
}
