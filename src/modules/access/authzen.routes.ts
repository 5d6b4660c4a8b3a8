import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireApplication } from '../../http/authenticate.js';
import { ErrorResponses } from '../../http/schemas.js';
import { invalid } from '../../shared/errors.js';
import type { AccessService } from './access.service.js';
import {
  ActionSearchRequest,
  ActionSearchResponse,
  DecisionResponse,
  EntitySearchResponse,
  EvaluationRequest,
  EvaluationsRequest,
  EvaluationsResponse,
  MetadataResponse,
  ResourceSearchRequest,
  SubjectSearchRequest,
  evaluationItemCheck,
} from './authzen.schemas.js';
import type { Decision, DecisionRequest } from './pdp.js';
import type { SearchInput, SearchService } from './search.service.js';
import { namesSession, sessionContexts, type FoundSessions, type SessionFacts } from './session-facts.js';

const tags = ['access (AuthZEN 1.0)'];

/** The decision as the caller sees it: reason codes and obligations, never rule ids nor facts. */
export function presentDecision(d: Decision): DecisionResponse {
  if (d.decision && d.obligations.length === 0) return { decision: true };
  const context: Record<string, unknown> = {};
  if (!d.decision) context.reasons = d.reasons;
  if (d.obligations.length > 0) context.obligations = d.obligations;
  return { decision: d.decision, context };
}

function toRequest(body: EvaluationRequest, callerId: string): DecisionRequest {
  return {
    subject: body.subject,
    resource: body.resource,
    action: body.action,
    ...(body.context ? { context: body.context } : {}),
    callerId,
  };
}

const requestId = (request: FastifyRequest) => String(request.id);

/**
 * Runs `decide` at once while the journal keeps up, else once the lagging journal has caught up:
 * back-pressure that slows a client sending faster than decisions can be journaled, where refusing
 * (503) would make it send again at once and spend the PDP's time parsing requests it then drops.
 */
function whenJournaled<T>(access: AccessService, decide: () => T | Promise<T>): T | Promise<T> {
  const backlog = access.journalBacklog();
  return backlog ? backlog.then(decide) : decide();
}

/**
 * Authenticates before the body is validated, so an anonymous caller gets 401, not a schema error.
 * A callback hook (Fastify catches what it throws): no promise per decision.
 */
const authorise =
  (scope: string) => (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    requireApplication(request, scope);
    done();
  };

