import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { ErrorResponses, Id, Reason } from '../../http/schemas.js';
import type { CommandDeps } from '../events/command.js';
import type { AccessControls } from './access.controls.js';
import type { AccessService } from './access.service.js';
import { EvaluationRequest } from './authzen.schemas.js';
import { presentDecision } from './authzen.routes.js';
import { explain } from './pdp.explain.js';
import type { DecisionRequest } from './policy.facts.js';
import { namesSession, type SessionFacts } from './session-facts.js';
import { reloadPolicy, summarisePolicy } from './policy.admin.js';

const tags = ['access administration'];
const TargetType = Type.Union([
  Type.Literal('organisation'),
  Type.Literal('application'),
  Type.Literal('account'),
]);
const Target = Type.Object({ type: TargetType, id: Id }, { additionalProperties: false });
const PolicySummary = Type.Object({
  name: Type.String(),
  version: Type.String(),
  files: Type.Array(Type.String()),
  rules: Type.Integer(),
  loadedAt: Type.Union([Type.String(), Type.Null()]),
  previousVersion: Type.Optional(Type.String()),
});
const ControlResult = Type.Object({
  changed: Type.Boolean(),
  controlId: Type.Union([Type.String(), Type.Null()]),
});
const FreezeBody = Type.Object({ target: Target, reason: Reason }, { additionalProperties: false });
const StepUpBody = Type.Object({ accountId: Id, reason: Reason }, { additionalProperties: false });

/** /api/v1/access/...: the security team's handle on the PDP (policy, budgets, controls, explain). */
export function accessAdminRoutes(
  deps: CommandDeps,
  access: AccessService,
  controls: AccessControls,
  sessions: SessionFacts,
): FastifyPluginAsync {
  return (root) => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/access/policy',
      {
        schema: {
          tags,
          summary: 'The active policy and its version',
          response: { 200: PolicySummary, ...ErrorResponses },
        },
      },
      (request) => {
        requireAccount(request, 'policy.read');
        return summarisePolicy(access.policy, access.store.loadedAt);
      },
    );

    app.post(
      '/api/v1/access/policies/reload',
      {
        schema: {
          tags,
          summary: 'Reload the policy files atomically (journaled)',
          response: { 200: PolicySummary, ...ErrorResponses },
        },
      },
      async (request) => reloadPolicy(deps, access, requireAccount(request, 'policy.manage')),
    );

    app.post(
      '/api/v1/access/explain',
      {
        schema: {
          tags,
          summary: 'Explain a decision (dry run): which rule, which fact',
          body: Type.Intersect([EvaluationRequest, Type.Object({ applicationId: Type.Optional(Id) })]),
          response: {
            200: Type.Object({
              decision: Type.Boolean(),
              context: Type.Optional(Type.Object({}, { additionalProperties: true })),
              ruleIds: Type.Array(Type.String()),
              policyVersion: Type.String(),
              rules: Type.Array(Type.Object({}, { additionalProperties: true })),
            }),
            ...ErrorResponses,
          },
        },
      },
      async (request) => {
        requireAccount(request, 'policy.read');
        const b = request.body;
        const asked: DecisionRequest = {
          subject: b.subject,
          resource: b.resource,
          action: b.action,
          ...(b.context ? { context: b.context } : {}),
          ...(b.applicationId ? { callerId: b.applicationId } : {}),
        };
        // Explained as the PDP would decide it: with the strength of the session it names, if any.
        const resolved = namesSession(asked.context) ? await sessions.resolve(asked) : asked;
        const e = explain(access.policy, access.view, access.ledger, resolved, deps.clock.now().getTime());
        return {
          ...presentDecision(e.decision),
          ruleIds: [...e.decision.ruleIds],
          policyVersion: e.decision.policyVersion,
          rules: e.rules as unknown as Array<Record<string, unknown>>,
        };
      },
    );

    app.get(
      '/api/v1/access/budgets/:type/:id',
      {
        schema: {
          tags,
          summary: 'Distinct records disclosed in the current window, and whether budgets are frozen',
          params: Target,
          response: {
            200: Type.Object({
              type: TargetType,
              id: Type.String(),
              count: Type.Integer(),
              windowMinutes: Type.Integer(),
              frozen: Type.Boolean(),
            }),
            ...ErrorResponses,
          },
        },
      },
      (request) => {
        requireAccount(request, 'policy.read');
        const { type, id } = request.params;
        return {
          type,
          id,
          count: access.ledger.count(type, id, Math.floor(deps.clock.now().getTime() / 60_000)),
          windowMinutes: access.ledger.windowMinutes,
          frozen: access.view.isFrozen(type, id),
        };
      },
    );

    for (const [path, clear] of [
      ['/api/v1/access/freezes', false],
      ['/api/v1/access/freezes/clear', true],
    ] as const) {
      app.post(
        path,
        {
          config: { stepUp: 'response.execute' },
          schema: {
            tags,
            summary: clear
              ? 'Unfreeze budgets (journaled)'
              : 'Freeze budgets: no disclosure until unfrozen (journaled)',
            body: FreezeBody,
            response: { 200: ControlResult, ...ErrorResponses },
          },
        },
        async (request) => {
          const actor = requireAccount(request, 'response.execute');
          const r = await (
            clear
              ? (a: typeof actor, t: typeof request.body.target, why: string) =>
                  controls.unfreezeBudgets(a, t, why)
              : (a: typeof actor, t: typeof request.body.target, why: string) =>
                  controls.freezeBudgets(a, t, why)
          )(actor, request.body.target, request.body.reason);
          return { changed: r.changed, controlId: r.controlId ?? null };
        },
      );
    }

    for (const [path, clear] of [
      ['/api/v1/access/step-ups', false],
      ['/api/v1/access/step-ups/clear', true],
    ] as const) {
      app.post(
        path,
        {
          config: { stepUp: 'response.execute' },
          schema: {
            tags,
            summary: clear ? 'Clear a step-up requirement' : 'Require a phishing-resistant re-authentication',
            body: StepUpBody,
            response: { 200: ControlResult, ...ErrorResponses },
          },
        },
        async (request) => {
          const actor = requireAccount(request, 'response.execute');
          const r = await (
            clear
              ? (a: typeof actor, id: string, why: string) => controls.clearStepUp(a, id, why)
              : (a: typeof actor, id: string, why: string) => controls.requireStepUp(a, id, why)
          )(actor, request.body.accountId, request.body.reason);
          return { changed: r.changed, controlId: r.controlId ?? null };
        },
      );
    }

    app.post(
      '/api/v1/access/export-approvals',
      {
        config: { stepUp: 'access.export' },
        schema: {
          tags,
          summary: 'Approve a large export (four eyes); the token is shown once',
          body: Type.Object(
            {
              requesterAccountId: Id,
              maxRecords: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
              purpose: Reason,
            },
            { additionalProperties: false },
          ),
          response: {
            201: Type.Object({ approvalId: Type.String(), token: Type.String(), expiresAt: Type.String() }),
            ...ErrorResponses,
          },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(await controls.approveExport(requireAccount(request, 'account.approve'), request.body)),
    );
    return Promise.resolve();
  };
}
