import { VigieError } from '../../shared/errors.js';
import type { EventBus } from '../../shared/event-bus.js';
import type { VigieEvent } from '../../shared/event.js';
import { isUuid } from '../../shared/ids.js';
import { own, type DecisionRequest, type NamedSession, type SessionProblem } from './policy.facts.js';
import type { SessionFactsSource, StoredSession, TokenSession } from './session-source.js';

export type { SessionFactsSource, StoredSession, TokenSession } from './session-source.js';
export { databaseSessionSource, withAccessTokens } from './session-source.js';

/*
 * The PDP takes authentication strength from Vigie's own session, never from the application's
 * claim (issue 10). An AuthZEN request names a session in its `context`:
 *   - `session_id`: the session's public id (the id `GET /api/v1/auth/sessions` lists and `session.*`
 *     events carry; never the cookie secret, which only the browser holds);
 *   - `access_token`: an access token Vigie's OpenID Provider issued in that session, when a resolver
 *     is wired (`SessionFactsSource.byAccessToken`); without one it names no known session.
 * The route resolves it here, before decide(), in one awaited call; decide() stays synchronous and
 * reads what this file put into the request (a `session` field and a rewritten `context`).
 */

const MAX_TOKEN = 4096;

/** What a request's context names; the caller checked `namesSession` first. */
type Named =
  | { readonly by: 'session_id'; readonly id: string }
  | { readonly by: 'access_token'; readonly token: string };

/** True when a context names a session: the one test a request without a session pays (no allocation). */
export function namesSession(context: unknown): boolean {
  return (
    context !== null &&
    typeof context === 'object' &&
    (Object.hasOwn(context, 'session_id') || Object.hasOwn(context, 'access_token'))
  );
}

/**
 * The contexts of a boxcar that name a session (the default's and the items' own), or undefined when
 * none does: a boxcar without sessions allocates nothing here.
 */
export function sessionContexts(
  base: unknown,
  items: readonly Record<string, unknown>[],
): unknown[] | undefined {
  let out: unknown[] | undefined;
  if (namesSession(base)) out = [base];
  for (const item of items) {
    if (Object.hasOwn(item, 'context') && namesSession(item.context)) (out ??= []).push(item.context);
  }
  return out;
}

function namedIn(context: unknown): Named | undefined {
  const id = own(context, 'session_id');
  if (typeof id === 'string') return isUuid(id) ? { by: 'session_id', id } : undefined;
  const token = own(context, 'access_token');
  if (typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN)
    return { by: 'access_token', token };
  return undefined;
}

/** A named session once looked up, before it is checked against a subject. */
export interface SessionLookup {
  /** The id named, or the one the access token led to; undefined when the token led nowhere. */
  readonly id: string | undefined;
  readonly session: StoredSession | undefined;
  /** With an access token: the application it was issued to, the only caller it lends a session to. */
  readonly tokenClientId?: string;
}

/** A boxcar's sessions once looked up: applies to a request the session its context names. */
export interface FoundSessions {
  apply(request: DecisionRequest): DecisionRequest;
}

/** Keys of a context that state authentication strength: a named session replaces them all. */
const CLAIMED_KEYS = [
  'auth_level',
  'auth_time',
  'aal',
  'amr',
  'acr',
  'auth_method',
  'network_prefix',
] as const;

export interface SessionFactsOptions {
  /** How long a looked-up session is trusted without asking again (bus events invalidate sooner). */
  readonly ttlMs?: number;
  /** Bound of the cache, in sessions. */
  readonly maxEntries?: number;
}

/**
 * Resolves the sessions AuthZEN requests name: looked up once per request, cached per session id for
 * a few seconds (bounded; an ending, revocation or account change seen on the bus drops the entry at
 * once), then applied to each decision request synchronously with `apply`.
 */