/** POST /access/v1/*: evaluation, evaluations and search, for registered applications. */
export function authzenRoutes(
  access: AccessService,
  search: SearchService,
  sessions: SessionFacts,
): FastifyPluginAsync {
  return (root) => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/.well-known/authzen-configuration',
      {
        schema: {
          tags,
          summary: 'AuthZEN policy decision point metadata',
          security: [],
          response: { 200: MetadataResponse },
        },
      },
      (request) => {
        // The identifier must equal the URL the metadata was fetched from (mix-up protection).
        const base = `${request.protocol}://${request.host}`;
        return {
          policy_decision_point: base,
          access_evaluation_endpoint: `${base}/access/v1/evaluation`,
          access_evaluations_endpoint: `${base}/access/v1/evaluations`,
          search_subject_endpoint: `${base}/access/v1/search/subject`,
          search_resource_endpoint: `${base}/access/v1/search/resource`,
          search_action_endpoint: `${base}/access/v1/search/action`,
        };
      },
    );

    app.post(
      '/access/v1/evaluation',
      {
        preValidation: authorise('pdp.evaluate'),
        schema: {
          tags,
          summary: 'Decide one access request',
          body: EvaluationRequest,
          response: { 200: DecisionResponse, ...ErrorResponses },
        },
      },
      (request) => {
        const caller = requireApplication(request, 'pdp.evaluate');
        const asked = toRequest(request.body, caller.applicationId);
        return evaluateOne(access, sessions, asked, requestId(request));
      },
    );

    app.post(
      '/access/v1/evaluations',
      {
        preValidation: authorise('pdp.evaluate'),
        schema: {
          tags,
          summary:
            'Decide several access requests (boxcarring), with default values and evaluation semantics',
          body: EvaluationsRequest,
          response: { 200: EvaluationsResponse, ...ErrorResponses },
        },
      },
      (request) => {
        const caller = requireApplication(request, 'pdp.evaluate');
        const body = request.body;
        const items = body.evaluations ?? [];
        const base = {
          subject: body.subject,
          resource: body.resource,
          action: body.action,
          context: body.context,
        };
        if (items.length === 0) {
          // No (or an empty) evaluations array: the request is a single evaluation.
          if (!evaluationItemCheck.Check(base)) throw invalidItem(base);
          const asked = toRequest(base, caller.applicationId);
          return evaluateOne(access, sessions, asked, requestId(request));
        }
        const semantic = body.options?.evaluations_semantic ?? 'execute_all';
        const id = requestId(request);
        return whenJournaled(access, () => {
          // The sessions the items name are looked up together, once each, before any decision.
          const named = sessionContexts(base.context, items);
          if (named) {
            return sessions
              .lookupAll(named)
              .then((found) => evaluateItems(access, caller.applicationId, id, base, items, semantic, found));
          }
          return evaluateItems(access, caller.applicationId, id, base, items, semantic, undefined);
        });
      },
    );

    const searchInput = (
      body: { subject: unknown; resource: unknown; action?: unknown; context?: unknown; page?: unknown },
      callerId: string,
    ): SearchInput =>
      ({
        subject: body.subject,
        resource: body.resource,
        ...(body.action !== undefined ? { action: body.action } : {}),
        ...(body.context !== undefined ? { context: body.context } : {}),
        ...(body.page !== undefined ? { page: body.page } : {}),
        callerId,
      }) as SearchInput;

    /** A search naming a Vigie session runs with that session's strength, like an evaluation. */
    const searching = <T>(input: SearchInput, run: (input: SearchInput) => T): T | Promise<T> =>
      namesSession(input.context)
        ? sessions.lookup(input.context).then((session) => run({ ...input, session }))
        : run(input);

    app.post(
      '/access/v1/search/subject',
      {
        preValidation: authorise('pdp.search'),
        schema: {
          tags,
          summary: 'Subjects that may perform an action on a resource',
          body: SubjectSearchRequest,
          response: { 200: EntitySearchResponse, ...ErrorResponses },
        },
      },
      (request) =>
        searching(searchInput(request.body, requireApplication(request, 'pdp.search').applicationId), (i) =>
          search.subjects(i),
        ),
    );
    app.post(
      '/access/v1/search/resource',
      {
        preValidation: authorise('pdp.search'),
        schema: {
          tags,
          summary: 'Resources a subject may perform an action on',
          body: ResourceSearchRequest,
          response: { 200: EntitySearchResponse, ...ErrorResponses },
        },
      },
      (request) =>
        searching(searchInput(request.body, requireApplication(request, 'pdp.search').applicationId), (i) =>
          search.resources(i),
        ),
    );
    app.post(
      '/access/v1/search/action',
      {
        preValidation: authorise('pdp.search'),
        schema: {
          tags,
          summary: 'Actions a subject may perform on a resource',
          body: ActionSearchRequest,
          response: { 200: ActionSearchResponse, ...ErrorResponses },
        },
      },
      (request) =>
        searching(searchInput(request.body, requireApplication(request, 'pdp.search').applicationId), (i) =>
          search.actions(i),
        ),
    );
    return Promise.resolve();
  };
}

/** One decision, once the journal keeps up; a request naming a Vigie session waits on one lookup. */
function evaluateOne(access: AccessService, sessions: SessionFacts, asked: DecisionRequest, id: string) {
  return whenJournaled(access, () =>
    namesSession(asked.context)
      ? sessions.resolve(asked).then((r) => presentDecision(access.evaluate(r, { requestId: id })))
      : presentDecision(access.evaluate(asked, { requestId: id })),
  );
}

/** The items of a boxcar, in order, under its semantic; `found` holds the sessions they named. */
function evaluateItems(
  access: AccessService,
  callerId: string,
  requestId: string,
  base: Record<string, unknown>,
  items: readonly Record<string, unknown>[],
  semantic: 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit',
  found: FoundSessions | undefined,
) {
  const out: DecisionResponse[] = [];
  for (const item of items) {
    // Each item's own subject/resource/action/context replaces the default as a whole.
    const merged: Record<string, unknown> = { ...base };
    for (const key of ['subject', 'resource', 'action', 'context'] as const) {
      if (Object.hasOwn(item, key)) merged[key] = item[key];
    }
    let result: DecisionResponse;
    if (evaluationItemCheck.Check(merged)) {
      const asked = toRequest(merged, callerId);
      result = presentDecision(access.evaluate(found ? found.apply(asked) : asked, { requestId }));
    } else {
      result = { decision: false, context: { error: { status: 400, message: firstProblem(merged) } } };
    }
    out.push(result);
    if (semantic === 'deny_on_first_deny' && !result.decision) break;
    if (semantic === 'permit_on_first_permit' && result.decision) break;
  }
  return { evaluations: out };
}

function firstProblem(value: unknown): string {
  const first = evaluationItemCheck.Errors(value).First();
  return first ? `${first.path || '/'}: ${first.message}`.slice(0, 200) : 'invalid evaluation';
}

function invalidItem(value: unknown) {
  return invalid('VALIDATION_FAILED', 'the request does not match the schema', {
    issues: [{ message: firstProblem(value) }],
  });
}
