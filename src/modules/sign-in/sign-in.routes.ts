import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SESSION_COOKIE, clearSessionCookie, cookieValue, requireAccount } from '../../http/authenticate.js';
import { Errors } from '../identity/identity.schemas.js';
import { metaOf } from '../identity/request-meta.js';
import type { EnrolmentService } from './enrolment.service.js';
import type { PasskeyService } from './passkey.service.js';
import type { RequestFacts } from './sign-in.deps.js';
import { SignInLockedError } from './sign-in.errors.js';
import {
  Ceremony,
  EnrolmentOptionsBody,
  IdParams,
  IssuedLink,
  Passkey,
  RegistrationVerifyBody,
  RenameBody,
  Session,
  SignedIn,
  SignInOptionsBody,
  SignInVerifyBody,
} from './sign-in.schemas.js';
import type { SignInService, SignedIn as SignedInResult } from './sign-in.service.js';
import type { SessionService } from './session.service.js';

const tags = ['sign-in'];
/** Ceremony bodies are small; a 32 KiB attestation object is already generous. */
const CEREMONY_BODY_LIMIT = 64 * 1024;

export interface SignInRouteDeps {
  readonly signIn: SignInService;
  readonly passkeys: PasskeyService;
  readonly sessions: SessionService;
  readonly enrolment: EnrolmentService;
  readonly sessionAbsoluteMs: number;
}

/** The request facts sign-in reads (TOTP routes too). */
export function factsOf(request: FastifyRequest): RequestFacts {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : undefined, meta: metaOf(request) };
}

export function setSessionCookie(reply: FastifyReply, secret: string, maxAgeMs: number): void {
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  );
  reply.header('cache-control', 'no-store');
}

export const signedInBody = (s: SignedInResult) => ({
  accountId: s.accountId,
  sessionId: s.sessionId,
  aal: s.aal,
  expiresAt: s.absoluteExpiresAt,
});

/** /api/v1/auth/…: passkey ceremonies, sessions, and the caller's own passkeys. */
/**
 * Finishes any sign-in (passkey or TOTP): the session this browser held is rotated out, the new one
 * goes in the cookie, and a lock is answered with its Retry-After.
 */
export async function answerSignIn(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { sessions: Pick<SessionService, 'idOf'>; sessionAbsoluteMs: number },
  run: (facts: RequestFacts, previousSessionId: string | undefined) => Promise<SignedInResult>,
) {
  const previous = cookieValue(request.headers.cookie, SESSION_COOKIE);
  const previousId = previous ? await deps.sessions.idOf(previous) : undefined;
  try {
    const signedIn = await run(factsOf(request), previousId);
    setSessionCookie(reply, signedIn.secret, deps.sessionAbsoluteMs);
    return signedInBody(signedIn);
  } catch (error) {
    if (error instanceof SignInLockedError) reply.header('retry-after', String(error.retryAfterSeconds));
    throw error;
  }
}

