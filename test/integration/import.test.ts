import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { EventBus } from '../../src/shared/event-bus.js';
import type { VigieEvent } from '../../src/shared/event.js';
import { ManualClock } from '../../src/shared/clock.js';
import { uuidv7Generator } from '../../src/shared/ids.js';
import {
  createImportService,
  type ImportService,
  type RejectedLine,
} from '../../src/modules/imports/import.service.js';
import type { ImportKind } from '../../src/modules/imports/importer.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/test-db.js';
import { makeAccount, makeOrganisation, makeScene } from '../helpers/factories.js';

const ACTOR = { kind: 'system', id: 'cli:import' } as const;

describe('the import engine', () => {
  let database: TestDatabase;
  let db: Db;
  let service: ImportService;
  let published: VigieEvent[];
  let dir: string;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let other: Awaited<ReturnType<typeof makeOrganisation>>;
  let n = 0;

  const file = (name: string, lines: Array<string | object>) => {
    const p = path.join(dir, `${++n}-${name}`);
    fs.writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    return p;
  };
  const run = async (kind: ImportKind, p: string, batchSize?: number) => {
    const rejects: RejectedLine[] = [];
    const summary = await service.importFile(ACTOR, {
      kind,
      file: p,
      ...(batchSize ? { batchSize } : {}),
      onReject: (r) => rejects.push(r),
    });
    return { summary, rejects };
  };
  const eventsOf = (kind: string) =>
    db.selectFrom('events').selectAll().where('kind', '=', kind).orderBy('seq').execute();

  beforeAll(async () => {
    database = await createTestDatabase();
    db = database.db;
    const bus = new EventBus();
    published = [];
    bus.subscribe((events) => published.push(...events));
    const clock = new ManualClock('2026-03-02T09:00:00.000Z');
    service = createImportService({ db, bus, clock, ids: uuidv7Generator(clock) });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-import-test-'));
    scene = await makeScene(db);
    other = await makeOrganisation(db, {
      parent: scene.network,
      name: 'Mission Locale B',
      status: 'suspended',
    });
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await database.close();
  });

  it('keeps the good follow lines and reports each bad one with its line number and reason', async () => {
    const a = scene.structure.id;
    const p = file('follows.ndjson', [
      { subjectId: 'Y-1', subjectKind: 'young_person', organisationId: a, since: '2025-09-01' },
      { subjectId: 'Y-2', organisationId: a, relation: 'enrolled' },
      '',
      '{not json',
      { subjectId: 'Y-3', organisationId: a, nir: '185057800608436' },
      '{"subjectId":"Y-4","organisationId":"' + a + '","__proto__":{"x":1}}',
      { subjectId: 'bad id with spaces', organisationId: a },
      { subjectId: 'Y-5', organisationId: '01900000-0000-7000-8000-000000000000' },
      { subjectId: 'Y-6', organisationId: other.id },
      { subjectId: 'Y-7', organisationId: a, since: '2025-02-30' },
      { subjectId: 'Y-8', organisationId: a, since: '2026-01-01', until: '2025-01-01' },
      [1, 2],
      { subjectId: 'Y-9', organisationId: a, accountId: scene.admin.id },
      { subjectId: 'Y-10', organisationId: a },
    ]);
    const { summary, rejects } = await run('follows', p, 2);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [4, 'INVALID_JSON'],
      [5, 'UNKNOWN_FIELD'],
      [6, 'UNKNOWN_FIELD'],
      [7, 'INVALID_FIELD'],
      [8, 'ORGANISATION_NOT_FOUND'],
      [9, 'ORGANISATION_NOT_ACTIVE'],
      [10, 'INVALID_FIELD'],
      [11, 'INVALID_PERIOD'],
      [12, 'INVALID_JSON'],
      [13, 'ACCOUNT_NOT_FOUND'],
    ]);
    expect(rejects[1]!.message).toBe('unknown field "nir"');
    expect(JSON.stringify(rejects)).not.toContain('185057800608436');
    expect(summary).toMatchObject({
      lines: 13,
      imported: 3,
      rejected: 10,
      batches: 2,
      failedBatches: 0,
      aborted: false,
    });
    const follows = await db
      .selectFrom('follows')
      .selectAll()
      .where('subject_id', 'like', 'Y-%')
      .orderBy('subject_id')
      .execute();
    expect(follows.map((f) => [f.subject_id, f.relation, f.since])).toEqual([
      ['Y-1', 'follows', '2025-09-01T00:00:00.000Z'],
      ['Y-10', 'follows', '2026-03-02T09:00:00.000Z'],
      ['Y-2', 'enrolled', '2026-03-02T09:00:00.000Z'],
    ]);
    const subject = await db
      .selectFrom('data_subjects')
      .selectAll()
      .where('id', '=', 'Y-1')
      .executeTakeFirstOrThrow();
    expect(subject).toMatchObject({ kind: 'young_person', decoy: 0, sealed: 0 });
    const events = await eventsOf('follow.imported');
    expect(events).toHaveLength(2);
    const data = events.map((e) => (JSON.parse(e.payload) as VigieEvent).data);
    expect(data[0]).toMatchObject({ batch: 1, count: 2, firstLine: 1, lastLine: 2, subjectsCreated: 2 });
    expect(data[1]).toMatchObject({ batch: 2, count: 1, firstLine: 14, lastLine: 14 });
    expect(data[0]!.firstId).toBe(follows.find((f) => f.subject_id === 'Y-1')!.id);
    expect(published.filter((e) => e.kind === 'follow.imported')).toHaveLength(2);
  });

  it('changes nothing when the same file is imported again, and writes no event', async () => {
    const a = scene.structure.id;
    const p = file('again.ndjson', [
      { subjectId: 'R-1', organisationId: a },
      { subjectId: 'R-2', organisationId: a },
    ]);
    expect((await run('follows', p)).summary.imported).toBe(2);
    const before = (await eventsOf('follow.imported')).length;
    const second = await run('follows', p);
    expect(second.summary).toMatchObject({ imported: 0, unchanged: 2, rejected: 0 });
    expect((await eventsOf('follow.imported')).length).toBe(before);
  });

  describe('when the database refuses a batch', () => {
    beforeAll(async () => {
      if (onPostgres()) {
        await sql`create function refuse_boom() returns trigger language plpgsql as $$
          begin if new.subject_id = 'BOOM' then raise exception 'refused by test trigger'; end if; return new; end $$`.execute(
          db,
        );
        await sql`create trigger refuse_boom before insert on follows for each row execute function refuse_boom()`.execute(
          db,
        );
      } else {
        await sql`create trigger refuse_boom before insert on follows when new.subject_id = 'BOOM'
          begin select raise(abort, 'refused by test trigger'); end`.execute(db);
      }
    });

    it('writes none of that batch (subjects included) and still imports the batches around it', async () => {
      const a = scene.structure.id;
      const p = file('boom.ndjson', [
        { subjectId: 'B-1', organisationId: a },
        { subjectId: 'B-2', organisationId: a },
        { subjectId: 'B-3', organisationId: a },
        { subjectId: 'B-4', organisationId: a },
        { subjectId: 'BOOM', organisationId: a },
        { subjectId: 'B-6', organisationId: a },
        { subjectId: 'B-7', organisationId: a },
      ]);
      const before = (await eventsOf('follow.imported')).length;
      const { summary, rejects } = await run('follows', p, 3);
      expect(summary).toMatchObject({ imported: 4, rejected: 3, batches: 3, failedBatches: 1 });
      expect(rejects.map((r) => [r.line, r.code])).toEqual([
        [4, 'BATCH_FAILED'],
        [5, 'BATCH_FAILED'],
        [6, 'BATCH_FAILED'],
      ]);
      expect(rejects[0]!.message).toContain('refused by test trigger');
      const subjects = await db
        .selectFrom('data_subjects')
        .select('id')
        .where('id', 'in', ['B-1', 'B-2', 'B-3', 'B-4', 'BOOM', 'B-6', 'B-7'])
        .orderBy('id')
        .execute();
      expect(subjects.map((s) => s.id)).toEqual(['B-1', 'B-2', 'B-3', 'B-7']);
      const events = (await eventsOf('follow.imported')).slice(before);
      expect(events.map((e) => (JSON.parse(e.payload) as VigieEvent).data?.batch)).toEqual([1, 3]);
    });

    it('stops after three batches in a row are refused', async () => {
      const a = scene.structure.id;
      const lines = Array.from({ length: 6 }, () => ({ subjectId: 'BOOM', organisationId: a }));
      const { summary } = await run('follows', file('abort.ndjson', lines), 1);
      expect(summary).toMatchObject({ aborted: true, failedBatches: 3, lines: 3, imported: 0 });
    });
  });

  it('imports accounts: canonical unique e-mails, channel import, active; duplicates are rejected lines', async () => {
    await makeAccount(db, { organisationId: scene.structure.id, email: 'taken@ml.test' });
    await db
      .updateTable('organisations')
      .set({ siret: '73282932000074' })
      .where('id', '=', scene.structure.id)
      .execute();
    const p = path.join(dir, 'accounts.csv');
    fs.writeFileSync(
      p,
      [
        'email,organisationId,organisationSiret,kind,displayName',
        ` Alice@ML.test ,${scene.structure.id},,human,"Alice, conseillère"`,
        `alice@ml.test,${scene.structure.id},,,`,
        `TAKEN@ml.test,${scene.structure.id},,,`,
        `not-an-email,${scene.structure.id},,,`,
        `bob@ml.test,,732 829 320 00074,service,`,
        `carol@ml.test,,73282932000075,,`,
        `dan@ml.test,${other.id},,,`,
        `erin@ml.test,${scene.structure.id},,robot,`,
      ].join('\r\n') + '\r\n',
    );
    const { summary, rejects } = await run('accounts', p);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [3, 'EMAIL_TAKEN'],
      [4, 'EMAIL_TAKEN'],
      [5, 'INVALID_EMAIL'],
      [7, 'INVALID_SIRET'],
      [8, 'ORGANISATION_NOT_ACTIVE'],
      [9, 'INVALID_FIELD'],
    ]);
    expect(summary.imported).toBe(2);
    const rows = await db
      .selectFrom('accounts')
      .selectAll()
      .where('creation_channel', '=', 'import')
      .orderBy('email')
      .execute();
    expect(rows.map((r) => [r.email, r.kind, r.status, r.display_name, r.created_by])).toEqual([
      ['alice@ml.test', 'human', 'active', 'Alice, conseillère', null],
      ['bob@ml.test', 'service', 'active', null, null],
    ]);
    const [event] = await eventsOf('account.imported');
    expect(event).toMatchObject({ actor_type: 'system', actor_id: 'cli:import', target_type: 'import' });
  });

  it('imports organisations under parents named by id or SIRET, and refuses cycles, bad SIRETs and orphans', async () => {
    const ml1 = '01900000-0000-7000-8000-00000000a001';
    const p = file('orgs.ndjson', [
      {
        id: ml1,
        name: 'ML Nord',
        kind: 'mission_locale',
        siret: '35600000000048',
        parentId: scene.network.id,
      },
      {
        name: 'Antenne Nord',
        kind: 'agency',
        parentSiret: '356 000 000 00048',
        contractEndDate: '2027-06-30',
      },
      { name: 'Bad SIRET', kind: 'agency', siret: '12345678901234', parentId: ml1 },
      {
        id: '01900000-0000-7000-8000-00000000a004',
        name: 'Self',
        kind: 'agency',
        parentId: '01900000-0000-7000-8000-00000000a004',
      },
      { name: 'Orphan', kind: 'agency', parentId: '01900000-0000-7000-8000-00000000a099' },
      { name: 'Second root', kind: 'operator' },
      { name: 'Operator below', kind: 'operator', parentId: ml1 },
      { name: 'Twin SIRET', kind: 'agency', siret: '35600000000048', parentId: ml1 },
      { id: ml1, name: 'Same id', kind: 'agency', parentId: scene.network.id },
      { name: 'No date', kind: 'agency', parentId: ml1, contractEndDate: '2027-02-30' },
    ]);
    const { summary, rejects } = await run('organisations', p, 1);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [3, 'INVALID_SIRET'],
      [4, 'ORGANISATION_CYCLE'],
      [5, 'PARENT_NOT_FOUND'],
      [6, 'PARENT_REQUIRED'],
      [7, 'INVALID_KIND'],
      [8, 'SIRET_TAKEN'],
      [9, 'ORGANISATION_EXISTS'],
      [10, 'INVALID_FIELD'],
    ]);
    expect(summary.imported).toBe(2);
    const nord = await db
      .selectFrom('organisations')
      .selectAll()
      .where('id', '=', ml1)
      .executeTakeFirstOrThrow();
    expect(nord.path).toBe(`${scene.network.path}${ml1}/`);
    const antenne = await db
      .selectFrom('organisations')
      .selectAll()
      .where('name', '=', 'Antenne Nord')
      .executeTakeFirstOrThrow();
    expect(antenne).toMatchObject({
      parent_id: ml1,
      depth: nord.depth + 1,
      path: `${nord.path}${antenne.id}/`,
      contract_end_date: '2027-06-30',
    });
    expect(await eventsOf('organisation.imported')).toHaveLength(2);
  });

  it('refuses a CSV whose header names a column it does not know, before writing anything', async () => {
    const p = path.join(dir, 'nir.csv');
    fs.writeFileSync(p, `subjectId,organisationId,nir\nZ-1,${scene.structure.id},185057800608436\n`);
    await expect(run('follows', p)).rejects.toMatchObject({ code: 'IMPORT_UNKNOWN_COLUMN' });
    expect(await db.selectFrom('data_subjects').select('id').where('id', '=', 'Z-1').execute()).toEqual([]);
  });

  it('reads quoted CSV follows and names malformed records by line', async () => {
    const p = path.join(dir, 'follows.csv');
    fs.writeFileSync(
      p,
      `\uFEFFsubjectId,organisationId,relation\r\n"C-1",${scene.structure.id},"enrolled"\r\nC-2,${scene.structure.id}\r\nC"3,${scene.structure.id},follows\r\n"C-4",${scene.structure.id},follows`,
    );
    const { summary, rejects } = await run('follows', p);
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [3, 'WRONG_FIELD_COUNT'],
      [4, 'MALFORMED_CSV'],
    ]);
    expect(summary.imported).toBe(2);
  });

  it('refuses an unknown extension without --format, and a batch size out of bounds', async () => {
    const p = file('follows.txt', [{ subjectId: 'T-1', organisationId: scene.structure.id }]);
    await expect(run('follows', p)).rejects.toMatchObject({ code: 'IMPORT_FORMAT_UNKNOWN' });
    const q = file('x.ndjson', []);
    await expect(run('follows', q, 60_000)).rejects.toMatchObject({ code: 'IMPORT_BATCH_SIZE' });
  });
  it('imports role assignments that need no approval, within the account’s own organisation, once', async () => {
    const a = await makeAccount(db, { organisationId: scene.structure.id, email: 'roles.a@ml.test' });
    const gone = await makeAccount(db, { organisationId: scene.structure.id, status: 'disabled' });
    const head = await makeAccount(db, { organisationId: scene.network.id, email: 'roles.head@ml.test' });
    const lines = [
      { accountId: a.id, roleId: 'agent' },
      { email: ' Roles.A@ML.test ', roleId: 'agent' },
      { accountId: a.id, roleId: 'account_manager' },
      { accountId: a.id, roleId: 'no_such_role' },
      { accountId: a.id, roleId: 'agent', organisationId: scene.network.id },
      { accountId: gone.id, roleId: 'agent' },
      { accountId: a.id, email: 'roles.a@ml.test', roleId: 'agent' },
      { email: 'nobody@ml.test', roleId: 'agent' },
      { accountId: head.id, roleId: 'agent', organisationId: scene.structure.id, expiresAt: '2026-01-01' },
      { accountId: head.id, roleId: 'agent', organisationId: scene.structure.id, expiresAt: '2026-12-31' },
      { accountId: a.id, roleId: 'agent', organisationId: other.id },
    ];
    const { summary, rejects } = await run('roles', file('roles.ndjson', lines));
    expect(rejects.map((r) => [r.line, r.code])).toEqual([
      [3, 'PRIVILEGED_ROLE'],
      [4, 'ROLE_NOT_FOUND'],
      [5, 'ORGANISATION_OUTSIDE_ACCOUNT'],
      [6, 'ACCOUNT_DISABLED'],
      [7, 'AMBIGUOUS_ACCOUNT'],
      [8, 'ACCOUNT_NOT_FOUND'],
      [9, 'EXPIRY_IN_PAST'],
      [11, 'ORGANISATION_OUTSIDE_ACCOUNT'],
    ]);
    // The second line names the first one's account by e-mail: the same grant, already present.
    expect([summary.imported, summary.unchanged]).toEqual([2, 1]);
    const rows = await db
      .selectFrom('role_assignments')
      .selectAll()
      .where('account_id', 'in', [a.id, head.id])
      .orderBy('account_id')
      .execute();
    expect(
      rows.map((r) => [r.account_id, r.role_id, r.organisation_id, r.status, r.granted_by, r.expires_at]),
    ).toEqual(
      [
        [a.id, 'agent', scene.structure.id, 'active', null, null],
        [head.id, 'agent', scene.structure.id, 'active', null, '2026-12-31T00:00:00.000Z'],
      ].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
    const events = await eventsOf('role.imported');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor_type: 'system', actor_id: 'cli:import', target_type: 'import' });
    expect(published.some((e) => e.kind === 'role.imported')).toBe(true);
    // Again: nothing new, no event.
    const again = await run('roles', file('roles.ndjson', lines.slice(0, 2)));
    expect([again.summary.imported, again.summary.unchanged]).toEqual([0, 2]);
    expect(await eventsOf('role.imported')).toHaveLength(1);
  });
});
