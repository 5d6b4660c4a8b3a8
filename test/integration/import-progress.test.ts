import { describe, expect, it } from 'vitest';

const ESC = String.fromCharCode(27);
import { createProgress, formatDuration } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 200, write: (s: string) => writes.push(s) } };
}

describe('the CLI progress bar', () => {
  it('redraws one terminal line with bar, percentage, count, rate and ETA, at most every 100 ms', () => {
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const progress = createProgress({ stream, label: 'import follows', total: 1000, now: () => now });
    now = 10_000;
    progress.update({ count: 50_000, done: 250 });
    now = 10_050;
    progress.update({ count: 51_000, done: 260 });
    expect(writes).toHaveLength(1);
    expect(writes[0]!.startsWith(`\r${ESC}[2K`)).toBe(true);
    expect(writes[0]).toMatch(
      /^\r.\[2Kimport follows {2}\[######\.{18}\] +25\.0% {2}50,000 rows {2}5,000 rows\/s {2}ETA 0:30/,
    );
    expect(writes[0]).not.toContain('\n');
    now = 20_000;
    progress.finish({ count: 100_000, done: 1000, rejected: 3 });
    expect(writes[1]).toMatch(/100\.0%.*100,000 rows.*3 rejected.*\n$/);
  });

  it('prints plain lines, spaced out, when stderr is not a terminal', () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const progress = createProgress({
      stream,
      label: 'import',
      total: 100,
      now: () => now,
      plainIntervalMs: 5_000,
    });
    for (let t = 1_000; t <= 12_000; t += 1_000) {
      now = t;
      progress.update({ count: t, done: t / 200 });
    }
    progress.finish({ count: 12_000, done: 100 });
    expect(writes).toHaveLength(4);
    for (const w of writes) {
      expect(w).not.toContain('\r');
      expect(w).not.toContain(ESC);
      expect(w.endsWith('\n')).toBe(true);
    }
  });

  it('formats durations for people', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3_725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});
