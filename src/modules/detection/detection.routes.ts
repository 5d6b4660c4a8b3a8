import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAccount } from '../../http/authenticate.js';
import { ErrorResponses, Page } from '../../http/schemas.js';
import { VigieError, notFound } from '../../shared/errors.js';
import type { DetectionService } from './detection.service.js';
import {
  AlertListQuery,
  AlertPatch,
  AlertSchema,
  IdParams,
  ResponseSchema,
  RuleIdParams,
  RuleSummarySchema,
  UndoBody,
} from './detection.schemas.js';
import { ALERT_STREAM_RETRY_AFTER_S } from './alert.stream.js';
import { toOcsfDetectionFinding } from './ocsf-finding.js';
import { RuleSetError, type LoadedRule } from './rule.loader.js';

const presentRule = (l: LoadedRule) => ({
  id: l.rule.id,
  title: l.rule.doc.title,
  type: l.rule.doc.type,
  level: l.rule.doc.level,
  entity: l.rule.doc.entity,
  kinds: [...l.rule.kinds],
  tags: l.rule.doc.tags,
  responses: (l.rule.doc.responses ?? []).map((r) => r.action),
  ...(l.rule.doc.risk ? { risk: { ...l.rule.doc.risk } } : {}),
  enabled: l.rule.doc.enabled !== false,
  file: l.file,
  stateKeys: l.rule.stateSize(),
});

