import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { Errors, IdParams, ReasonBody } from '../identity/identity.schemas.js';
import { metaOf } from '../identity/request-meta.js';
import {
  RecoveryCodes,
  RecoveryStatus,
  RecoveryUseBody,
  Reenrolment,
  ReenrolmentSelfBody,
  SteppedUp,
  StepUpVerifyBody,
} from './recovery.schemas.js';
import { RECOVERY_SESSION_MS, type RecoveryService } from './recovery.service.js';
import type { ReenrolmentService } from './reenrolment.service.js';
import { SignInLockedError } from './sign-in.errors.js';
import { Ceremony, SignedIn } from './sign-in.schemas.js';
import { answerSignIn, factsOf } from './sign-in.routes.js';
import type { SessionService } from './session.service.js';
import type { StepUpService } from './step-up.service.js';

const tags = ['sign-in'];
const SMALL_BODY = 1024;
const CEREMONY_BODY_LIMIT = 64 * 1024;

export interface RecoveryRouteDeps {
  readonly stepUp: StepUpService;
  readonly recovery: RecoveryService;
  readonly reenrolment: ReenrolmentService;
  readonly sessions: SessionService;
}

/** Step-up ceremony, recovery codes, and re-enrolment approved by a second person. */
export function recoveryRoutes(base: FastifyInstance, deps: RecoveryRouteDeps): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/auth/step-up/options',
    {
      bodyLimit: SMALL_BODY,
      schema: {
        tags,
        summary:
          "Start a step-up: a user-verified assertion by one of this session's passkeys (403 PASSKEY_SESSION_REQUIRED for a TOTP or recovery session)",
        response: { 200: Ceremony, ...Errors },
      },
    },
    (request) => deps.stepUp.begin(requireAccount(request)),
  );
  app.post(
    '/api/v1/auth/step-up/verify',
    {
      bodyLimit: CEREMONY_BODY_LIMIT,
      schema: {
        tags,
        summary:
          'Finish a step-up: the acts that need one are open to this session until validUntil (403 STEP_UP_FAILED)',
        body: StepUpVerifyBody,
        response: { 200: SteppedUp, ...Errors },
      },
    },
    (request) => deps.stepUp.complete(requireAccount(request), request.body, factsOf(request)),
  );
  app.get(
    '/api/v1/auth/recovery-codes',
    {
      schema: {
        tags,
        summary: 'How many of your recovery codes remain unused (never the codes)',
        response: { 200: RecoveryStatus, ...Errors },
      },
    },
    (request) => deps.recovery.status(requireAccount(request)),
  );
  app.post(
    '/api/v1/auth/recovery-codes',
    {
      bodyLimit: SMALL_BODY,
      config: { stepUp: 'recovery.generate' },
      schema: {
        tags,
        summary:
          'Generate 10 one-time recovery codes, shown once; revokes the previous set (step-up; refused to privileged accounts)',
        response: { 201: RecoveryCodes, ...Errors },
      },
    },
    async (request, reply) => {
      const generated = await deps.recovery.generate(requireAccount(request), metaOf(request));
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(generated);
    },
  );
  app.post(
    '/api/v1/auth/recovery',
    {
      bodyLimit: SMALL_BODY,
      config: { signInCeremony: true },
      schema: {
        tags,
        summary:
          'Use a recovery code: opens a recovery session that can only register a new passkey (401 SIGN_IN_FAILED, 429 SIGN_IN_LOCKED)',
        body: RecoveryUseBody,
        response: { 200: SignedIn, ...Errors },
      },
    },
    (request, reply) =>
      answerSignIn(
        request,
        reply,
        { sessions: deps.sessions, sessionAbsoluteMs: RECOVERY_SESSION_MS },
        (facts, previousId) => deps.recovery.use(request.body, facts, previousId),
      ),
  );
  app.post(
    '/api/v1/auth/reenrolment',
    {
      bodyLimit: SMALL_BODY,
      schema: {
        tags,
        summary:
          'Ask for a re-enrolment, every authenticator lost (the same 202 for any e-mail; a second person approves)',
        body: ReenrolmentSelfBody,
        response: { 202: Type.Object({ status: Type.Literal('received') }), ...Errors },
      },
    },
    async (request, reply) => {
      try {
        await deps.reenrolment.requestBySelf(request.body, factsOf(request));
      } catch (error) {
        if (error instanceof SignInLockedError) reply.header('retry-after', String(error.retryAfterSeconds));
        throw error;
      }
      return reply.code(202).send({ status: 'received' as const });
    },
  );
  app.post(
    '/api/v1/accounts/:id/reenrolment',
    {
      bodyLimit: SMALL_BODY,
      schema: {
        tags,
        summary:
          'Start a re-enrolment of an account (holding account.create over it; another person approves)',
        params: IdParams,
        body: ReasonBody,
        response: { 201: Reenrolment, ...Errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await deps.reenrolment.requestByAdmin(
            requireAccount(request),
            request.params.id,
            request.body.reason,
            metaOf(request),
          ),
        ),
  );
  app.get(
    '/api/v1/reenrolments',
    {
      schema: {
        tags,
        summary: 'Pending re-enrolments of accounts you hold account.create over',
        response: { 200: Type.Object({ items: Type.Array(Reenrolment) }), ...Errors },
      },
    },
    async (request) => ({ items: await deps.reenrolment.listPending(requireAccount(request)) }),
  );
  app.post(
    '/api/v1/reenrolments/:id/approve',
    {
      bodyLimit: SMALL_BODY,
      config: { stepUp: 'reenrolment.approve' },
      schema: {
        tags,
        summary:
          "Approve a re-enrolment (a second person, step-up): revokes the account's passkeys and sessions, mails a new enrolment link",
        params: IdParams,
        response: { 200: Reenrolment, ...Errors },
      },
    },
    (request) => deps.reenrolment.approve(requireAccount(request), request.params.id, metaOf(request)),
  );
}
