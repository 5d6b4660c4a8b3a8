import type { CoreDeps } from '../../container.js';
import { VigieError } from '../../shared/errors.js';
import type { VigieEvent } from '../../shared/event.js';
import { loadDisclosuresSince } from './access.repository.js';
import { AccessView } from './access.view.js';
import { BudgetLedger, dayOf } from './budget.ledger.js';
import { decisionEvents } from './decision.events.js';
import { DecisionRecorder, type RecorderOptions } from './decision.recorder.js';
import { toMinute } from './follow.index.js';
import { decide, type Decision, type DecisionRequest } from './pdp.js';
import type { CompiledPolicy } from './policy.compiler.js';
import { PolicyStore } from './policy.store.js';
import { loadRecordPseudonymKey, recordPseudonymiser, type RecordPseudonymiser } from './record-pseudonym.js';
import { applyEvent, loadView } from './view.loader.js';

export type AccessDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'logger' | 'config'>;

export interface AccessService {
  /** Decides, counts budgets and queues the decision event: synchronous, never waits on I/O. */
  evaluate(request: DecisionRequest, meta?: { requestId?: string }): Decision;
  /** Decides without counting nor recording (search, explain). */
  dryRun(request: DecisionRequest): Decision;
  /** Queues other access events (searches) into the same batched journal writes. */
  record(events: readonly VigieEvent[]): void;
  readonly policy: CompiledPolicy;
  readonly view: AccessView;
  readonly ledger: BudgetLedger;
  readonly store: PolicyStore;
  readonly ready: boolean;
  /** Swaps in a newly compiled policy (after it was journaled). */
  installPolicy(policy: CompiledPolicy): void;
  /** Resolves once every event received so far has been applied to the view. */
  settled(): Promise<void>;
  /** Decisions made and not yet committed to the journal. */
  readonly unjournaled: number;
  /**
   * While the journal lags (more than five batches unjournaled), a promise that resolves once what
   * is buffered has committed: callers wait on it before deciding, so a fast client is slowed to the
   * journal's pace instead of being refused. Undefined when the journal keeps up.
   */
  journalBacklog(): Promise<void> | undefined;
  /** Writes buffered decision events now. */
  flush(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Decisions buffered but not yet journaled beyond which the PDP refuses to decide: a decision that
 * cannot be journaled must not be made (fail closed while the database is unreachable).
 */
const MAX_UNJOURNALED = 100_000;

/** Unjournaled decisions beyond which decision requests wait for the journal (five full batches). */
const BACKLOG_HIGH_WATER = 20_000;

/** Kinds whose events can change who may see what. Access's own events are applied directly. */
const RELEVANT = /^(organisation|account|role|application|subject|follow)\./;

export function createAccessService(
  deps: AccessDeps,
  options: { policyDir?: string; recorder?: RecorderOptions } = {},
): AccessService {
  const store = new PolicyStore(options.policyDir ?? deps.config.policyDir);
  let view = new AccessView();
  const ledger = new BudgetLedger();
  const recorder = new DecisionRecorder(deps, options.recorder);
  let sync: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | undefined;
  let ready = false;
  let pseudonymise: RecordPseudonymiser | undefined;

  const nowMs = () => deps.clock.now().getTime();

  function requirePolicy(): CompiledPolicy {
    if (!ready) throw new VigieError('PDP_NOT_READY', 503, 'the decision point is starting');
    return store.current;
  }

  async function rebuildLedger(policy: CompiledPolicy): Promise<void> {
    ledger.clear();
    ledger.windowMinutes = policy.budgets?.windowMinutes ?? 60;
    const now = nowMs();
    const nowMinute = toMinute(now);
    const today = dayOf(now);
    const since = Math.min(now - ledger.windowMinutes * 60_000, today * 86_400_000);
    await loadDisclosuresSince(deps.db, new Date(since).toISOString(), (rows) => {
      for (const r of rows) {
        const ms = Date.parse(r.time);
        const minute = toMinute(ms);
        if (minute > nowMinute - ledger.windowMinutes) {
          // Soft flags are not persisted: after a restart a soft crossing may be reported once more.
          if (r.account_id !== null) ledger.record('account', r.account_id, r.record_id, minute, Infinity);
          if (r.organisation_id !== null)
            ledger.record('organisation', r.organisation_id, r.record_id, minute, Infinity);
          if (r.application_id !== null)
            ledger.record('application', r.application_id, r.record_id, minute, Infinity);
        }
        if (r.break_glass === 1 && r.account_id !== null && dayOf(ms) === today)
          ledger.recordBreakGlass(r.account_id, today);
      }
    });
  }

  function onEvents(events: readonly VigieEvent[]): void {
    for (const event of events) {
      if (!RELEVANT.test(event.kind)) continue;
      sync = sync
        .then(() =>
          applyEvent(deps.db, view, event, nowMs(), async () => {
            view = await reloadWhole();
          }),
        )
        .catch((error: unknown) => {
          deps.logger.error(
            { err: { message: (error as Error).message }, kind: event.kind },
            'access view not updated',
          );
        });
    }
  }

  async function reloadWhole(): Promise<AccessView> {
    const next = await loadView(deps.db, nowMs());
    // Controls and approvals live in memory between reloads too; keep the freshest copy.
    for (const f of view.frozen) next.frozen.add(f);
    for (const [k, v] of view.stepUp) next.stepUp.set(k, v);
    for (const [k, v] of view.approvals) next.approvals.set(k, v);
    return next;
  }

  return {
    evaluate(request, meta = {}) {
      const policy = requirePolicy();
      if (recorder.pending > MAX_UNJOURNALED) {
        throw new VigieError(
          'DECISION_JOURNAL_UNAVAILABLE',
          503,
          'decisions cannot be journaled at the moment',
        );
      }
      const now = nowMs();
      const d = decide(policy, view, ledger, request, now, true);
      const rec = decisionEvents(deps.ids, view, request, d, now, {
        requestId: meta.requestId,
        windowMinutes: ledger.windowMinutes,
        // Set by start(), which also sets `ready`: requirePolicy() has vouched for it.
        pseudonymise: pseudonymise!,
      });
      recorder.add(rec.events, rec.disclosure, rec.approvalUsed);
      return d;
    },
    dryRun(request) {
      return decide(requirePolicy(), view, ledger, request, nowMs(), false);
    },
    record(events) {
      recorder.add(events);
    },
    get policy() {
      return requirePolicy();
    },
    get view() {
      return view;
    },
    ledger,
    store,
    get ready() {
      return ready;
    },
    installPolicy(policy) {
      store.use(policy, deps.clock.now().toISOString());
      ledger.windowMinutes = policy.budgets?.windowMinutes ?? 60;
    },
    settled: () => sync,
    get unjournaled() {
      return recorder.pending;
    },
    flush: () => recorder.flush(),
    journalBacklog: () => (recorder.pending > BACKLOG_HIGH_WATER ? recorder.flush() : undefined),
    async start() {
      const { current } = await store.reload(deps.clock.now().toISOString());
      pseudonymise = recordPseudonymiser(await loadRecordPseudonymKey(deps.config.dataDir));
      // Subscribe before loading, in the same tick: events committed during the load queue behind it.
      unsubscribe = deps.bus.subscribe(onEvents);
      sync = (async () => {
        view = await loadView(deps.db, nowMs());
        await rebuildLedger(current);
      })();
      await sync;
      ready = true;
    },
    async stop() {
      unsubscribe?.();
      ready = false;
      await sync;
      await recorder.flush();
    },
  };
}
