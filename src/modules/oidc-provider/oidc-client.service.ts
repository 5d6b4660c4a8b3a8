import { randomBytes } from 'node:crypto';
import type { CoreDeps } from '../../container.js';
import type { Executor } from '../../db/database.js';
import { forbidden, invalid, notFound } from '../../shared/errors.js';
import { eventActorOf, type Actor } from '../../shared/principal.js';
import { allows, refusalOf } from '../caseload/scope.js';
import { runCommand } from '../events/command.js';
import { findApplication } from '../applications/application.repository.js';
import { hashOf } from './oidc.adapter.js';
import type { OidcClientBody } from './oidc-client.schemas.js';
import * as repo from './oidc.repository.js';

export interface OidcClientView {
  readonly applicationId: string;
  readonly clientId: string;
  readonly redirectUris: string[];
  readonly postLogoutRedirectUris: string[];
  readonly backchannelLogoutUri: string | null;
  readonly dpopRequired: boolean;
  readonly confidential: boolean;
  readonly defaultAcr: string | null;
  readonly clientSecret?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function present(row: repo.ClientRow, clientSecret?: string): OidcClientView {
  return {
    applicationId: row.application_id,
    clientId: row.application_id,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    backchannelLogoutUri: row.backchannel_logout_uri,
    dpopRequired: row.dpop_required === 1,
    confidential: row.secret_hash !== null,
    defaultAcr: row.default_acr,
    ...(clientSecret ? { clientSecret } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on a loopback host (a developer's machine); no credentials, no fragment. */
function checkUri(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('INVALID_OIDC_URI', `${field} is not a URL`, { field });
  }
  const ok =
    (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) &&
    url.username === '' &&
    url.password === '' &&
    url.hash === '';
  if (!ok)
    throw invalid(
      'INVALID_OIDC_URI',
      `${field} must be https (http only on localhost), without credentials or fragment`,
      {
        field,
      },
    );
  return value;
}

const CLIENT_NOT_FOUND = () => notFound('OIDC_CLIENT_NOT_FOUND', 'OpenID Connect client');

/**
 * Registered applications as OpenID Connect clients of Vigie, managed by whoever holds
 * `application.manage` over the application's organisation. A secret, when issued, is returned once
 * and kept as its SHA-256.
 */
export function createOidcClientService(deps: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'>) {
  async function load(db: Executor, actor: Actor, id: string, manage: boolean) {
    const app = await findApplication(db, id);
    const readable =
      app &&
      (allows(actor, 'application.read', app.organisation_path) ||
        allows(actor, 'application.manage', app.organisation_path));
    if (!app || !readable) throw notFound('APPLICATION_NOT_FOUND', 'application');
    if (manage && !allows(actor, 'application.manage', app.organisation_path))
      throw forbidden('PERMISSION_DENIED', 'missing permission application.manage over this organisation');
    return app;
  }

  return {
    /** Makes an application an OIDC client, or changes its registration (PUT semantics). */
    async configure(actor: Actor, applicationId: string, body: OidcClientBody): Promise<OidcClientView> {
      const redirectUris = body.redirectUris.map((u) => checkUri(u, 'redirectUris'));
      const postLogout = (body.postLogoutRedirectUris ?? []).map((u) =>
        checkUri(u, 'postLogoutRedirectUris'),
      );
      const backchannel =
        body.backchannelLogoutUri === undefined || body.backchannelLogoutUri === null
          ? null
          : checkUri(body.backchannelLogoutUri, 'backchannelLogoutUri');
      const confidential = body.confidential ?? false;
      if (body.rotateSecret && !confidential)
        throw invalid('OIDC_SECRET_NOT_CONFIDENTIAL', 'only a confidential client has a secret to rotate');
      const target = { type: 'application', id: applicationId };
      return runCommand(
        deps,
        async (ctx) => {
          const app = await load(ctx.trx, actor, applicationId, true);
          if (app.status !== 'active')
            throw invalid('APPLICATION_NOT_ACTIVE', `the application is ${app.status}; reactivate it first`);
          const existing = await repo.findClient(ctx.trx, applicationId);
          let secret: string | undefined;
          let secretHash: string | null = null;
          if (confidential) {
            if (existing?.secret_hash && !body.rotateSecret) secretHash = existing.secret_hash;
            else {
              secret = `vcs_${randomBytes(32).toString('base64url')}`;
              secretHash = hashOf(secret);
            }
          }
          const at = ctx.now.toISOString();
          const row: repo.ClientRow = {
            application_id: applicationId,
            redirect_uris: JSON.stringify(redirectUris),
            post_logout_redirect_uris: JSON.stringify(postLogout),
            backchannel_logout_uri: backchannel,
            dpop_required: body.dpopRequired ? 1 : 0,
            secret_hash: secretHash,
            default_acr: body.defaultAcr ?? null,
            created_at: existing?.created_at ?? at,
            updated_at: at,
          };
          await repo.upsertClient(ctx.trx, row);
          ctx.emit({
            kind: existing ? 'oidc_client.updated' : 'oidc_client.registered',
            actor: eventActorOf(actor),
            target,
            organisationId: app.organisation_id,
            outcome: 'success',
            data: {
              applicationId,
              redirectUris,
              backchannelLogoutUri: backchannel,
              dpopRequired: body.dpopRequired,
              confidential,
              secretIssued: secret !== undefined,
              defaultAcr: row.default_acr,
            },
          });
          return present(row, secret);
        },
        refusalOf(actor, 'oidc_client.updated', target),
      );
    },

    async get(actor: Actor, applicationId: string): Promise<OidcClientView> {
      await load(deps.db, actor, applicationId, false);
      const row = await repo.findClient(deps.db, applicationId);
      if (!row) throw CLIENT_NOT_FOUND();
      return present(row);
    },

    /** Ends the registration: the provider no longer knows the client, its tokens stop working. */
    async remove(actor: Actor, applicationId: string): Promise<void> {
      const target = { type: 'application', id: applicationId };
      await runCommand(
        deps,
        async (ctx) => {
          const app = await load(ctx.trx, actor, applicationId, true);
          if (!(await repo.deleteClient(ctx.trx, applicationId))) throw CLIENT_NOT_FOUND();
          ctx.emit({
            kind: 'oidc_client.removed',
            actor: eventActorOf(actor),
            target,
            organisationId: app.organisation_id,
            outcome: 'success',
            data: { applicationId },
          });
        },
        refusalOf(actor, 'oidc_client.removed', target),
      );
    },
  };
}

export type OidcClientService = ReturnType<typeof createOidcClientService>;
