import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessModule } from '../../src/modules/access/index.js';
import type { DetectionModule } from '../../src/modules/detection/index.js';
import {
  grantRole,
  issueToken,
  makeAccount,
  makeApplication,
  makeOrganisation,
  makeScene,
  makeSubject,
} from '../helpers/factories.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The escalation grid: what an outsider, a partner, a delegated administrator or a stolen token
 * tries in order to turn Vigie's defences against others or to slip past four-eyes. Every cell is an
 * attempt through the HTTP API, and every cell must be refused with the code that names the
 * boundary that stopped it (docs/security.md lists the same cells). The sibling role-grid.test.ts
 * says which caller reaches which endpoint; this one says what none of them can make Vigie do.
 */
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const OLD = '2025-01-01T00:00:00.000Z';

interface Refusal {
  readonly status: number;
  /** The error code, or the per-event rejection code of an ingestion answer. */
  readonly code: string;
}

interface Cell {
  readonly who: string;
  readonly attempt: string;
  readonly boundary: string;
  readonly refused: Refusal;
  readonly run: () => Promise<Refusal>;
  /** Checked after the attempt: the target is as it was. */
  readonly unchanged?: () => Promise<void>;
}

describe('escalation grid: every cell is refused', () => {
  let t: TestApp;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  const cells: Cell[] = [];
  /** Tokens and ids of the cast, filled in beforeAll. */
  const cast = {
    partnerToken: '',
    structureAppToken: '',
    pdpOnlyToken: '',
    gatewayToken: '',
    managerToken: '',
    networkAdminToken: '',
    managerId: '',
    founderA: { id: '', token: '' },
    siblingApprover: { id: '', token: '' },
    y: { id: '', token: '' },
    z: '',
    granteeCreator: { id: '', token: '' },
    assignmentId: '',
    shortTokenSecret: '',
    adminShortSecret: '',
    otherAgentId: '',
    /** Records nobody in the grid follows: asking for them is an out-of-caseload refusal. */
    unfollowed: [] as string[],
    traineeId: '',
    applicationId: '',
  };

  const post = (token: string, payload: unknown[]) =>
    t.app.inject({ method: 'POST', url: '/api/v1/events', headers: auth(token), payload });
  const now = () => t.clock.now().getTime();
  const signIn = (uid: string, ip: string, i: number, org?: string) => ({
    class_uid: 3002,
    activity_id: 1,
    status_id: 1,
    time: now() + i * 1000,
    metadata: { uid: `grid-${uid}-${ip}-${i}-${Math.random()}` },
    user: { uid, ...(org ? { org: { uid: org } } : {}) },
    src_endpoint: { ip },
    session: { uid: 'sess-grid' },
  });
  /** The first per-event rejection of an ingestion answer, as a refusal. */
  const firstRejection = async (token: string, events: unknown[]): Promise<Refusal> => {
    const res = await post(token, events);
    const body = res.json();
    if (res.statusCode !== 200) return { status: res.statusCode, code: body.error?.code };
    if (body.accepted.length > 0) return { status: 200, code: 'ACCEPTED' };
    return { status: 200, code: body.rejected[0].code };
  };
  const refusalOf = (res: { statusCode: number; json: () => { error?: { code?: string } } }): Refusal => ({
    status: res.statusCode,
    code: res.statusCode < 300 ? 'ALLOWED' : (res.json().error?.code ?? 'NONE'),
  });
  /** One POST as the bearer of `token`, answered as a refusal (or ALLOWED). */
  const attempt = async (token: string, url: string, payload?: Record<string, unknown>) =>
    refusalOf(
      await t.app.inject({
        method: 'POST',
        url,
        headers: auth(token),
        ...(payload !== undefined ? { payload } : {}),
      }),
    );
  const statusOf = async (id: string) =>
    (
      await t.database.db
        .selectFrom('accounts')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;
  const adminWorks = async () =>
    expect(
      (await t.app.inject({ url: '/api/v1/accounts/me', headers: auth(scene.adminToken) })).statusCode,
    ).toBe(200);

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        VIGIE_APPROVER_MIN_AGE_DAYS: '0',
        VIGIE_DELEGATION_MAX_CREATIONS_PER_DAY: '100',
        VIGIE_DELEGATION_MAX_PENDING: '100',
        VIGIE_AUTH_FAILURE_LIMIT: '20',
        VIGIE_AUTH_FAILURE_DELAY_AFTER: '20',
      },
    });
    const db = t.database.db;
    scene = await makeScene(db);
    const ml = scene.structure;
    const otherMl = await makeOrganisation(db, { parent: scene.network, kind: 'mission_locale' });
    const training = await makeOrganisation(db, { parent: scene.network, kind: 'training_organisation' });
    const dsi = await makeOrganisation(db, { parent: scene.operator, kind: 'other' });

    const partner = await makeApplication(db, { organisationId: training.id, scopes: ['event.ingest'] });
    cast.partnerToken = await issueToken(db, 'application', partner.id);
    const structureApp = await makeApplication(db, {
      organisationId: ml.id,
      kind: 'business',
      scopes: ['event.ingest', 'pdp.evaluate'],
    });
    cast.structureAppToken = await issueToken(db, 'application', structureApp.id);
    cast.applicationId = structureApp.id;
    const pdpOnly = await makeApplication(db, { organisationId: ml.id, scopes: ['pdp.evaluate'] });
    cast.pdpOnlyToken = await issueToken(db, 'application', pdpOnly.id);

    const otherAgent = await makeAccount(db, { organisationId: otherMl.id, approvedBy: scene.admin.id });
    await grantRole(db, otherAgent.id, 'agent', otherMl.id);
    cast.otherAgentId = otherAgent.id;
    const trainee = await makeAccount(db, { organisationId: training.id, approvedBy: scene.admin.id });
    cast.traineeId = trainee.id;

    const manager = await makeAccount(db, { organisationId: ml.id, createdAt: OLD });
    await grantRole(db, manager.id, 'account_manager', ml.id);
    cast.managerId = manager.id;
    cast.managerToken = await issueToken(db, 'account', manager.id);

    // A founding account of the structure (no creator) that manages and approves there.
    const a = await makeAccount(db, { organisationId: ml.id, createdAt: OLD });
    await grantRole(db, a.id, 'account_manager', ml.id);
    await grantRole(db, a.id, 'account_approver', ml.id);
    cast.founderA = { id: a.id, token: await issueToken(db, 'account', a.id) };
    const independent = await makeAccount(db, { organisationId: ml.id, createdAt: OLD });
    await grantRole(db, independent.id, 'account_approver', ml.id);
    // An administrator of the network only: it may register applications there, not above.
    const networkAdmin = await makeAccount(db, { organisationId: scene.network.id, createdAt: OLD });
    await grantRole(db, networkAdmin.id, 'platform_admin', scene.network.id);
    cast.networkAdminToken = await issueToken(db, 'account', networkAdmin.id);

    for (let i = 0; i < 12; i++) cast.unfollowed.push((await makeSubject(db)).id);
    await t.container.start();
    // The operator's sign-in gateway, reporting over the whole tree, registered by the platform admin.
    const gateway = await t.app.inject({
      method: 'POST',
      url: '/api/v1/applications',
      headers: auth(scene.adminToken),
      payload: {
        organisationId: dsi.id,
        name: 'Passerelle',
        kind: 'business',
        scopes: ['event.ingest'],
        reportingOrganisationId: scene.operator.id,
      },
    });
    expect(gateway.statusCode, gateway.body).toBe(201);
    cast.gatewayToken = await issueToken(db, 'application', gateway.json().id);

    // The creation chain, as rows already there (detection would otherwise contain it first, as it
    // should): A created Y and S, both approved by the independent approver; Y, made manager,
    // created Z, pending.
    const y = await makeAccount(db, { organisationId: ml.id, createdBy: a.id, approvedBy: independent.id });
    await grantRole(db, y.id, 'account_manager', ml.id);
    cast.y = { id: y.id, token: await issueToken(db, 'account', y.id) };
    const s = await makeAccount(db, { organisationId: ml.id, createdBy: a.id, approvedBy: independent.id });
    await grantRole(db, s.id, 'account_approver', ml.id);
    cast.siblingApprover = { id: s.id, token: await issueToken(db, 'account', s.id) };
    const z = await makeAccount(db, { organisationId: ml.id, createdBy: y.id, status: 'pending_approval' });
    cast.z = z.id;

    // A privileged grant requested for an account whose creator holds account_approver.
    const creator = await makeAccount(db, { organisationId: ml.id, createdAt: OLD });
    await grantRole(db, creator.id, 'account_approver', ml.id);
    cast.granteeCreator = { id: creator.id, token: await issueToken(db, 'account', creator.id) };
    const grantee = await makeAccount(db, { organisationId: ml.id, createdBy: creator.id, createdAt: OLD });
    const requested = await t.app.inject({
      method: 'POST',
      url: '/api/v1/roles/assignments',
      headers: auth(scene.adminToken),
      payload: { accountId: grantee.id, roleId: 'account_approver', organisationId: ml.id },
    });
    expect(requested.statusCode, requested.body).toBe(201);
    expect(requested.json().status).toBe('pending_approval');
    cast.assignmentId = requested.json().id;

    // Short-lived tokens (one day) that the next cells try to stretch.
    const mintShort = async (bearer: string) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: auth(bearer),
        payload: { name: 'short', expiresInDays: 1 },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().secret as string;
    };
    cast.shortTokenSecret = await mintShort(cast.managerToken);
    cast.adminShortSecret = await mintShort(scene.adminToken);
    await makeSubject(db, { id: 'DE-GRID-KNOWN' });
  });
  afterAll(async () => {
    await t.close();
  });

  // Ingestion on behalf of others.
  cells.push(
    {
      who: "a training organisation's partner application",
      attempt: 'forged sign-ins naming a platform administrator',
      boundary: 'reporting scope of the sender',
      refused: { status: 200, code: 'ACTOR_OUT_OF_SCOPE' },
      run: () =>
        firstRejection(cast.partnerToken, [
          signIn(scene.admin.id, '90.0.0.1', 0),
          signIn(scene.admin.id, '8.8.8.8', 1),
          signIn(scene.admin.id, '1.1.1.1', 2),
        ]),
      unchanged: adminWorks,
    },
    {
      who: "a structure's business application",
      attempt: 'events naming an agent of a sibling structure',
      boundary: 'reporting scope of the sender',
      refused: { status: 200, code: 'ACTOR_OUT_OF_SCOPE' },
      run: () => firstRejection(cast.structureAppToken, [signIn(cast.otherAgentId, '90.0.0.2', 0)]),
      unchanged: async () => expect(await statusOf(cast.otherAgentId)).toBe('active'),
    },
    {
      who: "a training organisation's partner application",
      attempt: "an external name claimed to belong to the operator's organisation",
      boundary: 'reporting scope of the sender',
      refused: { status: 200, code: 'ACTOR_OUT_OF_SCOPE' },
      run: () => firstRejection(cast.partnerToken, [signIn('root', '90.0.0.3', 0, scene.operator.id)]),
    },
    {
      who: "a training organisation's partner application",
      attempt: 'its own user, claimed to belong to another structure',
      boundary: 'organisation taken from the directory',
      refused: { status: 200, code: 'ORGANISATION_MISMATCH' },
      run: () =>
        firstRejection(cast.partnerToken, [signIn(cast.traineeId, '90.0.0.4', 0, scene.structure.id)]),
    },
    {
      who: 'an application without event.ingest',
      attempt: 'sending events at all',
      boundary: 'application scopes',
      refused: { status: 403, code: 'SCOPE_DENIED' },
      run: async () => {
        const res = await post(cast.pdpOnlyToken, [signIn('x', '90.0.0.5', 0)]);
        return { status: res.statusCode, code: res.json().error.code };
      },
    },
    {
      who: "a network's administrator",
      attempt: 'registering an application that reports over the whole operator',
      boundary: 'reporting scope needs the right to register at that organisation',
      refused: { status: 403, code: 'REPORTING_SCOPE_DENIED' },
      run: async () =>
        attempt(cast.networkAdminToken, '/api/v1/applications', {
          organisationId: scene.structure.id,
          name: 'Passerelle pirate',
          kind: 'business',
          scopes: ['event.ingest'],
          reportingOrganisationId: scene.operator.id,
        }),
    },
  );

  // The creation chain, in both directions.
  const approveAs = (token: string, id: string) => attempt(token, `/api/v1/accounts/${id}/approve`);
  cells.push(
    {
      who: "the creator of the pending account's creator",
      attempt: 'approving it (A created Y, Y created Z, A approves Z)',
      boundary: 'four-eyes outside the creation chain (ancestor)',
      refused: { status: 403, code: 'APPROVER_IN_CREATION_CHAIN' },
      run: () => approveAs(cast.founderA.token, cast.z),
      unchanged: async () => expect(await statusOf(cast.z)).toBe('pending_approval'),
    },
    {
      who: "an approver created by the same ancestor (Y's sibling)",
      attempt: 'approving what its sibling created',
      boundary: 'four-eyes outside the creation chain (descendant of an ancestor)',
      refused: { status: 403, code: 'APPROVER_IN_CREATION_CHAIN' },
      run: () => approveAs(cast.siblingApprover.token, cast.z),
      unchanged: async () => expect(await statusOf(cast.z)).toBe('pending_approval'),
    },
    {
      who: 'the creator of the pending account',
      attempt: 'approving its own creation',
      boundary: 'four-eyes: creator is never approver',
      refused: { status: 403, code: 'APPROVER_IS_CREATOR' },
      run: () => approveAs(cast.y.token, cast.z),
      unchanged: async () => expect(await statusOf(cast.z)).toBe('pending_approval'),
    },
    {
      who: "the grantee's creator",
      attempt: 'approving a privileged role granted to the account it created',
      boundary: 'four-eyes for privileged grants',
      refused: { status: 403, code: 'APPROVER_IN_CREATION_CHAIN' },
      run: () => attempt(cast.granteeCreator.token, `/api/v1/roles/assignments/${cast.assignmentId}/approve`),
    },
  );

  // Tokens minting tokens.
  cells.push(
    {
      who: "a manager's token that expires in a day",
      attempt: 'minting an account token that lives ten days',
      boundary: 'a token never outlives the token that mints it',
      refused: { status: 400, code: 'TOKEN_OUTLIVES_PARENT' },
      run: async () =>
        attempt(cast.shortTokenSecret, '/api/v1/tokens', { name: 'stretch', expiresInDays: 10 }),
    },
    {
      who: "a platform administrator's token that expires in a day",
      attempt: 'minting an application token that lives ten days',
      boundary: 'a token never outlives the token that mints it',
      refused: { status: 400, code: 'TOKEN_OUTLIVES_PARENT' },
      run: async () =>
        attempt(cast.adminShortSecret, `/api/v1/applications/${cast.applicationId}/tokens`, {
          name: 'stretch',
          expiresAt: new Date(now() + 10 * 86_400_000).toISOString(),
        }),
    },
    {
      who: 'any account',
      attempt: 'minting a token beyond the longest lifetime',
      boundary: 'token lifetimes',
      refused: { status: 400, code: 'TOKEN_EXPIRY_TOO_LONG' },
      run: async () => attempt(cast.managerToken, '/api/v1/tokens', { name: 'forever', expiresInDays: 366 }),
    },
    {
      who: 'an application',
      attempt: 'minting an account token',
      boundary: 'tokens are minted by accounts only',
      refused: { status: 403, code: 'ACCOUNT_REQUIRED' },
      run: async () => attempt(cast.structureAppToken, '/api/v1/tokens', { name: 'app-mints' }),
    },
  );

  // Responses triggered by forged evidence.
  const detection = () =>
    (t.container.modules.find((m) => m.name === 'detection') as DetectionModule).service;
  cells.push({
    who: "the operator's own sign-in gateway (wide reporting scope)",
    attempt: 'forged sign-ins from three networks that would revoke a platform administrator',
    boundary: 'no automatic response on a privileged account on ingested evidence alone',
    refused: { status: 200, code: 'RESPONSE_NEEDS_PERSON' },
    run: async () => {
      const res = await post(cast.gatewayToken, [
        signIn(scene.admin.id, '90.0.0.1', 0),
        signIn(scene.admin.id, '8.8.8.8', 60),
        signIn(scene.admin.id, '1.1.1.1', 120),
      ]);
      expect(res.json().inserted).toBe(3);
      await detection().settled();
      const responses = await t.database.db
        .selectFrom('responses')
        .select(['status', 'error_code'])
        .where('target_id', '=', scene.admin.id)
        .execute();
      expect(responses.length).toBeGreaterThan(0);
      const executed = responses.filter((r) => r.status !== 'withheld');
      return executed.length === 0
        ? { status: 200, code: responses[0]!.error_code ?? 'NONE' }
        : { status: 200, code: 'EXECUTED' };
    },
    unchanged: adminWorks,
  });

  cells.push({
    who: "a structure's business application",
    attempt: "decision requests naming another structure's agent, to aim a step-up at it",
    boundary:
      "a decision is its calling application's claim: responses stay within the caller's reporting scope",
    refused: { status: 200, code: 'RESPONSE_NEEDS_PERSON' },
    run: async () => {
      for (const id of cast.unfollowed.slice(0, 10))
        await t.app.inject({
          method: 'POST',
          url: '/access/v1/evaluation',
          headers: auth(cast.structureAppToken),
          payload: {
            subject: { type: 'account', id: cast.otherAgentId },
            action: { name: 'read' },
            resource: { type: 'record', id },
            context: { auth_level: 'phishing_resistant', auth_time: new Date(now()).toISOString() },
          },
        });
      await (t.container.modules.find((m) => m.name === 'access') as AccessModule).service.flush();
      await detection().settled();
      const responses = await t.database.db
        .selectFrom('responses')
        .select(['status', 'error_code'])
        .where('target_id', '=', cast.otherAgentId)
        .execute();
      if (responses.length === 0) return { status: 200, code: 'NO_RESPONSE' };
      return responses.every((r) => r.status === 'withheld')
        ? { status: 200, code: responses[0]!.error_code ?? 'NONE' }
        : { status: 200, code: 'EXECUTED' };
    },
    unchanged: async () => {
      const stepUp = await t.database.db
        .selectFrom('access_controls')
        .select('id')
        .where('target_id', '=', cast.otherAgentId)
        .execute();
      expect(stepUp).toEqual([]);
    },
  });

  // A structure's account manager looking into another structure: reads are scoped like acts.
  const read = async (token: string, url: string) =>
    refusalOf(await t.app.inject({ url, headers: auth(token) }));
  cells.push(
    {
      who: "a structure's account manager",
      attempt: "reading another structure's account's live sessions to pick a target",
      boundary: 'account.read over the account’s organisation',
      refused: { status: 404, code: 'ACCOUNT_NOT_FOUND' },
      run: () => read(cast.managerToken, `/api/v1/accounts/${cast.otherAgentId}/sessions`),
    },
    {
      who: "a structure's account manager",
      attempt: "reading another structure's account's access decisions",
      boundary: 'disclosure figures read within the account.read scope',
      refused: { status: 404, code: 'ACCOUNT_NOT_FOUND' },
      run: () => read(cast.managerToken, `/api/v1/access/decisions?accountId=${cast.otherAgentId}`),
    },
    {
      who: "a structure's account manager",
      attempt: "finding another structure's accounts by e-mail search",
      boundary: 'search runs within the account.read scope',
      refused: { status: 200, code: 'NONE_FOUND' },
      run: async () => {
        const res = await t.app.inject({
          url: `/api/v1/accounts?q=${cast.otherAgentId}`,
          headers: auth(cast.managerToken),
        });
        const items = res.json<{ items: unknown[] }>().items;
        return { status: res.statusCode, code: items.length === 0 ? 'NONE_FOUND' : 'FOUND' };
      },
    },
  );

  // The anonymous client.
  cells.push(
    {
      who: 'an anonymous client',
      attempt: 'guessing bearer tokens',
      boundary: 'failed authentications throttled per address',
      refused: { status: 429, code: 'AUTH_THROTTLED' },
      run: async () => {
        let last: Refusal = { status: 0, code: '' };
        for (let i = 0; i < 25 && last.status !== 429; i++)
          last = refusalOf(
            await t.app.inject({
              url: '/api/v1/accounts/me',
              headers: auth(`vig_${'A'.repeat(43)}${i}`),
              remoteAddress: '203.0.113.9',
            }),
          );
        return last;
      },
    },
    {
      who: 'an application asking about a record nobody knows',
      attempt: 'break-glass on an unknown record id (a NIR)',
      boundary: 'unknown records are denied, their id never journaled',
      refused: { status: 200, code: 'unknown_record' },
      run: async () => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/access/v1/evaluation',
          headers: auth(cast.structureAppToken),
          payload: {
            subject: { type: 'account', id: cast.managerId },
            action: { name: 'read' },
            resource: { type: 'record', id: '185057800608491' },
            context: {
              auth_level: 'phishing_resistant',
              break_glass: { purpose: 'person_request', justification: 'grille' },
            },
          },
        });
        const body = res.json();
        return { status: res.statusCode, code: body.decision ? 'ALLOWED' : body.context.reasons[0] };
      },
      unchanged: async () => {
        const leaked = await t.database.db
          .selectFrom('events')
          .select('id')
          .where('payload', 'like', '%185057800608491%')
          .execute();
        expect(leaked).toEqual([]);
      },
    },
  );

  // Full journal verifications read every organisation's entries: only an operator-wide journal reader.
  const noVerificationStarted = async () => {
    const latest = await t.app.inject({
      url: '/api/v1/journal/verifications/latest',
      headers: auth(scene.adminToken),
    });
    expect(latest.json()).toEqual({ running: null, last: null });
  };
  cells.push(
    {
      who: "a structure's account manager",
      attempt: 'starting full journal verifications (to load the database)',
      boundary: 'journal.read on a top-level organisation',
      refused: { status: 403, code: 'PERMISSION_DENIED' },
      run: () => attempt(cast.managerToken, '/api/v1/journal/verifications'),
      unchanged: noVerificationStarted,
    },
    {
      who: "a structure's business application",
      attempt: 'starting a full journal verification',
      boundary: 'accounts only',
      refused: { status: 403, code: 'ACCOUNT_REQUIRED' },
      run: () => attempt(cast.structureAppToken, '/api/v1/journal/verifications'),
      unchanged: noVerificationStarted,
    },
  );

  it('covers ingestion for others, the creation chain both ways, tokens minting tokens and forged evidence', () => {
    expect(cells.length).toBeGreaterThanOrEqual(16);
  });

  it.each(cells.map((c) => [`${c.who}: ${c.attempt}`, c] as const))('%s is refused', async (_name, cell) => {
    const got = await cell.run();
    expect(got, `${cell.boundary}`).toEqual(cell.refused);
    await cell.unchanged?.();
  });
});
