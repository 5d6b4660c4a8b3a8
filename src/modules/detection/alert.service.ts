import type { CoreDeps } from '../../container.js';
import type { Executor } from '../../db/database.js';
import type { AlertTable } from '../../db/schema.js';
import { conflict, invalid, notFound } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import {
  canAnywhere,
  eventActorOf,
  scopesFor,
  type AccountPrincipal,
  type Actor,
} from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import * as repo from './alert.repository.js';
import { explainResponses, whyRule, type Bilingual, type DoneResponse } from './explain.js';
import type { Finding } from './rule.runtime.js';
import { durationMs } from './rule.schema.js';

/**
 * Alerts: raised from the engine's findings, folded together when the same rule fires again for the
 * same entity within the rule's suppression window, and worked by analysts (acknowledge, close as
 * true or false positive). Raising writes the alert and its `alert.raised` event in one transaction.
 */
export const ALERT_STATUSES = [
  'new',
  'acknowledged',
  'closed_true_positive',
  'closed_false_positive',
] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

const NEXT: Record<AlertStatus, readonly AlertStatus[]> = {
  new: ['acknowledged', 'closed_true_positive', 'closed_false_positive'],
  acknowledged: ['closed_true_positive', 'closed_false_positive'],
  closed_true_positive: [],
  closed_false_positive: [],
};

const MAX_EVIDENCE = 50;
const DEFAULT_SUPPRESS = '1h';

