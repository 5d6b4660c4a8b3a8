/**
 * Splits a stream of text chunks into lines (LF or CRLF) with their physical line numbers, without
 * ever holding more than one line: a line longer than the bound is reported as too long and skipped.
 */
export type SplitLine =
  { readonly line: number; readonly text: string } | { readonly line: number; readonly tooLong: true };

export class LineSplitter {
  #carry = '';
  #line = 0;
  #skipping = false;
  readonly #maxLength: number;

  constructor(options: { maxLength?: number } = {}) {
    this.#maxLength = options.maxLength ?? 64 * 1024;
  }

  push(chunk: string): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl === -1) break;
      this.#line++;
      if (this.#skipping) {
        this.#skipping = false;
        out.push({ line: this.#line, tooLong: true });
      } else {
        let text = this.#carry.length > 0 ? this.#carry + chunk.slice(start, nl) : chunk.slice(start, nl);
        if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
        if (text.length > this.#maxLength) out.push({ line: this.#line, tooLong: true });
        else out.push({ line: this.#line, text });
      }
      this.#carry = '';
      start = nl + 1;
    }
    if (!this.#skipping && start < chunk.length) {
      this.#carry += chunk.slice(start);
      if (this.#carry.length > this.#maxLength + 1) {
        this.#carry = '';
        this.#skipping = true;
      }
    }
    return out;
  }

  end(): SplitLine[] {
    if (this.#skipping) {
      this.#skipping = false;
      return [{ line: ++this.#line, tooLong: true }];
    }
    if (this.#carry.length === 0) return [];
    let text = this.#carry;
    this.#carry = '';
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    return [{ line: ++this.#line, text }];
  }
}
