import { URI, type TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityServiceOf } from '../../src/modules/identity/index.js';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import {
  call,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
  sessionCookieOf,
  stepUp,
  type Browser,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Step-up (issue 10, item 8): approving an account, granting a privileged role, exporting,
 * suspending (and the manual responses) and minting an API token need, from a session, a
 * user-verified passkey assertion at most 5 minutes old; tokens may act only when minted by the
 * operator or under a step-up.
 */
describe('step-up before privileged acts', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let lastIp = 40;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const browser = (): Browser => newBrowser(`192.0.2.${++lastIp}`);

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_DELEGATION_MAX_PENDING: '100' },
    });
    // The scene first: the access view (export, freeze) loads organisations when Vigie starts.
    scene = await makeScene(t.database.db);
    await t.container.start();
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  /** A founding-style platform administrator (no creation chain) signed in with a passkey. */
  async function signedInAdmin(email: string) {
    const db = t.database.db;
    const account = await makeAccount(db, {
      organisationId: scene.operator.id,
      email,
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    await grantRole(db, account.id, 'platform_admin', scene.operator.id);
    const reissued = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${account.id}/enrolment-link`,
      headers: bearer(scene.adminToken),
    });
    expect(reissued.statusCode).toBe(202);
    const link = await sink.linkFor(email);
    const b = browser();
    const authenticator = new SoftAuthenticator();
    const { verify } = await enrolWithLink(t, b, link.secret, authenticator);
    expect(verify!.statusCode).toBe(201);
    return { account, browser: b, authenticator };
  }

  /** A delegated administrator of the structure creates an account: it waits for four-eyes. */
  async function pendingAccount(email: string): Promise<string> {
    const db = t.database.db;
    const manager = await makeAccount(db, { organisationId: scene.structure.id });
    await grantRole(db, manager.id, 'account_manager', scene.structure.id);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: bearer(await issueToken(db, 'account', manager.id)),
      payload: { organisationId: scene.structure.id, email, kind: 'human' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('pending_approval');
    return res.json().id as string;
  }

  const expectStepUpRequired = (
    res: Awaited<ReturnType<typeof call>>,
    act: string,
    reason = 'step_up_missing',
  ) => {
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error).toMatchObject({
      code: 'STEP_UP_REQUIRED',
      details: {
        act,
        reason,
        maxAgeSeconds: 300,
        options: '/api/v1/auth/step-up/options',
        verify: '/api/v1/auth/step-up/verify',
        page: '/step-up',
      },
    });
  };

  it('refuses each act from a session without a step-up, and performs it within five minutes after one', async () => {
    const { account: admin, browser: b, authenticator } = await signedInAdmin('soc.one@op.test');
    const pending = await pendingAccount('pending.one@ml.test');
    // Through the API, so that the access view (export, freeze) knows them from their events.
    const grantee = await createAccount(t, scene.adminToken, scene.structure.id, 'grantee.one@ml.test');
    const target = await createAccount(t, scene.adminToken, scene.structure.id, 'target.one@ml.test');
    const acts = {
      approve: () => call(t, b, 'POST', `/api/v1/accounts/${pending}/approve`),
      grant: () =>
        call(t, b, 'POST', '/api/v1/roles/assignments', {
          accountId: grantee.id,
          roleId: 'security_analyst',
          organisationId: scene.structure.id,
        }),
      exportApproval: () =>
        call(t, b, 'POST', '/api/v1/access/export-approvals', {
          requesterAccountId: target.id,
          maxRecords: 5000,
          purpose: 'annual statistics',
        }),
      suspend: () =>
        call(t, b, 'POST', `/api/v1/accounts/${target.id}/suspend`, {
          reason: 'step-up test',
          lineage: true,
        }),
      freeze: () =>
        call(t, b, 'POST', '/api/v1/access/freezes', {
          target: { type: 'account', id: grantee.id },
          reason: 'manual response',
        }),
      token: () => call(t, b, 'POST', '/api/v1/tokens', { name: 'automation' }),
    };
    const names = {
      approve: 'account.approve',
      grant: 'role.grant_privileged',
      exportApproval: 'access.export',
      suspend: 'account.suspend',
      freeze: 'response.execute',
      token: 'token.issue',
    } as const;
    for (const [key, run] of Object.entries(acts))
      expectStepUpRequired(await run(), names[key as keyof typeof names]);
    // The gate is narrow: a non-privileged grant and reading need no step-up.
    const plain = await call(t, b, 'POST', '/api/v1/roles/assignments', {
      accountId: grantee.id,
      roleId: 'agent',
      organisationId: scene.structure.id,
    });
    expect(plain.statusCode, plain.body).toBe(201);
    expect((await call(t, b, 'GET', `/api/v1/accounts/${pending}`)).json().status).toBe('pending_approval');

    const stepped = await stepUp(t, b, authenticator);
    expect(stepped.statusCode, stepped.body).toBe(200);
    expect(Date.parse(stepped.json().validUntil) - Date.parse(stepped.json().stepUpAt)).toBe(300_000);
    t.clock.advance(299_000);

    const approved = await acts.approve();
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe('active');
    const granted = await acts.grant();
    expect(granted.statusCode, granted.body).toBe(201);
    expect(granted.json().status).toBe('pending_approval');
    expect((await acts.exportApproval()).statusCode).toBe(201);
    expect((await acts.suspend()).statusCode).toBe(200);
    expect((await acts.freeze()).statusCode).toBe(200);
    const minted = await acts.token();
    expect(minted.statusCode).toBe(201);

    const used = (await eventsOf(t, 'auth.step_up_used')).filter((e) => e.actor.id === admin.id);
    expect(used.map((e) => e.data?.act)).toEqual([
      'account.approve',
      'role.grant_privileged',
      'access.export',
      'account.suspend',
      'response.execute',
      'token.issue',
    ]);
    expect(used.every((e) => e.data?.stepUpAt === stepped.json().stepUpAt)).toBe(true);
    const success = (await eventsOf(t, 'auth.step_up')).filter((e) => e.actor.id === admin.id);
    expect(success.map((e) => e.outcome)).toEqual(['success']);

    // A token minted under a step-up is recorded so, and acts on its own (automation).
    const row = await t.database.db
      .selectFrom('api_tokens')
      .select(['minted_via', 'step_up'])
      .where('id', '=', minted.json().id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ minted_via: 'session', step_up: 1 });
    const later = await pendingAccount('pending.two@ml.test');
    t.clock.advance(3_600_000 / 2);
    const byToken = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${later}/approve`,
      headers: bearer(minted.json().secret),
    });
    expect(byToken.statusCode, byToken.body).toBe(200);
  });

  it('refuses a step-up older than five minutes, and step-ups without user verification, by another account or replayed', async () => {
    const { account, browser: b, authenticator } = await signedInAdmin('soc.two@op.test');
    const other = await signedInAdmin('soc.three@op.test');
    const pending = await pendingAccount('pending.three@ml.test');
    expect((await stepUp(t, b, authenticator)).statusCode).toBe(200);
    t.clock.advance(300_001);
    expectStepUpRequired(
      await call(t, b, 'POST', `/api/v1/accounts/${pending}/approve`),
      'account.approve',
      'step_up_expired',
    );

    const noUv = await stepUp(t, b, authenticator, { userVerified: false });
    expect(noUv.statusCode).toBe(403);
    expect(noUv.json().error.code).toBe('STEP_UP_FAILED');
    const foreign = await stepUp(t, b, other.authenticator);
    expect(foreign.json().error.code).toBe('STEP_UP_FAILED');

    const start = await call(t, b, 'POST', '/api/v1/auth/step-up/options');
    const { ceremonyId, options } = start.json();
    // The options name only this account's passkeys, and require user verification.
    expect(options.userVerification).toBe('required');
    expect(options.allowCredentials).toHaveLength(1);
    const response = authenticator.assert(options);
    expect(
      (await call(t, b, 'POST', '/api/v1/auth/step-up/verify', { ceremonyId, response })).statusCode,
    ).toBe(200);
    const replay = await call(t, b, 'POST', '/api/v1/auth/step-up/verify', { ceremonyId, response });
    expect(replay.json().error.code).toBe('STEP_UP_FAILED');
    // Another session of the same account cannot use this session's ceremony either.
    const second = browser();
    expect((await call(t, second, 'POST', '/api/v1/auth/step-up/options')).statusCode).toBe(401);

    const failures = (await eventsOf(t, 'auth.step_up')).filter(
      (e) => e.actor.id === account.id && e.outcome === 'failure',
    );
    expect(failures.map((e) => e.reason)).toEqual([
      'USER_VERIFICATION_REQUIRED',
      'ACCOUNT_MISMATCH',
      'CEREMONY_INVALID',
    ]);
    const approved = await call(t, b, 'POST', `/api/v1/accounts/${pending}/approve`);
    expect(approved.statusCode, approved.body).toBe(200);
  });

  it('never lets a TOTP session step up, nor mint a token', async () => {
    const email = 'totp.step@ml.test';
    await createAccount(t, scene.adminToken, scene.structure.id, email);
    const owner = browser();
    const { verify, authenticator } = await enrolWithLink(t, owner, (await sink.linkFor(email)).secret);
    expect(verify!.statusCode).toBe(201);
    expect((await stepUp(t, owner, authenticator)).statusCode).toBe(200);
    const started = await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment');
    const totp = URI.parse(started.json().uri) as TOTP;
    const code = () => totp.generate({ timestamp: t.clock.now().getTime() });
    expect(
      (await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment/confirm', { code: code() })).statusCode,
    ).toBe(200);
    t.clock.advance(30_000);
    const b = browser();
    const signedIn = await call(t, b, 'POST', '/api/v1/auth/sign-in/totp', { email, code: code() });
    expect(signedIn.statusCode).toBe(200);
    b.cookie = sessionCookieOf(signedIn);

    const options = await call(t, b, 'POST', '/api/v1/auth/step-up/options');
    expect(options.statusCode).toBe(403);
    expect(options.json().error.code).toBe('PASSKEY_SESSION_REQUIRED');
    expectStepUpRequired(
      await call(t, b, 'POST', '/api/v1/tokens', { name: 'from totp' }),
      'token.issue',
      'passkey_session_required',
    );
  });

  it('lets the operator CLI token act, and refuses tokens minted without a step-up and their children', async () => {
    const db = t.database.db;
    const pending = await pendingAccount('pending.four@ml.test');
    const founder = await makeAccount(db, {
      organisationId: scene.operator.id,
      email: 'founder@op.test',
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    await grantRole(db, founder.id, 'platform_admin', scene.operator.id);
    const cli = await identityServiceOf(t.container).issueAdminToken({ email: 'founder@op.test', days: 1 });
    const cliRow = await db
      .selectFrom('api_tokens')
      .select(['minted_via', 'step_up'])
      .where('id', '=', cli.tokenId)
      .executeTakeFirstOrThrow();
    expect(cliRow).toEqual({ minted_via: 'operator', step_up: 1 });

    // A token from before step-up existed, minted by a session: recorded `legacy`, no step-up.
    const legacy = await issueToken(db, 'account', founder.id);
    await db
      .updateTable('api_tokens')
      .set({ minted_via: 'legacy', step_up: 0 })
      .where('step_up', '=', 1)
      .where('principal_id', '=', founder.id)
      .where('id', '<>', cli.tokenId)
      .execute();
    const refused = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${pending}/approve`,
      headers: bearer(legacy),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.details).toMatchObject({
      act: 'account.approve',
      reason: 'token_without_step_up',
    });
    // It mints no way around it: its child is refused likewise.
    const child = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: bearer(legacy),
      payload: { name: 'child' },
    });
    expect(child.statusCode).toBe(403);
    expect(child.json().error.details.reason).toBe('token_without_step_up');

    const accepted = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${pending}/approve`,
      headers: bearer(cli.secret),
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    // A token acting on its step-up is not journaled as a session's step-up: the act's event says who.
    expect((await eventsOf(t, 'auth.step_up_used')).some((e) => e.actor.id === founder.id)).toBe(false);
  });
});