export interface Alert {
  readonly id: string;
  readonly ruleId: string;
  readonly title: string;
  readonly severity: string;
  readonly status: AlertStatus;
  readonly entity: { readonly type: string; readonly id: string };
  readonly organisationId: string | null;
  readonly tags: string[];
  readonly evidence: Array<{ eventId: string; proof: string }>;
  readonly summary: Record<string, unknown>;
  readonly occurrences: number;
  readonly firstEventAt: string;
  readonly lastEventAt: string;
  readonly raisedEventId: string;
  readonly comment: string | null;
  readonly updatedBy: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const proofLink = (eventId: string) =>
  `/api/v1/journal/proof/inclusion?eventId=${encodeURIComponent(eventId)}`;

export function presentAlert(row: AlertTable): Alert {
  return {
    id: row.id,
    ruleId: row.rule_id,
    title: row.title,
    severity: row.severity,
    status: row.status as AlertStatus,
    entity: { type: row.entity_type, id: row.entity_id },
    organisationId: row.organisation_id,
    tags: JSON.parse(row.tags) as string[],
    evidence: (JSON.parse(row.evidence) as string[]).map((eventId) => ({
      eventId,
      proof: proofLink(eventId),
    })),
    summary: JSON.parse(row.summary) as Record<string, unknown>,
    occurrences: row.occurrences,
    firstEventAt: row.first_event_at,
    lastEventAt: row.last_event_at,
    raisedEventId: row.raised_event_id,
    comment: row.comment,
    updatedBy: row.updated_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type AlertDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids'> & {
  readonly organisationPath: (id: string | undefined) => string | undefined;
};

/** Whether the reader may see an alert: its organisation is in scope, or it has none and the reader is operator-wide. */
export function alertVisibleTo(
  principal: AccountPrincipal,
  row: AlertTable,
  permission = 'alert.read',
): boolean {
  const scopes = scopesFor(principal, permission);
  if (row.organisation_path === null) return scopes.some(isRootScope);
  return scopes.some((p) => row.organisation_path!.startsWith(p));
}

/** A scope at the root of the organisation tree ('/<id>/'): the operator itself. */
const isRootScope = (path: string) => path.split('/').length === 3;

/** Why an automatic response was not performed: the alert then waits for a person's decision. */
export interface WithheldResponse {
  readonly responseId: string;
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly reasons: readonly string[];
}

/**
 * Marks an alert as needing a person's decision (in the caller's transaction, with the
 * `response.withheld` event): its summary lists what Vigie would have done and why it did not.
 */
export async function markNeedsPerson(
  db: Executor,
  alertId: string,
  withheld: WithheldResponse,
): Promise<void> {
  const row = await repo.findAlert(db, alertId);
  if (!row) return;
  const summary = JSON.parse(row.summary) as Record<string, unknown>;
  const previous = summary.needsPerson as { withheld?: WithheldResponse[] } | undefined;
  summary.needsPerson = {
    code: 'RESPONSE_NEEDS_PERSON',
    message: 'an automatic response was withheld: a person must decide whether to act',
    withheld: [...(previous?.withheld ?? []), withheld],
  };
  await repo.updateAlert(db, alertId, { summary: JSON.stringify(summary) });
}

export function createAlertService(deps: AlertDeps) {
  /** Records a finding: a new alert (and its event), or one more occurrence of an open one. */
  async function raise(finding: Finding, why?: Bilingual): Promise<{ alert: Alert; created: boolean }> {
    const doc = finding.rule.doc;
    const time = new Date(finding.timeMs).toISOString();
    const dedupKey = `${doc.id}|${finding.entity.type}:${finding.entity.id}`;
    const since = new Date(finding.timeMs - durationMs(doc.suppress ?? DEFAULT_SUPPRESS)).toISOString();
    const actor: Actor = { kind: 'system', id: `detection:${doc.id}` };
    return runCommand(deps, async ({ trx, emit, now }) => {
      const open = await repo.findOpenAlertByDedup(trx, dedupKey, since);
      if (open) {
        const evidence = [
          ...new Set([...(JSON.parse(open.evidence) as string[]), ...finding.evidence]),
        ].slice(-MAX_EVIDENCE);
        const patch = {
          occurrences: open.occurrences + 1,
          last_event_at: time > open.last_event_at ? time : open.last_event_at,
          evidence: JSON.stringify(evidence),
          updated_at: now.toISOString(),
        };
        await repo.updateAlert(trx, open.id, patch);
        return { alert: presentAlert({ ...open, ...patch }), created: false };
      }
      const id = deps.ids.next();
      const evidence = finding.evidence.slice(-MAX_EVIDENCE);
      const raised = emit({
        kind: 'alert.raised',
        actor: eventActorOf(actor),
        target: { type: 'alert', id },
        ...(finding.organisationId ? { organisationId: finding.organisationId } : {}),
        outcome: 'success',
        data: {
          ruleId: doc.id,
          severity: doc.level,
          entity: finding.entity,
          evidence,
          tags: doc.tags,
        },
      });
      const row: AlertTable = {
        id,
        rule_id: doc.id,
        title: doc.title,
        severity: doc.level,
        status: 'new',
        entity_type: finding.entity.type,
        entity_id: finding.entity.id,
        organisation_id: finding.organisationId ?? null,
        organisation_path: deps.organisationPath(finding.organisationId) ?? null,
        dedup_key: dedupKey,
        tags: JSON.stringify(doc.tags),
        evidence: JSON.stringify(evidence),
        summary: JSON.stringify({
          ...finding.summary,
          explanation: { why: why ?? whyRule(doc, finding.summary), ...explainResponses([]) },
        }),
        occurrences: 1,
        first_event_at: time,
        last_event_at: time,
        raised_event_id: raised.id,
        comment: null,
        updated_by: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      };
      await repo.insertAlert(trx, row);
      return { alert: presentAlert(row), created: true };
    });
  }

  async function visibleRow(
    principal: AccountPrincipal,
    id: string,
    permission = 'alert.read',
  ): Promise<AlertTable> {
    const row = isUuid(id) ? await repo.findAlert(deps.db, id) : undefined;
    if (!row || !alertVisibleTo(principal, row, permission)) throw notFound('ALERT_NOT_FOUND', 'alert');
    return row;
  }

  /**
   * Writes what was done and how to undo it into the alert's explanation, after its responses ran
   * (a later rung of the risk ladder adds to what an earlier one did).
   */
  async function explainDone(alertId: string, done: readonly DoneResponse[], why?: Bilingual): Promise<void> {
    const row = await repo.findAlert(deps.db, alertId);
    if (!row) return;
    const summary = JSON.parse(row.summary) as Record<string, unknown>;
    const previous = summary.explanation as { why?: Bilingual; responses?: DoneResponse[] } | undefined;
    const all = [...(previous?.responses ?? []), ...done];
    summary.explanation = {
      why: why ?? previous?.why,
      ...explainResponses(all),
      responses: all,
    };
    await repo.updateAlert(deps.db, alertId, { summary: JSON.stringify(summary) });
  }

  return {
    raise,
    explainDone,

    async get(principal: AccountPrincipal, id: string): Promise<Alert> {
      return presentAlert(await visibleRow(principal, id));
    },

    async list(
      principal: AccountPrincipal,
      q: {
        status?: string;
        severity?: string;
        ruleId?: string;
        entityId?: string;
        cursor?: string;
        limit: number;
      },
    ): Promise<{ items: Alert[]; nextCursor: string | null }> {
      const scopes = scopesFor(principal, 'alert.read');
      if (q.cursor !== undefined && !isUuid(q.cursor))
        throw invalid('INVALID_CURSOR', 'the cursor is not valid');
      const rows = await repo.listAlerts(deps.db, {
        ...(q.status ? { status: q.status } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        ...(q.ruleId ? { ruleId: q.ruleId } : {}),
        ...(q.entityId ? { entityId: q.entityId } : {}),
        ...(q.cursor ? { beforeId: q.cursor } : {}),
        scopePaths: scopes,
        includeUnscoped: scopes.some(isRootScope),
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit).map(presentAlert);
      return { items, nextCursor: rows.length > q.limit ? items[items.length - 1]!.id : null };
    },

    /** Moves an alert along new → acknowledged → closed (true or false positive), with a comment. */
    async updateStatus(
      principal: AccountPrincipal,
      id: string,
      input: { status: AlertStatus; comment?: string },
    ): Promise<Alert> {
      if (!canAnywhere(principal, 'alert.update')) throw notFound('ALERT_NOT_FOUND', 'alert');
      return runCommand(deps, async ({ trx, emit, now }) => {
        const row = await repo.findAlert(trx, id);
        if (!row || !alertVisibleTo(principal, row, 'alert.update'))
          throw notFound('ALERT_NOT_FOUND', 'alert');
        const from = row.status as AlertStatus;
        if (!NEXT[from].includes(input.status))
          throw conflict('ALERT_TRANSITION_REFUSED', `an alert cannot go from ${from} to ${input.status}`, {
            from,
            to: input.status,
          });
        const patch = {
          status: input.status,
          comment: input.comment ?? row.comment,
          updated_by: principal.accountId,
          updated_at: now.toISOString(),
        };
        await repo.updateAlert(trx, id, patch);
        emit({
          kind: input.status === 'acknowledged' ? 'alert.acknowledged' : 'alert.closed',
          actor: eventActorOf(principal),
          target: { type: 'alert', id },
          ...(row.organisation_id ? { organisationId: row.organisation_id } : {}),
          outcome: 'success',
          data: { from, to: input.status, ruleId: row.rule_id, commented: input.comment !== undefined },
        });
        return presentAlert({ ...row, ...patch });
      });
    },
  };
}

export type AlertService = ReturnType<typeof createAlertService>;
