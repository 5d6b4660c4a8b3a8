import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.js';
import type { DatabaseHandle, Db, Dialect } from './db/database.js';
import type { Clock } from './shared/clock.js';
import { EventBus } from './shared/event-bus.js';
import type { IdGenerator } from './shared/ids.js';
import { createDetectionModule } from './modules/detection/index.js';
import { createEventTail } from './modules/events/event.tail.js';
import { createIngestModule } from './modules/ingest/index.js';
import { createPrincipalResolver, type PrincipalResolver } from './modules/identity/principal.service.js';
import { createIdentityModule } from './modules/identity/index.js';
import { createCaseloadModule } from './modules/caseload/index.js';
import { createApplicationsModule } from './modules/applications/index.js';
import { createJournalModule } from './modules/journal/index.js';
import { createAccessModule } from './modules/access/index.js';
import { databaseSessionSource, withAccessTokens } from './modules/access/session-source.js';
import { createSignInModule } from './modules/sign-in/index.js';
import { createOidcProviderModule } from './modules/oidc-provider/index.js';
import type { SessionAuthenticator } from './http/authenticate.js';

const IDENTITY_CHANGE = /^(account|role|token|application|organisation)\./;

/** What every module may be handed; each takes only the parts it needs. */
export interface CoreDeps {
  readonly config: Config;
  readonly db: Db;
  readonly dialect: Dialect;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Callers waiting for the database writer (SQLite: the one connection; PostgreSQL: the pool). */
  readonly writerBacklog: DatabaseHandle['writerBacklog'];
}

/** A capability as the container sees it: routes to mount, and a life cycle. */
export interface VigieModule {
  readonly name: string;
  readonly routes?: FastifyPluginAsync;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface Container {
  readonly core: CoreDeps;
  readonly resolver: PrincipalResolver;
  /** Resolves session cookies (sign-in module). */
  readonly sessions: SessionAuthenticator;
  readonly modules: readonly VigieModule[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The composition root: builds each module in order and nothing else. */
export function createContainer(input: {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
}): Container {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'vigie_' });
  const bus = new EventBus((error) => input.logger.error({ err: error }, 'event listener failed'));
  const core: CoreDeps = {
    config: input.config,
    db: input.database.db,
    dialect: input.database.dialect,
    clock: input.clock,
    ids: input.ids,
    bus,
    logger: input.logger,
    metrics,
    writerBacklog: () => input.database.writerBacklog(),
  };
  const resolver = createPrincipalResolver({ db: core.db, clock: core.clock });
  // Any identity change may change what a cached principal may do; a refused attempt changes nothing.
  bus.subscribe((events) => {
    if (events.some((e) => e.outcome === 'success' && IDENTITY_CHANGE.test(e.kind))) resolver.invalidate();
  });

  const modules: VigieModule[] = [];
  // Modules, in dependency order: each is built from core and the modules before it.
  const identity = createIdentityModule(core);
  modules.push(identity);
  const signIn = createSignInModule(core);
  modules.push(signIn);
  const caseload = createCaseloadModule(core);
  const applications = createApplicationsModule(core);
  modules.push(caseload, applications);
  const oidc = createOidcProviderModule(core);
  modules.push(oidc);
  const journal = createJournalModule(core);
  modules.push(journal);
  // An AuthZEN request may name the access token an application received from Vigie's provider.
  const access = createAccessModule(core, {
    sessionSource: withAccessTokens(databaseSessionSource(core.db), (token) =>
      oidc.sessionOfAccessToken(token),
    ),
  });
  modules.push(access);
  const detection = createDetectionModule(core, { identity: identity.service, controls: access.controls });
  modules.push(detection, createIngestModule(core, detection.service, access.service));
  // Last, so that every follower of the bus is ready before other processes' events arrive.
  const tail = createEventTail({
    db: core.db,
    bus,
    onError: (error) => core.logger.error({ err: error }, 'event tail failed'),
  });
  modules.push({ name: 'event-tail', start: () => tail.start(), stop: () => tail.stop() });

  return {
    core,
    resolver,
    sessions: signIn.sessions,
    modules,
    async start() {
      for (const m of modules) await m.start?.();
    },
    async stop() {
      for (const m of [...modules].reverse()) await m.stop?.();
    },
  };
}
