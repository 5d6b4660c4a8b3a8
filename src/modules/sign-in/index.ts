import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { CoreDeps, VigieModule } from '../../container.js';
import type { SessionAuthenticator } from '../../http/authenticate.js';
import { loadKeyFile } from '../../shared/key-file.js';
import { createCeremonies } from './ceremony.service.js';
import { createEnrolmentMailer } from './enrolment.mailer.js';
import { createEnrolmentService } from './enrolment.service.js';
import { createFederation } from './federation/index.js';
import { createPasskeyService } from './passkey.service.js';
import { createSignInBrake } from './sign-in.brake.js';
import type { SignInDeps } from './sign-in.deps.js';
import { signInPages } from './sign-in.pages.js';
import { signInRoutes } from './sign-in.routes.js';
import { createSignInService } from './sign-in.service.js';
import { createSessionService } from './session.service.js';
import { createTotpEnrolmentService } from './totp-enrolment.service.js';
import { createTotpSignInService } from './totp-sign-in.service.js';
import { totpRoutes } from './totp.routes.js';
import { recoveryRoutes } from './recovery.routes.js';
import { createRecoveryService } from './recovery.service.js';
import { createReenrolmentService } from './reenrolment.service.js';
import { createStepUpService } from './step-up.service.js';

export interface SignInModule extends VigieModule {
  readonly name: 'sign-in';
  /** What the HTTP authentication hook resolves session cookies with. */
  readonly sessions: SessionAuthenticator;
  readonly enrolment: ReturnType<typeof createEnrolmentService>;
}

/** Sign-in: passkeys, TOTP where allowed, enrolment links, sessions, the sign-in brake and the pages. */
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
  let totpKey: Promise<Buffer> | undefined;
  // Beside the database like the record pseudonym key: a copy of the database alone opens no secret.
  const key = () => (totpKey ??= loadKeyFile(path.join(core.config.dataDir, 'totp-secret.key')));
  const totpEnrolment = createTotpEnrolmentService(deps, { sessions, key });
  const totpSignIn = createTotpSignInService(deps, { sessions, brake, key });
  const stepUp = createStepUpService(deps, { ceremonies, brake });
  let recoveryKey: Promise<Buffer> | undefined;
  // Beside the database too: a copy of the database alone cannot check a guessed recovery code.
  const loadRecoveryKey = () =>
    (recoveryKey ??= loadKeyFile(path.join(core.config.dataDir, 'recovery-code.key')));
  const recovery = createRecoveryService(deps, { sessions, brake, key: loadRecoveryKey });
  const reenrolment = createReenrolmentService(deps, {
    enrolment,
    brake,
    approverMinAgeDays: core.config.delegation.approverMinAgeDays,
  });
  const federation = createFederation(deps, { providers: core.config.federation, sessions, brake });
  let unsubscribe: (() => void) | undefined;
  const routes: FastifyPluginAsync = (app) => {
    signInRoutes(app, {
      signIn,
      passkeys,
      sessions,
      enrolment,
      sessionAbsoluteMs: core.config.signIn.sessionAbsoluteMs,
    });
    totpRoutes(app, {
      enrolment: totpEnrolment,
      signIn: totpSignIn,
      sessions,
      sessionAbsoluteMs: core.config.signIn.sessionAbsoluteMs,
    });
    recoveryRoutes(app, { stepUp, recovery, reenrolment, sessions });
    federation.routes(app);
    signInPages(app);
    return Promise.resolve();
  };
  return {
    name: 'sign-in',
    routes,
    sessions,
    enrolment,
    async start() {
      // Read at start so that a key file others may read stops Vigie at once, not at a first sign-in.
      if (core.config.signIn.totpEnabled) await key();
      await loadRecoveryKey();
      unsubscribe = core.bus.subscribe((events) => enrolment.onEvents(events));
    },
    async stop() {
      unsubscribe?.();
      await enrolment.settle();
      brake.stop();
      mailer.close();
    },
  };
}
