import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import { parseConfig } from '../../src/config.js';
import { RISK_RULES } from '../../src/modules/detection/risk.service.js';
import { grantRole, issueToken, makeAccount, makeOrganisation } from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, makeAccessScene, read, seedPeople } from './access-scene.js';

/**
 * Risk-based alerting end to end (issue 12): an advisor searching people outside its caseload
 * through a business application raises weak signals that add up to a risk alert, with a step-up
 * on the account and nothing on the application; the alert explains itself in French and English;
 * the signals are observations an analyst of the right scope can list; automatic freezes expire.
 */
const detectionOf = (t: TestApp) =>
  (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
/** Decisions reach the journal in batches: flush them, then let detection finish with them. */
const settle = async (t: TestApp) => {
  await accessOf(t).service.flush();
  await detectionOf(t).settled();
};

describe('risk-based alerting and graduated responses', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;
  let far: string[];
  let analystToken: string;
  let outsiderToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    s = await makeAccessScene(t);
    const db = t.database.db;
    far = await seedPeople(db, 'far', 30, { organisationId: s.mlB.id });
    const analyst = await makeAccount(db, { organisationId: s.operator.id, approvedBy: s.admin.id });
    await grantRole(db, analyst.id, 'security_analyst', s.operator.id);
    analystToken = await issueToken(db, 'account', analyst.id);
    const otherRoot = await makeOrganisation(db, { name: 'Other operator', kind: 'operator' });
    const outsider = await makeAccount(db, { organisationId: otherRoot.id, approvedBy: s.admin.id });
    await grantRole(db, outsider.id, 'security_analyst', otherRoot.id);
    outsiderToken = await issueToken(db, 'account', outsider.id);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  const context = {
    auth_level: 'phishing_resistant',
    auth_time: '2026-03-02T08:55:00.000Z',
    ip: '90.0.0.7',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
  };

  it("carries the application's claimed network and browser on each decision, labelled as its claim", async () => {
    const res = await evaluate(t, s.businessToken, read(s.advisor.id, s.ownPeople[0]!, context));
    expect(res.json().decision).toBe(true);
    await settle(t);
    const row = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'access.decision')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    const e = JSON.parse(row.payload) as { context: Record<string, unknown>; data: Record<string, unknown> };
    expect(e.context).toMatchObject({ ip: '90.0.0.7', userAgent: context.user_agent });
    expect(e.data.networkSource).toBe('application');
  });

  const alertsOfAdvisor = async () =>
    (
      await t.app.inject({
        url: `/api/v1/alerts?ruleId=${RISK_RULES.account.id}&entityId=${s.advisor.id}`,
        headers: auth(analystToken),
      })
    ).json().items as Array<{
      id: string;
      evidence: unknown[];
      summary: {
        risk: { score: number; alertAt: number; signals: Array<{ ruleId: string; weight: number }> };
        explanation: {
          why: { fr: string; en: string };
          done: { fr: string; en: string };
          undo: { en: string };
        };
      };
    }>;
  const responsesOf = async (alertId: string) =>
    (
      (await t.app.inject({ url: `/api/v1/alerts/${alertId}/responses`, headers: auth(analystToken) })).json()
        .items as Array<{
        action: string;
        status: string;
        target: { id: string };
        result: Record<string, unknown>;
      }>
    ).map((r) => [r.action, r.status, r.target.id, r.result]);

  it('turns 10 out-of-caseload refusals into a risk alert with a step-up, and leaves the business application alone', async () => {
    for (const id of far.slice(0, 9)) {
      expect((await evaluate(t, s.businessToken, read(s.advisor.id, id, context))).json().decision).toBe(
        false,
      );
    }
    await settle(t);
    // Nine refusals: below the signal, no alert.
    expect(await alertsOfAdvisor()).toEqual([]);
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, far[9]!, context))).json().decision).toBe(
      false,
    );
    await settle(t);
    const alerts = await alertsOfAdvisor();
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.summary.risk.signals.map((x) => x.ruleId)).toEqual(['vigie.out-of-caseload-denials-start']);
    expect(alert.summary.risk.score).toBeGreaterThanOrEqual(alert.summary.risk.alertAt);
    expect(alert.evidence.length).toBeGreaterThan(0);
    // Why, what was done, how to undo: French and English.
    expect(alert.summary.explanation.why.fr).toContain('seuil');
    expect(alert.summary.explanation.why.en).toContain('vigie.out-of-caseload-denials-start');
    expect(alert.summary.explanation.done.en).toContain('strong authentication');
    expect(alert.summary.explanation.undo.en).toContain('/undo');
    expect(await responsesOf(alert.id)).toEqual([['require_step_up', 'executed', s.advisor.id, {}]]);
    // The next decision of the advisor asks for a step-up; the business application still serves
    // its colleagues, and nothing is frozen.
    const next = await evaluate(t, s.businessToken, read(s.advisor.id, s.ownPeople[1]!, context));
    expect(next.json()).toMatchObject({ decision: false, context: { reasons: ['step_up_required'] } });
    const colleague = await evaluate(t, s.businessToken, read(s.colleagueB.id, s.otherPeople[0]!, context));
    expect(colleague.json().decision).toBe(true);
    const frozen = await t.database.db
      .selectFrom('access_controls')
      .select(['target_type'])
      .where('kind', '=', 'freeze')
      .execute();
    expect(frozen).toEqual([]);
  });

  it('climbs the ladder on the same alert as the search goes on: sessions ended, step-up renewed', async () => {
    // The person steps up (a fresh strong sign-in), and goes on searching.
    const stepped = { ...context, auth_time: t.clock.now().toISOString() };
    for (const id of far.slice(10, 20)) {
      const res = await evaluate(t, s.businessToken, read(s.advisor.id, id, stepped));
      expect(res.json().context.reasons).toEqual(['not_in_caseload']);
    }
    await settle(t);
    const alerts = await alertsOfAdvisor();
    expect(alerts).toHaveLength(1);
    const byAction = (rows: unknown[][]) =>
      [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(byAction(await responsesOf(alerts[0]!.id))).toEqual(
      byAction([
        ['require_step_up', 'executed', s.advisor.id, {}],
        ['require_step_up', 'executed', s.advisor.id, { renewed: true }],
        ['revoke_tokens', 'executed', s.advisor.id, {}],
      ]),
    );
    expect(alerts[0]!.summary.explanation.done.en).toContain('sessions and tokens ended');
  });

  it("lists the account's observations and risk within the reader's scope only", async () => {
    const mine = await t.app.inject({
      url: `/api/v1/risk/entities/${s.advisor.id}`,
      headers: auth(analystToken),
    });
    expect(mine.statusCode).toBe(200);
    const body = mine.json<{
      risk: { account?: number };
      items: Array<{ ruleId: string; weight: number; alertId: string | null }>;
    }>();
    expect(body.risk.account).toBeGreaterThanOrEqual(100);
    expect(body.items.map((i) => i.ruleId)).toContain('vigie.out-of-caseload-denials-start');
    // The signals the risk alert rests on point at it; none points at another alert.
    const [alert] = await alertsOfAdvisor();
    const linked = body.items.filter((i) => i.alertId !== null);
    expect(linked.length).toBeGreaterThan(0);
    expect(new Set(linked.map((i) => i.alertId))).toEqual(new Set([alert!.id]));
    const theirs = await t.app.inject({
      url: `/api/v1/risk/entities/${s.advisor.id}`,
      headers: auth(outsiderToken),
    });
    expect(theirs.statusCode).toBe(404);
    const agentOnly = await t.app.inject({
      url: `/api/v1/risk/entities/${s.advisor.id}`,
      headers: auth(await issueToken(t.database.db, 'account', s.advisor.id)),
    });
    expect(agentOnly.statusCode).toBe(403);
  });

  it('never freezes a business application, and lifts an automatic freeze when its time is over', async () => {
    const detection = detectionOf(t);
    const finding = {
      rule: RISK_RULES.application,
      entity: { type: 'application' as const, id: s.business.id },
      organisationId: s.operator.id,
      evidence: [],
      timeMs: t.clock.now().getTime(),
      summary: {},
    };
    const { alert } = await detection.alerts.raise(finding);
    const [business] = await detection.responses.executeFor(alert, finding, [
      { action: 'freeze_budgets', target: 'application' },
    ]);
    expect([business!.status, business!.errorCode]).toEqual(['withheld', 'RESPONSE_NEEDS_PERSON']);
    expect(business!.result).toEqual({ withheld: ['business_application'] });

    const partner = { ...finding, entity: { type: 'application' as const, id: s.portal.id } };
    const raised = await detection.alerts.raise(partner);
    const [frozen] = await detection.responses.executeFor(raised.alert, partner, [
      { action: 'freeze_budgets', target: 'application' },
    ]);
    expect(frozen!.status).toBe('executed');
    expect(typeof frozen!.result.expiresAt).toBe('string');
    const enrolled = () => evaluate(t, s.portalToken, read(s.advisor.id, s.enrolled[0]!, context));
    expect(await detection.responses.liftExpired()).toBe(0);
    t.clock.advance(4 * 3_600_000 + 1000);
    expect(await detection.responses.liftExpired()).toBe(1);
    const after = (await detection.responses.listForAlert(raised.alert.id))[0]!;
    expect(after.status).toBe('undone');
    expect(after.undoneBy).toBe('system:detection');
    const unfrozen = await t.database.db
      .selectFrom('events')
      .select('kind')
      .where('kind', '=', 'budget.unfrozen')
      .execute();
    expect(unfrozen).toHaveLength(1);
    await enrolled();
  });
});