export function signInRoutes(base: FastifyInstance, deps: SignInRouteDeps): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const ceremony = { signInCeremony: true };

  app.post(
    '/api/v1/auth/sign-in/options',
    {
      config: ceremony,
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary:
          'Start a passkey sign-in (usernameless, or e-mail first: the answer is the same for any e-mail)',
        body: SignInOptionsBody,
        response: { 200: Ceremony, ...Errors },
      },
    },
    (request) => deps.signIn.begin(request.body),
  );
  app.post(
    '/api/v1/auth/sign-in/verify',
    {
      config: ceremony,
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Finish a passkey sign-in: sets the session cookie (401 SIGN_IN_FAILED, 429 SIGN_IN_LOCKED)',
        body: SignInVerifyBody,
        response: { 200: SignedIn, ...Errors },
      },
    },
    (request, reply) =>
      answerSignIn(request, reply, deps, (facts, previousId) =>
        deps.signIn.complete(request.body, facts, previousId),
      ),
  );
  app.post(
    '/api/v1/auth/enrolment/options',
    {
      config: ceremony,
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Start registering a first passkey with an enrolment link (the secret of its #fragment)',
        body: EnrolmentOptionsBody,
        response: { 200: Ceremony, ...Errors },
      },
    },
    (request) => deps.enrolment.begin(request.body.token),
  );
  app.post(
    '/api/v1/auth/enrolment/verify',
    {
      config: ceremony,
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Finish enrolment: stores the passkey, spends the link, signs in',
        body: RegistrationVerifyBody,
        response: { 201: Type.Composite([SignedIn, Type.Object({ passkey: Passkey })]), ...Errors },
      },
    },
    async (request, reply) => {
      const done = await deps.enrolment.complete(
        {
          ceremonyId: request.body.ceremonyId,
          response: request.body.response,
          name: request.body.name ?? 'Clé d’accès',
        },
        factsOf(request),
      );
      setSessionCookie(reply, done.secret, deps.sessionAbsoluteMs);
      return reply.code(201).send({ ...signedInBody(done), passkey: done.passkey });
    },
  );
  app.post(
    '/api/v1/auth/passkeys/registration/options',
    {
      config: { recoverySession: true },
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Start registering another passkey for yourself',
        response: { 200: Ceremony, ...Errors },
      },
    },
    (request) => deps.passkeys.beginRegistration(requireAccount(request)),
  );
  app.post(
    '/api/v1/auth/passkeys/registration/verify',
    {
      config: { recoverySession: true },
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary:
          'Finish registering another passkey (from a recovery session: ends it and sets a normal session cookie)',
        body: RegistrationVerifyBody,
        response: { 201: Passkey, ...Errors },
      },
    },
    async (request, reply) => {
      const done = await deps.passkeys.completeRegistration(
        requireAccount(request),
        {
          ceremonyId: request.body.ceremonyId,
          response: request.body.response,
          name: request.body.name ?? 'Clé d’accès',
        },
        factsOf(request),
      );
      if (done.signedIn) setSessionCookie(reply, done.signedIn.secret, deps.sessionAbsoluteMs);
      return reply.code(201).send(done.passkey);
    },
  );
  app.get(
    '/api/v1/auth/passkeys',
    {
      schema: {
        tags,
        summary: 'Your passkeys (public facts only)',
        response: { 200: Type.Object({ items: Type.Array(Passkey) }), ...Errors },
      },
    },
    async (request) => ({ items: await deps.passkeys.listOwn(requireAccount(request)) }),
  );
  app.patch(
    '/api/v1/auth/passkeys/:id',
    {
      schema: {
        tags,
        summary: 'Rename one of your passkeys',
        params: IdParams,
        body: RenameBody,
        response: { 200: Passkey, ...Errors },
      },
    },
    (request) =>
      deps.passkeys.rename(requireAccount(request), request.params.id, request.body.name, metaOf(request)),
  );
  app.delete(
    '/api/v1/auth/passkeys/:id',
    {
      schema: {
        tags,
        summary: 'Revoke one of your passkeys (and end the sessions it opened)',
        params: IdParams,
        response: { 200: Passkey, ...Errors },
      },
    },
    (request) => deps.passkeys.revoke(requireAccount(request), request.params.id, metaOf(request)),
  );
  app.get(
    '/api/v1/auth/sessions',
    {
      schema: {
        tags,
        summary: 'Your live sessions: network prefix, browser family, strength',
        response: { 200: Type.Object({ items: Type.Array(Session) }), ...Errors },
      },
    },
    async (request) => ({ items: await deps.sessions.listOwn(requireAccount(request)) }),
  );
  app.get(
    '/api/v1/accounts/:id/passkeys',
    {
      schema: {
        tags,
        summary: 'An account’s passkeys, public facts only (account.read over its organisation)',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(Passkey) }), ...Errors },
      },
    },
    async (request) => ({ items: await deps.passkeys.listOf(requireAccount(request), request.params.id) }),
  );
  app.get(
    '/api/v1/accounts/:id/sessions',
    {
      schema: {
        tags,
        summary:
          'An account’s live sessions: network prefix, browser family, strength (account.read over its organisation)',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(Session) }), ...Errors },
      },
    },
    async (request) => ({ items: await deps.sessions.listOf(requireAccount(request), request.params.id) }),
  );
  app.post(
    '/api/v1/auth/sign-out',
    {
      config: { recoverySession: true },
      schema: { tags, summary: 'End this session', response: { 204: Type.Null(), ...Errors } },
    },
    async (request, reply) => {
      await deps.sessions.signOut(requireAccount(request), metaOf(request));
      reply.header('set-cookie', clearSessionCookie());
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/api/v1/auth/sign-out-everywhere',
    {
      schema: {
        tags,
        summary: 'End every session of your account, this one included',
        response: { 200: Type.Object({ ended: Type.Integer() }), ...Errors },
      },
    },
    async (request, reply) => {
      const ended = await deps.sessions.signOutEverywhere(requireAccount(request), metaOf(request));
      reply.header('set-cookie', clearSessionCookie());
      return { ended };
    },
  );
  app.post(
    '/api/v1/accounts/:id/enrolment-link',
    {
      schema: {
        tags,
        summary:
          'Issue a new enrolment link, mailed to the account (revokes the previous one; the secret is never returned)',
        params: IdParams,
        response: { 202: IssuedLink, ...Errors },
      },
    },
    async (request, reply) => {
      const issued = await deps.enrolment.reissue(
        requireAccount(request),
        request.params.id,
        metaOf(request),
      );
      return reply.code(202).send(issued!);
    },
  );
}
