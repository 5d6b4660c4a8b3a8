import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireAccount } from '../../http/authenticate.js';
import { Errors } from '../identity/identity.schemas.js';
import { metaOf } from '../identity/request-meta.js';
import { SignedIn } from './sign-in.schemas.js';
import { answerSignIn } from './sign-in.routes.js';
import type { SessionService } from './session.service.js';
import type { TotpEnrolmentService } from './totp-enrolment.service.js';
import type { TotpSignInService } from './totp-sign-in.service.js';
import {
  TotpConfirmBody,
  TotpConfirmed,
  TotpEnrolmentStarted,
  TotpRevoked,
  TotpSignInBody,
} from './totp.schemas.js';

const tags = ['sign-in'];
const SMALL_BODY = 1024;

export interface TotpRouteDeps {
  readonly enrolment: TotpEnrolmentService;
  readonly signIn: TotpSignInService;
  readonly sessions: SessionService;
  readonly sessionAbsoluteMs: number;
}

/** /api/v1/auth/totp… and /api/v1/auth/sign-in/totp: TOTP where the policy allows it. */
export function totpRoutes(base: FastifyInstance, deps: TotpRouteDeps): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/auth/sign-in/totp',
    {
      config: { signInCeremony: true },
      bodyLimit: SMALL_BODY,
      schema: {
        tags,
        summary:
          'Sign in with an e-mail and a TOTP code: sets the session cookie (401 SIGN_IN_FAILED, 429 SIGN_IN_LOCKED)',
        body: TotpSignInBody,
        response: { 200: SignedIn, ...Errors },
      },
    },
    (request, reply) =>
      answerSignIn(request, reply, deps, (facts, previousId) =>
        deps.signIn.signIn(request.body, facts, previousId),
      ),
  );
  app.post(
    '/api/v1/auth/totp/enrolment',
    {
      bodyLimit: SMALL_BODY,
      // A TOTP secret outlives the session: a session thief must not enrol one to keep the account.
      config: { stepUp: 'totp.enrol' },
      schema: {
        tags,
        summary:
          'Start enrolling a TOTP secret (session opened with a passkey, after a step-up; 403 TOTP_NOT_ALLOWED where the policy refuses)',
        response: { 201: TotpEnrolmentStarted, ...Errors },
      },
    },
    async (request, reply) => {
      const started = await deps.enrolment.begin(requireAccount(request));
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(started);
    },
  );
  app.post(
    '/api/v1/auth/totp/enrolment/confirm',
    {
      bodyLimit: SMALL_BODY,
      schema: {
        tags,
        summary: 'Confirm the TOTP enrolment with a first valid code',
        body: TotpConfirmBody,
        response: { 200: TotpConfirmed, ...Errors },
      },
    },
    (request) => deps.enrolment.confirm(requireAccount(request), request.body.code, metaOf(request)),
  );
  app.delete(
    '/api/v1/auth/totp',
    {
      schema: {
        tags,
        summary: 'Revoke your TOTP secret (and end the sessions it opened)',
        response: { 200: TotpRevoked, ...Errors },
      },
    },
    (request) => deps.enrolment.revoke(requireAccount(request), metaOf(request)),
  );
}
