import { describe, expect, it } from 'vitest';
import type { AccessModule } from '../../src/modules/access/index.js';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import { consoleBuilt, consoleSuite, screen } from '../helpers/console-browser.js';
import { skipBrowser, skipNote } from '../helpers/chromium.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeFollow,
  makeOrganisation,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';
import type { TestApp } from '../helpers/test-app.js';

/**
 * An analyst, an agent of a Mission Locale with six people in its caseload, twenty-five people
 * followed by another Mission Locale, and the business application that asks the PDP.
 */
async function setWorld(t: TestApp) {
  const db = t.database.db;
  const scene = await makeScene(db);
  const analyst = await makeAccount(db, {
    organisationId: scene.operator.id,
    email: 'analyst@op.test',
    approvedBy: scene.admin.id,
  });
  await grantRole(db, analyst.id, 'security_analyst', scene.operator.id);
  const agent = await makeAccount(db, { organisationId: scene.structure.id, approvedBy: scene.admin.id });
  await grantRole(db, agent.id, 'agent', scene.structure.id);
  const other = await makeOrganisation(db, { parent: scene.network, kind: 'mission_locale' });
  const business = await makeApplication(db, {
    organisationId: scene.operator.id,
    kind: 'business',
    scopes: ['pdp.evaluate'],
  });
  const businessToken = await issueToken(db, 'application', business.id);
  const own: string[] = [];
  for (let i = 0; i < 6; i++) {
    const s = await makeSubject(db);
    await makeFollow(db, { subjectId: s.id, organisationId: scene.structure.id });
    own.push(s.id);
  }
  const foreign: string[] = [];
  for (let i = 0; i < 25; i++) {
    const s = await makeSubject(db);
    await makeFollow(db, { subjectId: s.id, organisationId: other.id });
    foreign.push(s.id);
  }
  const manager = await makeAccount(db, {
    organisationId: scene.structure.id,
    email: 'manager@ml.test',
    approvedBy: scene.admin.id,
  });
  await grantRole(db, manager.id, 'account_manager', scene.structure.id);
  return { scene, analyst, agent, business, businessToken, own, foreign, manager };
}

/**
 * An investigation in the console (Chromium, virtual authenticator): an agent reads six of its own
 * people then asks for twenty-five outside its caseload; the analyst sees the figures on the
 * overview (records per hour, denials by reason, top accounts with their budget window), opens the
 * risk alert and reads its evidence as a timeline of signals and the records the account disclosed,
 * then the read-only policies and rules. Every screen passes axe-core and is saved as a screenshot.
 */
