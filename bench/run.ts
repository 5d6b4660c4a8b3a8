import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm run bench [suite…]`: runs each bench/<suite>.bench.ts in its own process (fresh heap, no JIT
 * carry-over between suites) and fails if any suite's ratio fails.
 */
const dir = import.meta.dirname;
const all = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const wanted = process.argv.slice(2);
const suites = wanted.length ? wanted : all;
let failed = false;
for (const suite of suites) {
  if (!all.includes(suite)) {
    console.error(`no bench suite named ${suite} (have: ${all.join(', ')})`);
    process.exit(2);
  }
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', path.join(dir, `${suite}.bench.ts`)],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) failed = true;
  const file = path.join(dir, 'results', `${suite}.json`);
  if (fs.existsSync(file)) {
    const { ratios } = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      ratios: Array<{ id: string; pass: boolean }>;
    };
    for (const x of ratios) if (!x.pass) failed = true;
  }
}
process.exit(failed ? 1 : 0);
