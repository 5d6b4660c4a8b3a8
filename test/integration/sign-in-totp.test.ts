import { URI, type TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeOrganisation, makeScene } from '../helpers/factories.js';
import {
  call,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
  type Browser,
  sessionCookieOf,
  stepUp,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * TOTP as a second sign-in method (issue 10, item 3): enrolment from a passkey session, confirmed by
 * a first code; sign-in with ±1 step, each code once; never for privileged, agent or partner accounts.
 */
describe('TOTP sign-in', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let lastIp = 20;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_SIGN_IN_LOCK_AFTER: '4', VIGIE_SIGN_IN_DELAY_AFTER: '4' },
      start: true,
    });
    scene = await makeScene(t.database.db);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  /** A browser of its own address, so that the per-address brake of one test leaves the others alone. */
  const browser = (): Browser => newBrowser(`192.0.2.${++lastIp}`);
  const nowMs = () => t.clock.now().getTime();
  const codeAt = (totp: TOTP, offsetSteps = 0) =>
    totp.generate({ timestamp: nowMs() + offsetSteps * 30_000 });

  async function withPasskey(email: string, organisationId = scene.structure.id) {
    const account = await createAccount(t, scene.adminToken, organisationId, email);
    const link = await sink.linkFor(email);
    const b = browser();
    const { verify, authenticator } = await enrolWithLink(t, b, link.secret);
    expect(verify!.statusCode).toBe(201);
    // Enrolling TOTP needs a step-up (docs/sign-in.md, Step-up).
    expect((await stepUp(t, b, authenticator)).statusCode).toBe(200);
    return { account, browser: b };
  }

  async function enrolTotp(b: Browser) {
    const started = await call(t, b, 'POST', '/api/v1/auth/totp/enrolment');
    expect(started.statusCode).toBe(201);
    const totp = URI.parse(started.json().uri) as TOTP;
    const confirmed = await call(t, b, 'POST', '/api/v1/auth/totp/enrolment/confirm', { code: codeAt(totp) });
    expect(confirmed.statusCode).toBe(200);
    return { totp, totpId: started.json().totpId as string, uri: started.json().uri as string };
  }

  const signInTotp = (b: Browser, email: string, code: unknown) =>
    call(t, b, 'POST', '/api/v1/auth/sign-in/totp', { email, code });

  it('enrols from a passkey session, confirms with a first code, then signs in with a later one', async () => {
    const { account, browser: owner } = await withPasskey('totp.ana@ml.test');
    const started = await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment');
    expect(started.statusCode).toBe(201);
    expect(started.headers['cache-control']).toBe('no-store');
    const uri = new URL(started.json().uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(decodeURIComponent(uri.pathname)).toContain('totp.ana@ml.test');
    const secret = uri.searchParams.get('secret')!;
    const totp = URI.parse(started.json().uri) as TOTP;

    const wrong = await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment/confirm', {
      code: codeAt(totp, 3),
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('TOTP_CODE_INVALID');
    const confirmCode = codeAt(totp);
    const confirmed = await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment/confirm', {
      code: confirmCode,
    });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().totpId).toBe(started.json().totpId);

    // The code that confirmed is spent: it cannot sign in.
    const elsewhere = browser();
    expect((await signInTotp(elsewhere, 'totp.ana@ml.test', confirmCode)).statusCode).toBe(401);
    t.clock.advance(30_000);
    const res = await signInTotp(elsewhere, ' Totp.Ana@ML.test ', codeAt(totp));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accountId: account.id, aal: 'aal2' });
    elsewhere.cookie = sessionCookieOf(res);
    const sessions = await call(t, elsewhere, 'GET', '/api/v1/auth/sessions');
    const current = sessions.json().items.find((s: { current: boolean }) => s.current);
    expect(current).toMatchObject({ authLevel: 'not_phishing_resistant', aal: 'aal2' });
    expect((await call(t, elsewhere, 'GET', '/api/v1/accounts/me')).json().id).toBe(account.id);

    const row = await t.database.db
      .selectFrom('totp_credentials')
      .selectAll()
      .where('account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_ciphertext).toMatch(/^v1\./);
    const stored = JSON.stringify(row);
    const raw = Buffer.from(totp.secret.bytes);
    for (const form of [secret, raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')])
      expect(stored).not.toContain(form);
    const events = await eventsOf(t, 'totp.enrolled', 'auth.sign_in', 'totp.revoked');
    const mine = events.filter((e) => e.actor.id === account.id);
    expect(JSON.stringify(events)).not.toContain(secret);
    expect(mine.map((e) => [e.kind, e.outcome, e.data?.method, e.reason])).toEqual([
      ['auth.sign_in', 'success', 'passkey', undefined],
      ['totp.enrolled', 'success', undefined, undefined],
      ['auth.sign_in', 'failure', 'totp', 'CODE_REPLAYED'],
      ['auth.sign_in', 'success', 'totp', undefined],
    ]);
    expect(mine[3]!.data).toMatchObject({ totpId: row.id, aal: 'aal2', amr: ['otp'] });
  });

  it('answers enrolments started at once with 201 or 409, never a server error, and keeps one pending secret', async () => {
    const { account, browser: owner } = await withPasskey('totp.race@ml.test');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call(t, owner, 'POST', '/api/v1/auth/totp/enrolment')),
    );
    for (const a of answers) expect([201, 409], a.body).toContain(a.statusCode);
    expect(answers.some((a) => a.statusCode === 201)).toBe(true);
    for (const a of answers.filter((x) => x.statusCode === 409))
      expect(a.json().error.code).toBe('TOTP_ENROLMENT_CONFLICT');
    const live = await t.database.db
      .selectFrom('totp_credentials')
      .select('id')
      .where('account_id', '=', account.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toHaveLength(1);
  });

  it('accepts a code once, one step either side of now, and refuses two steps away', async () => {
    const { browser: owner } = await withPasskey('totp.steps@ml.test');
    const { totp } = await enrolTotp(owner);
    t.clock.advance(10 * 60_000);
    const b = browser();
    const email = 'totp.steps@ml.test';
    expect((await signInTotp(b, email, codeAt(totp, -2))).statusCode).toBe(401);
    expect((await signInTotp(b, email, codeAt(totp, 2))).statusCode).toBe(401);
    const previousStep = codeAt(totp, -1);
    expect((await signInTotp(b, email, previousStep)).statusCode).toBe(200);
    const replay = await signInTotp(browser(), email, previousStep);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('SIGN_IN_FAILED');
    expect((await signInTotp(b, email, codeAt(totp, 1))).statusCode).toBe(200);
    // The next step was spent: now's code is older, so it is refused too.
    expect((await signInTotp(b, email, codeAt(totp))).statusCode).toBe(401);
    const reasons = (await eventsOf(t, 'auth.sign_in'))
      .filter((e) => e.data?.method === 'totp' && e.target?.id !== undefined)
      .slice(-6)
      .map((e) => e.reason ?? e.outcome);
    expect(reasons).toEqual([
      'CODE_INVALID',
      'CODE_INVALID',
      'success',
      'CODE_REPLAYED',
      'success',
      'CODE_REPLAYED',
    ]);
  });

  it('answers an unknown e-mail, an account without TOTP and a wrong code alike', async () => {
    const { browser: owner } = await withPasskey('totp.alike@ml.test');
    const { totp } = await enrolTotp(owner);
    await withPasskey('no.totp@ml.test');
    const bodies = [];
    for (const [email, code] of [
      ['nobody@ml.test', '123456'],
      ['no.totp@ml.test', '123456'],
      ['totp.alike@ml.test', codeAt(totp, 5)],
    ] as const) {
      const res = await signInTotp(browser(), email, code);
      expect(res.statusCode).toBe(401);
      const { requestId: _, ...rest } = res.json();
      bodies.push(JSON.stringify(rest));
    }
    expect(new Set(bodies).size).toBe(1);
    const reasons = (await eventsOf(t, 'auth.sign_in')).slice(-3).map((e) => e.reason);
    expect(reasons).toEqual(['ACCOUNT_UNKNOWN', 'TOTP_NOT_ENROLLED', 'CODE_INVALID']);
  });

  it('refuses enrolment to a privileged account; a privileged role granted later ends TOTP sessions and refuses sign-in', async () => {
    const { account, browser: manager } = await withPasskey('totp.manager@ml.test');
    await grantRole(t.database.db, account.id, 'account_manager', scene.structure.id);
    const refused = await call(t, manager, 'POST', '/api/v1/auth/totp/enrolment');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'TOTP_NOT_ALLOWED',
      details: { reason: 'privileged_role' },
    });

    const { account: later, browser: b } = await withPasskey('totp.promoted@ml.test');
    const { totp } = await enrolTotp(b);
    t.clock.advance(30_000);
    const before = browser();
    const opened = await signInTotp(before, 'totp.promoted@ml.test', codeAt(totp));
    expect(opened.statusCode).toBe(200);
    before.cookie = sessionCookieOf(opened);
    await grantRole(t.database.db, later.id, 'platform_admin', scene.operator.id);
    // The TOTP session opened before the grant ends; the passkey session carries on.
    expect((await call(t, before, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    expect((await call(t, b, 'GET', '/api/v1/accounts/me')).statusCode).toBe(200);
    expect((await eventsOf(t, 'session.ended')).at(-1)).toMatchObject({
      data: { accountId: later.id, reason: 'totp_not_allowed', refusal: 'privileged_role' },
    });
    t.clock.advance(30_000);
    const res = await signInTotp(browser(), 'totp.promoted@ml.test', codeAt(totp));
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('SIGN_IN_FAILED');
    expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({
      outcome: 'failure',
      reason: 'TOTP_NOT_ALLOWED',
      target: { id: later.id },
    });
  });

  it('refuses an agent and an account of a training organisation', async () => {
    const { account: agent, browser: agentBrowser } = await withPasskey('totp.agent@ml.test');
    await grantRole(t.database.db, agent.id, 'agent', scene.structure.id);
    const asAgent = await call(t, agentBrowser, 'POST', '/api/v1/auth/totp/enrolment');
    expect(asAgent.statusCode).toBe(403);
    expect(asAgent.json().error).toMatchObject({
      code: 'TOTP_NOT_ALLOWED',
      details: { reason: 'agent_role' },
    });

    const partner = await makeOrganisation(t.database.db, {
      parent: scene.network,
      name: 'Organisme de formation',
      kind: 'training_organisation',
    });
    const { browser: partnerBrowser } = await withPasskey('totp.partner@of.test', partner.id);
    const asPartner = await call(t, partnerBrowser, 'POST', '/api/v1/auth/totp/enrolment');
    expect(asPartner.statusCode).toBe(403);
    expect(asPartner.json().error.details).toEqual({ reason: 'partner_organisation' });
  });

  it('enrols only from a passkey session, and revokes with the sessions TOTP opened', async () => {
    const { account, browser: owner } = await withPasskey('totp.revoke@ml.test');
    const token = await issueToken(t.database.db, 'account', account.id);
    const bearer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp/enrolment',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json().error.code).toBe('SESSION_REQUIRED');
    const { totp, totpId } = await enrolTotp(owner);
    const again = await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('TOTP_ALREADY_ENROLLED');
    t.clock.advance(30_000);
    const viaTotp = browser();
    const res = await signInTotp(viaTotp, 'totp.revoke@ml.test', codeAt(totp));
    expect(res.statusCode).toBe(200);
    viaTotp.cookie = sessionCookieOf(res);
    const fromTotp = await call(t, viaTotp, 'POST', '/api/v1/auth/totp/enrolment');
    expect(fromTotp.statusCode).toBe(403);
    // A TOTP session can never step up, so the step-up gate refuses it before the enrolment does.
    expect(fromTotp.json().error).toMatchObject({
      code: 'STEP_UP_REQUIRED',
      details: { act: 'totp.enrol', reason: 'passkey_session_required' },
    });

    const revoked = await call(t, owner, 'DELETE', '/api/v1/auth/totp');
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ totpId, endedSessions: 1 });
    expect((await call(t, viaTotp, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
    expect((await call(t, owner, 'GET', '/api/v1/accounts/me')).statusCode).toBe(200);
    t.clock.advance(30_000);
    expect((await signInTotp(browser(), 'totp.revoke@ml.test', codeAt(totp))).statusCode).toBe(401);
    expect((await call(t, owner, 'DELETE', '/api/v1/auth/totp')).json().error.code).toBe('TOTP_NOT_FOUND');
    const [event] = (await eventsOf(t, 'totp.revoked')).filter((e) => e.actor.id === account.id);
    expect(event).toMatchObject({ outcome: 'success', data: { totpId, wasConfirmed: true } });
  });

  it('locks the account after repeated failures, even for a correct code', async () => {
    const { browser: owner } = await withPasskey('totp.locked@ml.test');
    const { totp } = await enrolTotp(owner);
    t.clock.advance(30_000);
    const email = 'totp.locked@ml.test';
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await signInTotp(browser(), email, codeAt(totp, 7))).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const correct = await signInTotp(browser(), email, codeAt(totp));
    expect(correct.statusCode).toBe(429);
    expect(correct.json().error.code).toBe('SIGN_IN_LOCKED');
    expect(Number(correct.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advance(16 * 60_000);
    expect((await signInTotp(browser(), email, codeAt(totp))).statusCode).toBe(200);
  });

  it('refuses hostile input with stable codes, and journals no e-mail typed', async () => {
    const b = browser();
    for (const code of [
      'abcdef',
      '12345a',
      '1234567',
      '12345',
      ' 12345',
      '１２３４５６',
      '12 345',
      '-12345',
      '1e5000',
    ])
      expect((await signInTotp(b, 'x@ml.test', code)).json().error.code, code).toBe('VALIDATION_FAILED');
    // The app's validator coerces scalars (123456 becomes "123456"); these cannot become six digits.
    for (const code of [null, true, 1e21, ['1', '2'], { toString: '123456' }])
      expect((await signInTotp(b, 'x@ml.test', code)).statusCode).toBe(400);
    const big = await signInTotp(b, 'a'.repeat(5_000), '123456');
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('BODY_TOO_LARGE');
    const long = await signInTotp(b, `${'a'.repeat(300)}@ml.test`, '123456');
    expect(long.json().error.code).toBe('VALIDATION_FAILED');
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-in/totp',
      remoteAddress: b.ip,
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8080' },
      payload: '{"email":"x@ml.test","code":"123456","__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().error.code).toBe('FORBIDDEN_KEY');
    const extra = await call(t, b, 'POST', '/api/v1/auth/sign-in/totp', {
      email: 'x@ml.test',
      code: '123456',
      accountId: scene.admin.id,
    });
    expect(extra.json().error.code).toBe('VALIDATION_FAILED');
    const { browser: owner } = await withPasskey('totp.hostile@ml.test');
    await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment');
    const confirmPoisoned = await call(t, owner, 'POST', '/api/v1/auth/totp/enrolment/confirm', {
      code: '123456',
      constructor: { prototype: { admin: true } },
    });
    expect(confirmPoisoned.statusCode).toBe(400);
    const events = JSON.stringify(await eventsOf(t, 'auth.sign_in'));
    expect(events).not.toContain('x@ml.test');
  });
});

describe('TOTP switched off (VIGIE_TOTP_ENABLED=false)', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { VIGIE_SMTP_URL: sink.url, VIGIE_TOTP_ENABLED: 'false' }, start: true });
    scene = await makeScene(t.database.db);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('refuses enrolment to everyone and answers sign-in with SIGN_IN_FAILED', async () => {
    await createAccount(t, scene.adminToken, scene.structure.id, 'off@ml.test');
    const b = newBrowser();
    const { verify, authenticator } = await enrolWithLink(t, b, (await sink.linkFor('off@ml.test')).secret);
    expect(verify!.statusCode).toBe(201);
    expect((await stepUp(t, b, authenticator)).statusCode).toBe(200);
    const refused = await call(t, b, 'POST', '/api/v1/auth/totp/enrolment');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'TOTP_NOT_ALLOWED', details: { reason: 'disabled' } });
    const res = await call(t, newBrowser('192.0.2.99'), 'POST', '/api/v1/auth/sign-in/totp', {
      email: 'off@ml.test',
      code: '123456',
    });
    expect(res.statusCode).toBe(401);
    expect((await eventsOf(t, 'auth.sign_in')).at(-1)).toMatchObject({ reason: 'TOTP_NOT_ALLOWED' });
  });
});
