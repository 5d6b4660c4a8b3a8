import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterClass, hashOf } from '../../src/modules/oidc-provider/oidc.adapter.js';
import { purgeExpiredArtifacts } from '../../src/modules/oidc-provider/oidc.repository.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.js';

/** oidc-provider's storage contract on the real database (SQLite, or PostgreSQL when set). */
let database: TestDatabase;
const clock = new ManualClock('2026-03-02T09:00:00.000Z');
let Adapter: ReturnType<typeof createAdapterClass>;

beforeAll(async () => {
  database = await createTestDatabase();
  Adapter = createAdapterClass({ db: database.db, clock });
});
afterAll(async () => database?.close());

describe('the Kysely adapter of oidc-provider', () => {
  it('stores a token under the SHA-256 of its id, without the id, and gives it back whole', async () => {
    const tokens = new Adapter('AccessToken');
    await tokens.upsert('tok-1', { jti: 'tok-1', grantId: 'g1', accountId: 'a1', kind: 'AccessToken' }, 60);
    const row = await database.db
      .selectFrom('oidc_artifacts')
      .selectAll()
      .where('model', '=', 'AccessToken')
      .executeTakeFirstOrThrow();
    expect(row.id_hash).toBe(hashOf('tok-1'));
    expect(row.payload).not.toContain('tok-1');
    expect(await tokens.find('tok-1')).toMatchObject({ jti: 'tok-1', grantId: 'g1', accountId: 'a1' });
    expect(await tokens.find('tok-2')).toBeUndefined();
    expect(await new Adapter('RefreshToken').find('tok-1')).toBeUndefined();
  });

  it('marks a code consumed, finds a session by uid, and revokes every artefact of a grant', async () => {
    const codes = new Adapter('AuthorizationCode');
    await codes.upsert('code-1', { jti: 'code-1', grantId: 'g2' }, 60);
    await codes.consume('code-1');
    expect((await codes.find('code-1'))?.consumed).toEqual(expect.any(Number));

    const sessions = new Adapter('Session');
    await sessions.upsert('s-1', { jti: 's-1', uid: 'uid-1', accountId: 'a1' }, 3600);
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 's-1', accountId: 'a1' });
    expect(await sessions.findByUid('uid-2')).toBeUndefined();

    const grants = new Adapter('Grant');
    await grants.upsert('g2', { jti: 'g2', accountId: 'a1' }, 3600);
    await new Adapter('AccessToken').upsert('tok-3', { jti: 'tok-3', grantId: 'g2' }, 60);
    await grants.revokeByGrantId('g2');
    expect(await codes.find('code-1')).toBeUndefined();
    expect(await grants.find('g2')).toBeUndefined();
    expect(await new Adapter('AccessToken').find('tok-3')).toBeUndefined();
    expect(await new Adapter('AccessToken').find('tok-1')).toBeDefined();
  });

  it('hides expired artefacts at once and purges them', async () => {
    const interactions = new Adapter('Interaction');
    await interactions.upsert('i-1', { jti: 'i-1' }, 10);
    await interactions.destroy('nothing');
    expect(await interactions.find('i-1')).toBeDefined();
    clock.advance(11_000);
    expect(await interactions.find('i-1')).toBeUndefined();
    expect(await purgeExpiredArtifacts(database.db, clock.now().toISOString())).toBeGreaterThanOrEqual(1);
    const left = await database.db
      .selectFrom('oidc_artifacts')
      .select('model')
      .where('model', '=', 'Interaction')
      .execute();
    expect(left).toEqual([]);
  });
});
