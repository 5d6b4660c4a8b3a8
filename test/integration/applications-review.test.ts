import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { makeScene } from '../helpers/factories.js';

/** Review findings on applications: free text kept out of the journal, token lists paged. */
describe('applications: journal hygiene and paging', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  const admin = () => ({ authorization: `Bearer ${scene.adminToken}` });
  const post = (url: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: admin(), payload });
  const register = async (name: string) =>
    (
      await post('/api/v1/applications', {
        organisationId: scene.structure.id,
        name,
        kind: 'partner',
        scopes: ['pdp.evaluate'],
      })
    ).json<{ id: string }>();

  beforeAll(async () => {
    t = await createTestApp();
    scene = await makeScene(t.database.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('journals a digest of the free-text reason of a suspension or a token revocation, never the text', async () => {
    const app = await register('Portal');
    const { token } = (await post(`/api/v1/applications/${app.id}/tokens`, { name: 'prod' })).json();
    const reason = 'leaked by jean.dupont@example.test';
    expect(
      (await post(`/api/v1/applications/${app.id}/tokens/${token.id}/revoke`, { reason })).statusCode,
    ).toBe(200);
    expect((await post(`/api/v1/applications/${app.id}/suspend`, { reason })).statusCode).toBe(200);
    const events = await t.database.db
      .selectFrom('events')
      .select(['kind', 'payload'])
      .where('kind', 'in', ['token.revoked', 'application.suspended'])
      .execute();
    expect(events.map((e) => e.kind).sort()).toEqual(['application.suspended', 'token.revoked']);
    for (const e of events) {
      expect(e.payload).not.toContain('jean.dupont');
      expect(JSON.parse(e.payload).data.reasonSha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("pages an application's tokens with a cursor", async () => {
    const app = await register('Batch');
    const issued: string[] = [];
    for (const name of ['one', 'two', 'three'])
      issued.push((await post(`/api/v1/applications/${app.id}/tokens`, { name })).json().token.id);
    const first = await t.app.inject({
      url: `/api/v1/applications/${app.id}/tokens?limit=2`,
      headers: admin(),
    });
    expect(first.statusCode).toBe(200);
    expect(first.json().items).toHaveLength(2);
    const cursor = first.json().nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await t.app.inject({
      url: `/api/v1/applications/${app.id}/tokens?limit=2&cursor=${cursor}`,
      headers: admin(),
    });
    expect(second.json().nextCursor).toBeNull();
    const seen = [...first.json().items, ...second.json().items].map((x: { id: string }) => x.id);
    expect(seen).toEqual([...issued].sort());
  });
});
