/**
 * The simulator's progress bars, on stderr: one redrawn line on a terminal (bar, percentage, count,
 * rate, ETA), a plain line every few seconds elsewhere, and the final state always.
 */
export interface StepProgress {
  tick(done: number, note?: string): void;
  finish(note?: string): void;
}

const WIDTH = 24;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function progressBar(
  label: string,
  total: number,
  unit: string,
  stream: { write(text: string): unknown; isTTY?: boolean } = process.stderr,
): StepProgress {
  const tty = stream.isTTY === true;
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
      stream.write(tty ? `\r\x1b[2K${line()}` : `${line()}\n`);
    },
    finish(note) {
      done = total;
      if (note !== undefined) extra = note;
      stream.write(tty ? `\r\x1b[2K${line()}\n` : `${line()}\n`);
    },
  };
}
