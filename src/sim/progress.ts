/**
 * The simulator's progress bars, on stderr: on a terminal the bars in progress are redrawn as a block
 * of lines (bar, percentage, count, rate, ETA; the two runs replay side by side), elsewhere a plain
 * line every few seconds; the final state of each bar is always printed. A run replaying in a worker
 * thread sends its lines to the main thread's board (setProgressSink), which draws them with its own.
 */
export interface StepProgress {
  tick(done: number, note?: string): void;
  finish(note?: string): void;
}

interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Where a worker thread's bars go instead of the terminal: its line, and whether it is the last. */
export type ProgressSink = (key: string, line: string, final: boolean) => void;

const WIDTH = 24;
let sink: ProgressSink | undefined;
/** Whether the terminal the sink ends on redraws lines (else a line every few seconds). */
let sinkTty = false;
let nextKey = 0;

export function setProgressSink(next: ProgressSink | undefined, tty = false): void {
  sink = next;
  sinkTty = tty;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The bars in progress on one terminal, drawn together below everything already printed. */
class Board {
  readonly #lines = new Map<string, string>();
  #drawn = 0;
  constructor(readonly stream: Stream) {}

  show(key: string, line: string, final: boolean): void {
    if (!this.stream.isTTY) {
      this.stream.write(`${line}\n`);
      return;
    }
    // Back to the top of the block, cleared; finished lines stay above the bars still running.
    let out = `\r${this.#drawn > 1 ? `\x1b[${this.#drawn - 1}A` : ''}\x1b[J`;
    if (final) {
      this.#lines.delete(key);
      out += `${line}\n`;
    } else this.#lines.set(key, line);
    out += [...this.#lines.values()].join('\n');
    this.#drawn = this.#lines.size;
    this.stream.write(out);
  }
}

const boards = new Map<Stream, Board>();

/** Shows a line a worker thread's bar sent (the main thread's end of setProgressSink). */
export function showRemoteProgress(key: string, line: string, final: boolean): void {
  boardOf(process.stderr).show(key, line, final);
}

function boardOf(stream: Stream): Board {
  let board = boards.get(stream);
  if (!board) boards.set(stream, (board = new Board(stream)));
  return board;
}

export function progressBar(
  label: string,
  total: number,
  unit: string,
  stream: Stream = process.stderr,
): StepProgress {
  const key = `${label}#${(nextKey += 1)}`;
  const tty = sink ? sinkTty : stream.isTTY === true;
  const show = (line: string, final: boolean) =>
    sink ? sink(key, line, final) : boardOf(stream).show(key, line, final);
  const started = Date.now();
  let last = 0;
  let done = 0;
  let extra = '';
  const line = () => {
    const elapsed = Math.max((Date.now() - started) / 1000, 1e-3);
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
    const bar = `[${'#'.repeat(Math.round(fraction * WIDTH))}${'.'.repeat(WIDTH - Math.round(fraction * WIDTH))}]`;
    return `${label.padEnd(28)} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${unit}  ${Math.round(done / elapsed).toLocaleString('en')}/s  ${clock(elapsed)} ETA ${clock(eta)}${extra ? `  ${extra}` : ''}`;
  };
  return {
    tick(value, note) {
      done = value;
      if (note !== undefined) extra = note;
      const now = Date.now();
      if (now - last < (tty ? 150 : 5_000)) return;
      last = now;
      show(line(), false);
    },
    finish(note) {
      done = total;
      if (note !== undefined) extra = note;
      show(line(), true);
    },
  };
}
