import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../src/db/database.js';
import type { AccessModule } from '../../src/modules/access/index.js';
import { uuidv7 } from '../../src/shared/ids.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeOrganisation,
  makeScene,
} from '../helpers/factories.js';
import type { TestApp } from '../helpers/test-app.js';

/**
 * The seed scene of the access tests, written as rows before the PDP starts: two Missions Locales,
 * a training organisation with its partner portal, advisors, and people followed or enrolled.
 */

const newId = () => uuidv7(Date.now(), randomBytes(10));

/** Inserts `n` people followed by (or enrolled with) `organisationId`, in bulk. */
export async function seedPeople(
  db: Db,
  prefix: string,
  n: number,
  follow: { organisationId: string; relation?: 'follows' | 'enrolled'; accountId?: string },
): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    await db
      .insertInto('data_subjects')
      .values(
        chunk.map((id) => ({
          id,
          kind: 'job_seeker',
          decoy: 0,
          sealed: 0,
          created_at: '2026-01-01T00:00:00.000Z',
        })),
      )
      .execute();
    await db
      .insertInto('follows')
      .values(
        chunk.map((id) => ({
          id: newId(),
          subject_id: id,
          organisation_id: follow.organisationId,
          account_id: follow.accountId ?? null,
          relation: follow.relation ?? 'follows',
          since: '2026-01-01T00:00:00.000Z',
          until: null,
          created_at: '2026-01-01T00:00:00.000Z',
        })),
      )
      .execute();
  }
  return ids;
}

export async function makeAccessScene(t: TestApp) {
  const db = t.database.db;
  const scene = await makeScene(db);
  const mlB = await makeOrganisation(db, {
    parent: scene.network,
    name: 'Mission Locale B',
    kind: 'mission_locale',
  });
  const training = await makeOrganisation(db, {
    parent: scene.operator,
    name: 'Organisme de formation',
    kind: 'training_organisation',
  });
  const advisor = await makeAccount(db, { organisationId: scene.structure.id });
  await grantRole(db, advisor.id, 'agent', scene.structure.id);
  const colleagueB = await makeAccount(db, { organisationId: mlB.id });
  await grantRole(db, colleagueB.id, 'agent', mlB.id);
  const approver = await makeAccount(db, { organisationId: scene.structure.id });
  await grantRole(db, approver.id, 'account_approver', scene.structure.id);
  const approverToken = await issueToken(db, 'account', approver.id);
  const business = await makeApplication(db, {
    organisationId: scene.operator.id,
    kind: 'business',
    scopes: ['pdp.evaluate', 'pdp.search'],
  });
  const businessToken = await issueToken(db, 'application', business.id);
  const portal = await makeApplication(db, {
    organisationId: training.id,
    kind: 'partner',
    scopes: ['pdp.evaluate'],
  });
  const portalToken = await issueToken(db, 'application', portal.id);
  const ownPeople = await seedPeople(db, 'own', 400, { organisationId: scene.structure.id });
  const otherPeople = await seedPeople(db, 'other', 5, { organisationId: mlB.id });
  const enrolled = await seedPeople(db, 'enrolled', 1000, {
    organisationId: training.id,
    relation: 'enrolled',
  });
  return {
    ...scene,
    mlB,
    training,
    advisor,
    colleagueB,
    approver,
    approverToken,
    business,
    businessToken,
    portal,
    portalToken,
    ownPeople,
    otherPeople,
    enrolled,
  };
}

export const accessOf = (t: TestApp) => t.container.modules.find((m) => m.name === 'access') as AccessModule;

export function evaluate(t: TestApp, token: string, body: unknown) {
  return t.app.inject({
    method: 'POST',
    url: '/access/v1/evaluation',
    payload: body as object,
    headers: { authorization: `Bearer ${token}` },
  });
}

export const read = (accountId: string, recordId: string, context?: Record<string, unknown>) => ({
  subject: { type: 'account', id: accountId },
  action: { name: 'read' },
  resource: { type: 'record', id: recordId },
  ...(context ? { context } : {}),
});

/**
 * Environment for PDP tests that must see the PDP alone: an empty detection rules directory, so
 * that no automated response (a freeze, a step-up) changes the outcome being measured.
 */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { VIGIE_RULES_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-no-rules-')), ...extra };
}
