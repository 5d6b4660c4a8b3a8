import type { Random } from './random.js';
import type { Staff, World } from './world.js';

/**
 * The calendar of a run and the honest work planned on each day: who reads what and when, from
 * where, exports and break-glass, newcomers and departures. Draws come from the run's random
 * stream in a fixed order, so the same seed plans the same days.
 */
export const WORK_START = Date.parse('2025-08-31T22:00:00.000Z'); // Monday 1 September 2025, 00:00 Paris
export const DAY = 86_400_000;
export const MINUTE = 60_000;

/** Milliseconds of Paris local midnight of calendar day `d` of the run (CEST until 26 October). */
export function dayStart(d: number): number {
  const t = WORK_START + d * DAY;
  return t >= Date.parse('2025-10-26T01:00:00.000Z') ? t + 3_600_000 : t;
}

export interface Planned {
  at: number;
  staff: number;
  kind: 'read' | 'export' | 'break_glass' | 'presence';
  records: string[];
}

/** Where a person works from today, and from when they move (a session going from office to home). */
export function placeOf(
  world: World,
  m: Staff,
  day: number,
  rnd: Random,
): { ip: string; laterIp?: string; moveAt?: number } {
  const office =
    world.structures[m.structure]!.officeIps[m.index % world.structures[m.structure]!.officeIps.length]!;
  if (m.travelling && rnd.chance(0.4))
    return { ip: `176.${rnd.int(128, 191)}.${rnd.int(0, 255)}.${rnd.int(1, 254)}` };
  const home = m.homeDays > 0 && rnd.chance(m.homeDays / 5);
  if (!home) return { ip: office };
  if (rnd.chance(0.3))
    return { ip: office, laterIp: m.homeIp, moveAt: dayStart(day) + (15 * 60 + rnd.int(0, 60)) * MINUTE };
  return { ip: m.homeIp };
}

function workTime(day: number, rnd: Random): number {
  // Morning 08:30–12:15, lunch dip 12:15–13:45 (one read in ten), afternoon 13:45–17:30, Paris time.
  const u = rnd.next();
  const minutes =
    u < 0.46 ? 510 + rnd.next() * 225 : u < 0.54 ? 735 + rnd.next() * 90 : 825 + rnd.next() * 225;
  return dayStart(day) + Math.floor((minutes + rnd.normal() * 10) * MINUTE) + rnd.int(0, 59_999);
}

export function planDay(
  world: World,
  day: number,
  workDay: number,
  rnd: Random,
  departed: Set<number>,
  panel: ReadonlyMap<number, unknown>,
): Planned[] {
  const plan: Planned[] = [];
  // People who sign in through Vigie keep its console open through their day (a page every half hour or so).
  for (const index of panel.keys()) {
    const m = world.staff[index]!;
    if (departed.has(index) || m.dormant || (m.leavesOnDay >= 0 && workDay >= m.leavesOnDay)) continue;
    if (rnd.chance(0.07)) continue;
    const arrive = dayStart(day) + Math.round((510 + rnd.normal() * 20) * MINUTE);
    const leave = dayStart(day) + Math.round((1050 + rnd.normal() * 30) * MINUTE);
    for (let at = arrive; at < leave; at += rnd.int(15, 40) * MINUTE)
      plan.push({ at, staff: index, kind: 'presence', records: [] });
  }
  // The September peak: 30 % more files opened in the first week, back to normal by October.
  const season = 1 + 0.3 * Math.max(0, 1 - day / 30);
  for (const m of world.staff) {
    if (m.dormant || departed.has(m.index) || !m.agent || !m.accountId) continue;
    if (m.leavesOnDay >= 0 && workDay >= m.leavesOnDay) continue;
    if (rnd.chance(0.07)) continue; // leave, training, sick days
    const s = world.structures[m.structure]!;
    const reads = rnd.poisson(m.dailyReads * season);
    const pickOwn = () =>
      m.caseload.length > 0 && rnd.chance(0.75)
        ? world.people[rnd.pick(m.caseload)]!
        : world.people[rnd.pick(s.people)]!;
    for (let i = 0; i < reads; i += 1)
      plan.push({ at: workTime(day, rnd), staff: m.index, kind: 'read', records: [pickOwn()] });
    if (s.kind !== 'training_organisation' && rnd.chance(0.015)) {
      const n = rnd.int(20, 80);
      const records = new Set<string>();
      for (let i = 0; i < n; i += 1) records.add(world.people[rnd.pick(s.people)]!);
      plan.push({
        at: dayStart(day) + rnd.int(9 * 60, 17 * 60) * MINUTE,
        staff: m.index,
        kind: 'export',
        records: [...records],
      });
    }
    if (s.kind !== 'training_organisation' && rnd.chance(0.002)) {
      const other = world.structures[rnd.int(0, world.structures.length - 1)]!;
      if (other !== s && other.people.length > 0)
        plan.push({
          at: workTime(day, rnd),
          staff: m.index,
          kind: 'break_glass',
          records: [world.people[rnd.pick(other.people)]!],
        });
    }
  }
  return plan.sort((a, b) => a.at - b.at);
}

export interface Managed {
  at: number;
  kind: 'new_hire' | 'departure';
  manager: number;
  target?: number;
}

export function planManagement(
  world: World,
  day: number,
  workDay: number,
  rnd: Random,
  departed: Set<number>,
): Managed[] {
  const out: Managed[] = [];
  for (const s of world.structures) {
    const manager = s.staff.map((i) => world.staff[i]!).find((m) => m.role === 'account_manager');
    if (!manager) continue;
    // About one newcomer a month for thirty staff.
    if (rnd.chance(s.staff.length / 30 / 21))
      out.push({
        at: dayStart(day) + rnd.int(9 * 60, 16 * 60) * MINUTE,
        kind: 'new_hire',
        manager: manager.index,
      });
    for (const i of s.staff) {
      const m = world.staff[i]!;
      if (m.leavesOnDay === workDay && !departed.has(i))
        out.push({
          at: dayStart(day) + rnd.int(16 * 60, 18 * 60) * MINUTE,
          kind: 'departure',
          manager: manager.index,
          target: i,
        });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
