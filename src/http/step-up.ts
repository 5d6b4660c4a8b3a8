import type { FastifyInstance, FastifyRequest } from 'fastify';
import { runCommand, type CommandDeps } from '../modules/events/command.js';
import { VigieError, forbidden } from '../shared/errors.js';
import { stepUpRefusal, type StepUpAct } from '../shared/step-up.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * This route performs an act that needs a step-up. `when` (read after validation) narrows it to
     * some requests, e.g. a grant only when the role is privileged.
     */
    stepUp?: StepUpAct | { act: StepUpAct; when: (request: FastifyRequest) => Promise<boolean> };
    /** A recovery session (opened with a recovery code) may call this route. */
    recoverySession?: boolean;
  }
}

/** Where the page or the console sends the person to step up. */
export const STEP_UP_ROUTES = {
  options: '/api/v1/auth/step-up/options',
  verify: '/api/v1/auth/step-up/verify',
  page: '/step-up',
} as const;

export const stepUpRequired = (act: StepUpAct, reason: string, maxAgeSeconds: number) =>
  new VigieError(
    'STEP_UP_REQUIRED',
    403,
    'this act needs a fresh confirmation with your passkey (step-up); run the step-up ceremony and retry',
    { act, reason, maxAgeSeconds, ...STEP_UP_ROUTES },
  );

/**
 * Two checks on every request a session or token authenticates, after validation and before the
 * handler: a recovery session reaches only the routes marked `recoverySession` (registering a new
 * passkey, signing out); a route marked `stepUp` refuses with 403 STEP_UP_REQUIRED a principal
 * without a fresh step-up (shared/step-up.ts). An act let through by a session's step-up is
 * journaled as `auth.step_up_used` with its name, before the act itself runs.
 */
export function installStepUpGate(
  app: FastifyInstance,
  deps: CommandDeps & { readonly maxAgeMs: number },
): void {
  // A callback hook: applications (every AuthZEN call) pass without a promise or a microtask turn.
  app.addHook('preHandler', (request, _reply, done) => {
    if (request.principal?.kind !== 'account') return done();
    gate(request).then(() => done(), done);
  });

  async function gate(request: FastifyRequest): Promise<void> {
    const principal = request.principal;
    if (principal?.kind !== 'account') return;
    const config = request.routeOptions.config;
    if (principal.session?.method === 'recovery' && !config.recoverySession)
      throw forbidden(
        'RECOVERY_SESSION_LIMITED',
        'this session was opened with a recovery code: register a new passkey first',
      );
    const rule = config.stepUp;
    if (!rule) return;
    const act = typeof rule === 'string' ? rule : rule.act;
    if (typeof rule !== 'string' && !(await rule.when(request))) return;
    const refusal = stepUpRefusal(principal, deps.clock.now().getTime(), deps.maxAgeMs);
    if (refusal) throw stepUpRequired(act, refusal, Math.floor(deps.maxAgeMs / 1000));
    const session = principal.session;
    if (!session) return;
    await runCommand(deps, (ctx) => {
      ctx.emit({
        kind: 'auth.step_up_used',
        actor: { type: 'account', id: principal.accountId },
        target: { type: 'session', id: session.id },
        organisationId: principal.organisationId,
        outcome: 'success',
        data: { act, stepUpAt: session.stepUpAt, route: request.routeOptions.url ?? null },
        context: {
          requestId: String(request.id),
          ip: request.ip,
          channel: 'api',
          sessionId: session.id,
          authLevel: principal.authLevel,
        },
      });
      return Promise.resolve();
    });
  }
}
