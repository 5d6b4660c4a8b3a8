import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionResults } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { CoreDeps } from '../../container.js';
import { VigieError } from '../../shared/errors.js';
import type { AccountPrincipal } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import { acrOf, meetsRequest } from './oidc.acr.js';
import { hashOf } from './oidc.adapter.js';
import { INTERACTION_PATH, OIDC_PREFIX } from './oidc.provider.js';
import * as repo from './oidc.repository.js';

/** How recent a sign-in must be to count as the new one asked for by `prompt=login` or `max_age`. */
const FRESH_SIGN_IN_MS = 10 * 60_000;
const GRANTABLE_SCOPES = new Set(['openid', 'email']);

function signInUrl(uid: string, reauth: boolean): string {
  return `/sign-in?return=${encodeURIComponent(`${INTERACTION_PATH}/${uid}`)}${reauth ? '&reauth=1' : ''}`;
}

/** Kept on the interaction (server side) when a new sign-in is asked: which session was too weak or old. */
interface ReauthMark {
  readonly vigieReauth: { readonly sessionId: string };
}

function reauthMarkOf(result: unknown): ReauthMark['vigieReauth'] | undefined {
  const mark = (result as Partial<ReauthMark> | undefined)?.vigieReauth;
  return mark && typeof mark.sessionId === 'string' ? mark : undefined;
}

/**
 * The provider's login (and consent) step, done by Vigie's own sign-in. With a live Vigie session
 * (the cookie the authentication hook resolved) the interaction finishes with the account, the
 * session's acr and amr and its start time; without one, or with one weaker than the client asks
 * (acr_values or its default acr), or older than `prompt=login`/`max_age` allow, the browser goes to
 * /sign-in and comes back here. Coming back still too weak ends the request with
 * `unmet_authentication_requirements` (or `login_required`), never in a loop. Consent is given for
 * the requested OpenID scopes: the clients are first-party applications registered by
 * administrators; each authorisation is journaled (`oidc.authorized`).
 */
