/**
 * Import benchmark (a script, not a .bench.ts suite: it drives the real CLI in a child process).
 *
 *   node --import tsx bench/import-follows.ts [--rows N] [--structures N] [--generate-only] [--cli dist|src]
 *
 * 1. generates, in a temp dir, organisations.ndjson (an operator, a network and ~440 Missions Locales)
 *    and follows.ndjson (1.6 M follow relations of young people over those structures);
 * 2. imports the organisations into a fresh SQLite file;
 * 3. measures `/usr/bin/time -v vigie import follows FILE` on it (elapsed, rows/s, peak RSS);
 * 4. measures the raw limit on the same file and machine: better-sqlite3 prepared statements, same
 *    batches and indexes, no validation, no events;
 * 5. writes bench/results/import-follows.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import SqliteDatabase from 'better-sqlite3';
import { uuidv7 } from '../src/shared/ids.js';
import { ratio, writeResults } from './report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const ROWS = Number(arg('rows', '1600000'));
const STRUCTURES = Number(arg('structures', '440'));
const CLI = arg('cli', fs.existsSync(path.join(ROOT, 'dist/cli/main.js')) ? 'dist' : 'src');
const BATCH = 5_000;

/** A real-looking SIRET whose Luhn check holds: 13 digits, then the digit that completes the sum. */
function siret(seed: number): string {
  const body = `7${String(seed).padStart(12, '0')}`;
  for (let d = 0; d <= 9; d++) {
    const candidate = body + d;
    let sum = 0;
    for (let i = 0; i < 14; i++) {
      let x = candidate.charCodeAt(13 - i) - 48;
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

async function writeLines(file: string, count: number, line: (i: number) => string): Promise<void> {
  const out = fs.createWriteStream(file);
  let buffer = '';
  for (let i = 0; i < count; i++) {
    buffer += line(i) + '\n';
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffer = '';
    }
  }
  out.end(buffer);
  await new Promise<void>((r) => out.once('finish', () => r()));
}

async function generate(dir: string): Promise<{ orgFile: string; followFile: string }> {
  const id = () => uuidv7(Date.now(), randomBytes(10));
  const operator = id();
  const network = id();
  const structures = Array.from({ length: STRUCTURES }, id);
  const orgFile = path.join(dir, 'organisations.ndjson');
  const orgLines = [
    { id: operator, name: 'France Travail', kind: 'operator' },
    { id: network, name: 'Réseau des Missions Locales', kind: 'network', parentId: operator },
    ...structures.map((s, i) => ({
      id: s,
      name: `Mission Locale ${i + 1}`,
      kind: 'mission_locale',
      siret: siret(i + 1),
      parentId: network,
    })),
  ];
  fs.writeFileSync(orgFile, orgLines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const followFile = path.join(dir, 'follows.ndjson');
  // One young person per line; a tenth are followed by a second structure (a move), as happens.
  const people = Math.ceil(ROWS / 1.1);
  await writeLines(followFile, ROWS, (i) => {
    const person = i < people ? i : (i - people) * 10;
    const structure = structures[(person + (i < people ? 0 : 1)) % STRUCTURES]!;
    const month = String((person % 12) + 1).padStart(2, '0');
    return JSON.stringify({
      subjectId: `ML-${person.toString(36).padStart(6, '0')}`,
      subjectKind: 'young_person',
      organisationId: structure,
      since: `2025-${month}-01`,
    });
  });
  return { orgFile, followFile };
}

function vigie(args: string[], env: NodeJS.ProcessEnv, timed: boolean) {
  const entry = CLI === 'dist' ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  const command = timed ? '/usr/bin/time' : process.execPath;
  const argv = timed ? ['-v', process.execPath, ...entry, ...args] : [...entry, ...args];
  return spawnSync(command, argv, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 26 });
}

function timeField(stderr: string, label: string): string | undefined {
  return new RegExp(`${label}: (.+)`).exec(stderr)?.[1]?.trim();
}

function wallSeconds(text: string): number {
  const parts = text.split(':').map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

/** The raw limit: prepared statements, same batches, same schema and indexes, nothing else. */
async function rawLimit(file: string, dbFile: string): Promise<number> {
  const db = new SqliteDatabase(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const subject = db.prepare(
    'insert into data_subjects (id, kind, decoy, sealed, created_at) values (?, ?, 0, 0, ?) on conflict do nothing',
  );
  const follow = db.prepare(
    'insert into follows (id, subject_id, organisation_id, account_id, relation, since, until, created_at) values (?, ?, ?, null, ?, ?, null, ?) on conflict do nothing',
  );
  const now = new Date().toISOString();
  const write = db.transaction((rows: Array<Record<string, string>>) => {
    for (const r of rows) {
      subject.run(r.subjectId, r.subjectKind, now);
      follow.run(uuidv7(Date.now()), r.subjectId, r.organisationId, 'follows', r.since, now);
    }
  });
  const started = process.hrtime.bigint();
  let batch: Array<Record<string, string>> = [];
  for await (const line of readline.createInterface({
    input: fs.createReadStream(file),
    crlfDelay: Infinity,
  })) {
    batch.push(JSON.parse(line) as Record<string, string>);
    if (batch.length === BATCH) {
      write(batch);
      batch = [];
    }
  }
  write(batch);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return seconds;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-import-bench-'));
  console.log(`generating ${ROWS.toLocaleString('en')} follows over ${STRUCTURES} structures in ${dir}`);
  const { orgFile, followFile } = await generate(dir);
  const dbFile = path.join(dir, 'vigie.db');
  const env = { ...process.env, VIGIE_DATABASE_URL: `sqlite:${dbFile}`, VIGIE_LOG_LEVEL: 'warn' };
  const orgs = vigie(['import', 'organisations', orgFile], env, false);
  if (orgs.status !== 0) throw new Error(`organisation import failed: ${orgs.stderr}`);
  const command = `VIGIE_DATABASE_URL=sqlite:${dbFile} /usr/bin/time -v npx vigie import follows ${followFile}`;
  if (process.argv.includes('--generate-only')) {
    console.log(`ready; measure with:\n  ${command}`);
    return;
  }
  if (!fs.existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing (apt-get install time)');
  console.log(
    `measuring: ${command.replace('npx vigie', CLI === 'dist' ? 'node dist/cli/main.js' : 'node --import tsx src/cli/main.ts')}`,
  );
  const run = vigie(['import', 'follows', followFile], env, true);
  process.stdout.write(run.stdout);
  if (run.status !== 0)
    throw new Error(`follow import exited with ${run.status}: ${run.stderr.slice(-2000)}`);
  const elapsed = wallSeconds(
    timeField(run.stderr, 'Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)') ?? 'NaN',
  );
  const peakRssMb = Number(timeField(run.stderr, 'Maximum resident set size \\(kbytes\\)')) / 1024;
  const rowsInDb = Number(
    execFileSync(
      'node',
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(${JSON.stringify(dbFile)});console.log(d.prepare('select count(*) c from follows').get().c)`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    ).trim(),
  );

  // The raw limit runs on a copy of the schema holding the same organisations.
  const rawDb = path.join(dir, 'raw.db');
  const fresh = vigie(['migrate'], { ...env, VIGIE_DATABASE_URL: `sqlite:${rawDb}` }, false);
  if (fresh.status !== 0) throw new Error(`migrate failed: ${fresh.stderr}`);
  const seedOrgs = vigie(
    ['import', 'organisations', orgFile],
    { ...env, VIGIE_DATABASE_URL: `sqlite:${rawDb}` },
    false,
  );
  if (seedOrgs.status !== 0) throw new Error(`organisation import failed: ${seedOrgs.stderr}`);
  const rawSeconds = await rawLimit(followFile, rawDb);

  const vigieRate = ROWS / elapsed;
  const rawRate = ROWS / rawSeconds;
  writeResults(
    'import-follows',
    [
      {
        name: 'vigie-cli-import-follows-sqlite',
        opsPerSec: vigieRate,
        p50us: 0,
        p99us: 0,
        rows: ROWS,
        rowsInDb,
        elapsedSeconds: elapsed,
        peakRssMb: Math.round(peakRssMb),
      },
      {
        name: 'raw-better-sqlite3-prepared',
        opsPerSec: rawRate,
        p50us: 0,
        p99us: 0,
        elapsedSeconds: Math.round(rawSeconds * 100) / 100,
      },
    ],
    [
      ratio(
        'IMP1',
        'vigie CLI ÷ raw prepared-statement insert throughput (whole process, startup included)',
        vigieRate / rawRate,
        '>= 0.25',
      ),
      ratio('IMP2', 'peak RSS of the 1.6 M-line import, MB', peakRssMb, '<= 512'),
      ratio('IMP3', 'every line stored (rows in db ÷ lines)', rowsInDb / ROWS, '>= 1'),
    ],
    { command, structures: STRUCTURES },
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
