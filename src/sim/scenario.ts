import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { StaffRole, StructureKind } from './world.js';

/**
 * A scenario file (docs/scenarios.md): who is targeted, how the attacker gets in and what it falls
 * back to when a control stops it, where it comes from, what it goes after and at what pace.
 */
export type AccessMove = 'phished_credential' | 'stolen_session_cookie' | 'infected_workstation';

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Calendar day of the run (0 = the first Monday of normal work) and Paris time of the first act. */
  readonly start: { readonly day: number; readonly time: string };
  readonly durationHours: number;
  readonly victims: {
    readonly structureKind: StructureKind;
    readonly role: StaffRole;
    readonly count: number;
  };
  /** Tried in order for each victim; the next is the attacker's next best move. */
  readonly access: readonly AccessMove[];
  /** Accounts the attacker creates with a delegated administrator's rights, and who approves them. */
  readonly createAccounts?: {
    readonly count: number;
    readonly emailDomain: string;
    /** When four-eyes refuses the attacker's own approval: a colleague talked into approving. */
    readonly fallback: 'colleague_approves' | 'none';
  };
  readonly via: 'business_app' | 'partner_portal';
  readonly targets: 'nationwide' | 'own_structure';
  readonly network: { readonly ips: readonly string[]; readonly userAgent: string };
  readonly pace: {
    readonly perMinute: number;
    /** Acts only between these Paris hours (e.g. [8, 19]); absent: around the clock. */
    readonly hours?: readonly [number, number];
  };
  readonly adapt: {
    /** Consecutive out-of-scope refusals after which it reads what its foothold may see. */
    readonly narrowAfterDenials: number;
    readonly waitMinutesOnBudget: number;
    readonly retryAccessAfterMinutes: number;
    /** Times it steals a fresh session cookie of the same person before giving that account up. */
    readonly maxSessionThefts: number;
  };
}

const ACCESS: readonly AccessMove[] = ['phished_credential', 'stolen_session_cookie', 'infected_workstation'];

function fail(file: string, message: string): never {
  throw new Error(`${path.basename(file)}: ${message}`);
}

/** Reads and checks one scenario file (YAML or JSON). */
export function loadScenario(file: string): Scenario {
  const raw = YAML.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object') fail(file, 'expected a mapping');
  const s = raw as unknown as Scenario;
  if (typeof s.name !== 'string' || !/^[a-z0-9-]{1,60}$/.test(s.name))
    fail(file, 'name: lower-case words joined by -');
  if (!s.start || !Number.isInteger(s.start.day) || !/^\d{2}:\d{2}$/.test(s.start.time))
    fail(file, 'start: {day, time: "HH:MM"}');
  if (!(s.durationHours > 0)) fail(file, 'durationHours: a positive number');
  if (!s.victims || !(s.victims.count >= 1)) fail(file, 'victims: {structureKind, role, count}');
  if (
    !Array.isArray(s.access) ||
    s.access.length === 0 ||
    (s.access as unknown[]).some((a) => !ACCESS.includes(a as AccessMove))
  )
    fail(file, `access: a list of ${ACCESS.join(', ')}`);
  if (s.via !== 'business_app' && s.via !== 'partner_portal')
    fail(file, 'via: business_app or partner_portal');
  if (s.targets !== 'nationwide' && s.targets !== 'own_structure')
    fail(file, 'targets: nationwide or own_structure');
  if (!s.network || !Array.isArray(s.network.ips) || s.network.ips.length === 0)
    fail(file, 'network.ips: at least one address');
  if (!s.pace || !(s.pace.perMinute > 0)) fail(file, 'pace.perMinute: a positive number');
  if (!s.adapt) fail(file, 'adapt: required');
  return s;
}

export function loadScenarioDirectory(dir: string): Scenario[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => loadScenario(path.join(dir, f)));
}
