import { Counter, Gauge } from 'prom-client';
import type { CoreDeps } from '../../container.js';
import type { VigieEvent } from '../../shared/event.js';
import { findAlert, linkObservations } from './alert.repository.js';
import { createAlertService } from './alert.service.js';
import type { AlertForwarder } from './alert.forwarder.js';
import { AlertStream } from './alert.stream.js';
import { DetectionEngine, type EngineOptions } from './detection.engine.js';
import { loadDirectorySnapshot, oldestReplayedSeq, replayPage } from './directory.repository.js';
import { EntityDirectory } from './entity.directory.js';
import { GeoLocator } from './geo.locator.js';
import { createResponseService, type ResponseActions, type ResponseSpec } from './response.service.js';
import type { Bilingual } from './explain.js';
import type { RiskPolicy } from './risk.js';
import { createRiskService, RISK_RULES } from './risk.service.js';
import { loadRuleDirectory, RuleSetError, type LoadedRule } from './rule.loader.js';
import type { Finding } from './rule.runtime.js';
import { runCommand } from '../events/command.js';

export type DetectionDeps = Pick<CoreDeps, 'db' | 'bus' | 'clock' | 'ids' | 'logger' | 'metrics' | 'config'>;

export interface DetectionOptions {
  readonly rulesDir?: string;
  readonly forwarders?: readonly AlertForwarder[];
  readonly actions: ResponseActions;
  readonly engine?: EngineOptions;
  /** Risk-based alerting: thresholds, decay and ladder (risk.ts DEFAULT_RISK_POLICY). */
  readonly risk?: RiskPolicy;
  /** How much recent history to replay at start to warm windows, first-seen sets and baselines. */
  readonly warmUp?: { readonly days: number; readonly maxEvents: number };
}

const WARM_PAGE = 2000;

/**
 * Detection wired together: the engine follows the bus, its findings become alerts (one at a time, in
 * order), new alerts go to the live stream, the forwarders and the rule's responses.
 */
