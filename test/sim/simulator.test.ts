import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_UP_LAYER } from '../../src/sim/attacker.js';
import { defaultWorkDir } from '../../src/sim/demo.js';
import { runSimulation, type RunResult } from '../../src/sim/engine.js';
import { buildReport, figuresOf, svgChart, type Report } from '../../src/sim/report.js';
import { loadScenario, loadScenarioDirectory, type Scenario } from '../../src/sim/scenario.js';

/**
 * A small-scale run of the simulator, protected and unprotected, checking the report's arithmetic:
 * the unprotected run discloses every record it was asked for, scenarios whose outcome is known by
 * construction give it, and the normal-work figures add up.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const base = (over: Partial<Scenario>): Scenario => ({
  name: 'x',
  title: 'x',
  description: 'x',
  start: { day: 1, time: '10:00' },
  durationHours: 1,
  victims: { structureKind: 'cap_emploi', role: 'agent', count: 1 },
  access: ['infected_workstation'],
  via: 'business_app',
  targets: 'own_structure',
  network: { ips: ['45.14.224.10'], userAgent: 'Mozilla/5.0 Firefox/128.0' },
  pace: { perMinute: 3 },
  adapt: {
    narrowAfterDenials: 10,
    waitMinutesOnBudget: 60,
    retryAccessAfterMinutes: 10,
    maxSessionThefts: 3,
  },
  ...over,
});
// Known by construction: 3 records a minute of its own structure for 20 minutes, through the victim's
// own workstation, under every budget and detection floor: 60 attempted, 60 disclosed (with seed 3
// the victim is at work that day; an absent victim leaves no session to take).
const quiet = base({ name: 'quiet-insider', durationHours: 20 / 60 });
// Only the phished credential: a passkey cannot be phished, so nothing is ever attempted.
const phishOnly = base({
  name: 'phish-only',
  access: ['phished_credential'],
  victims: { structureKind: 'mission_locale', role: 'agent', count: 2 },
});
// Nationwide reading: refused outside the caseload when protected, all disclosed when not.
// After the quiet insider: its refusals make detection freeze the shared business application.
const nationwide = base({
  name: 'nationwide',
  start: { day: 1, time: '14:00' },
  victims: { structureKind: 'agency', role: 'agent', count: 1 },
  targets: 'nationwide',
  pace: { perMinute: 12 },
  adapt: { ...quiet.adapt, narrowAfterDenials: 1000 },
});

// A Mission Locale account manager's session driven through the infected workstation: the account it
// creates needs an approval, the approval a step-up with the manager's passkey, which the attacker
// does not hold; a colleague talked into approving steps up with their own passkey.
const managerTakeover = base({
  name: 'manager-takeover',
  start: { day: 1, time: '11:00' },
  // Long enough for the victim's session to be live at some point: a manager acts seldom, so its
  // session may idle out for a while and the attacker waits for the next one (every 10 minutes).
  durationHours: 3,
  victims: { structureKind: 'mission_locale', role: 'account_manager', count: 1 },
  createAccounts: { count: 1, emailDomain: 'proton.me', fallback: 'colleague_approves' },
});

describe('the simulator at small scale', () => {
  let work: string;
  let protectedRun: RunResult;
  let unprotectedRun: RunResult;
  let report: Report;
  const options = (protect: boolean) => ({
    seed: 3,
    scale: 0.01,
    days: 2,
    panelShare: 0.2,
    protect,
    attacksOnly: !protect,
    scenarios: [quiet, phishOnly, nationwide, managerTakeover],
    packageRoot: root,
    workDir: work,
  });

  beforeAll(async () => {
    // Memory-backed where the system has it, like the demo (the database is thrown away after).
    const parent = path.dirname(defaultWorkDir(os.tmpdir()));
    work = fs.mkdtempSync(path.join(parent === '/dev/shm' ? parent : os.tmpdir(), 'vigie-sim-test-'));
    unprotectedRun = await runSimulation(options(false));
    protectedRun = await runSimulation(options(true));
    report = buildReport({
      seed: 3,
      scale: 0.01,
      days: 2,
      protectedRun,
      unprotectedRun,
      wallSeconds: 1,
      notes: [],
    });
  }, 240_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('the unprotected run discloses every record attempted', () => {
    const figures = figuresOf(unprotectedRun);
    for (const s of figures.scenarios) expect(s.recordsDisclosed, s.name).toBe(s.recordsAttempted);
    expect(figures.scenarios.find((s) => s.name === 'nationwide')!.recordsAttempted).toBeGreaterThan(100);
  });

  it('a quiet insider within every limit gets exactly what it asked for, protected or not', () => {
    for (const run of [report.protected, report.unprotected!]) {
      const s = run.scenarios.find((x) => x.name === 'quiet-insider')!;
      expect(s.recordsAttempted, `${JSON.stringify(s.layers)} ${s.stoppedBy}\n${s.log.join('\n')}`).toBe(60);
      expect(s.recordsDisclosed).toBe(60);
      expect(s.timeline.at(-1)![1]).toBe(60);
      expect(s.contained).toBe(false);
    }
  });

  it('a phished credential alone never gets in: nothing attempted, the passkey layer named', () => {
    const s = report.protected.scenarios.find((x) => x.name === 'phish-only')!;
    expect(s).toMatchObject({
      recordsAttempted: 0,
      recordsDisclosed: 0,
      secondsToContain: 0,
      contained: true,
    });
    expect(s.stoppedBy).toBe('every access move refused');
    expect(s.layers['passkey sign-in (phishing-resistant)']).toBe(2);
  });

  it('reading nationwide is refused outside the structure when protected, and every refusal is counted', () => {
    const s = report.protected.scenarios.find((x) => x.name === 'nationwide')!;
    const refused = Object.entries(s.layers)
      .filter(([k]) => k.startsWith('policy: '))
      .reduce((n, [, v]) => n + v, 0);
    expect(s.layers['policy: not_in_caseload']).toBeGreaterThan(0);
    expect(s.recordsDisclosed).toBeLessThan(s.recordsAttempted);
    // Each distinct record is asked once: disclosed + refused = attempted.
    expect(s.recordsDisclosed + refused).toBe(s.recordsAttempted);
  });

  it('a stolen session cannot step up to approve what it created; a colleague who can, does', () => {
    for (const run of [report.protected, report.unprotected!]) {
      const s = run.scenarios.find((x) => x.name === 'manager-takeover')!;
      const log = `${run === report.protected ? 'protected' : 'unprotected'} run:\n${s.log.join('\n')}`;
      expect(s.layers[STEP_UP_LAYER], log).toBe(1);
      expect(log).toMatch(/step-up for the approval refused/);
      expect(log).toMatch(/a colleague approved x\d+\.0@proton\.me/);
    }
  });

  it('normal-work figures add up', () => {
    const p = report.protected;
    expect(p.agentDays).toBeGreaterThan(0);
    expect(p.honestRequests).toBeGreaterThanOrEqual(
      p.decisions - report.scenarios.reduce((n, s) => n + s.recordsAttempted, 0),
    );
    expect(Object.values(p.honestDeniedByReason).reduce((a, b) => a + b, 0)).toBe(p.honestDenied);
    expect(p.honestDeniedPercent).toBeCloseTo((p.honestDenied * 100) / p.honestRequests, 2);
    expect(Object.values(p.falseAlertsByRule).reduce((a, b) => a + b, 0)).toBe(p.falseAlerts);
    expect(p.falseAlerts + p.attackAlerts).toBe(protectedRun.alerts.length);
    expect(p.scenarios.reduce((n, s) => n + s.alerts, 0)).toBeGreaterThanOrEqual(p.attackAlerts);
    expect(p.falseAlertsPer1000AgentDays).toBeCloseTo((p.falseAlerts * 1000) / p.agentDays, 1);
    expect(report.falseAlertsPer1000AgentDays).toBe(p.falseAlertsPer1000AgentDays);
  });

  it('the same seed builds the same world', () => {
    expect(protectedRun.world).toEqual(unprotectedRun.world);
  });

  it('the chart is an SVG with one line per scenario and run', () => {
    const svg = svgChart(report);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)?.length).toBeGreaterThanOrEqual(4);
  });
});

describe('scenario files', () => {
  it('the three shipped incidents load', () => {
    const names = loadScenarioDirectory(path.join(root, 'scenarios')).map((s) => s.name);
    expect(names).toEqual([
      'advisor-accounts-2024',
      'delegated-administrator-2025-12',
      'partner-application-2025',
    ]);
  });

  it('a malformed file is refused with the field named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-scenario-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'name: bad\nstart: { day: 1, time: "25h" }\n');
    expect(() => loadScenario(file)).toThrow(/start/);
    fs.writeFileSync(file, 'name: Bad Name\n');
    expect(() => loadScenario(file)).toThrow(/name/);
    fs.rmSync(dir, { recursive: true });
  });
});
