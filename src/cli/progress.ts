/**
 * A small progress bar for long CLI commands, on stderr so that stdout keeps only the result. On a
 * terminal it redraws one line (bar, percentage, count, rate, ETA) at most every 100 ms; elsewhere
 * (a log file, CI) it prints a plain line every few seconds instead of filling the log with redraws.
 */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressState {
  /** Rows handled so far. */
  readonly count: number;
  /** Bytes of input consumed, for the percentage and ETA when the total is known. */
  readonly done?: number;
  readonly rejected?: number;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Draws the final state and ends the line. */
  finish(state: ProgressState): void;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  readonly label: string;
  /** Total bytes, when known; without it there is no bar nor ETA. */
  readonly total?: number;
  readonly now?: () => number;
  readonly ttyIntervalMs?: number;
  readonly plainIntervalMs?: number;
}

const BAR_WIDTH = 24;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const grouped = (n: number) =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const tty = options.stream.isTTY === true;
  const interval = tty ? (options.ttyIntervalMs ?? 100) : (options.plainIntervalMs ?? 5_000);
  const started = now();
  let lastDraw = -Infinity;

  function render(state: ProgressState): string {
    const elapsed = Math.max((now() - started) / 1000, 1e-3);
    const rate = state.count / elapsed;
    const parts = [options.label];
    const total = options.total;
    if (total !== undefined && total > 0 && state.done !== undefined) {
      const fraction = Math.min(state.done / total, 1);
      if (tty) {
        const filled = Math.round(fraction * BAR_WIDTH);
        parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`);
      }
      parts.push(`${(fraction * 100).toFixed(1).padStart(5)}%`);
      const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
      parts.push(`${grouped(state.count)} rows`, `${grouped(rate)} rows/s`, `ETA ${formatDuration(eta)}`);
    } else {
      parts.push(`${grouped(state.count)} rows`, `${grouped(rate)} rows/s`);
    }
    if (state.rejected) parts.push(`${grouped(state.rejected)} rejected`);
    parts.push(`elapsed ${formatDuration(elapsed)}`);
    return parts.join('  ');
  }

  function draw(state: ProgressState, final: boolean): void {
    const line = render(state);
    if (tty) {
      const width = options.stream.columns ?? 120;
      options.stream.write(`\r\x1b[2K${line.slice(0, Math.max(width - 1, 20))}${final ? '\n' : ''}`);
    } else {
      options.stream.write(`${line}\n`);
    }
  }

  return {
    update(state) {
      const t = now();
      if (t - lastDraw < interval) return;
      lastDraw = t;
      draw(state, false);
    },
    finish(state) {
      draw(state, true);
    },
  };
}
