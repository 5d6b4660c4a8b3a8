import type { CoreDeps } from '../../container.js';
import type { ResponseTable } from '../../db/schema.js';
import { conflict, notFound, VigieError } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { eventActorOf, type AccountPrincipal, type Actor, type SystemActor } from '../../shared/principal.js';
import { runCommand } from '../events/command.js';
import * as repo from './alert.repository.js';
import { alertVisibleTo, markNeedsPerson, type Alert } from './alert.service.js';
import type { Finding } from './rule.runtime.js';
import type { ResponseAction } from './rule.schema.js';

/**
 * Responses declared by rules, executed by Vigie itself (a system actor named after the rule) through
 * the same services a person would use, so each change is journaled by its owner (account.suspended,
 * budget.frozen…). Each response is also recorded with a `response.executed` (or `response.failed`)
 * event linked to the alert, and an analyst can undo it.
 */
type ControlTarget = { type: 'organisation' | 'application' | 'account'; id: string };

/** Error code of a withheld response: the alert waits for a person's decision. */
export const NEEDS_PERSON = 'RESPONSE_NEEDS_PERSON';

/** Where an account sits and what power it holds, read before a response acts on it. */
export interface TargetAccountFacts {
  readonly organisationPath: string;
  readonly privileged: boolean;
  readonly platformAdmin: boolean;
}

