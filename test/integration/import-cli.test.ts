import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ESC = String.fromCharCode(27);
import { EXIT_FAILED, EXIT_OK, EXIT_SOME_REJECTED, runImportCommand } from '../../src/cli/import.js';
import { parseConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';
import { makeScene } from '../helpers/factories.js';

describe('vigie import (the CLI adapter)', () => {
  let database: TestDatabase;
  let dir: string;
  let scene: Awaited<ReturnType<typeof makeScene>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    scene = await makeScene(database.db);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-import-cli-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await database.close();
  });

  function io(isTTY: boolean) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    return {
      stdout,
      stderr,
      io: {
        config: parseConfig({ VIGIE_DATABASE_URL: database.url, VIGIE_LOG_LEVEL: 'silent' }),
        stdout: { write: (s: string) => stdout.push(s) },
        stderr: { isTTY, columns: 160, write: (s: string) => stderr.push(s) },
      },
    };
  }

  it('prints the summary alone on stdout, progress on stderr, and every rejected line to --rejects', async () => {
    const file = path.join(dir, 'follows.jsonl');
    const lines = Array.from({ length: 30 }, (_, i) =>
      i % 10 === 9
        ? JSON.stringify({ subjectId: `bad id ${i}`, organisationId: scene.structure.id })
        : JSON.stringify({ subjectId: `CLI-${i}`, organisationId: scene.structure.id }),
    );
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const rejectsFile = path.join(dir, 'rejects.ndjson');
    const t = io(true);
    const code = await runImportCommand({ kind: 'follows', file, batchSize: 7, rejects: rejectsFile }, t.io);
    expect(code).toBe(EXIT_SOME_REJECTED);
    const out = t.stdout.join('');
    expect(out).toMatch(
      /^import follows \(ndjson\): 30 lines, 27 imported, 0 already present, 3 rejected; 4 batches/,
    );
    expect(out).toContain('line 10: INVALID_FIELD subjectId');
    expect(out).not.toContain('\r');
    expect(out).not.toContain(ESC);
    const err = t.stderr.join('');
    expect(err).toContain('\r\x1b[2Kimport follows');
    expect(err).toMatch(/100\.0%.*30 rows.*3 rejected/);
    expect(err.endsWith('\n')).toBe(true);
    const rejects = fs
      .readFileSync(rejectsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; code: string; message: string });
    expect(rejects.map((r: { line: number }) => r.line)).toEqual([10, 20, 30]);
    expect(rejects[0]).toEqual({
      line: 10,
      code: 'INVALID_FIELD',
      message: expect.stringContaining('subjectId'),
    });
  });

  it('writes plain progress lines when stderr is not a terminal, and a JSON summary on request', async () => {
    const file = path.join(dir, 'follows.csv');
    fs.writeFileSync(
      file,
      `subjectId,organisationId\r\nCSV-1,${scene.structure.id}\r\nCSV-2,${scene.structure.id}\r\n`,
    );
    const t = io(false);
    const code = await runImportCommand({ kind: 'follows', file, json: true }, t.io);
    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(t.stdout.join(''))).toMatchObject({
      kind: 'follows',
      format: 'csv',
      lines: 2,
      imported: 2,
      rejected: 0,
    });
    for (const line of t.stderr) {
      expect(line).not.toContain('\r');
      expect(line).not.toContain(ESC);
      expect(line.endsWith('\n')).toBe(true);
    }
  });

  it('exits with 1 and a message naming the problem when the file cannot be imported', async () => {
    const t = io(false);
    expect(await runImportCommand({ kind: 'follows', file: path.join(dir, 'missing.ndjson') }, t.io)).toBe(
      EXIT_FAILED,
    );
    expect(t.stderr.join('')).toContain('IMPORT_FILE_UNREADABLE');
    const header = path.join(dir, 'bad-header.csv');
    fs.writeFileSync(header, 'subjectId,organisationId,email\n');
    const u = io(false);
    expect(await runImportCommand({ kind: 'follows', file: header }, u.io)).toBe(EXIT_FAILED);
    expect(u.stderr.join('')).toContain('IMPORT_UNKNOWN_COLUMN');
    expect(u.stdout.join('')).toBe('');
  });
});
