import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/shared/clock.js';
import { grantRole, issueToken, makeAccount, makeScene } from '../helpers/factories.js';
import {
  call,
  createAccount,
  enrolWithLink,
  eventsOf,
  newBrowser,
  sessionCookieOf,
  settleMail,
} from '../helpers/sign-in-scene.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Enrolment (issue 10, item 2): an account that becomes active gets a single-use link by mail, after
 * commit; the link registers its first passkey without a session and signs it in; re-issuing revokes
 * the previous link; the secret is nowhere but in the mail.
 */
describe('enrolment links', () => {
  let t: TestApp;
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let scene: Awaited<ReturnType<typeof makeScene>>;

  beforeAll(async () => {
    sink = await startSmtpSink({ failFirst: 1 });
    t = await createTestApp({
      env: { VIGIE_SMTP_URL: sink.url, VIGIE_MAIL_FROM: 'vigie@operator.test' },
      start: true,
    });
    scene = await makeScene(t.database.db);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('mails a link to an account created active, retrying a refused delivery, and the link enrols a first passkey and signs in', async () => {
    const account = await createAccount(t, scene.adminToken, scene.structure.id, 'agent.one@ml.test');
    const link = await sink.linkFor('agent.one@ml.test');
    expect(link.url).toBe(`http://localhost:8080/enrol#${link.secret}`);
    const browser = newBrowser();
    const { verify } = await enrolWithLink(t, browser, link.secret, new SoftAuthenticator(), 'Portable');
    expect(verify!.statusCode).toBe(201);
    expect(verify!.json()).toMatchObject({
      accountId: account.id,
      aal: 'aal3',
      passkey: { name: 'Portable', synced: false },
    });
    const setCookie = String(verify!.headers['set-cookie']);
    expect(setCookie).toMatch(
      /^__Host-vigie_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200$/,
    );
    const me = await call(t, browser, 'GET', '/api/v1/accounts/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(account.id);
    await settleMail(t);
    const mailed = await eventsOf(t, 'enrolment.issued', 'enrolment.mailed', 'enrolment.used');
    expect(mailed.map((e) => e.kind)).toEqual(['enrolment.issued', 'enrolment.mailed', 'enrolment.used']);
    expect(mailed[1]!.data).toMatchObject({ attempts: 2 });
  });

  it('mails nothing while an account waits for four-eyes approval, and the link once it is approved', async () => {
    const manager = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, manager.id, 'account_manager', scene.structure.id);
    const approver = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    await grantRole(t.database.db, approver.id, 'account_approver', scene.structure.id);
    const pending = await createAccount(
      t,
      await issueToken(t.database.db, 'account', manager.id),
      scene.structure.id,
      'pending.agent@ml.test',
    );
    await settleMail(t);
    expect(sink.mails.some((m) => m.to.includes('pending.agent@ml.test'))).toBe(false);
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${pending.id}/approve`,
      headers: { authorization: `Bearer ${await issueToken(t.database.db, 'account', approver.id)}` },
    });
    expect(approved.statusCode).toBe(200);
    const link = await sink.linkFor('pending.agent@ml.test');
    expect((await enrolWithLink(t, newBrowser(), link.secret)).verify!.statusCode).toBe(201);
  });

  it('refuses a used link, with nothing registered', async () => {
    await createAccount(t, scene.adminToken, scene.structure.id, 'agent.two@ml.test');
    const link = await sink.linkFor('agent.two@ml.test');
    const first = await enrolWithLink(t, newBrowser(), link.secret);
    expect(first.verify!.statusCode).toBe(201);
    const again = await enrolWithLink(t, newBrowser(), link.secret);
    expect(again.options.statusCode).toBe(400);
    expect(again.options.json().error.code).toBe('ENROLMENT_LINK_INVALID');
  });

  it('refuses an expired link after the configured 72 hours', async () => {
    await createAccount(t, scene.adminToken, scene.structure.id, 'agent.three@ml.test');
    const link = await sink.linkFor('agent.three@ml.test');
    t.clock.advance(72 * HOUR_MS + 1);
    const late = await enrolWithLink(t, newBrowser(), link.secret);
    expect(late.options.statusCode).toBe(400);
    expect(late.options.json().error.code).toBe('ENROLMENT_LINK_INVALID');
  });

  it('re-issues a link for an administrator over the organisation, revoking the previous one, and 404s for others', async () => {
    const account = await createAccount(t, scene.adminToken, scene.structure.id, 'agent.four@ml.test');
    const old = await sink.linkFor('agent.four@ml.test');
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${account.id}/enrolment-link`,
      headers: { authorization: `Bearer ${scene.adminToken}` },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accountId: account.id, delivery: 'queued' });
    expect(res.body).not.toContain(old.secret);
    const fresh = await (async () => {
      for (;;) {
        const l = await sink.linkFor('agent.four@ml.test');
        if (l.secret !== old.secret) return l;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    expect((await enrolWithLink(t, newBrowser(), old.secret)).options.json().error.code).toBe(
      'ENROLMENT_LINK_INVALID',
    );
    expect((await enrolWithLink(t, newBrowser(), fresh.secret)).verify!.statusCode).toBe(201);
    const issued = (await eventsOf(t, 'enrolment.issued')).filter((e) => e.target?.id === account.id);
    expect(issued.map((e) => e.data?.reason)).toEqual(['activation', 'reissue']);
    expect(issued[1]!.data).toMatchObject({ revokedPrevious: 1 });

    // A structure's agent with no right over the account: 404, as if it did not exist.
    const outsider = await makeAccount(t.database.db, { organisationId: scene.structure.id });
    const outsiderToken = await issueToken(t.database.db, 'account', outsider.id);
    const refused = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${account.id}/enrolment-link`,
      headers: { authorization: `Bearer ${outsiderToken}` },
    });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('gives no link to a service account, and refuses to re-issue one for it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: { authorization: `Bearer ${scene.adminToken}` },
      payload: { organisationId: scene.structure.id, email: 'batch@ml.test', kind: 'service' },
    });
    expect(res.statusCode).toBe(201);
    await settleMail(t);
    expect(sink.mails.some((m) => m.to.includes('batch@ml.test'))).toBe(false);
    const reissue = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${res.json().id}/enrolment-link`,
      headers: { authorization: `Bearer ${scene.adminToken}` },
    });
    expect(reissue.statusCode).toBe(409);
    expect(reissue.json().error.code).toBe('ACCOUNT_NOT_ENROLLABLE');
  });

  it('keeps every secret out of the journal and the tables: link secrets, challenges and session ids', async () => {
    await createAccount(t, scene.adminToken, scene.structure.id, 'agent.five@ml.test');
    const link = await sink.linkFor('agent.five@ml.test');
    const browser = newBrowser();
    const { options, authenticator } = await enrolWithLink(t, browser, link.secret);
    const enrolCookie = browser.cookie!;
    const start = await call(t, browser, 'POST', '/api/v1/auth/sign-in/options', {});
    const { ceremonyId, options: request } = start.json();
    const res = await call(t, browser, 'POST', '/api/v1/auth/sign-in/verify', {
      ceremonyId,
      response: authenticator.assert(request),
    });
    expect(res.statusCode).toBe(200);
    const secrets = [
      link.secret,
      options.json().options.challenge,
      request.challenge,
      enrolCookie,
      sessionCookieOf(res)!,
    ];
    const tables = ['events', 'sessions', 'enrolment_links', 'passkey_ceremonies'] as const;
    for (const table of tables) {
      const text = JSON.stringify(await t.database.db.selectFrom(table).selectAll().execute());
      for (const secret of secrets) expect(text, table).not.toContain(secret);
    }
  });
});

describe('enrolment without SMTP', () => {
  it('issues the link but mails nothing, and an event says so', async () => {
    const t = await createTestApp({ start: true });
    try {
      const scene = await makeScene(t.database.db);
      const account = await createAccount(t, scene.adminToken, scene.structure.id, 'nomail@ml.test');
      await settleMail(t);
      const events = (await eventsOf(t, 'enrolment.issued', 'enrolment.not_mailed')).filter(
        (e) => e.target?.id === account.id,
      );
      expect(events.map((e) => [e.kind, e.outcome, e.reason ?? null])).toEqual([
        ['enrolment.issued', 'success', null],
        ['enrolment.not_mailed', 'failure', 'SMTP_NOT_CONFIGURED'],
      ]);
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/accounts/${account.id}/enrolment-link`,
        headers: { authorization: `Bearer ${scene.adminToken}` },
      });
      expect(res.json()).toMatchObject({ delivery: 'not_configured' });
      expect(sessionCookieOf(res)).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
