import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { EventBus } from '../../shared/event-bus.js';
import type { VigieEvent } from '../../shared/event.js';
import type { DecisionRequest } from './policy.facts.js';
import {
  createSessionFacts,
  namesSession,
  sessionContexts,
  withAccessTokens,
  type SessionFactsSource,
  type StoredSession,
} from './session-facts.js';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const ALICE = '0195a000-0000-7000-8000-00000000a11c';
const S1 = '0195a000-0000-7000-8000-000000000001';
const S2 = '0195a000-0000-7000-8000-000000000002';
const S3 = '0195a000-0000-7000-8000-000000000003';

const session = (id: string, over: Partial<StoredSession> = {}): StoredSession => ({
  id,
  accountId: ALICE,
  method: 'totp',
  authLevel: 'not_phishing_resistant',
  aal: 'aal2',
  amr: ['otp'],
  authTimeMs: T0,
  lastSeenMs: T0,
  absoluteExpiresMs: T0 + 12 * 3_600_000,
  ended: false,
  networkPrefix: '192.0.2.0/24',
  ...over,
});

/** Vigie's sessions as rows in memory, counting reads: the cache is what is under test here. */
function table(rows: StoredSession[]) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  let reads = 0;
  let gate: Promise<void> | undefined;
  const source: SessionFactsSource = {
    async bySessionId(id) {
      reads++;
      const row = byId.get(id); // read now, answered later: what a slow query does
      if (gate) await gate;
      return row;
    },
  };
  return {
    source,
    byId,
    get reads() {
      return reads;
    },
    hold() {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const APP = 'app-1';
const ask = (context: Record<string, unknown>, subjectId = ALICE): DecisionRequest => ({
  subject: { type: 'account', id: subjectId },
  action: { name: 'read' },
  resource: { type: 'record', id: 'r1' },
  context,
});

function setup(rows: StoredSession[], options: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = new ManualClock(new Date(T0));
  const bus = new EventBus();
  const t = table(rows);
  const facts = createSessionFacts({ source: t.source, bus, clock, idleMs: 30 * 60_000 }, options);
  facts.start();
  return { clock, bus, t, facts };
}

const ended = (target: { type: string; id: string }, data?: Record<string, unknown>): VigieEvent => ({
  id: 'e',
  time: new Date(T0).toISOString(),
  kind: target.type === 'session' ? 'session.ended' : 'account.suspended',
  actor: { type: 'system', id: 'test' },
  target,
  outcome: 'success',
  ...(data ? { data } : {}),
});

describe('session facts for the PDP', () => {
  it('replaces every claimed strength key with the session, and keeps the other context keys', async () => {
    const { facts } = setup([session(S1)]);
    const r = await facts.resolve(
      ask({ session_id: S1, auth_level: 'phishing_resistant', acr: 'x', aal: 'aal3', purpose: 'p' }),
    );
    expect(r.context).toEqual({
      session_id: S1,
      purpose: 'p',
      auth_level: 'not_phishing_resistant',
      auth_time: new Date(T0).toISOString(),
      aal: 'aal2',
      amr: ['otp'],
      auth_method: 'totp',
      network_prefix: '192.0.2.0/24',
    });
    expect(r.session).toMatchObject({ id: S1, problem: undefined, method: 'totp' });
  });

  it('follows an access token through the wired resolver, and never passes the token on', async () => {
    const { t, clock, bus } = setup([session(S1)]);
    const tokens = new Map([['at-1', { sessionId: S1, clientId: APP }]]);
    const facts = createSessionFacts({
      source: withAccessTokens(t.source, (token) => Promise.resolve(tokens.get(token))),
      bus,
      clock,
      idleMs: 30 * 60_000,
    });
    const ok = await facts.resolve({ ...ask({ access_token: 'at-1' }), callerId: APP });
    expect(ok.session).toMatchObject({ id: S1, problem: undefined });
    expect(ok.context).not.toHaveProperty('access_token');
    // The token lends its session only to the application it was issued to: another caller (or a
    // request naming no caller) presenting it learns nothing, not even the session's id.
    for (const callerId of ['other-app', undefined]) {
      const stolen = await facts.resolve({
        ...ask({ access_token: 'at-1', auth_level: 'phishing_resistant' }),
        ...(callerId ? { callerId } : {}),
      });
      expect(stolen.session).toEqual({ id: undefined, problem: 'session_unknown' });
      expect(stolen.context).toEqual({});
    }
    const unknown = await facts.resolve(ask({ access_token: 'at-2', auth_level: 'phishing_resistant' }));
    expect(unknown.session).toEqual({ id: undefined, problem: 'session_unknown' });
    expect(unknown.context).toEqual({});
  });

  it('answers 503 when the token resolver cannot answer, rather than deciding on nothing', async () => {
    const { t, clock, bus } = setup([]);
    const facts = createSessionFacts({
      source: withAccessTokens(t.source, () => Promise.reject(new Error('provider down'))),
      bus,
      clock,
      idleMs: 1,
    });
    await expect(facts.resolve(ask({ access_token: 'at' }))).rejects.toMatchObject({
      code: 'SESSION_LOOKUP_UNAVAILABLE',
      status: 503,
    });
  });

  it('reads a session once within the cache lifetime, again after it', async () => {
    const { t, facts, clock } = setup([session(S1)], { ttlMs: 5_000 });
    await Promise.all([facts.resolve(ask({ session_id: S1 })), facts.resolve(ask({ session_id: S1 }))]);
    await facts.resolve(ask({ session_id: S1 }));
    expect(t.reads).toBe(1);
    clock.advance(5_001);
    await facts.resolve(ask({ session_id: S1 }));
    expect(t.reads).toBe(2);
  });

  it('keeps at most maxEntries sessions', async () => {
    const { facts } = setup([session(S1), session(S2), session(S3)], { maxEntries: 2 });
    for (const id of [S1, S2, S3]) await facts.resolve(ask({ session_id: id }));
    expect(facts.cached).toBe(2);
  });

  it('drops a session when the bus says it ended, was revoked, or its account changed', async () => {
    const { t, facts, bus } = setup([session(S1), session(S2), session(S3)]);
    for (const id of [S1, S2, S3]) await facts.resolve(ask({ session_id: id }));
    t.byId.set(S1, session(S1, { ended: true }));
    bus.publish([ended({ type: 'session', id: S1 })]);
    expect((await facts.resolve(ask({ session_id: S1 }))).session?.problem).toBe('session_ended');
    bus.publish([
      { ...ended({ type: 'account', id: ALICE }), kind: 'session.revoked', data: { sessionIds: [S2] } },
    ]);
    expect(facts.cached).toBe(2);
    bus.publish([ended({ type: 'account', id: ALICE })]);
    expect(facts.cached).toBe(0);
  });

  it('does not refill the cache with a read that started before an invalidation', async () => {
    const { t, facts, bus } = setup([session(S1)]);
    const release = t.hold();
    const pending = facts.resolve(ask({ session_id: S1 }));
    t.byId.set(S1, session(S1, { ended: true }));
    bus.publish([ended({ type: 'session', id: S1 })]);
    // A request arriving after the event does not join the read under way: it reads anew.
    const after = facts.resolve(ask({ session_id: S1 }));
    release();
    expect((await pending).session?.problem).toBeUndefined();
    expect((await after).session?.problem).toBe('session_ended');
    expect(t.reads).toBe(2);
    expect(facts.cached).toBe(1);
  });

  it('treats a session past its absolute expiry or idle timeout as ended, another subject as a mismatch', async () => {
    const { facts, clock } = setup([session(S1), session(S2, { absoluteExpiresMs: T0 + 1_000 })]);
    expect((await facts.resolve(ask({ session_id: S1 }, 'someone-else'))).session?.problem).toBe(
      'session_subject_mismatch',
    );
    const app: DecisionRequest = { ...ask({ session_id: S1 }), subject: { type: 'application', id: ALICE } };
    expect((await facts.resolve(app)).session?.problem).toBe('session_subject_mismatch');
    clock.advance(2_000);
    expect((await facts.resolve(ask({ session_id: S2 }))).session?.problem).toBe('session_ended');
    clock.advance(30 * 60_000);
    expect((await facts.resolve(ask({ session_id: S1 }))).session?.problem).toBe('session_ended');
  });

  it('finds the contexts of a boxcar that name a session without allocating when none does', () => {
    const base = { session_id: S1 };
    const own = { access_token: 'x' };
    expect(sessionContexts(undefined, [{}, { context: { a: 1 } }])).toBeUndefined();
    expect(sessionContexts(base, [{}, { context: own }, { context: { a: 1 } }])).toEqual([base, own]);
    expect(namesSession(JSON.parse('{"__proto__":{"session_id":"x"}}'))).toBe(false);
    expect(namesSession(null)).toBe(false);
  });
});
