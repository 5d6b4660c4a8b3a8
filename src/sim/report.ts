import fs from 'node:fs';
import path from 'node:path';
import type { AttackOutcome } from './attacker.js';
import type { AlertSeen, RunResult } from './engine.js';

/**
 * The figures of a run, computed only from what the simulator saw (Vigie's answers and the alerts
 * its API lists): per scenario, what the attacker tried and got, when Vigie first said something and
 * when the last record went out; over normal work, false alerts, honest refusals and throughput.
 */
export interface ScenarioFigures {
  readonly name: string;
  readonly title: string;
  readonly recordsDisclosed: number;
  readonly recordsAttempted: number;
  /** First malicious act → first alert about the attacker's accounts, addresses or applications; null: none. */
  readonly secondsToDetect: number | null;
  /** First malicious act → last record disclosed (0 when none was). */
  readonly secondsToContain: number;
  /** The attacker stopped before its scenario's time was over. */
  readonly contained: boolean;
  readonly alerts: number;
  readonly alertRules: Record<string, number>;
  readonly stoppedBy: string;
  /** What refused the attacker, and how many times. */
  readonly layers: Record<string, number>;
  readonly firstActAt: string | null;
  readonly timeline: [number, number][];
  readonly log: string[];
}

export interface RunFigures {
  readonly protect: boolean;
  readonly scenarios: ScenarioFigures[];
  readonly falseAlerts: number;
  /** Alerts about an attacker's accounts, addresses or portal, after its first act (each counted once). */
  readonly attackAlerts: number;
  readonly falseAlertsPer1000AgentDays: number;
  readonly falseAlertsByRule: Record<string, number>;
  readonly honestRequests: number;
  readonly honestDenied: number;
  readonly honestDeniedPercent: number;
  readonly honestDeniedByReason: Record<string, number>;
  readonly agentDays: number;
  readonly decisions: number;
  readonly decisionsPerSecond: number;
  readonly signIns: number;
  readonly newHires: number;
  readonly departures: number;
  readonly wallSeconds: { provision: number; replay: number };
  readonly phases: Record<string, number>;
  readonly panel: RunResult['panel'];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function attributed(outcome: AttackOutcome, alert: AlertSeen): boolean {
  if (outcome.firstActAt === undefined || Date.parse(alert.createdAt) < outcome.firstActAt) return false;
  return outcome.entities.has(alert.entity.id);
}

function scenarioFigures(outcome: AttackOutcome, alerts: AlertSeen[]): ScenarioFigures {
  const mine = alerts.filter((a) => attributed(outcome, a));
  const first = mine.map((a) => Date.parse(a.createdAt)).sort((a, b) => a - b)[0];
  const start = outcome.firstActAt;
  const contained = outcome.endedBy !== 'scenario time over';
  const layers = Object.fromEntries([...outcome.layers].sort((a, b) => b[1] - a[1]));
  const rules: Record<string, number> = {};
  for (const a of mine) rules[a.ruleId] = (rules[a.ruleId] ?? 0) + 1;
  const stoppedBy = contained
    ? (outcome.endedBy ?? 'unknown')
    : `not stopped: read until the scenario ended${
        Object.keys(layers).length
          ? ` (refusals: ${Object.entries(layers)
              .slice(0, 3)
              .map(([k, v]) => `${k} ×${v}`)
              .join(', ')})`
          : ''
      }`;
  return {
    name: outcome.scenario.name,
    title: outcome.scenario.title,
    recordsDisclosed: outcome.disclosed.size,
    recordsAttempted: outcome.attempted.size,
    secondsToDetect: first !== undefined && start !== undefined ? Math.round((first - start) / 1000) : null,
    secondsToContain:
      outcome.lastDisclosureAt !== undefined && start !== undefined
        ? Math.round((outcome.lastDisclosureAt - start) / 1000)
        : 0,
    contained,
    alerts: mine.length,
    alertRules: rules,
    stoppedBy,
    layers,
    firstActAt: start !== undefined ? new Date(start).toISOString() : null,
    timeline: downsample(
      outcome.timeline.map(([t, n]) => [start !== undefined ? Math.round((t - start) / 1000) : 0, n]),
      200,
    ),
    log: outcome.log.slice(0, 40).map((l) => `${new Date(l.at).toISOString()} ${l.what}`),
  };
}

function downsample(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const step = points.length / max;
  const out: [number, number][] = [];
  for (let i = 0; i < max; i += 1) out.push(points[Math.floor(i * step)]!);
  out.push(points[points.length - 1]!);
  return out;
}

export function figuresOf(run: RunResult): RunFigures {
  const attack = run.alerts.filter((a) => run.outcomes.some((o) => attributed(o, a)));
  const falseAlerts = run.alerts.filter((a) => !attack.includes(a));
  const byRule: Record<string, number> = {};
  for (const a of falseAlerts) byRule[a.ruleId] = (byRule[a.ruleId] ?? 0) + 1;
  const h = run.honest;
  return {
    protect: run.protect,
    scenarios: run.outcomes.map((o) => scenarioFigures(o, run.alerts)),
    falseAlerts: falseAlerts.length,
    attackAlerts: attack.length,
    falseAlertsPer1000AgentDays: h.agentDays > 0 ? round((falseAlerts.length * 1000) / h.agentDays) : 0,
    falseAlertsByRule: byRule,
    honestRequests: h.requests,
    honestDenied: h.denied,
    honestDeniedPercent: h.requests > 0 ? round((h.denied * 100) / h.requests, 3) : 0,
    honestDeniedByReason: Object.fromEntries(Object.entries(h.deniedByReason).sort((a, b) => b[1] - a[1])),
    agentDays: h.agentDays,
    decisions: run.decisions,
    decisionsPerSecond: run.wallSeconds.replay > 0 ? Math.round(run.decisions / run.wallSeconds.replay) : 0,
    signIns: h.signIns,
    newHires: h.newHires,
    departures: h.departures,
    wallSeconds: { provision: round(run.wallSeconds.provision, 1), replay: round(run.wallSeconds.replay, 1) },
    phases: run.phases,
    panel: run.panel,
  };
}

export interface Report {
  readonly generatedBy: string;
  readonly seed: number;
  readonly scale: number;
  readonly days: number;
  readonly world: RunResult['world'];
  readonly targets: Record<string, string>;
  /** The protected run's figures, at the top level as issue 11 names them. */
  readonly scenarios: ScenarioFigures[];
  readonly falseAlertsPer1000AgentDays: number;
  readonly honestDeniedPercent: number;
  readonly decisionsPerSecond: number;
  readonly protected: RunFigures;
  readonly unprotected?: RunFigures;
  readonly wallSeconds: number;
  /** The world built and loaded into Vigie once, before the runs (each starts over its own copy). */
  readonly provisioning?: { readonly seconds: number; readonly phases: Record<string, number> };
  readonly notes: string[];
}

export function buildReport(input: {
  seed: number;
  scale: number;
  days: number;
  protectedRun: RunResult;
  unprotectedRun?: RunResult;
  wallSeconds: number;
  provisioning?: { seconds: number; phases: Record<string, number> };
  notes: string[];
}): Report {
  const p = figuresOf(input.protectedRun);
  const u = input.unprotectedRun ? figuresOf(input.unprotectedRun) : undefined;
  return {
    generatedBy: 'vigie demo (src/sim)',
    seed: input.seed,
    scale: input.scale,
    days: input.days,
    world: input.protectedRun.world,
    targets: {
      recordsDisclosed: '≤ 200 per incident',
      secondsToContain: '≤ 60 per incident',
      falseAlertsPer1000AgentDays: '≤ 1',
      honestDeniedPercent: '≤ 0.5',
    },
    scenarios: p.scenarios,
    falseAlertsPer1000AgentDays: p.falseAlertsPer1000AgentDays,
    honestDeniedPercent: p.honestDeniedPercent,
    decisionsPerSecond: p.decisionsPerSecond,
    protected: p,
    ...(u ? { unprotected: u } : {}),
    wallSeconds: Math.round(input.wallSeconds),
    ...(input.provisioning
      ? { provisioning: { seconds: round(input.provisioning.seconds, 1), phases: input.provisioning.phases } }
      : {}),
    notes: input.notes,
  };
}

const fmtSeconds = (s: number | null) =>
  s === null
    ? 'never'
    : s < 120
      ? `${s} s`
      : s < 7200
        ? `${Math.round(s / 60)} min`
        : `${(s / 3600).toFixed(1)} h`;
const ok = (good: boolean) => (good ? 'met' : 'MISSED');

export function terminalTable(report: Report): string {
  const rows: string[][] = [
    ['scenario', 'run', 'disclosed', 'attempted', 'detect', 'contain', 'alerts', 'stopped by'],
  ];
  for (const run of [report.protected, report.unprotected].filter((r): r is RunFigures => r !== undefined)) {
    for (const s of run.scenarios) {
      rows.push([
        s.name,
        run.protect ? 'protected' : 'unprotected',
        s.recordsDisclosed.toLocaleString('en'),
        s.recordsAttempted.toLocaleString('en'),
        fmtSeconds(s.secondsToDetect),
        s.contained ? fmtSeconds(s.secondsToContain) : `not (${fmtSeconds(s.secondsToContain)})`,
        String(s.alerts),
        s.stoppedBy.length > 60 ? `${s.stoppedBy.slice(0, 57)}...` : s.stoppedBy,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const p = report.protected;
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
    `normal work (protected): ${p.agentDays.toLocaleString('en')} agent-days, ${p.decisions.toLocaleString('en')} decisions, ${p.signIns.toLocaleString('en')} passkey sign-ins`,
    `  false alerts per 1,000 agent-days: ${p.falseAlertsPer1000AgentDays} (${p.falseAlerts}) [target ≤ 1: ${ok(p.falseAlertsPer1000AgentDays <= 1)}] ${Object.entries(
      p.falseAlertsByRule,
    )
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ')}`,
    `  honest requests denied: ${p.honestDeniedPercent} % (${p.honestDenied} of ${p.honestRequests}) [target ≤ 0.5 %: ${ok(p.honestDeniedPercent <= 0.5)}] ${Object.entries(
      p.honestDeniedByReason,
    )
      .slice(0, 5)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ')}`,
    `  decisions per second sustained: ${p.decisionsPerSecond.toLocaleString('en')}`,
    `wall time: ${report.wallSeconds} s (${[
      ...(report.provisioning ? [`the world ${Math.round(report.provisioning.seconds)} s`] : []),
      ...[report.unprotected, report.protected]
        .filter((r): r is RunFigures => r !== undefined)
        .map(
          (r) =>
            `${r.protect ? 'protected' : 'unprotected'} run ${Math.round(r.wallSeconds.provision + r.wallSeconds.replay)} s`,
        ),
    ].join(', ')})`,
    '',
  ].join('\n');
}

export function markdownReport(report: Report, chartFile: string): string {
  const out: string[] = [];
  out.push('# Simulator report', '');
  out.push(
    `Seed ${report.seed}, scale ${report.scale}, ${report.days} days from Monday 1 September 2025: ` +
      `${report.world.structures.toLocaleString('en')} structures, ${report.world.staff.toLocaleString('en')} staff, ` +
      `${report.world.people.toLocaleString('en')} people followed (${report.world.followRelations.toLocaleString('en')} relations). Wall time ${report.wallSeconds} s.`,
    '',
    `![records disclosed over time](${chartFile})`,
    '',
    '| scenario | run | disclosed | attempted | to detect | to containment | alerts | stopped by |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const run of [report.protected, report.unprotected].filter((r): r is RunFigures => r !== undefined)) {
    for (const s of run.scenarios) {
      out.push(
        `| ${s.name} | ${run.protect ? 'protected' : 'unprotected'} | ${s.recordsDisclosed} | ${s.recordsAttempted} | ${fmtSeconds(s.secondsToDetect)} | ${s.contained ? fmtSeconds(s.secondsToContain) : `not contained (${fmtSeconds(s.secondsToContain)})`} | ${s.alerts} | ${s.stoppedBy.replace(/\|/g, '/')} |`,
      );
    }
  }
  const p = report.protected;
  out.push('', '## Normal work (protected run)', '');
  out.push(`| figure | value | target |`, '|---|---|---|');
  out.push(
    `| false alerts per 1,000 agent-days | ${p.falseAlertsPer1000AgentDays} (${p.falseAlerts} over ${p.agentDays} agent-days) | ≤ 1 (${ok(p.falseAlertsPer1000AgentDays <= 1)}) |`,
  );
  out.push(
    `| honest requests denied | ${p.honestDeniedPercent} % (${p.honestDenied} of ${p.honestRequests}) | ≤ 0.5 % (${ok(p.honestDeniedPercent <= 0.5)}) |`,
  );
  out.push(`| decisions per second sustained | ${p.decisionsPerSecond} | — |`);
  out.push('', 'False alerts by rule:', '');
  for (const [k, v] of Object.entries(p.falseAlertsByRule)) out.push(`- \`${k}\`: ${v}`);
  out.push('', 'Honest requests denied, by reason:', '');
  for (const [k, v] of Object.entries(p.honestDeniedByReason)) out.push(`- \`${k}\`: ${v}`);
  out.push('', '## What stopped what (protected run)', '');
  for (const s of p.scenarios) {
    out.push(`### ${s.title}`, '');
    out.push(
      `Ended: ${s.stoppedBy}. Alerts: ${
        Object.entries(s.alertRules)
          .map(([k, v]) => `\`${k}\` ×${v}`)
          .join(', ') || 'none'
      }.`,
      '',
    );
    for (const [k, v] of Object.entries(s.layers)) out.push(`- ${k}: ${v}`);
    out.push('', '<details><summary>attacker log</summary>', '', '```', ...s.log, '```', '</details>', '');
  }
  out.push('## Where the wall time went', '');
  if (report.provisioning)
    out.push(
      `The world, built and loaded into Vigie once for both runs: ${report.provisioning.seconds} s.`,
      '',
      '| phase | seconds |',
      '|---|---|',
      ...Object.entries(report.provisioning.phases).map(([k, v]) => `| ${k} | ${v} |`),
      '',
    );
  for (const run of [report.protected, report.unprotected].filter((r): r is RunFigures => r !== undefined)) {
    out.push(
      `${run.protect ? 'Protected' : 'Unprotected'} run: ${report.provisioning ? 'its copy of the world, Vigie started over it and the panel enrolled' : 'provisioning'} ${run.wallSeconds.provision} s, replay ${run.wallSeconds.replay} s.`,
      '',
      '| phase | seconds |',
      '|---|---|',
      ...Object.entries(run.phases).map(([k, v]) => `| ${k} | ${v} |`),
      '',
    );
  }
  if (report.notes.length) out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

const COLOURS = ['#c0392b', '#2471a3', '#239b56', '#b9770e', '#7d3c98'];

/** Cumulative records disclosed per scenario against hours since its first act; protected solid, unprotected dashed, log scale. */
export function svgChart(report: Report): string {
  const W = 900;
  const H = 480;
  const L = 70;
  const R = 260;
  const T = 40;
  const B = 50;
  const series: { label: string; colour: string; dashed: boolean; points: [number, number][] }[] = [];
  report.protected.scenarios.forEach((s, i) =>
    series.push({
      label: `${s.name} (protected)`,
      colour: COLOURS[i % COLOURS.length]!,
      dashed: false,
      points: s.timeline,
    }),
  );
  report.unprotected?.scenarios.forEach((s, i) =>
    series.push({
      label: `${s.name} (unprotected)`,
      colour: COLOURS[i % COLOURS.length]!,
      dashed: true,
      points: s.timeline,
    }),
  );
  const maxX = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0] / 3600)));
  const maxY = Math.max(10, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const decades = Math.ceil(Math.log10(maxY));
  const x = (h: number) => L + (h / maxX) * (W - L - R);
  const y = (n: number) => T + (1 - Math.log10(Math.max(n, 1)) / decades) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${L}" y="22" font-size="15" font-weight="bold">Dossiers divulgués à l'attaquant / Records disclosed to the attacker</text>`,
  ];
  for (let d = 0; d <= decades; d += 1) {
    const yy = y(10 ** d);
    parts.push(
      `<line x1="${L}" y1="${yy}" x2="${W - R}" y2="${yy}" stroke="#ddd"/>`,
      `<text x="${L - 8}" y="${yy + 4}" text-anchor="end">${(10 ** d).toLocaleString('en')}</text>`,
    );
  }
  const stepH = maxX > 48 ? 12 : maxX > 12 ? 6 : 1;
  for (let h = 0; h <= maxX; h += stepH) {
    const xx = x(h);
    parts.push(
      `<line x1="${xx}" y1="${T}" x2="${xx}" y2="${H - B}" stroke="#eee"/>`,
      `<text x="${xx}" y="${H - B + 16}" text-anchor="middle">${h}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">heures depuis le premier acte / hours since the first malicious act</text>`,
  );
  parts.push(
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`,
  );
  series.forEach((s, i) => {
    if (s.points.length > 0) {
      const d = s.points
        .map(([t, n], k) => `${k === 0 ? 'M' : 'L'}${x(t / 3600).toFixed(1)},${y(n).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
    }
    const ly = T + 10 + i * 20;
    parts.push(
      `<line x1="${W - R + 12}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${W - R + 46}" y="${ly + 4}">${s.label.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes report.json, report.md and report.svg into `dir`. */
export function writeReport(report: Report, dir: string): { json: string; md: string; svg: string } {
  fs.mkdirSync(dir, { recursive: true });
  const files = {
    json: path.join(dir, 'report.json'),
    md: path.join(dir, 'report.md'),
    svg: path.join(dir, 'report.svg'),
  };
  fs.writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(files.md, markdownReport(report, 'report.svg'));
  fs.writeFileSync(files.svg, `${svgChart(report)}\n`);
  return files;
}
