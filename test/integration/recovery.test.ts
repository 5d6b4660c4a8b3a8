import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import {
  call,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
  sessionCookieOf,
  settleMail,
  signIn,
  stepUp,
  type Browser,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * A lost authenticator (issue 10, item 2): one-time recovery codes, stored hashed, that open only a
 * recovery session (register a new passkey, then a normal session); and, for everyone and the
 * only way for privileged accounts, a re-enrolment approved by a second person outside the
 * creation chain, with a step-up.
 */
describe('recovery codes and re-enrolment', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;
  let lastIp = 60;
  const browser = (): Browser => newBrowser(`192.0.2.${++lastIp}`);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { VIGIE_SMTP_URL: sink.url }, start: true });
    scene = await makeScene(t.database.db);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  async function enrolled(email: string) {
    const account = await createAccount(t, scene.adminToken, scene.structure.id, email);
    const b = browser();
    const authenticator = new SoftAuthenticator();
    const { verify } = await enrolWithLink(t, b, (await sink.linkFor(email)).secret, authenticator);
    expect(verify!.statusCode).toBe(201);
    return { account, browser: b, authenticator };
  }

  async function generate(b: Browser, authenticator: SoftAuthenticator): Promise<string[]> {
    expect((await stepUp(t, b, authenticator)).statusCode).toBe(200);
    const res = await call(t, b, 'POST', '/api/v1/auth/recovery-codes');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    return res.json().codes as string[];
  }

  const useCode = (b: Browser, email: string, code: string) =>
    call(t, b, 'POST', '/api/v1/auth/recovery', { email, code });

  it('generates ten codes after a step-up, stores none of them in the clear, and a new set revokes the old', async () => {
    const { account, browser: b, authenticator } = await enrolled('codes.one@ml.test');
    const refused = await call(t, b, 'POST', '/api/v1/auth/recovery-codes');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('STEP_UP_REQUIRED');
    const codes = await generate(b, authenticator);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect((await call(t, b, 'GET', '/api/v1/auth/recovery-codes')).json()).toMatchObject({ remaining: 10 });

    const rows = await t.database.db
      .selectFrom('recovery_codes')
      .selectAll()
      .where('account_id', '=', account.id)
      .execute();
    const stored = JSON.stringify(rows);
    for (const c of codes) {
      expect(stored).not.toContain(c);
      expect(stored).not.toContain(c.replace(/-/g, ''));
    }
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.code_hash))).toBe(true);
    const events = JSON.stringify(await eventsOf(t, 'recovery.codes_generated'));
    for (const c of codes) expect(events).not.toContain(c.replace(/-/g, ''));

    const second = await generate(b, authenticator);
    const old = await useCode(browser(), 'codes.one@ml.test', codes[0]!);
    expect(old.statusCode).toBe(401);
    const generated = (await eventsOf(t, 'recovery.codes_generated')).filter(
      (e) => e.actor.id === account.id,
    );
    expect(generated.map((e) => e.data?.revokedPrevious)).toEqual([0, 10]);
    expect((await useCode(browser(), 'codes.one@ml.test', second[0]!)).statusCode).toBe(200);
  });

  it('opens with a code, once, a recovery session that can only register a passkey, then becomes a normal one', async () => {
    const { account, browser: b, authenticator } = await enrolled('codes.two@ml.test');
    const codes = await generate(b, authenticator);
    const lost = browser();
    // Typed by a person: lower case, spaces instead of dashes.
    const typed = codes[3]!.toLowerCase().replace(/-/g, ' ');
    const opened = await useCode(lost, ' Codes.Two@ML.test ', typed);
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json()).toMatchObject({ accountId: account.id, aal: 'aal1' });
    lost.cookie = sessionCookieOf(opened);

    for (const [method, url, body] of [
      ['GET', '/api/v1/accounts/me', undefined],
      ['GET', '/api/v1/auth/passkeys', undefined],
      ['POST', '/api/v1/tokens', { name: 'thief' }],
      ['POST', '/api/v1/auth/recovery-codes', undefined],
      ['POST', '/api/v1/auth/step-up/options', undefined],
      ['POST', '/api/v1/auth/sign-out-everywhere', undefined],
    ] as const) {
      const res = await call(t, lost, method, url, body);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.code).toBe('RECOVERY_SESSION_LIMITED');
    }
    // The code is spent: a second use, racing or later, fails like a wrong code.
    const again = await useCode(browser(), 'codes.two@ml.test', codes[3]!);
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('SIGN_IN_FAILED');

    const fresh = new SoftAuthenticator();
    const options = await call(t, lost, 'POST', '/api/v1/auth/passkeys/registration/options');
    expect(options.statusCode).toBe(200);
    const registered = await call(t, lost, 'POST', '/api/v1/auth/passkeys/registration/verify', {
      ceremonyId: options.json().ceremonyId,
      response: fresh.register(options.json().options),
      name: 'Nouvelle clé',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const recoveryCookie = lost.cookie;
    lost.cookie = sessionCookieOf(registered);
    expect(lost.cookie).toBeDefined();
    expect(lost.cookie).not.toBe(recoveryCookie);
    expect((await call(t, lost, 'GET', '/api/v1/accounts/me')).json().id).toBe(account.id);
    expect(
      (await call(t, { ...lost, cookie: recoveryCookie! }, 'GET', '/api/v1/accounts/me')).statusCode,
    ).toBe(401);
    expect((await signIn(t, browser(), fresh)).statusCode).toBe(200);

    const used = (await eventsOf(t, 'recovery.code_used')).filter((e) => e.target?.id === account.id);
    expect(used.map((e) => [e.outcome, e.reason ?? null])).toEqual([
      ['success', null],
      ['failure', 'CODE_INVALID'],
    ]);
    expect(used[0]!.data).toMatchObject({ remaining: 9 });
    const ended = (await eventsOf(t, 'session.ended')).filter((e) => e.data?.reason === 'recovered');
    expect(ended).toHaveLength(1);
  });

  it('answers an unknown e-mail, a wrong code and a malformed one alike, and locks after the configured failures', async () => {
    const { browser: b, authenticator } = await enrolled('codes.three@ml.test');
    const codes = await generate(b, authenticator);
    const attacker = browser();
    const answers = [
      await useCode(attacker, 'nobody@ml.test', codes[0]!),
      await useCode(attacker, 'codes.three@ml.test', 'AAAA-AAAA-AAAA-AAAA'),
      await useCode(attacker, 'codes.three@ml.test', '__proto__'),
    ];
    for (const a of answers) {
      expect(a.statusCode).toBe(401);
      expect(a.json().error).toEqual(answers[0]!.json().error);
    }
    const oversized = await useCode(attacker, 'codes.three@ml.test', 'A'.repeat(41));
    expect(oversized.statusCode).toBe(400);
    for (let i = 0; i < 8; i++) await useCode(browser(), 'codes.three@ml.test', 'AAAA-AAAA-AAAA-AAAB');
    const locked = await useCode(browser(), 'codes.three@ml.test', codes[1]!);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('SIGN_IN_LOCKED');
    expect(locked.headers['retry-after']).toBeDefined();
  });

  it('refuses recovery codes to a privileged account, and refuses codes generated before a privileged grant', async () => {
    const { account, browser: b, authenticator } = await enrolled('codes.four@ml.test');
    const codes = await generate(b, authenticator);
    await grantRole(t.database.db, account.id, 'account_approver', scene.structure.id);
    expect((await useCode(browser(), 'codes.four@ml.test', codes[0]!)).statusCode).toBe(401);
    const last = (await eventsOf(t, 'recovery.code_used')).filter((e) => e.target?.id === account.id).pop();
    expect(last).toMatchObject({ outcome: 'failure', reason: 'RECOVERY_NOT_ALLOWED' });
    expect((await stepUp(t, b, authenticator)).statusCode).toBe(200);
    const refused = await call(t, b, 'POST', '/api/v1/auth/recovery-codes');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      code: 'RECOVERY_CODES_NOT_ALLOWED',
      details: { reason: 'privileged_role' },
    });
  });

  describe('re-enrolment approved by a second person', () => {
    /** An approver of the structure signed in with a passkey, created by `createdBy` (or no one). */
    async function approver(email: string, createdBy: string | null = null) {
      const db = t.database.db;
      const account = await makeAccount(db, {
        organisationId: scene.structure.id,
        email,
        createdBy,
        createdAt: '2025-01-01T00:00:00.000Z',
      });
      await grantRole(db, account.id, 'account_manager', scene.structure.id);
      const reissued = await t.app.inject({
        method: 'POST',
        url: `/api/v1/accounts/${account.id}/enrolment-link`,
        headers: bearer(scene.adminToken),
      });
      expect(reissued.statusCode).toBe(202);
      const b = browser();
      const authenticator = new SoftAuthenticator();
      const { verify } = await enrolWithLink(t, b, (await sink.linkFor(email)).secret, authenticator);
      expect(verify!.statusCode).toBe(201);
      return { account, browser: b, authenticator };
    }

    it('takes a request from the holder with the same answer for any e-mail, one pending at a time', async () => {
      const { account } = await enrolled('lost.one@ml.test');
      const anyone = browser();
      const known = await call(t, anyone, 'POST', '/api/v1/auth/reenrolment', { email: 'lost.one@ml.test' });
      const unknown = await call(t, anyone, 'POST', '/api/v1/auth/reenrolment', { email: 'ghost@ml.test' });
      const again = await call(t, anyone, 'POST', '/api/v1/auth/reenrolment', { email: 'LOST.one@ml.test' });
      for (const r of [known, unknown, again]) {
        expect(r.statusCode).toBe(202);
        expect(r.body).toBe(known.body);
      }
      const requested = (await eventsOf(t, 'reenrolment.requested')).filter(
        (e) => e.target?.id === account.id,
      );
      expect(requested).toHaveLength(1);
      expect(requested[0]!.data).toMatchObject({ via: 'self' });
      expect(JSON.stringify(await eventsOf(t, 'reenrolment.requested'))).not.toContain('ghost@ml.test');
    });

    it('needs a different person outside the creation chain, with a step-up; then revokes every authenticator and mails a link', async () => {
      const db = t.database.db;
      const first = await approver('rgc.first@ml.test');
      // The holder was created by `first`: its creature `sibling` is in the creation chain.
      const lostEmail = 'lost.two@ml.test';
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/accounts',
        headers: bearer(scene.adminToken),
        payload: { organisationId: scene.structure.id, email: lostEmail, kind: 'human' },
      });
      const holderId = created.json().id as string;
      await db
        .updateTable('accounts')
        .set({ created_by: first.account.id })
        .where('id', '=', holderId)
        .execute();
      const holderAuth = new SoftAuthenticator();
      const holderBrowser = browser();
      await enrolWithLink(t, holderBrowser, (await sink.linkFor(lostEmail)).secret, holderAuth);
      const holderCodes = await generate(holderBrowser, holderAuth);
      const sibling = await approver('rgc.sibling@ml.test', first.account.id);
      const second = await approver('rgc.second@ml.test');
      const requester = await approver('rgc.requester@ml.test');

      const requested = await call(t, requester.browser, 'POST', `/api/v1/accounts/${holderId}/reenrolment`, {
        reason: 'téléphone perdu',
      });
      expect(requested.statusCode, requested.body).toBe(201);
      const id = requested.json().id as string;
      const pending = await call(t, second.browser, 'GET', '/api/v1/reenrolments');
      expect(pending.json().items.map((r: { id: string }) => r.id)).toContain(id);

      const approve = (who: { browser: Browser }) =>
        call(t, who.browser, 'POST', `/api/v1/reenrolments/${id}/approve`);
      expect((await approve(second)).json().error.code).toBe('STEP_UP_REQUIRED');
      for (const [who, code] of [
        [requester, 'APPROVER_IS_CREATOR'],
        [first, 'APPROVER_IN_CREATION_CHAIN'],
        [sibling, 'APPROVER_IN_CREATION_CHAIN'],
      ] as const) {
        expect((await stepUp(t, who.browser, who.authenticator)).statusCode).toBe(200);
        const res = await approve(who);
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe(code);
      }
      // A token of an outsider's organisation does not even see it.
      const outsiderOrgToken = await issueToken(
        db,
        'account',
        (await makeAccount(db, { organisationId: scene.network.id })).id,
      );
      const hidden = await t.app.inject({
        method: 'POST',
        url: `/api/v1/reenrolments/${id}/approve`,
        headers: bearer(outsiderOrgToken),
      });
      expect(hidden.statusCode).toBe(404);

      expect((await stepUp(t, second.browser, second.authenticator)).statusCode).toBe(200);
      const approved = await approve(second);
      expect(approved.statusCode, approved.body).toBe(200);
      expect(approved.json()).toMatchObject({ status: 'approved', decidedBy: second.account.id });
      expect((await approve(second)).json().error.code).toBe('REENROLMENT_NOT_PENDING');

      // Every authenticator and session of the holder is gone; a new link is in the mail.
      expect((await call(t, holderBrowser, 'GET', '/api/v1/accounts/me')).statusCode).toBe(401);
      expect((await signIn(t, browser(), holderAuth)).statusCode).toBe(401);
      expect((await useCode(browser(), lostEmail, holderCodes[0]!)).statusCode).toBe(401);
      await settleMail(t);
      const link = await sink.linkFor(lostEmail);
      const renewed = browser();
      const { verify } = await enrolWithLink(t, renewed, link.secret);
      expect(verify!.statusCode).toBe(201);

      const events = await eventsOf(t, 'reenrolment.approved', 'enrolment.issued');
      const mine = events.filter((e) => e.target?.id === holderId);
      expect(mine.map((e) => [e.kind, e.outcome, e.reason ?? null])).toEqual([
        ['enrolment.issued', 'success', null],
        ['reenrolment.approved', 'denied', 'APPROVER_IS_CREATOR'],
        ['reenrolment.approved', 'denied', 'APPROVER_IN_CREATION_CHAIN'],
        ['reenrolment.approved', 'denied', 'APPROVER_IN_CREATION_CHAIN'],
        ['reenrolment.approved', 'success', null],
        ['enrolment.issued', 'success', null],
        ['reenrolment.approved', 'denied', 'REENROLMENT_NOT_PENDING'],
      ]);
      expect(mine[4]!.data).toMatchObject({
        requestedBy: requester.account.id,
        approvedBy: second.account.id,
      });
      expect((mine[4]!.data!.passkeysRevoked as string[]).length).toBe(1);
    });
  });
});
