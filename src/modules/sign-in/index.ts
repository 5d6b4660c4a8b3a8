import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps, VigieModule } from '../../container.js';
import type { SessionAuthenticator } from '../../http/authenticate.js';
import { createCeremonies } from './ceremony.service.js';
import { createEnrolmentMailer } from './enrolment.mailer.js';
import { createEnrolmentService } from './enrolment.service.js';
import { createPasskeyService } from './passkey.service.js';
import { createSignInBrake } from './sign-in.brake.js';
import type { SignInDeps } from './sign-in.deps.js';
import { signInPages } from './sign-in.pages.js';
import { signInRoutes } from './sign-in.routes.js';
import { createSignInService } from './sign-in.service.js';
import { createSessionService } from './session.service.js';

export interface SignInModule extends VigieModule {
  readonly name: 'sign-in';
  /** What the HTTP authentication hook resolves session cookies with. */
  readonly sessions: SessionAuthenticator;
  readonly enrolment: ReturnType<typeof createEnrolmentService>;
}

/** Sign-in: passkeys, enrolment links, sessions, the sign-in brake and the pages. */
export function createSignInModule(core: CoreDeps): SignInModule {
  const deps: SignInDeps = {
    db: core.db,
    dialect: core.dialect,
    clock: core.clock,
    ids: core.ids,
    bus: core.bus,
    signIn: core.config.signIn,
    mail: core.config.mail,
    logger: core.logger,
  };
  const ceremonies = createCeremonies(deps);
  const sessions = createSessionService(deps);
  const brake = createSignInBrake(core.config.signIn, core.config.authThrottle, core.clock);
  const mailer = createEnrolmentMailer(core.config.mail);
  const signIn = createSignInService(deps, { ceremonies, sessions, brake });
  const passkeys = createPasskeyService(deps, ceremonies, sessions);
  const enrolment = createEnrolmentService(deps, { ceremonies, sessions, mailer });
  let unsubscribe: (() => void) | undefined;
  const routes: FastifyPluginAsync = (app) => {
    signInRoutes(app, {
      signIn,
      passkeys,
      sessions,
      enrolment,
      sessionAbsoluteMs: core.config.signIn.sessionAbsoluteMs,
    });
    signInPages(app);
    return Promise.resolve();
  };
  return {
    name: 'sign-in',
    routes,
    sessions,
    enrolment,
    start() {
      unsubscribe = core.bus.subscribe((events) => enrolment.onEvents(events));
      return Promise.resolve();
    },
    async stop() {
      unsubscribe?.();
      await enrolment.settle();
      brake.stop();
      mailer.close();
    },
  };
}