export function createDetectionService(deps: DetectionDeps, options: DetectionOptions) {
  const directory = new EntityDirectory();
  const engine = new DetectionEngine(
    { directory, geo: new GeoLocator() },
    { now: () => deps.clock.now().getTime(), ...options.engine },
  );
  const alerts = createAlertService({ ...deps, organisationPath: (id) => directory.organisationPath(id) });
  const risk = createRiskService(
    { ...deps, directory, applicationKind: (id) => options.actions.evidence.applicationKind(id) },
    options.risk,
  );
  const responses = createResponseService(deps, options.actions, {
    ...(options.risk ? { freezeForMs: options.risk.freezeForMs } : {}),
  });
  let expiryTimer: NodeJS.Timeout | undefined;
  const stream = new AlertStream(deps.config.alertStream);
  const rulesDir = options.rulesDir ?? deps.config.rulesDir;
  let loaded: LoadedRule[] = [];
  let chain: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | undefined;
  let reloadPending = false;

  const findingsTotal = metric(
    () =>
      new Counter({
        name: 'vigie_detection_findings_total',
        help: 'Findings raised by the detection engine',
        labelNames: ['rule'],
        registers: [deps.metrics],
      }),
    'vigie_detection_findings_total',
  );
  metric(
    () =>
      new Gauge({
        name: 'vigie_detection_backlog',
        help: 'Events waiting for the detection engine',
        registers: [deps.metrics],
        collect() {
          this.set(engine.backlog);
        },
      }),
    'vigie_detection_backlog',
  );

  function metric<T>(make: () => T, name: string): T {
    return (deps.metrics.getSingleMetric(name) as T | undefined) ?? make();
  }

  /**
   * A finding: a signal rule's adds to risk (and may raise a risk alert with its rung's response);
   * another rule's raises its alert and runs its responses, and its account counts as at risk for
   * its organisation and application.
   */
  async function handle(finding: Finding): Promise<void> {
    if (finding.rule.doc.risk) {
      for (const r of await risk.observe(finding))
        await raise(r.finding, riskResponses(r), r.why, true, r.observations);
      return;
    }
    if (!(await raise(finding, finding.rule.doc.responses ?? [], undefined, false))) return;
    for (const r of await risk.alerted(finding))
      await raise(r.finding, riskResponses(r), r.why, true, r.observations);
  }

  /**
   * The graduated responses of a risk alert, unless VIGIE_RISK_RESPONSES=off; a takeover's come
   * from its rules' own `responses:`, which a pack without responses does not have.
   */
  function riskResponses(r: { finding: Finding; responses: readonly ResponseSpec[] }) {
    if (deps.config.riskResponses || r.finding.rule.id === RISK_RULES.takeover.id) return r.responses;
    return [];
  }

  /**
   * Raises (or folds) an alert, then runs the responses: a rule's only when its alert is new, a
   * risk rung's each time (each rung is reached once per episode). Returns whether it was new.
   */
  async function raise(
    finding: Finding,
    specs: readonly ResponseSpec[],
    why: Bilingual | undefined,
    everyTime: boolean,
    observations: readonly string[] = [],
  ): Promise<boolean> {
    const { alert, created } = await alerts.raise(finding, why);
    // The signals it rests on point at the first alert they led to (the investigation's link).
    if (observations.length > 0) await linkObservations(deps.db, observations, alert.id);
    if (created) {
      const row = await findAlert(deps.db, alert.id);
      if (row) stream.publish(alert, row);
      for (const f of options.forwarders ?? []) {
        f.forward(alert).catch((error: unknown) =>
          deps.logger.warn(
            { alertId: alert.id, err: error instanceof Error ? error.message : 'error' },
            'alert forwarding failed',
          ),
        );
      }
    }
    if (!created && !everyTime) return false;
    const done = specs.length > 0 ? await responses.executeFor(alert, finding, specs) : [];
    if (done.length > 0 || !created)
      await alerts.explainDone(
        alert.id,
        done.map((d) => ({
          id: d.id,
          action: d.action,
          target: d.target,
          status: d.status,
          ...(typeof d.result.expiresAt === 'string' ? { expiresAt: d.result.expiresAt } : {}),
        })),
        created ? undefined : why,
      );
    return created;
  }

  engine.onFinding((finding) => {
    findingsTotal.inc({ rule: finding.rule.id });
    chain = chain
      .then(() => handle(finding))
      .catch((error: unknown) => {
        deps.logger.error(
          { err: error instanceof Error ? error.message : 'error', ruleId: finding.rule.id },
          'raising an alert failed',
        );
      });
  });
  engine.onError((error) =>
    deps.logger.error({ err: error instanceof Error ? error.message : 'error' }, 'a rule failed on an event'),
  );
  engine.onDirectoryStale(() => {
    if (reloadPending) return;
    reloadPending = true;
    setTimeout(() => {
      reloadPending = false;
      loadDirectorySnapshot(deps.db)
        .then((s) => directory.load(s))
        .catch(() => deps.logger.warn('detection directory reload failed'));
    }, 200).unref();
  });

  /**
   * Replays recent history through the rules without raising anything, so state survives a restart.
   * On a busy system the window holds more than `maxEvents`: the newest are the ones replayed (the
   * last hour's windows matter more than last month's first events), found by walking the journal
   * down from its end, then read back up in commit order — the order the live engine saw them in.
   */
  async function warmUp(): Promise<number> {
    const w = options.warmUp ?? { days: 30, maxEvents: 200_000 };
    if (w.maxEvents < 1) return 0;
    const since = new Date(deps.clock.now().getTime() - w.days * 86_400_000).toISOString();
    const fromSeq = await oldestReplayedSeq(deps.db, since, w.maxEvents);
    if (fromSeq === undefined) return 0;
    let seen = 0;
    let afterSeq = fromSeq - 1;
    while (seen < w.maxEvents) {
      const rows = await replayPage(deps.db, since, afterSeq, Math.min(WARM_PAGE, w.maxEvents - seen));
      if (rows.length === 0) break;
      for (const r of rows) engine.process(JSON.parse(r.payload) as VigieEvent, false);
      seen += rows.length;
      afterSeq = Number(rows[rows.length - 1]!.seq);
    }
    return seen;
  }

  return {
    engine,
    alerts,
    responses,
    risk,
    stream,
    directory,

    /** Loads rules and facts, replays recent history, then follows the bus. */
    async start(): Promise<void> {
      try {
        loaded = loadRuleDirectory(rulesDir, engine.env);
        engine.setRules(loaded.map((l) => l.rule));
      } catch (error) {
        // Detection must not keep Vigie from starting; the problem is visible in the log and the API.
        deps.logger.error(
          { problems: error instanceof RuleSetError ? error.problems : [] },
          'detection rules refused',
        );
      }
      directory.load(await loadDirectorySnapshot(deps.db));
      const replayed = await warmUp();
      deps.logger.info({ rules: loaded.length, replayed }, 'detection started');
      unsubscribe = deps.bus.subscribe((events) => {
        risk.noteEvents(events);
        engine.enqueue(events);
      });
      expiryTimer = setInterval(() => {
        chain = chain
          .then(() => responses.liftExpired().then(() => undefined))
          .catch(() => {
            deps.logger.warn('lifting expired freezes failed');
          });
      }, 30_000);
      expiryTimer.unref();
    },

    async stop(): Promise<void> {
      unsubscribe?.();
      if (expiryTimer) clearInterval(expiryTimer);
      stream.close();
      await engine.idle();
      await chain;
    },

    /** Waits until every queued event is evaluated and every finding handled (tests, shutdown). */
    async settled(): Promise<void> {
      await engine.idle();
      let current: Promise<void>;
      do {
        current = chain;
        await current;
      } while (current !== chain);
    },

    loadedRules: () => loaded,

    /**
     * How detection will treat an event of this time committed now: `evaluated` on time, `late`
     * (evaluated in its own event time, its alerts marked late), `not_evaluated` by stateful rules.
     */
    consideration: (timeMs: number) => engine.consideration(timeMs),

    /**
     * Re-reads the rules directory. On any problem nothing changes (the running rules stay) and the
     * problems are thrown; on success the swap is journaled as `rules.reloaded`.
     */
    async reloadRules(actor: { type: 'account' | 'system'; id: string }): Promise<{ count: number }> {
      const next = loadRuleDirectory(rulesDir, engine.env);
      await runCommand(deps, ({ emit }) => {
        emit({
          kind: 'rules.reloaded',
          actor,
          outcome: 'success',
          data: { count: next.length, ruleIds: next.map((l) => l.rule.id).slice(0, 500) },
        });
        return Promise.resolve();
      });
      loaded = next;
      engine.setRules(next.map((l) => l.rule));
      return { count: next.length };
    },
  };
}

export type DetectionService = ReturnType<typeof createDetectionService>;