describe('risk alerts without their responses (VIGIE_RISK_RESPONSES=off)', () => {
  let t: TestApp;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;
  let far: string[];

  beforeAll(async () => {
    t = await createTestApp({ env: { VIGIE_RISK_RESPONSES: 'off' } });
    s = await makeAccessScene(t);
    far = await seedPeople(t.database.db, 'far', 10, { organisationId: s.mlB.id });
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('raises the same alert and runs no response: the advisor keeps reading', async () => {
    const context = { auth_level: 'phishing_resistant', ip: '90.0.0.7' };
    for (const id of far) await evaluate(t, s.businessToken, read(s.advisor.id, id, context));
    await settle(t);
    const alerts = (
      await t.app.inject({
        url: `/api/v1/alerts?ruleId=${RISK_RULES.account.id}`,
        headers: auth(s.adminToken),
      })
    ).json().items as Array<{ id: string; entity: { id: string } }>;
    const alert = alerts.find((a) => a.entity.id === s.advisor.id);
    expect(alert).toBeDefined();
    const responses = await t.app.inject({
      url: `/api/v1/alerts/${alert!.id}/responses`,
      headers: auth(s.adminToken),
    });
    expect(responses.json().items).toEqual([]);
    // Its explanation says nothing was done (the ladder's rungs stay in the summary as facts).
    const full = await t.app.inject({ url: `/api/v1/alerts/${alert!.id}`, headers: auth(s.adminToken) });
    const explanation = full.json<{ summary: { explanation: { done: { fr: string; en: string } } } }>()
      .summary.explanation;
    expect(explanation.done).toEqual({ fr: 'Aucune réponse automatique.', en: 'No automatic response.' });
    const next = await evaluate(t, s.businessToken, read(s.advisor.id, s.ownPeople[1]!, context));
    expect(next.json().decision).toBe(true);
  });

  it('refuses a value other than on or off', () => {
    expect(() => parseConfig({ VIGIE_RISK_RESPONSES: 'no' })).toThrow(/VIGIE_RISK_RESPONSES/);
  });
});
