import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCreate, adminToken } from '../../src/cli/admin.js';
import { parseConfig } from '../../src/config.js';
import { createPrincipalResolver } from '../../src/modules/identity/principal.service.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

describe('vigie admin create', () => {
  let database: TestDatabase;
  const config = () => parseConfig({ VIGIE_DATABASE_URL: database.url, VIGIE_LOG_LEVEL: 'silent' });

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('creates the operator root, an active platform administrator and a one-time token, journaled as the CLI', async () => {
    const out: string[] = [];
    await adminCreate(config(), { email: ' Root@Operator.FR', organisationName: 'France Travail' }, (l) =>
      out.push(l),
    );
    const text = out.join('');
    expect(text).toMatch(/^created operator organisation [0-9a-f-]{36}$/m);
    const secret = /^(vig_[A-Za-z0-9_-]{43})$/m.exec(text)?.[1];
    expect(secret).toBeDefined();

    const account = await database.db.selectFrom('accounts').selectAll().executeTakeFirstOrThrow();
    expect(account).toMatchObject({
      email: 'root@operator.fr',
      status: 'active',
      creation_channel: 'cli',
      created_by: null,
    });
    const root = await database.db.selectFrom('organisations').selectAll().executeTakeFirstOrThrow();
    expect(root).toMatchObject({ name: 'France Travail', kind: 'operator', parent_id: null, depth: 0 });
    const principal = await createPrincipalResolver({
      db: database.db,
      clock: new ManualClock('2026-03-02T09:00:00Z'),
    }).resolve(secret!);
    expect(principal).toMatchObject({ kind: 'account', accountId: account.id });
    expect(principal?.kind === 'account' && principal.grants.map((g) => g.roleId)).toEqual([
      'platform_admin',
    ]);

    const events = await database.db
      .selectFrom('events')
      .select(['kind', 'actor_type', 'actor_id', 'payload'])
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.kind)).toEqual([
      'organisation.created',
      'account.created',
      'role.granted',
      'token.issued',
    ]);
    expect(events.every((e) => e.actor_type === 'system' && e.actor_id === 'cli')).toBe(true);
    const journal = events.map((e) => e.payload).join();
    expect(journal).not.toContain(secret!);
    expect(journal).not.toContain('operator.fr');
    expect(journal).not.toContain('France Travail');
  });

  it('reuses the existing root for a second founding administrator and refuses a taken e-mail', async () => {
    const out: string[] = [];
    await adminCreate(config(), { email: 'second@operator.fr' }, (l) => out.push(l));
    expect(out[0]).toMatch(/^using operator organisation/);
    expect(await database.db.selectFrom('organisations').select('id').execute()).toHaveLength(1);
    const before = await database.db.selectFrom('accounts').select('id').execute();
    await expect(adminCreate(config(), { email: 'SECOND@operator.fr' }, () => {})).rejects.toMatchObject({
      code: 'EMAIL_TAKEN',
    });
    expect(await database.db.selectFrom('accounts').select('id').execute()).toHaveLength(before.length);
  });

  it('is wired into the vigie command line', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'admin', 'create', '--email', 'third@operator.fr'],
      {
        cwd: repoRoot,
        env: { ...process.env, VIGIE_DATABASE_URL: database.url, VIGIE_LOG_LEVEL: 'silent' },
        timeout: 30_000,
      },
    );
    expect(stdout).toMatch(/created platform administrator [0-9a-f-]{36}/);
    expect(stdout).toMatch(/^vig_[A-Za-z0-9_-]{43}$/m);
  });

  it('issues a founding administrator a new token once the bootstrap one has expired, journaled as the CLI', async () => {
    const later = parseConfig({ VIGIE_DATABASE_URL: database.url, VIGIE_LOG_LEVEL: 'silent' });
    const out: string[] = [];
    await adminToken(later, { email: 'Second@Operator.fr', days: '7' }, (l) => out.push(l));
    const text = out.join('');
    const secret = /^(vig_[A-Za-z0-9_-]{43})$/m.exec(text)?.[1];
    expect(secret).toBeDefined();
    const expires = /expires (\S+)\):/.exec(text)?.[1];
    // Seven days from now (the runtime's real clock), not the default 30.
    const lifetime = Date.parse(expires!) - Date.now();
    expect(lifetime).toBeGreaterThan(6.9 * 86_400_000);
    expect(lifetime).toBeLessThan(7.1 * 86_400_000);
    const admin = await database.db
      .selectFrom('accounts')
      .select('id')
      .where('email', '=', 'second@operator.fr')
      .executeTakeFirstOrThrow();
    const principal = await createPrincipalResolver({
      db: database.db,
      clock: new ManualClock(new Date()),
    }).resolve(secret!);
    expect(principal).toMatchObject({ kind: 'account', accountId: admin.id });
    const issued = await database.db
      .selectFrom('events')
      .select(['actor_type', 'actor_id', 'payload'])
      .where('kind', '=', 'token.issued')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(issued).toMatchObject({ actor_type: 'system', actor_id: 'cli' });
    expect(issued.payload).not.toContain(secret!);
    expect(JSON.parse(issued.payload).data).toMatchObject({ accountId: admin.id, mintedWith: null });
  });

  it('refuses a token to an unknown e-mail, a non-administrator, and a lifetime beyond the maximum', async () => {
    const tokens = async () => (await database.db.selectFrom('api_tokens').select('id').execute()).length;
    const before = await tokens();
    await expect(adminToken(config(), { email: 'nobody@operator.fr' }, () => {})).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
    await expect(
      adminToken(config(), { email: 'second@operator.fr', days: '31' }, () => {}),
    ).rejects.toMatchObject({ code: 'TOKEN_EXPIRY_TOO_LONG' });
    await expect(
      adminToken(config(), { email: 'second@operator.fr', days: 'NaN' }, () => {}),
    ).rejects.toMatchObject({ code: 'TOKEN_EXPIRY_TOO_LONG' });
    const root = await database.db.selectFrom('organisations').select('id').executeTakeFirstOrThrow();
    await database.db
      .insertInto('accounts')
      .values({
        id: '0195f3c2-8b1e-7c4a-9d2f-3e5a6b7c8d9e',
        organisation_id: root.id,
        kind: 'human',
        email: 'agent@operator.fr',
        display_name: null,
        status: 'active',
        created_by: null,
        approved_by: null,
        approved_at: null,
        creation_channel: 'cli',
        status_reason: null,
        status_changed_at: '2026-01-01T00:00:00.000Z',
        mfa_strength: null,
        last_seen_at: null,
        created_at: '2026-01-01T00:00:00.000Z',
        updated_at: '2026-01-01T00:00:00.000Z',
      })
      .execute();
    await expect(adminToken(config(), { email: 'agent@operator.fr' }, () => {})).rejects.toMatchObject({
      code: 'NOT_AN_ACTIVE_ADMINISTRATOR',
      status: 403,
    });
    expect(await tokens()).toBe(before);
  });
});
