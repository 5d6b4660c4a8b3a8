import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWorkDir } from '../../src/sim/demo.js';
import { runSimulation, type RunResult } from '../../src/sim/engine.js';
import { figuresOf } from '../../src/sim/report.js';
import { loadScenarioDirectory } from '../../src/sim/scenario.js';

/**
 * Issue 12's goals, asserted on a small world: the three shipped incidents replayed against two
 * weeks of normal work (scale 0.05, seed 11, the demo's panel share), Vigie as shipped. Each incident
 * discloses at most 200 records and is contained within 60 s of its first malicious act; normal work
 * raises at most 1 false alert per 1,000 agent-days and has at most 0.5 % of its requests refused.
 * The default-scale figures are in docs/report.*; this run is the regression guard (about a minute
 * of wall time on a quiet machine).
 */
const root = path.resolve(import.meta.dirname, '..', '..');

describe('the goals of issue 12 on a small world', () => {
  let work: string;
  let run: RunResult;
  let figures: ReturnType<typeof figuresOf>;

  beforeAll(async () => {
    const parent = path.dirname(defaultWorkDir(os.tmpdir()));
    work = fs.mkdtempSync(path.join(parent === '/dev/shm' ? parent : os.tmpdir(), 'vigie-goals-test-'));
    run = await runSimulation({
      seed: 11,
      scale: 0.05,
      days: 14,
      panelShare: 0.05,
      protect: true,
      scenarios: loadScenarioDirectory(path.join(root, 'scenarios')),
      packageRoot: root,
      workDir: work,
    });
    figures = figuresOf(run);
  }, 600_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  const story = (name: string) => {
    const s = figures.scenarios.find((x) => x.name === name)!;
    return `${name}: ${JSON.stringify(s.layers)} ${s.stoppedBy}\n${s.log.join('\n')}`;
  };

  it('replays the three incidents, each of which acted and was seen', () => {
    expect(figures.scenarios.map((s) => s.name)).toEqual([
      'advisor-accounts-2024',
      'delegated-administrator-2025-12',
      'partner-application-2025',
    ]);
    for (const s of figures.scenarios) {
      expect(s.firstActAt, story(s.name)).not.toBeNull();
      expect(s.alerts, story(s.name)).toBeGreaterThan(0);
    }
  });

  it('each incident discloses at most 200 records', () => {
    for (const s of figures.scenarios) expect(s.recordsDisclosed, story(s.name)).toBeLessThanOrEqual(200);
  });

  it('each incident is contained within 60 s of its first malicious act', () => {
    for (const s of figures.scenarios) expect(s.secondsToContain, story(s.name)).toBeLessThanOrEqual(60);
  });

  it('normal work raises at most 1 false alert per 1,000 agent-days', () => {
    expect(figures.agentDays).toBeGreaterThan(1000);
    expect(
      figures.falseAlertsPer1000AgentDays,
      JSON.stringify(figures.falseAlertsByRule),
    ).toBeLessThanOrEqual(1);
  });

  it('at most 0.5 % of honest requests are refused', () => {
    expect(figures.honestRequests).toBeGreaterThan(10_000);
    expect(figures.honestDeniedPercent, JSON.stringify(figures.honestDeniedByReason)).toBeLessThanOrEqual(
      0.5,
    );
  });
});
