import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SESSION_COOKIE, cookieValue } from '../../../http/authenticate.js';
import { VigieError } from '../../../shared/errors.js';
import { Errors } from '../../identity/identity.schemas.js';
import { answerSignIn, factsOf, setSessionCookie } from '../sign-in.routes.js';
import { AuthenticationResponse, SignedIn } from '../sign-in.schemas.js';
import type { SessionService } from '../session.service.js';
import type { FederationPasskeyStep } from './federation-passkey.service.js';
import { FederationRefusedError } from './federation.errors.js';
import { TRANSACTION_TTL_MS, type FederationService } from './federation.service.js';

/**
 * `__Host-`: Secure, Path=/, no Domain. SameSite=Lax, not Strict: the callback is a top-level
 * navigation from the upstream's site, which a Strict cookie would not follow.
 */
export const FEDERATION_COOKIE = '__Host-vigie_federation';

const tags = ['sign-in'];
const PAGE = '/sign-in/federation';
const ProviderParams = Type.Object(
  { provider: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', maxLength: 32 }) },
  { additionalProperties: false },
);
/** What an upstream may send back (RFC 6749 §4.1.2, RFC 9207); anything else is ignored. */
const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 2048 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    iss: Type.Optional(Type.String({ maxLength: 512 })),
    error: Type.Optional(Type.String({ maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 1024 })),
    session_state: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: true },
);
const Redirect = { 303: Type.Null({ description: 'See Other: Location is where the browser goes next' }) };

export interface FederationRouteDeps {
  readonly federation: FederationService;
  readonly passkeyStep: FederationPasskeyStep;
  readonly sessions: SessionService;
  readonly sessionAbsoluteMs: number;
  readonly origin: string;
  readonly providers: readonly { id: string; name: string }[];
}

function federationCookie(secret: string, maxAgeMs: number): string {
  return `${FEDERATION_COOKIE}=${secret}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

function see(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).header('cache-control', 'no-store').send(null);
}

/** A refusal becomes the page that explains it: a browser navigation never ends on a JSON error. */
function seeError(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof VigieError)) throw error;
  if (error instanceof FederationRefusedError || error.code === 'SIGN_IN_LOCKED') {
    reply.header('set-cookie', federationCookie('', 0));
    return see(reply, `${PAGE}?error=${error.code}`);
  }
  throw error;
}

/** The query string exactly as the upstream sent it: openid-client checks every parameter itself. */
const rawQuery = (request: FastifyRequest) => {
  const at = request.url.indexOf('?');
  return at === -1 ? '' : request.url.slice(at);
};

export function federationRoutes(base: FastifyInstance, deps: FederationRouteDeps): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const ceremony = { signInCeremony: true };
  const cookieOf = (request: FastifyRequest) => cookieValue(request.headers.cookie, FEDERATION_COOKIE);
  const sameOrigin = (request: FastifyRequest) => {
    // Bound by a cookie, not a session: the Origin check keeps another site from driving the step.
    if (request.headers.origin !== deps.origin)
      throw new VigieError('CSRF_ORIGIN_MISMATCH', 403, 'this step must come from Vigie itself');
  };

  app.get(
    '/api/v1/auth/federation/providers',
    {
      schema: {
        tags,
        summary: 'The upstream identity providers one may sign in through',
        response: {
          200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) }),
        },
      },
    },
    () => ({ items: deps.providers.map((p) => ({ id: p.id, name: p.name })) }),
  );
  app.get(
    '/api/v1/auth/federation/:provider/start',
    {
      config: ceremony,
      schema: {
        tags,
        summary:
          'Start a federated sign-in: 303 to the upstream provider, with a cookie binding the callback',
        params: ProviderParams,
        response: Redirect,
      },
    },
    async (request, reply) => {
      try {
        const { redirect, cookieSecret } = await deps.federation.start(request.params.provider);
        reply.header('set-cookie', federationCookie(cookieSecret, TRANSACTION_TTL_MS));
        return see(reply, redirect);
      } catch (error) {
        return seeError(reply, error);
      }
    },
  );
  app.get(
    '/api/v1/auth/federation/:provider/callback',
    {
      config: ceremony,
      schema: {
        tags,
        summary:
          'The upstream comes back here: 303 to /account (session set), to the passkey step, or to the page explaining a refusal',
        params: ProviderParams,
        querystring: CallbackQuery,
        response: Redirect,
      },
    },
    async (request, reply) => {
      try {
        const previous = cookieValue(request.headers.cookie, SESSION_COOKIE);
        const previousId = previous ? await deps.sessions.idOf(previous) : undefined;
        const outcome = await deps.federation.callback(
          request.params.provider,
          rawQuery(request),
          cookieOf(request),
          factsOf(request),
          previousId,
        );
        if (outcome.kind === 'again') {
          reply.header('set-cookie', federationCookie(outcome.cookieSecret, TRANSACTION_TTL_MS));
          return see(reply, outcome.redirect);
        }
        if (outcome.kind === 'passkey') return see(reply, `${PAGE}?step=passkey`);
        setSessionCookie(reply, outcome.signedIn.secret, deps.sessionAbsoluteMs);
        reply.header('set-cookie', federationCookie('', 0));
        return see(reply, '/account');
      } catch (error) {
        return seeError(reply, error);
      }
    },
  );
  app.post(
    '/api/v1/auth/federation/passkey/options',
    {
      config: ceremony,
      schema: {
        tags,
        summary: 'The local passkey step after a federated proof that is not phishing-resistant: its options',
        response: { 200: Type.Object({ options: Type.Unknown() }), ...Errors },
      },
    },
    (request) => {
      sameOrigin(request);
      return deps.passkeyStep.options(cookieOf(request));
    },
  );
  app.post(
    '/api/v1/auth/federation/passkey/verify',
    {
      config: ceremony,
      bodyLimit: 64 * 1024,
      schema: {
        tags,
        summary:
          'Finish the local passkey step: only now does the federated session open (401 SIGN_IN_FAILED)',
        body: Type.Object({ response: AuthenticationResponse }, { additionalProperties: false }),
        response: { 200: SignedIn, ...Errors },
      },
    },
    async (request, reply) => {
      sameOrigin(request);
      const body = await answerSignIn(request, reply, deps, (facts, previousId) =>
        deps.passkeyStep.verify(cookieOf(request), request.body.response, facts, previousId),
      );
      reply.header('set-cookie', federationCookie('', 0));
      return body;
    },
  );
}