/** HTTP adapter of detection: alerts (+ live stream and OCSF export), rules, responses. */
export function detectionRoutes(detection: DetectionService): FastifyPluginAsync {
  return (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['detection'];
    // Live streams never end on their own: end them before the server waits for open connections.
    app.addHook('preClose', (done) => {
      detection.stream.close();
      done();
    });

    app.get(
      '/api/v1/alerts',
      {
        schema: {
          tags,
          querystring: AlertListQuery,
          response: { 200: Page(AlertSchema), ...ErrorResponses },
        },
      },
      async (request) => {
        const principal = requireAccount(request, 'alert.read');
        const q = request.query;
        return detection.alerts
          .list(principal, {
            limit: q.limit ?? 50,
            ...(q.cursor ? { cursor: Buffer.from(q.cursor, 'base64url').toString('utf8') } : {}),
            ...(q.status ? { status: q.status } : {}),
            ...(q.severity ? { severity: q.severity } : {}),
            ...(q.ruleId ? { ruleId: q.ruleId } : {}),
            ...(q.entityId ? { entityId: q.entityId } : {}),
          })
          .then((page) => ({
            items: page.items,
            nextCursor: page.nextCursor ? Buffer.from(page.nextCursor, 'utf8').toString('base64url') : null,
          }));
      },
    );

    app.get(
      '/api/v1/alerts/stream',
      { schema: { tags, response: ErrorResponses } },
      async (request, reply) => {
        const principal = requireAccount(request, 'alert.read');
        const refused = detection.stream.refusal(principal);
        if (refused) {
          reply.header('retry-after', String(ALERT_STREAM_RETRY_AFTER_S));
          throw refused;
        }
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-request-id': String(request.id),
        });
        detection.stream.add(principal, reply.raw);
        return Promise.resolve();
      },
    );

    app.get(
      '/api/v1/alerts/:id',
      { schema: { tags, params: IdParams, response: { 200: AlertSchema, ...ErrorResponses } } },
      async (request) => detection.alerts.get(requireAccount(request, 'alert.read'), request.params.id),
    );

    app.get(
      '/api/v1/alerts/:id/ocsf',
      {
        schema: {
          tags,
          description: 'The alert as an OCSF Detection Finding (class 2004)',
          params: IdParams,
          response: { 200: Type.Record(Type.String(), Type.Unknown()), ...ErrorResponses },
        },
      },
      async (request) =>
        toOcsfDetectionFinding(
          await detection.alerts.get(requireAccount(request, 'alert.read'), request.params.id),
        ),
    );

    app.get(
      '/api/v1/alerts/:id/responses',
      {
        schema: {
          tags,
          params: IdParams,
          response: { 200: Type.Object({ items: Type.Array(ResponseSchema) }), ...ErrorResponses },
        },
      },
      async (request) => {
        const alert = await detection.alerts.get(requireAccount(request, 'alert.read'), request.params.id);
        return { items: await detection.responses.listForAlert(alert.id) };
      },
    );

    app.patch(
      '/api/v1/alerts/:id',
      {
        schema: {
          tags,
          params: IdParams,
          body: AlertPatch,
          response: { 200: AlertSchema, ...ErrorResponses },
        },
      },
      async (request) =>
        detection.alerts.updateStatus(requireAccount(request, 'alert.update'), request.params.id, {
          status: request.body.status,
          ...(request.body.comment !== undefined ? { comment: request.body.comment } : {}),
        }),
    );

    app.post(
      '/api/v1/responses/:id/undo',
      {
        config: { stepUp: 'response.execute' },
        schema: {
          tags,
          params: IdParams,
          body: UndoBody,
          response: { 200: ResponseSchema, ...ErrorResponses },
        },
      },
      async (request) =>
        detection.responses.undo(
          requireAccount(request, 'response.execute'),
          request.params.id,
          request.body.reason,
        ),
    );

    app.get(
      '/api/v1/risk/entities/:id',
      {
        schema: {
          tags,
          description:
            "An entity's current risk (account, session, application acting for it, organisation) and its " +
            'observations, newest first: the signals kept below the alert level as well as those that ' +
            "raised one. Visible within the reader's alert.read scope only.",
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
          response: {
            200: Type.Object({
              entityId: Type.String(),
              risk: Type.Record(Type.String(), Type.Number()),
              items: Type.Array(
                Type.Object({
                  id: Type.String(),
                  entity: Type.Object({ type: Type.String(), id: Type.String() }),
                  ruleId: Type.String(),
                  weight: Type.Number(),
                  riskAfter: Type.Number(),
                  factors: Type.Array(Type.String()),
                  evidence: Type.Array(Type.String()),
                  alertId: Type.Union([Type.String(), Type.Null()]),
                  observedAt: Type.String(),
                }),
              ),
            }),
            ...ErrorResponses,
          },
        },
      },
      async (request) =>
        detection.risk.investigate(
          requireAccount(request, 'alert.read'),
          request.params.id,
          request.query.limit ?? 100,
        ),
    );

    app.get(
      '/api/v1/rules',
      {
        schema: {
          tags,
          response: { 200: Type.Object({ items: Type.Array(RuleSummarySchema) }), ...ErrorResponses },
        },
      },
      async (request) => {
        requireAccount(request, 'rule.read');
        return Promise.resolve({ items: detection.loadedRules().map(presentRule) });
      },
    );

    app.get(
      '/api/v1/rules/:id',
      { schema: { tags, params: RuleIdParams, response: { 200: RuleSummarySchema, ...ErrorResponses } } },
      async (request) => {
        requireAccount(request, 'rule.read');
        const found = detection.loadedRules().find((l) => l.rule.id === request.params.id);
        if (!found) throw notFound('RULE_NOT_FOUND', 'rule');
        return Promise.resolve(presentRule(found));
      },
    );

    app.post(
      '/api/v1/rules/reload',
      {
        schema: {
          tags,
          description:
            'Re-reads the rules directory; on any error the running rules stay and the problems are listed',
          response: {
            200: Type.Object({ count: Type.Integer() }),
            422: Type.Ref('ErrorResponse'),
            ...ErrorResponses,
          },
        },
      },
      async (request) => {
        const principal = requireAccount(request, 'rule.manage');
        try {
          return await detection.reloadRules({ type: 'account', id: principal.accountId });
        } catch (error) {
          if (!(error instanceof RuleSetError)) throw error;
          throw new VigieError(
            'RULES_INVALID',
            422,
            'the rules were refused; the previous rules keep running',
            {
              problems: error.problems.slice(0, 50),
            },
          );
        }
      },
    );
    return Promise.resolve();
  };
}