/** What detection needs from identity and access; wired from their services in index.ts. */
export interface ResponseActions {
  readonly identity: {
    suspendAccount(actor: Actor, accountId: string, reason: string): Promise<unknown>;
    suspendLineage(actor: Actor, accountId: string, reason: string): Promise<{ suspended: string[] }>;
    reactivateAccount(actor: Actor, accountId: string, reason: string): Promise<unknown>;
    revokeAccountTokens(actor: Actor, accountId: string, reason: string): Promise<unknown>;
    /** Read-only: undefined when no such account. */
    accountFacts(accountId: string): Promise<TargetAccountFacts | undefined>;
    activePlatformAdminIds(): Promise<readonly string[]>;
    /** Every account a lineage suspension from this one would reach below it. */
    lineageOf(accountId: string): Promise<readonly string[]>;
    organisationPath(organisationId: string): Promise<string | undefined>;
  };
  /** Where a finding's evidence came from: 'vigie' or the sending application, and its reporting scope. */
  readonly evidence: {
    sources(eventIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
    reportingPaths(applicationIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
    /** 'business' | 'partner', undefined when no such application. */
    applicationKind(applicationId: string): Promise<string | undefined>;
  };
  readonly controls: {
    freezeBudgets(actor: Actor, target: ControlTarget, reason: string): Promise<unknown>;
    unfreezeBudgets(actor: Actor, target: ControlTarget, reason: string): Promise<unknown>;
    requireStepUp(actor: Actor, accountId: string, reason: string): Promise<unknown>;
    clearStepUp(actor: Actor, accountId: string, reason: string): Promise<unknown>;
  };
}

export interface ResponseRecord {
  readonly id: string;
  readonly alertId: string;
  readonly ruleId: string;
  readonly action: string;
  readonly target: { type: string; id: string };
  readonly status: string;
  readonly errorCode: string | null;
  readonly result: Record<string, unknown>;
  readonly executedAt: string;
  readonly executedEventId: string;
  readonly undoneAt: string | null;
  readonly undoneBy: string | null;
}

export function presentResponse(r: ResponseTable): ResponseRecord {
  return {
    id: r.id,
    alertId: r.alert_id,
    ruleId: r.rule_id,
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    status: r.status,
    errorCode: r.error_code,
    result: JSON.parse(r.result) as Record<string, unknown>,
    executedAt: r.executed_at,
    executedEventId: r.executed_event_id,
    undoneAt: r.undone_at,
    undoneBy: r.undone_by,
  };
}

function targetOf(
  action: ResponseAction,
  wanted: string | undefined,
  alert: Alert,
  finding: Finding,
): ControlTarget | undefined {
  const entity = finding.entity;
  if (action !== 'freeze_budgets')
    return entity.type === 'account' ? { type: 'account', id: entity.id } : undefined;
  const type = (wanted ?? entity.type) as ControlTarget['type'];
  if (type === entity.type) return { type, id: entity.id };
  if (type === 'organisation' && alert.organisationId) return { type, id: alert.organisationId };
  return undefined;
}

const codeOf = (error: unknown) => (error instanceof VigieError ? error.code : 'RESPONSE_FAILED');

/** Why a response waits for a person; recorded in the response row, its event and the alert. */
export type WithholdReason =
  | 'privileged_target'
  | 'outside_evidence_scope'
  | 'above_evidence_organisation'
  | 'last_platform_admin'
  | 'business_application';

/** How long an automatic freeze lasts unless an analyst lifts it sooner (issue 12). */
export const DEFAULT_FREEZE_MS = 4 * 3_600_000;

/** The responses to run for an alert: the rule's own, or those the risk policy chose. */
export type ResponseSpec = NonNullable<Finding['rule']['doc']['responses']>[number];

const SUSPENSIONS: readonly ResponseAction[] = ['suspend_account', 'suspend_lineage'];

export function createResponseService(
  deps: Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'logger'>,
  actions: ResponseActions,
  options: { freezeForMs?: number } = {},
) {
  const freezeForMs = options.freezeForMs ?? DEFAULT_FREEZE_MS;
  async function perform(
    action: ResponseAction,
    actor: Actor,
    target: ControlTarget,
    reason: string,
  ): Promise<Record<string, unknown>> {
    const { identity, controls } = actions;
    switch (action) {
      case 'suspend_account':
        await identity.suspendAccount(actor, target.id, reason);
        return {};
      case 'suspend_lineage': {
        const r = await identity.suspendLineage(actor, target.id, reason);
        return { suspended: r.suspended };
      }
      case 'revoke_tokens':
        await identity.revokeAccountTokens(actor, target.id, reason);
        return {};
      case 'freeze_budgets': {
        // Every automatic freeze ends on its own (liftExpired); an analyst may lift it sooner.
        const expiresAt = new Date(deps.clock.now().getTime() + freezeForMs).toISOString();
        await controls.freezeBudgets(actor, target, `${reason}, until ${expiresAt}`);
        return { expiresAt };
      }
      case 'require_step_up': {
        // Asked again while an older requirement stands (a higher rung of the risk ladder): the
        // requirement is renewed, so a sign-in made since the first one does not satisfy it.
        const r = (await controls.requireStepUp(actor, target.id, reason)) as
          { changed?: boolean } | undefined;
        if (r?.changed === false) {
          await controls.clearStepUp(actor, target.id, `${reason}: renewed`);
          await controls.requireStepUp(actor, target.id, reason);
          return { renewed: true };
        }
        return {};
      }
    }
  }

  async function record(
    alert: Alert,
    action: string,
    target: { type: string; id: string },
    outcome:
      | { ok: true; result: Record<string, unknown> }
      | { ok: false; code: string }
      | { ok: false; withheld: readonly WithholdReason[] },
  ): Promise<ResponseRecord> {
    const actor: SystemActor = { kind: 'system', id: `detection:${alert.ruleId}` };
    const withheld = 'withheld' in outcome ? outcome.withheld : undefined;
    const code = outcome.ok ? undefined : withheld ? NEEDS_PERSON : (outcome as { code: string }).code;
    return runCommand(deps, async ({ trx, emit, now }) => {
      const id = deps.ids.next();
      const event = emit({
        kind: outcome.ok ? 'response.executed' : withheld ? 'response.withheld' : 'response.failed',
        actor: eventActorOf(actor),
        target,
        ...(alert.organisationId ? { organisationId: alert.organisationId } : {}),
        outcome: outcome.ok ? 'success' : withheld ? 'denied' : 'failure',
        ...(code ? { reason: code } : {}),
        data: {
          responseId: id,
          alertId: alert.id,
          ruleId: alert.ruleId,
          action,
          ...(withheld ? { withheld } : {}),
        },
      });
      if (withheld)
        await markNeedsPerson(trx, alert.id, { responseId: id, action, target, reasons: withheld });
      const row: ResponseTable = {
        id,
        alert_id: alert.id,
        rule_id: alert.ruleId,
        action,
        target_type: target.type,
        target_id: target.id,
        status: outcome.ok ? 'executed' : withheld ? 'withheld' : 'failed',
        error_code: code ?? null,
        result: JSON.stringify(outcome.ok ? outcome.result : withheld ? { withheld } : {}),
        executed_at: now.toISOString(),
        executed_event_id: event.id,
        undone_at: null,
        undone_by: null,
      };
      await repo.insertResponse(trx, row);
      return presentResponse(row);
    });
  }

  /**
   * Why Vigie must not act on its own here (empty: it may). Ingested events are claims by their
   * sender: on their strength alone, no privileged account and nothing outside the sender's
   * reporting scope is touched. Whatever the evidence, no suspension reaches above the evidence's
   * organisation, nor takes the last active platform administrator: those lock the operator out.
   */
  async function withholdReasons(
    action: ResponseAction,
    target: ControlTarget,
    alert: Alert,
    finding: Finding,
  ): Promise<WithholdReason[]> {
    // A business application serves everyone of its organisation: never frozen for its users'
    // misbehaviour, whatever the rule says. A person decides.
    if (target.type === 'application')
      return (await actions.evidence.applicationKind(target.id)) === 'partner'
        ? []
        : ['business_application'];
    const reasons: WithholdReason[] = [];
    const sources = await actions.evidence.sources(finding.evidence);
    // Evidence not found is treated as a claim: only Vigie's own journal speaks for itself.
    const senders = new Set(finding.evidence.map((id) => sources.get(id) ?? 'unknown'));
    const claimsOnly = !senders.has('vigie');
    senders.delete('vigie');
    const targetPath =
      target.type === 'account' ? undefined : await actions.identity.organisationPath(target.id);
    const account = target.type === 'account' ? await actions.identity.accountFacts(target.id) : undefined;
    if (target.type === 'account' && !account) return [];
    const path = account?.organisationPath ?? targetPath;
    if (claimsOnly) {
      if (account?.privileged) reasons.push('privileged_target');
      const scopes = await actions.evidence.reportingPaths([...senders]);
      // Inside the scope of every sender: one sender cannot lend its wider scope to another's claim.
      const inside =
        path !== undefined &&
        senders.size > 0 &&
        [...senders].every((a) => {
          const scope = scopes.get(a);
          return scope !== undefined && path.startsWith(scope);
        });
      if (!inside) reasons.push('outside_evidence_scope');
    }
    if (account && SUSPENSIONS.includes(action)) {
      const evidenceOrg = alert.organisationId
        ? await actions.identity.organisationPath(alert.organisationId)
        : undefined;
      if (evidenceOrg !== undefined && !account.organisationPath.startsWith(evidenceOrg))
        reasons.push('above_evidence_organisation');
      // The lineage too: an administrator approved by the target would be suspended with it.
      const admins = await actions.identity.activePlatformAdminIds();
      const reached = new Set([target.id]);
      if (action === 'suspend_lineage' && admins.length > 0)
        for (const id of await actions.identity.lineageOf(target.id)) reached.add(id);
      const left = admins.filter((id) => !reached.has(id)).length;
      if (left === 0 && admins.length > 0) reasons.push('last_platform_admin');
    }
    return reasons;
  }

  return {
    /** Runs the responses a rule declares for a newly raised alert; a failure is recorded, not thrown. */
    async executeFor(
      alert: Alert,
      finding: Finding,
      specs: readonly ResponseSpec[] = finding.rule.doc.responses ?? [],
    ): Promise<ResponseRecord[]> {
      const out: ResponseRecord[] = [];
      const actor: SystemActor = { kind: 'system', id: `detection:${alert.ruleId}` };
      const reason = `detection alert ${alert.id} (${alert.ruleId})`;
      for (const r of specs) {
        const target = targetOf(r.action, r.target, alert, finding);
        if (!target) {
          out.push(
            await record(alert, r.action, finding.entity, { ok: false, code: 'RESPONSE_TARGET_MISMATCH' }),
          );
          continue;
        }
        try {
          const withheld = await withholdReasons(r.action, target, alert, finding);
          if (withheld.length > 0) {
            deps.logger.warn(
              { ruleId: alert.ruleId, action: r.action, alertId: alert.id, withheld },
              'detection response withheld for a person',
            );
            out.push(await record(alert, r.action, target, { ok: false, withheld }));
            continue;
          }
          const result = await perform(r.action, actor, target, reason);
          out.push(await record(alert, r.action, target, { ok: true, result }));
        } catch (error) {
          deps.logger.warn(
            { ruleId: alert.ruleId, action: r.action, code: codeOf(error) },
            'detection response failed',
          );
          out.push(await record(alert, r.action, target, { ok: false, code: codeOf(error) }));
        }
      }
      return out;
    },

    /**
     * Lifts the automatic freezes whose time is over, as the system (journaled `budget.unfrozen`
     * and `response.undone` with `expired: true`). Returns how many were lifted.
     */
    async liftExpired(): Promise<number> {
      const now = deps.clock.now();
      const rows = await repo.listExecutedResponses(deps.db, 'freeze_budgets');
      let lifted = 0;
      for (const row of rows) {
        const expiresAt = (JSON.parse(row.result) as { expiresAt?: string }).expiresAt;
        if (expiresAt === undefined || Date.parse(expiresAt) > now.getTime()) continue;
        const actor: SystemActor = { kind: 'system', id: 'detection:freeze-expiry' };
        const target = { type: row.target_type, id: row.target_id } as ControlTarget;
        try {
          await actions.controls.unfreezeBudgets(actor, target, `automatic freeze expired at ${expiresAt}`);
        } catch (error) {
          deps.logger.warn({ responseId: row.id, code: codeOf(error) }, 'lifting an expired freeze failed');
          continue;
        }
        await runCommand(deps, async ({ trx, emit, now: at }) => {
          if (!(await repo.markResponseUndone(trx, row.id, 'system:detection', at.toISOString()))) return;
          emit({
            kind: 'response.undone',
            actor: eventActorOf(actor),
            target,
            outcome: 'success',
            data: { responseId: row.id, alertId: row.alert_id, action: row.action, expired: true },
          });
        });
        lifted += 1;
      }
      return lifted;
    },

    async listForAlert(alertId: string): Promise<ResponseRecord[]> {
      return (await repo.listResponsesOfAlert(deps.db, alertId)).map(presentResponse);
    },

    /** Reverses an executed response as the analyst (whose own permissions the services check). */
    async undo(principal: AccountPrincipal, id: string, reason: string): Promise<ResponseRecord> {
      const row = isUuid(id) ? await repo.findResponse(deps.db, id) : undefined;
      const alert = row ? await repo.findAlert(deps.db, row.alert_id) : undefined;
      if (!row || !alert || !alertVisibleTo(principal, alert))
        throw notFound('RESPONSE_NOT_FOUND', 'response');
      if (row.status !== 'executed')
        throw conflict('RESPONSE_NOT_UNDOABLE', `a ${row.status} response cannot be undone`, {
          status: row.status,
        });
      const { identity, controls } = actions;
      const target = { type: row.target_type, id: row.target_id } as ControlTarget;
      const undoResult: Record<string, unknown> = {};
      switch (row.action as ResponseAction) {
        case 'revoke_tokens':
          throw conflict('RESPONSE_NOT_REVERSIBLE', 'revoked tokens stay revoked; issue new ones instead');
        case 'suspend_account':
          await identity.reactivateAccount(principal, row.target_id, reason);
          break;
        case 'suspend_lineage': {
          const suspended = (JSON.parse(row.result) as { suspended?: string[] }).suspended ?? [row.target_id];
          const failed: Array<{ accountId: string; code: string }> = [];
          for (const accountId of suspended) {
            try {
              await identity.reactivateAccount(principal, accountId, reason);
            } catch (error) {
              if (!(error instanceof VigieError)) throw error;
              failed.push({ accountId, code: error.code });
            }
          }
          undoResult.failed = failed;
          break;
        }
        case 'freeze_budgets':
          await controls.unfreezeBudgets(principal, target, reason);
          break;
        case 'require_step_up':
          await controls.clearStepUp(principal, row.target_id, reason);
          break;
      }
      return runCommand(deps, async ({ trx, emit, now }) => {
        if (!(await repo.markResponseUndone(trx, row.id, principal.accountId, now.toISOString())))
          throw conflict('RESPONSE_NOT_UNDOABLE', 'the response was undone meanwhile');
        emit({
          kind: 'response.undone',
          actor: eventActorOf(principal),
          target: { type: row.target_type, id: row.target_id },
          ...(alert.organisation_id ? { organisationId: alert.organisation_id } : {}),
          outcome: 'success',
          data: { responseId: row.id, alertId: row.alert_id, action: row.action, ...undoResult },
        });
        return presentResponse({
          ...row,
          status: 'undone',
          undone_at: now.toISOString(),
          undone_by: principal.accountId,
        });
      });
    },
  };
}

export type ResponseService = ReturnType<typeof createResponseService>;
