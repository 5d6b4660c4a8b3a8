import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read } from './access-scene.js';

/**
 * An unknown record is denied (issue 8, second half of item 8): a break-glass read of a record id
 * that is no known data subject was allowed, and that id (a NIR in the probe) went into the
 * immutable journal. It is now denied with `unknown_record` and journaled only as a keyed digest.
 */
const NIR = '185077512345678';
const OTHER_NIR = '290017512345699';

describe('a record Vigie does not know', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;

  beforeAll(async () => {
    t = await createTestApp({ env: isolatedEnv() });
    s = await makeAccessScene(t);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  const glass = { break_glass: { purpose: 'person_request', justification: 'au guichet' } };
  const decisionEvents = async () => {
    await accessOf(t).service.flush();
    return t.database.db
      .selectFrom('events')
      .select(['kind', 'target_id', 'payload', 'outcome'])
      .where('kind', 'like', 'access.%')
      .orderBy('seq')
      .execute();
  };

  it('is denied with unknown_record, break-glass included', async () => {
    const withGlass = await evaluate(t, s.businessToken, read(s.advisor.id, NIR, glass));
    expect(withGlass.statusCode).toBe(200);
    expect(withGlass.json()).toEqual({ decision: false, context: { reasons: ['unknown_record'] } });
    const plain = await evaluate(t, s.businessToken, read(s.advisor.id, OTHER_NIR));
    expect(plain.json()).toEqual({ decision: false, context: { reasons: ['unknown_record'] } });
    const partner = await evaluate(t, s.portalToken, {
      subject: { type: 'application', id: s.portal.id },
      action: { name: 'read' },
      resource: { type: 'record', id: NIR },
    });
    expect(partner.json()).toEqual({ decision: false, context: { reasons: ['unknown_record'] } });
  });

  it('never puts the unknown id in the journal: the decision holds its keyed digest, and nothing is disclosed', async () => {
    const before = (await decisionEvents()).length;
    await evaluate(t, s.businessToken, read(s.advisor.id, NIR, glass));
    await evaluate(t, s.businessToken, read(s.advisor.id, NIR));
    await evaluate(t, s.businessToken, read(s.advisor.id, OTHER_NIR, glass));
    const events = (await decisionEvents()).slice(before);
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([
      ['access.decision', 'denied'],
      ['access.decision', 'denied'],
      ['access.decision', 'denied'],
    ]);
    const all = await t.database.db.selectFrom('events').select(['payload', 'target_id']).execute();
    for (const e of all) {
      expect(e.payload).not.toContain(NIR);
      expect(e.payload).not.toContain(OTHER_NIR);
      expect(e.target_id ?? '').not.toContain(NIR);
    }
    const [first, second, third] = events.map((e) => e.target_id!);
    expect(first).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // The same probe is recognisable, another id is not confused with it.
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(JSON.parse(events[0]!.payload)).toMatchObject({
      reason: 'unknown_record',
      data: { decision: false, reasons: ['unknown_record'], unknownRecord: true },
    });
    const disclosures = await t.database.db
      .selectFrom('access_disclosures')
      .select('record_id')
      .where('record_id', 'in', [NIR, OTHER_NIR])
      .execute();
    expect(disclosures).toEqual([]);
    expect(events.some((e) => e.kind === 'access.break_glass_used')).toBe(false);
  });

  it('keeps its key beside the database, readable by its owner only', () => {
    const stat = fs.statSync(path.join(t.config.dataDir, 'record-pseudonym.key'));
    expect(stat.mode & 0o077).toBe(0);
  });

  it('still decides known records as before, journaled by their id', async () => {
    const own = s.ownPeople[0]!;
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, own))).json()).toEqual({ decision: true });
    const other = s.otherPeople[4]!;
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, other))).json()).toEqual({
      decision: false,
      context: { reasons: ['not_in_caseload'] },
    });
    const events = await decisionEvents();
    expect(events.map((e) => e.target_id)).toEqual(expect.arrayContaining([own, other]));
  });

  it('treats hostile ids as unknown records, never as a server error', async () => {
    for (const id of ['__proto__', 'constructor', ' ', '../../etc/passwd', '0']) {
      const res = await evaluate(t, s.businessToken, read(s.advisor.id, id, glass));
      expect(res.statusCode, id).toBe(200);
      expect(res.json(), id).toEqual({ decision: false, context: { reasons: ['unknown_record'] } });
    }
    const huge = await evaluate(t, s.businessToken, read(s.advisor.id, 'x'.repeat(100_000)));
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.code).toBe('VALIDATION_FAILED');
  });
});
