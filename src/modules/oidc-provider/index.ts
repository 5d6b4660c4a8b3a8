import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type Provider from 'oidc-provider';
import type { CoreDeps, VigieModule } from '../../container.js';
import { loadKeyFile } from '../../shared/key-file.js';
import { createAdapterClass, hashOf } from './oidc.adapter.js';
import { createOidcClientService, type OidcClientService } from './oidc-client.service.js';
import { createInteraction } from './oidc.interaction.js';
import { cookieKeysOf, loadSigningKeys } from './oidc.keys.js';
import { createLogoutFollower } from './oidc.logout.js';
import { createProvider } from './oidc.provider.js';
import * as repo from './oidc.repository.js';
import { oidcClientRoutes, providerRoutes } from './oidc.routes.js';

const PURGE_EVERY_MS = 10 * 60_000;

export interface OidcProviderModule extends VigieModule {
  readonly name: 'oidc-provider';
  readonly clients: OidcClientService;
  /**
   * The Vigie session behind an access token Vigie issued to an application (opaque or DPoP-bound;
   * the proof is the resource server's to check), while the token and its grant live; else
   * undefined. The PDP reads authentication strength from that session, not from the application.
   */
  sessionOfAccessToken(token: string): Promise<{ sessionId: string; clientId: string } | undefined>;
  /** The running provider (for tests and the CLI). */
  provider(): Promise<Provider>;
  /** Waits for the revocations and back-channel logouts under way. */
  settle(): Promise<void>;
}

/**
 * Vigie as the OpenID Provider of the business applications: oidc-provider mounted at
 * /.well-known/openid-configuration and /oidc/*, issuer VIGIE_ORIGIN, storage in the database, keys
 * sealed under `<dataDir>/oidc-provider.key`, sign-in through Vigie's own session.
 */
export function createOidcProviderModule(core: CoreDeps): OidcProviderModule {
  const deps = { db: core.db, bus: core.bus, clock: core.clock, ids: core.ids };
  const adapter = createAdapterClass({
    db: core.db,
    clock: core.clock,
    onCodeIssued: (grantId, sid, sessionUid) =>
      repo.setGrantSid(core.db, grantId, sid, sessionUid ? hashOf(sessionUid) : null),
  });
  let built: Promise<Provider> | undefined;
  const provider = () =>
    (built ??= (async () => {
      // Beside the database like the TOTP key: a copy of the database alone opens no signing key.
      const master = await loadKeyFile(path.join(core.config.dataDir, 'oidc-provider.key'));
      const built = createProvider({
        issuer: core.config.signIn.origin,
        adapter,
        jwks: await loadSigningKeys(core, master),
        cookieKeys: cookieKeysOf(master),
        findAccount: async (_ctx, sub) => {
          const account = await repo.findAccountForClaims(core.db, sub);
          if (!account || account.status !== 'active') return undefined;
          return {
            accountId: account.id,
            claims: () => ({ sub: account.id, email: account.email, email_verified: true }),
          };
        },
        allowPrivateNetworks: core.config.oidcProvider.backchannelPrivateNetworks,
        behindProxy: core.config.http.trustProxy.length > 0,
      });
      // oidc-provider answers its own 500s; they are bugs, so they reach Vigie's log.
      built.on('server_error', (_ctx: unknown, error: unknown) =>
        core.logger.error({ err: error }, 'oidc-provider server error'),
      );
      return built;
    })());
  const follower = createLogoutFollower({ ...deps, logger: core.logger }, provider, {
    retryDelaysMs: core.config.oidcProvider.backchannelRetryDelaysMs,
  });
  const clients = createOidcClientService(deps);
  const interaction = createInteraction(deps, provider);
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(oidcClientRoutes(clients));
    await app.register(providerRoutes(provider, interaction));
  };
  let unsubscribe: (() => void) | undefined;
  let purge: NodeJS.Timeout | undefined;

  return {
    name: 'oidc-provider',
    routes,
    clients,
    provider,
    async sessionOfAccessToken(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 512) return undefined;
      const p = await provider();
      const at = await p.AccessToken.find(token);
      if (!at || at.isExpired || !at.grantId || typeof at.clientId !== 'string') return undefined;
      const row = await repo.findGrantSession(core.db, at.grantId);
      return row && row.revoked_at === null
        ? { sessionId: row.session_id, clientId: at.clientId }
        : undefined;
    },
    settle: () => follower.settle(),
    async start() {
      // Built at start so that a key file others may read stops Vigie at once.
      await provider();
      unsubscribe = core.bus.subscribe((events) => follower.onEvents(events));
      purge = setInterval(() => {
        repo
          .purgeExpiredArtifacts(core.db, core.clock.now().toISOString())
          .catch((error: unknown) => core.logger.error({ err: error }, 'oidc purge failed'));
      }, PURGE_EVERY_MS);
      purge.unref();
    },
    async stop() {
      unsubscribe?.();
      clearInterval(purge);
      await follower.settle();
    },
  };
}