describe.skipIf(skipBrowser || !consoleBuilt)(
  `the console's investigation screens in Chromium${skipNote}${consoleBuilt ? '' : ' (web/dist not built)'}`,
  () => {
    const { suite: s, open } = consoleSuite(setWorld);

    const read = (recordId: string) =>
      s.t.app.inject({
        method: 'POST',
        url: '/access/v1/evaluation',
        headers: { authorization: `Bearer ${s.world.businessToken}` },
        payload: {
          subject: { type: 'account', id: s.world.agent.id },
          action: { name: 'read' },
          resource: { type: 'record', id: recordId },
        },
      });

    it(
      'shows the disclosure figures, the risk timeline and disclosed records of an alert, and the policies',
      { timeout: 150_000 },
      async () => {
        const { scene, analyst, agent, own, foreign } = s.world;
        for (const id of own) expect((await read(id)).json<{ decision: boolean }>().decision).toBe(true);
        for (const id of foreign) {
          expect((await read(id)).json<{ decision: boolean }>().decision).toBe(false);
          s.t.clock.advance(5_000);
        }
        await (s.t.container.modules.find((m) => m.name === 'access') as AccessModule).service.flush();
        await (
          s.t.container.modules.find((m) => m.name === 'detection') as DetectionModule
        ).service.settled();
        const alerts = await s.t.app.inject({
          url: `/api/v1/alerts?entityId=${agent.id}`,
          headers: { authorization: `Bearer ${scene.adminToken}` },
        });
        const riskAlert = alerts
          .json<{ items: { id: string; ruleId: string }[] }>()
          .items.find((a) => a.ruleId === 'vigie.risk.account');
        expect(riskAlert, JSON.stringify(alerts.json())).toBeDefined();

        const reissued = await s.t.app.inject({
          method: 'POST',
          url: `/api/v1/accounts/${analyst.id}/enrolment-link`,
          headers: { authorization: `Bearer ${scene.adminToken}` },
        });
        expect(reissued.statusCode).toBe(202);
        const { page, problems } = await open();
        await page.goto((await s.sink.linkFor('analyst@op.test')).url);
        await page.locator('#enrol-button').click();
        await page.waitForURL(`${s.origin}/account`);

        // The overview: records per hour, denials by reason, the agent at the top with its window.
        await page.goto(`${s.origin}/console/`);
        await expect.poll(() => page.locator('#denials').innerText()).toContain('hors du portefeuille');
        await expect.poll(() => page.locator('#top-accounts').innerText()).toContain(agent.id);
        expect(await page.locator('#top-accounts').innerText()).toMatch(/6 \/ 300/);
        await expect
          .poll(() => page.locator('#top-organisations').innerText())
          .toContain('Mission Locale de Test');
        expect(await page.locator('#disclosure-stats canvas').count()).toBeGreaterThan(0);
        await screen(page, 'overview-disclosures');

        // The alert: its evidence as a timeline of signals, and the six records the agent disclosed.
        await page.goto(`${s.origin}/console/alerts/${riskAlert!.id}`);
        await expect
          .poll(() => page.locator('#timeline').innerText(), { timeout: 15_000 })
          .toContain('vigie.out-of-caseload-denials');
        expect(await page.locator('#timeline').innerText()).toContain('cette alerte');
        await expect.poll(() => page.locator('#risk-chart canvas').count()).toBeGreaterThan(0);
        await expect.poll(() => page.locator('#disclosed').innerText()).toContain('6 consultations');
        for (const id of own) expect(await page.locator(`[data-record="${id}"]`).count()).toBe(1);
        // Its recent decisions: the refusals outside the caseload, with their reason, after the reads.
        await expect.poll(() => page.locator('#decisions').innerText()).toContain('hors du portefeuille');
        expect(await page.locator('#decisions').innerText()).toContain('31 décisions');
        expect(await page.locator('#decisions').innerText()).toMatch(/permise/i);
        await screen(page, 'alert-investigation');

        // Freeze the structure's disclosures from the alert: a step-up, back, and again.
        await page.locator('#reason').fill('Consultations hors portefeuille en rafale');
        await page.locator('#act-freeze-org').click();
        await page.waitForURL(/\/step-up\?return=/);
        await page.locator('#step-up-button').click();
        await page.waitForURL(`${s.origin}/console/alerts/${riskAlert!.id}`);
        await page.locator('#act-freeze-org').click();
        await expect.poll(() => page.locator('#act-result').innerText()).toContain('Fait');
        await expect.poll(() => page.locator('#alert-organisation').innerText()).toContain('gelé');
        expect(await page.locator('#act-unfreeze-org').count()).toBe(1);
        const budget = await s.t.app.inject({
          url: `/api/v1/access/budgets/organisation/${scene.structure.id}`,
          headers: { authorization: `Bearer ${scene.adminToken}` },
        });
        expect(budget.json<{ frozen: boolean }>().frozen).toBe(true);
        expect((await read(own[0]!)).json()).toMatchObject({ decision: false });

        // Policies and rules, read-only, reached from the menu.
        await page.getByRole('link', { name: 'Politiques et règles', exact: true }).click();
        await page.waitForURL(`${s.origin}/console/policies`);
        await expect.poll(() => page.locator('#policy-version').innerText()).toMatch(/^sha256:/);
        await expect.poll(() => page.locator('#budgets-roles').innerText()).toContain('agent');
        expect(await page.locator('#budgets-roles').innerText()).toMatch(/150\s+300/);
        expect(await page.locator('#budgets-kinds').innerText()).toContain('training_organisation');
        await expect.poll(() => page.locator('#rules').innerText()).toContain('vigie.honeytoken-touched');
        // The structure's freeze and the risk alert's step-up on the agent, in force.
        await expect.poll(() => page.locator('#controls').innerText()).toContain(scene.structure.id);
        expect(await page.locator('#controls').innerText()).toContain(
          'Consultations hors portefeuille en rafale',
        );
        expect(await page.locator('#controls').innerText()).toContain(agent.id);
        await screen(page, 'policies');

        // The organisation tree with partner status, and the privileged-account inventory.
        await page.getByRole('link', { name: 'Organisations', exact: true }).click();
        await page.waitForURL(`${s.origin}/console/organisations`);
        await expect
          .poll(() => page.locator('#organisation-tree').innerText())
          .toContain('Mission Locale de Test');
        await expect
          .poll(() =>
            page.locator(`#organisation-tree [data-organisation="${scene.structure.id}"]`).innerText(),
          )
          .toMatch(/consultations gelées/i);
        await expect.poll(() => page.locator('#inventory').innerText()).toContain(s.world.manager.id);
        expect(await page.locator('#inventory').innerText()).toContain('account_manager');
        await screen(page, 'organisations');

        await page.getByRole('button', { name: 'Switch to English' }).click();
        await expect
          .poll(() => page.locator('main h1').innerText())
          .toBe('Organisations and privileged accounts');
        expect(problems).toEqual([]);
      },
    );

    it(
      'lets an account manager create colleagues’ accounts, see them pending and its quotas, and explains the quota refusal',
      { timeout: 150_000 },
      async () => {
        const { scene, manager } = s.world;
        const reissued = await s.t.app.inject({
          method: 'POST',
          url: `/api/v1/accounts/${manager.id}/enrolment-link`,
          headers: { authorization: `Bearer ${scene.adminToken}` },
        });
        expect(reissued.statusCode).toBe(202);
        const { page, problems } = await open();
        await page.goto((await s.sink.linkFor('manager@ml.test')).url);
        await page.locator('#enrol-button').click();
        await page.waitForURL(`${s.origin}/account`);

        // Its overview: no alert (it may not read them), its own structure's figures against its budget.
        await page.goto(`${s.origin}/console/`);
        await expect.poll(() => page.locator('#disclosure-stats').innerText()).toContain('votre périmètre');
        expect(await page.locator('main').innerText()).toContain('n’a pas accès aux alertes');
        await expect.poll(() => page.locator('#top-accounts').innerText()).toContain(s.world.agent.id);
        expect(await page.locator('#top-organisations').innerText()).toContain('Mission Locale de Test');
        expect(await page.locator('#top-organisations').innerText()).toMatch(/gelé/i);
        expect(await page.locator('#structure-budget').innerText()).toMatch(
          /Plafond de la structure : \d+ dossiers distincts.*au plus 6 en une heure/,
        );
        await screen(page, 'overview-manager');
        await page.getByRole('link', { name: 'Administration déléguée', exact: true }).click();
        await page.waitForURL(`${s.origin}/console/delegation`);
        await expect.poll(() => page.locator('#quotas').innerText()).toContain('0 sur 5');
        // The menu reflects its rights: no journal for an account manager.
        expect(await page.getByRole('link', { name: 'Journal', exact: true }).count()).toBe(0);

        for (const [i, email] of [
          'colleague1@ml.test',
          'colleague2@ml.test',
          'colleague3@ml.test',
        ].entries()) {
          await page.locator('#new-email').fill(email);
          await page.locator('#create-button').click();
          await expect
            .poll(() => page.locator('#create-result').innerText())
            .toContain(`Compte ${email} créé`);
          await expect.poll(() => page.locator('#quotas').innerText()).toContain(`${i + 1} sur 3`);
        }
        expect(await page.locator('#create-result').innerText()).toContain(
          'approbation d’une autre personne',
        );
        await expect.poll(() => page.locator('#waiting').innerText()).toContain('colleague3@ml.test');
        expect(await page.locator('#waiting').innerText()).toContain('colleague1@ml.test');

        // A fourth pending account is over the quota: the refusal says which and what to do.
        await page.locator('#new-email').fill('colleague4@ml.test');
        await page.locator('#create-button').click();
        await expect.poll(() => page.locator('#create-result').innerText()).toContain('Quota atteint');
        expect(await page.locator('#create-result').innerText()).toContain('Faites approuver');
        await screen(page, 'delegation');
        const refused = await s.t.app.inject({
          url: `/api/v1/accounts?createdBy=${manager.id}&limit=10`,
          headers: { authorization: `Bearer ${scene.adminToken}` },
        });
        expect(refused.json<{ items: unknown[] }>().items).toHaveLength(3);

        // « Mon compte »: what was disclosed under its own name (nothing: a manager reads no record).
        await page.getByRole('link', { name: 'Mon compte', exact: true }).click();
        await expect.poll(() => page.locator('#disclosed').innerText()).toContain('0 consultation');
        await screen(page, 'my-account-manager');
        expect(problems).toEqual([]);
      },
    );
  },
);
