import fs from 'node:fs';
import path from 'node:path';

/** Benchmark output contract (DESIGN.md): one JSON file per suite, printed as a table too. */
export interface BenchCase {
  name: string;
  opsPerSec: number;
  p50us: number;
  p99us: number;
  [extra: string]: unknown;
}

export interface BenchRatio {
  id: string;
  name: string;
  value: number;
  goal: string;
  pass: boolean;
}

/** Computes `pass` from the goal so no ratio's verdict is written by hand. Goals: ">= 20", "<= 1.2". */
export function ratio(id: string, name: string, value: number, goal: string): BenchRatio {
  const m = /^(>=|<=|>|<)\s*([0-9.]+)$/.exec(goal.trim());
  if (!m) throw new Error(`unreadable goal ${goal}`);
  const bound = Number(m[2]);
  const pass =
    m[1] === '>='
      ? value >= bound
      : m[1] === '<='
        ? value <= bound
        : m[1] === '>'
          ? value > bound
          : value < bound;
  return { id, name, value: Math.round(value * 1000) / 1000, goal, pass };
}

/** Median and percentiles of a list of durations in microseconds. */
export function percentile(sortedUs: readonly number[], p: number): number {
  if (sortedUs.length === 0) return 0;
  const i = Math.min(sortedUs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedUs.length) - 1));
  return sortedUs[i]!;
}

export function writeResults(
  suite: string,
  cases: BenchCase[],
  ratios: BenchRatio[],
  extra: Record<string, unknown> = {},
): string {
  const out = { suite, node: process.version, date: new Date().toISOString(), cases, ratios, ...extra };
  const dir = path.join(import.meta.dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${suite}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nsuite ${suite} (${process.version})`);
  console.table(
    cases.map((c) => ({
      name: c.name,
      'ops/s': Math.round(c.opsPerSec),
      'p50 µs': round(c.p50us),
      'p99 µs': round(c.p99us),
    })),
  );
  console.table(ratios.map((r) => ({ id: r.id, name: r.name, value: r.value, goal: r.goal, pass: r.pass })));
  console.log(`written ${path.relative(process.cwd(), file)}`);
  return file;
}

const round = (x: number) => Math.round(x * 100) / 100;