export function createSessionFacts(
  deps: { source: SessionFactsSource; bus: EventBus; clock: { now(): Date }; idleMs: number },
  options: SessionFactsOptions = {},
) {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { session: StoredSession | undefined; atMs: number }>();
  const inflight = new Map<string, Promise<StoredSession | undefined>>();
  // Bumped by every invalidation: a lookup that started before it must not refill the cache.
  let generation = 0;
  let unsubscribe: (() => void) | undefined;

  const nowMs = () => deps.clock.now().getTime();

  function live(s: StoredSession, now: number): boolean {
    return !s.ended && s.absoluteExpiresMs > now && now - s.lastSeenMs < deps.idleMs;
  }

  // A lookup under way when its session changes is not shared any more: later requests read anew.
  function drop(id: string): void {
    generation++;
    cache.delete(id);
    inflight.delete(id);
  }

  function onEvents(events: readonly VigieEvent[]): void {
    for (const e of events) {
      if (e.target?.type === 'session') drop(e.target.id);
      const ids = e.data?.sessionIds;
      if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') drop(id);
      if (e.kind.startsWith('account.') && e.target?.type === 'account') {
        generation++;
        inflight.clear();
        for (const [id, entry] of cache) if (entry.session?.accountId === e.target.id) cache.delete(id);
      }
    }
  }

  async function fetchSession(id: string): Promise<StoredSession | undefined> {
    const started = generation;
    try {
      const session = await deps.source.bySessionId(id);
      if (generation === started) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
        cache.set(id, { session, atMs: nowMs() });
      }
      return session;
    } catch {
      throw new VigieError('SESSION_LOOKUP_UNAVAILABLE', 503, 'the session named cannot be checked now');
    }
  }

  function byId(id: string): Promise<StoredSession | undefined> {
    const hit = cache.get(id);
    const now = nowMs();
    // A cached session that looks over is read again: its last activity may have moved since.
    if (hit && now - hit.atMs < ttlMs && (hit.session === undefined || live(hit.session, now)))
      return Promise.resolve(hit.session);
    let pending = inflight.get(id);
    if (!pending) {
      const started = fetchSession(id).finally(() => {
        if (inflight.get(id) === started) inflight.delete(id);
      });
      inflight.set(id, (pending = started));
    }
    return pending;
  }

  async function lookup(context: unknown): Promise<SessionLookup> {
    const named = namedIn(context);
    if (!named) return { id: undefined, session: undefined };
    if (named.by === 'session_id') return { id: named.id, session: await byId(named.id) };
    if (!deps.source.byAccessToken) return { id: undefined, session: undefined };
    let found: TokenSession | undefined;
    try {
      found = await deps.source.byAccessToken(named.token);
    } catch {
      throw new VigieError('SESSION_LOOKUP_UNAVAILABLE', 503, 'the session named cannot be checked now');
    }
    if (!found || !isUuid(found.sessionId)) return { id: undefined, session: undefined };
    return { id: found.sessionId, session: await byId(found.sessionId), tokenClientId: found.clientId };
  }

  /**
   * The request as the PDP must see it: the session checked against the subject (another account's
   * session is no session), its strength in place of whatever the body claimed, and none at all when
   * the session is unknown, ended or another subject's. The access token never goes further.
   */
  function apply(request: DecisionRequest, asFound: SessionLookup): DecisionRequest {
    // An access token lends its session only to the application it was issued to: another one
    // presenting it (a leaked or forwarded token) learns nothing, not even that it is valid.
    const found =
      asFound.tokenClientId !== undefined && asFound.tokenClientId !== request.callerId
        ? { id: undefined, session: undefined }
        : asFound;
    const s = found.session;
    const now = nowMs();
    const problem: SessionProblem | undefined = !s
      ? 'session_unknown'
      : request.subject.type !== 'account' || request.subject.id !== s.accountId
        ? 'session_subject_mismatch'
        : live(s, now)
          ? undefined
          : 'session_ended';
    const context: Record<string, unknown> = { ...request.context };
    delete context.access_token;
    for (const key of CLAIMED_KEYS) delete context[key];
    if (s && problem === undefined) {
      context.auth_level = s.authLevel;
      context.auth_time = new Date(s.authTimeMs).toISOString();
      context.aal = s.aal;
      context.amr = s.amr;
      context.auth_method = s.method;
      context.network_prefix = s.networkPrefix;
    }
    const session: NamedSession = {
      id: found.id,
      problem,
      ...(s && problem === undefined
        ? {
            method: s.method,
            authLevel: s.authLevel,
            aal: s.aal,
            amr: s.amr,
            authTimeMs: s.authTimeMs,
            ...(s.stepUpAtMs !== undefined ? { stepUpAtMs: s.stepUpAtMs } : {}),
            networkPrefix: s.networkPrefix,
          }
        : {}),
    };
    return { ...request, context, session };
  }

  /** One request: looks the session up and applies it. */
  async function resolve(request: DecisionRequest): Promise<DecisionRequest> {
    return apply(request, await lookup(request.context));
  }

  /**
   * Several contexts (a boxcar's default and items): each distinct one looked up once, in parallel;
   * the result applies to each request the lookup of its own context (by identity).
   */
  async function lookupAll(contexts: readonly unknown[]): Promise<FoundSessions> {
    const distinct = [...new Set(contexts)].filter(namesSession);
    const found = await Promise.all(distinct.map((c) => lookup(c)));
    const byContext = new Map<unknown, SessionLookup>(distinct.map((c, i) => [c, found[i]!]));
    return {
      apply(request) {
        const l = byContext.get(request.context);
        return l ? apply(request, l) : request;
      },
    };
  }

  return {
    resolve,
    lookup,
    lookupAll,
    apply,
    /** Follows session endings and account changes on the bus. */
    start() {
      unsubscribe ??= deps.bus.subscribe(onEvents);
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      cache.clear();
    },
    get cached() {
      return cache.size;
    },
  };
}

export type SessionFacts = ReturnType<typeof createSessionFacts>;