export function createInteraction(
  deps: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'>,
  provider: () => Promise<Provider>,
) {
  async function finish(
    provider: Provider,
    request: FastifyRequest,
    reply: FastifyReply,
    result: InteractionResults,
  ) {
    const to = await provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
    return reply.redirect(to, 303);
  }

  return async function handle(request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply) {
    const p = await provider();
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await p.interactionDetails(request.raw, reply.raw);
    } catch {
      throw new VigieError(
        'OIDC_INTERACTION_NOT_FOUND',
        400,
        'this sign-in request has expired or belongs to another browser; start again from the application',
      );
    }
    if (details.uid !== request.params.uid)
      throw new VigieError(
        'OIDC_INTERACTION_NOT_FOUND',
        400,
        'this sign-in request is not the one under way',
      );
    reply.header('cache-control', 'no-store');
    const principal = request.principal;
    if (principal?.kind !== 'account' || !principal.session)
      return reply.redirect(signInUrl(details.uid, false), 303);

    const session = principal.session;
    const row = await repo.findSignInSession(deps.db, session.id);
    if (!row || row.ended_at !== null) return reply.redirect(signInUrl(details.uid, false), 303);
    const params = details.params as Record<string, unknown>;
    const clientId = String(params.client_id);
    const client = await p.Client.find(clientId);
    if (!client)
      return finish(p, request, reply, { error: 'invalid_client', error_description: 'unknown client' });

    // The provider still holds a session of another account (its end was missed): drop it and
    // start the same request again, rather than let oidc-provider ask for a logout confirmation.
    const providerSession = details.session;
    if (providerSession?.accountId && providerSession.accountId !== principal.accountId) {
      await repo.deleteProviderSessions(deps.db, [hashOf(providerSession.uid)]);
      const again = new URLSearchParams();
      for (const [k, v] of Object.entries(params))
        if (typeof v === 'string' || typeof v === 'number') again.set(k, String(v));
      return reply.redirect(`${OIDC_PREFIX}/auth?${again.toString()}`, 303);
    }

    const held = acrOf({ authLevel: principal.authLevel, aal: session.aal });
    const requested =
      typeof params.acr_values === 'string' && params.acr_values !== ''
        ? params.acr_values.split(' ')
        : (client.defaultAcrValues ?? []);
    const reasons = details.prompt.reasons;
    const startedAt = Date.parse(row.created_at);
    const age = deps.clock.now().getTime() - startedAt;
    const maxAgeSeconds = params.max_age === undefined ? Number.NaN : Number(params.max_age);
    const maxAge = Number.isFinite(maxAgeSeconds) && maxAgeSeconds >= 0 ? maxAgeSeconds * 1000 : undefined;
    // A new sign-in asked earlier in this interaction happened when the session is another one
    // (every sign-in opens a new session) and is recent enough.
    const asked = reauthMarkOf(details.result);
    const signedInAgain =
      asked !== undefined && asked.sessionId !== session.id && age <= (maxAge ?? FRESH_SIGN_IN_MS);
    const wantsFresh = reasons.includes('login_prompt') || (maxAge !== undefined && age > maxAge);
    const strongEnough = meetsRequest(held, requested);
    if (!strongEnough || (wantsFresh && !signedInAgain)) {
      if (!asked) {
        const mark: ReauthMark = { vigieReauth: { sessionId: session.id } };
        await p.interactionResult(request.raw, reply.raw, mark as never, { mergeWithLastSubmission: false });
        return reply.redirect(signInUrl(details.uid, true), 303);
      }
      const error = strongEnough ? 'login_required' : 'unmet_authentication_requirements';
      await runCommand(deps, (ctx) => {
        ctx.emit({
          kind: 'oidc.authorized',
          actor: { type: 'account', id: principal.accountId },
          target: { type: 'application', id: clientId },
          organisationId: principal.organisationId,
          outcome: 'denied',
          reason: error,
          data: {
            accountId: principal.accountId,
            applicationId: clientId,
            sessionId: session.id,
            acr: held,
            requested,
          },
        });
        return Promise.resolve();
      });
      return finish(p, request, reply, {
        error,
        error_description: strongEnough
          ? 'a new sign-in was required and did not happen'
          : 'the sign-in does not meet the requested acr_values',
      });
    }

    const scopes = (typeof params.scope === 'string' ? params.scope : 'openid')
      .split(' ')
      .filter((s) => GRANTABLE_SCOPES.has(s));
    const grant = new p.Grant({ accountId: principal.accountId, clientId });
    grant.addOIDCScope(scopes.join(' '));
    // Saved first: its id is made on save. A grant whose journaling then failed maps to no
    // session, so no token of it is ever tied to one, and it expires unused.
    const grantId = await grant.save();
    await authorize(principal, { clientId, grantId, scopes, acr: held, request });
    return finish(p, request, reply, {
      login: {
        accountId: principal.accountId,
        acr: held,
        amr: [...session.amr],
        ts: Math.floor(startedAt / 1000),
        remember: false,
      },
      consent: { grantId },
    });
  };

  async function authorize(
    principal: AccountPrincipal,
    input: { clientId: string; grantId: string; scopes: string[]; acr: string; request: FastifyRequest },
  ) {
    const sessionId = principal.session!.id;
    await runCommand(deps, async (ctx) => {
      await repo.insertGrantSession(ctx.trx, {
        grant_id: input.grantId,
        session_id: sessionId,
        account_id: principal.accountId,
        client_id: input.clientId,
        sid: null,
        provider_session_hash: null,
        created_at: ctx.now.toISOString(),
        revoked_at: null,
      });
      ctx.emit({
        kind: 'oidc.authorized',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'application', id: input.clientId },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: {
          accountId: principal.accountId,
          applicationId: input.clientId,
          sessionId,
          grantId: input.grantId,
          acr: input.acr,
          scopes: input.scopes,
        },
        context: { requestId: String(input.request.id), ip: input.request.ip, channel: 'web', sessionId },
      });
    });
  }
}
