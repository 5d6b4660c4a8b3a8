import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

describe('the OpenAPI document for the caseload and applications', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('describes every caseload and application route', async () => {
    const doc = (await t.app.inject({ url: '/api/docs/json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/v1/subjects',
        'GET /api/v1/subjects/{id}',
        'GET /api/v1/subjects/{id}/follows',
        'POST /api/v1/follows',
        'GET /api/v1/follows',
        'GET /api/v1/follows/{id}',
        'POST /api/v1/follows/{id}/end',
        'POST /api/v1/applications',
        'GET /api/v1/applications',
        'GET /api/v1/applications/{id}',
        'POST /api/v1/applications/{id}/suspend',
        'POST /api/v1/applications/{id}/reactivate',
        'GET /api/v1/applications/{id}/tokens',
        'POST /api/v1/applications/{id}/tokens',
        'POST /api/v1/applications/{id}/tokens/{tokenId}/revoke',
      ]),
    );
  });
});
