import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { URI, type TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyDir } from '../../src/modules/access/policy.store.js';
import { makeAccount } from '../helpers/factories.js';
import {
  call,
  enrolWithLink,
  newBrowser,
  sessionCookieOf,
  signIn,
  stepUp,
  type Browser,
  type Sink,
} from '../helpers/sign-in-scene.js';
import type { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { accessOf, evaluate, isolatedEnv, makeAccessScene, read } from './access-scene.js';

/**
 * Issue 10, items 4 and 9: the PDP takes authentication strength, time and network from the Vigie
 * session an AuthZEN request names, never from the application's claim. Sessions are real: opened
 * by a passkey enrolment (soft authenticator) and by a TOTP sign-in, through the sign-in API.
 */

const root = path.resolve(import.meta.dirname, '../..');
const OPT_IN = path.join(root, 'policies/opt-in/require-vigie-session.yaml');

function policyDir(withOptIn: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-session-policy-'));
  fs.copyFileSync(path.join(root, 'policies/default.yaml'), path.join(dir, 'default.yaml'));
  fs.copyFileSync(
    path.join(root, 'test/fixtures/policies/session-strength/consult.yaml'),
    path.join(dir, 'consult.yaml'),
  );
  if (withOptIn) fs.copyFileSync(OPT_IN, path.join(dir, 'require-vigie-session.yaml'));
  return dir;
}

const consult = (accountId: string, context?: Record<string, unknown>) => ({
  subject: { type: 'account', id: accountId },
  action: { name: 'consult' },
  resource: { type: 'report', id: 'monthly' },
  ...(context ? { context } : {}),
});

describe('authentication strength from the Vigie session the request names', () => {
  let t: TestApp;
  let sink: Sink;
  let s: Awaited<ReturnType<typeof makeAccessScene>>;
  let clerk: Awaited<ReturnType<typeof makeAccount>>;
  let advisorBrowser: Browser;
  let advisorSession: string;
  let clerkTotpSession: string;
  let approverBrowser: Browser;
  let lastIp = 40;

  const browser = (): Browser => newBrowser(`192.0.2.${++lastIp}`);
  const now = () => t.clock.now().toISOString();

  let advisorKey: SoftAuthenticator;

  async function passkeySession(accountId: string, email: string) {
    const reissued = await t.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${accountId}/enrolment-link`,
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(reissued.statusCode).toBe(202);
    const b = browser();
    const { verify, authenticator } = await enrolWithLink(t, b, (await sink.linkFor(email)).secret);
    expect(verify!.statusCode).toBe(201);
    return { browser: b, authenticator };
  }

  /** The advisor signs in again with its passkey, from a browser of its own; a new session. */
  async function advisorSignsIn(): Promise<void> {
    advisorBrowser = browser();
    expect((await signIn(t, advisorBrowser, advisorKey)).statusCode).toBe(200);
    advisorSession = await currentSessionId(advisorBrowser);
  }

  async function currentSessionId(b: Browser): Promise<string> {
    const res = await call(t, b, 'GET', '/api/v1/auth/sessions');
    expect(res.statusCode).toBe(200);
    return res.json().items.find((x: { current: boolean }) => x.current).id as string;
  }

  async function decisionEvents() {
    await accessOf(t).service.flush();
    const rows = await t.database.db
      .selectFrom('events')
      .select('payload')
      .where('kind', '=', 'access.decision')
      .orderBy('seq')
      .execute();
    return rows.map(
      (r) =>
        JSON.parse(r.payload) as {
          context?: Record<string, unknown>;
          data: Record<string, unknown>;
          reason?: string;
        },
    );
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({
      env: isolatedEnv({ VIGIE_POLICY_DIR: policyDir(false), VIGIE_SMTP_URL: sink.url }),
    });
    s = await makeAccessScene(t);
    // A person with no role, in a Mission Locale: the TOTP policy lets them use a code.
    clerk = await makeAccount(t.database.db, { organisationId: s.structure.id, email: 'clerk@ml.test' });
    await t.container.start();
    await t.database.db
      .updateTable('accounts')
      .set({ email: 'advisor@ml.test' })
      .where('id', '=', s.advisor.id)
      .execute();
    await t.database.db
      .updateTable('accounts')
      .set({ email: 'approver@ml.test' })
      .where('id', '=', s.approver.id)
      .execute();

    const advisor = await passkeySession(s.advisor.id, 'advisor@ml.test');
    advisorBrowser = advisor.browser;
    advisorKey = advisor.authenticator;
    advisorSession = await currentSessionId(advisorBrowser);
    approverBrowser = (await passkeySession(s.approver.id, 'approver@ml.test')).browser;

    // The clerk enrols TOTP from a passkey session, then signs in with a code elsewhere.
    const clerk0 = await passkeySession(clerk.id, 'clerk@ml.test');
    const clerkPasskey = clerk0.browser;
    // Enrolling TOTP needs a step-up (docs/sign-in.md, Step-up).
    expect((await stepUp(t, clerkPasskey, clerk0.authenticator)).statusCode).toBe(200);
    const started = await call(t, clerkPasskey, 'POST', '/api/v1/auth/totp/enrolment');
    expect(started.statusCode).toBe(201);
    const totp = URI.parse(started.json().uri) as TOTP;
    const confirm = await call(t, clerkPasskey, 'POST', '/api/v1/auth/totp/enrolment/confirm', {
      code: totp.generate({ timestamp: t.clock.now().getTime() }),
    });
    expect(confirm.statusCode).toBe(200);
    t.clock.advance(30_000);
    const phone = browser();
    const signedIn = await call(t, phone, 'POST', '/api/v1/auth/sign-in/totp', {
      email: 'clerk@ml.test',
      code: totp.generate({ timestamp: t.clock.now().getTime() }),
    });
    expect(signedIn.statusCode).toBe(200);
    phone.cookie = sessionCookieOf(signedIn);
    clerkTotpSession = await currentSessionId(phone);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('gives a request naming a TOTP session the TOTP strength even when the body claims phishing_resistant', async () => {
    const claim = { auth_level: 'phishing_resistant', auth_time: now() };
    // The application's word alone is still believed when it names no session (today's behaviour).
    const claimed = await evaluate(t, s.businessToken, consult(clerk.id, claim));
    expect(claimed.json()).toEqual({ decision: true });

    const res = await evaluate(
      t,
      s.businessToken,
      consult(clerk.id, { ...claim, session_id: clerkTotpSession }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      decision: false,
      context: { reasons: ['stronger_authentication_required'] },
    });

    const [before, after] = (await decisionEvents()).slice(-2);
    expect(before!.context?.authLevel).toBe('phishing_resistant');
    expect(before!.data.authSource).toBe('claimed');
    expect(after!.context).toMatchObject({
      authLevel: 'not_phishing_resistant',
      sessionId: clerkTotpSession,
    });
    expect(after!.data).toMatchObject({ authSource: 'session', networkPrefix: '192.0.2.0/24' });
    expect(after!.data.sessionProblem).toBeUndefined();
  });

  it('explains a decision with the strength of the session it names, as the PDP decides it', async () => {
    const body = consult(clerk.id, { auth_level: 'phishing_resistant', session_id: clerkTotpSession });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/access/explain',
      headers: { authorization: `Bearer ${s.adminToken}` },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      decision: false,
      context: { reasons: ['stronger_authentication_required'] },
    });
  });

  it('lends a passkey session its strength without any claim, for reads and stronger actions alike', async () => {
    const res = await evaluate(t, s.businessToken, consult(s.advisor.id, { session_id: advisorSession }));
    expect(res.json()).toEqual({ decision: true });
    const own = await evaluate(
      t,
      s.businessToken,
      read(s.advisor.id, s.ownPeople[0]!, { session_id: advisorSession }),
    );
    expect(own.json()).toEqual({ decision: true });
  });

  it("treats another subject's session as no session, and says so", async () => {
    const res = await evaluate(
      t,
      s.businessToken,
      consult(s.colleagueB.id, {
        auth_level: 'phishing_resistant',
        auth_time: now(),
        session_id: advisorSession,
      }),
    );
    expect(res.json()).toEqual({
      decision: false,
      context: { reasons: ['stronger_authentication_required', 'session_subject_mismatch'] },
    });
    const last = (await decisionEvents()).at(-1)!;
    expect(last.data).toMatchObject({ authSource: 'session', sessionProblem: 'session_subject_mismatch' });
    expect(last.context?.authLevel).toBeUndefined();
    expect(last.data.networkPrefix).toBeUndefined();
  });

  it('gives an unknown session id, or an access token with no resolver wired, no strength at all', async () => {
    const unknown = await evaluate(
      t,
      s.businessToken,
      consult(clerk.id, {
        auth_level: 'phishing_resistant',
        auth_time: now(),
        session_id: '01900000-0000-7000-8000-000000000000',
      }),
    );
    expect(unknown.json().context.reasons).toEqual(['stronger_authentication_required', 'session_unknown']);
    const token = await evaluate(
      t,
      s.businessToken,
      consult(s.advisor.id, {
        auth_level: 'phishing_resistant',
        auth_time: now(),
        access_token: 'eyJhbGciOi.x.y',
      }),
    );
    expect(token.json().context.reasons).toEqual(['stronger_authentication_required', 'session_unknown']);
    const events = JSON.stringify(await decisionEvents());
    expect(events).not.toContain('eyJhbGciOi');
  });

  it('refuses a malformed session id or an oversized token with 400, and ignores __proto__ in the context', async () => {
    for (const context of [
      { session_id: 'not-a-uuid' },
      { session_id: { id: advisorSession } },
      { access_token: 'x'.repeat(5000) },
    ]) {
      const res = await evaluate(t, s.businessToken, consult(s.advisor.id, context));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const raw = `{"session_id":"${clerkTotpSession}","__proto__":{"auth_level":"phishing_resistant"}}`;
    const hostile = await evaluate(
      t,
      s.businessToken,
      consult(clerk.id, JSON.parse(raw) as Record<string, unknown>),
    );
    expect(hostile.statusCode).toBe(400); // Fastify refuses __proto__ in a JSON body before any route
    // Behind the parser too, a context's own __proto__ key stays a plain key: no prototype changes.
    const sessions = accessOf(t).sessions;
    const context = JSON.parse(raw) as Record<string, unknown>;
    const applied = sessions.apply(consult(clerk.id, context), await sessions.lookup(context));
    expect(Object.getPrototypeOf(applied.context)).toBe(Object.prototype);
    expect(applied.context!.auth_level).toBe('not_phishing_resistant');
    expect(applied.session?.problem).toBeUndefined();
  });

  it('decides a boxcar with the sessions each item names, and the default one', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/access/v1/evaluations',
      headers: { authorization: `Bearer ${s.businessToken}` },
      payload: {
        subject: { type: 'account', id: s.advisor.id },
        action: { name: 'consult' },
        resource: { type: 'report', id: 'monthly' },
        context: { session_id: advisorSession },
        evaluations: [
          {},
          {
            subject: { type: 'account', id: clerk.id },
            context: { auth_level: 'phishing_resistant', auth_time: now(), session_id: clerkTotpSession },
          },
          { subject: { type: 'account', id: clerk.id } },
          {
            subject: { type: 'account', id: clerk.id },
            context: { auth_level: 'phishing_resistant', auth_time: now() },
          },
          { context: { session_id: 'bad' } },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const out = res.json().evaluations as Array<{
      decision: boolean;
      context?: { reasons?: string[]; error?: unknown };
    }>;
    expect(out.map((e) => e.decision)).toEqual([true, false, false, true, false]);
    expect(out[1]!.context?.reasons).toEqual(['stronger_authentication_required']);
    expect(out[2]!.context?.reasons).toEqual([
      'stronger_authentication_required',
      'session_subject_mismatch',
    ]);
    expect(out[4]!.context?.error).toMatchObject({ status: 400 });
  });

  it('shows each privileged holder its passkeys, TOTP and the strength of its live sessions', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/inventory/privileged?limit=500',
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Array<{ accountId: string; roleId: string; authentication: unknown }>;
    const approver = items.find((i) => i.accountId === s.approver.id)!;
    expect(approver.authentication).toMatchObject({
      passkeys: { count: 1, userVerified: 1 },
      totp: false,
      sessions: [
        { method: 'passkey', authLevel: 'phishing_resistant', id: await currentSessionId(approverBrowser) },
      ],
    });
    const a = approver.authentication as {
      passkeys: { deviceBound: number; synced: number };
      sessions: Array<{ aal: string }>;
    };
    expect(a.passkeys.deviceBound + a.passkeys.synced).toBe(1);
    expect(a.sessions[0]!.aal).toBe(a.passkeys.synced === 1 ? 'aal2' : 'aal3');
    const admin = items.find((i) => i.accountId === s.admin.id)!;
    expect(admin.authentication).toEqual({
      passkeys: { count: 0, userVerified: 0, deviceBound: 0, synced: 0 },
      totp: false,
      sessions: [],
    });
  });
  it('searches with the named session strength too', async () => {
    const search = (context: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: '/access/v1/search/action',
        headers: { authorization: `Bearer ${s.businessToken}` },
        payload: {
          subject: { type: 'account', id: clerk.id },
          resource: { type: 'report', id: 'monthly' },
          context,
        },
      });
    const claim = { auth_level: 'phishing_resistant', auth_time: now() };
    expect((await search(claim)).json().results).toEqual([{ name: 'consult' }]);
    expect((await search({ ...claim, session_id: clerkTotpSession })).json().results).toEqual([]);
  });

  it('lends no strength once the session ended, at once (the cache follows the bus)', async () => {
    const body = consult(s.advisor.id, { session_id: advisorSession });
    expect((await evaluate(t, s.businessToken, body)).json()).toEqual({ decision: true });
    expect(accessOf(t).sessions.cached).toBeGreaterThan(0);
    const out = await call(t, advisorBrowser, 'POST', '/api/v1/auth/sign-out');
    expect(out.statusCode).toBeLessThan(300);
    const res = await evaluate(t, s.businessToken, body);
    expect(res.json()).toEqual({
      decision: false,
      context: { reasons: ['stronger_authentication_required', 'session_ended'] },
    });
    // An idle session is over too, although no one has ended its row yet.
    await advisorSignsIn();
    expect(
      (await evaluate(t, s.businessToken, consult(s.advisor.id, { session_id: advisorSession }))).json(),
    ).toEqual({ decision: true });
    t.clock.advance(31 * 60_000);
    const idle = await evaluate(t, s.businessToken, consult(s.advisor.id, { session_id: advisorSession }));
    expect(idle.json().context.reasons).toEqual(['stronger_authentication_required', 'session_ended']);
  });

  it('refuses a break-glass naming a session without a step-up in the last 5 minutes, by default', async () => {
    await advisorSignsIn();
    const other = s.otherPeople[0]!;
    const glass = {
      session_id: advisorSession,
      break_glass: { purpose: 'person_request', justification: 'La personne est au guichet' },
    };
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, other, glass))).json()).toEqual({
      decision: false,
      context: { reasons: ['step_up_required'] },
    });
    expect((await stepUp(t, advisorBrowser, advisorKey)).statusCode).toBe(200);
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, other, glass))).json().decision).toBe(true);
    t.clock.advance(5 * 60_000 + 1_000);
    const stale = await evaluate(t, s.businessToken, read(s.advisor.id, s.otherPeople[1]!, glass));
    expect(stale.json().context.reasons).toContain('step_up_required');
    // Naming no session leaves break-glass to the opt-in no_session rule (docs/access.md).
    const { session_id: _named, ...unnamed } = glass;
    expect(
      (await evaluate(t, s.businessToken, read(s.advisor.id, s.otherPeople[2]!, unnamed))).json().decision,
    ).toBe(true);
  });

  it('refuses no_session where the opt-in rule requires a live Vigie session, and only there', async () => {
    const access = accessOf(t).service;
    await advisorSignsIn();
    const person = s.ownPeople[1]!;
    // Without the opt-in file, an application that sends no session keeps working.
    expect((await evaluate(t, s.businessToken, read(s.advisor.id, person))).json()).toEqual({
      decision: true,
    });
    access.installPolicy(await loadPolicyDir(policyDir(true)));
    try {
      expect((await evaluate(t, s.businessToken, read(s.advisor.id, person))).json()).toEqual({
        decision: false,
        context: { reasons: ['no_session'] },
      });
      expect(
        (
          await evaluate(t, s.businessToken, read(s.advisor.id, person, { session_id: advisorSession }))
        ).json(),
      ).toEqual({ decision: true });
      expect(
        (
          await evaluate(t, s.businessToken, read(s.advisor.id, person, { session_id: clerkTotpSession }))
        ).json(),
      ).toEqual({ decision: false, context: { reasons: ['no_session', 'session_subject_mismatch'] } });
      // A partner application on its own behalf is no person: the rule does not apply.
      const own = await evaluate(t, s.portalToken, {
        subject: { type: 'application', id: s.portal.id },
        action: { name: 'read' },
        resource: { type: 'record', id: s.enrolled[0]! },
      });
      expect(own.json().decision).toBe(true);
    } finally {
      access.installPolicy(await loadPolicyDir(policyDir(false)));
    }
  });
});
