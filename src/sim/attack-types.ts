import type { VigieClient } from './client.js';
import type { MailSink } from './mail-sink.js';
import type { PasskeyAuthenticator } from './passkey-authenticator.js';
import type { Provisioned } from './provision.js';
import type { Scenario } from './scenario.js';
import type { Browser } from './sessions.js';
import type { World } from './world.js';

/** What an attacker sees of the world, holds, and leaves behind (src/sim/attacker.ts plays it). */
export interface AttackEnvironment {
  readonly client: VigieClient;
  readonly world: World;
  readonly apps: Provisioned;
  readonly mail: MailSink;
  readonly origin: string;
  now(): number;
  /** The live browser of an honest person, as an infostealer on their workstation would copy it. */
  browserOf(staff: number): Browser | undefined;
  /** Whether this person signs in through Vigie (has a passkey and sessions). */
  signsIn(staff: number): boolean;
  /** A colleague with the approver role approves an account because the attacker asked them to. */
  colleagueApprove(structure: number, accountId: string): Promise<{ status: number; code?: string }>;
}

export interface Foothold {
  readonly label: string;
  readonly accountId: string;
  readonly structure: number;
  readonly browser: Browser;
  /** Set when the attacker holds its own passkey for the account (it created it). */
  readonly passkey?: PasskeyAuthenticator;
  readonly email: string;
  /** Honest staff whose sessions it steals again when one ends. */
  readonly victim?: number;
  /** Drives the victim's own machine: same address and browser as the victim. */
  readonly throughWorkstation?: boolean;
  thefts: number;
  authTime: number;
  narrowed: boolean;
  denialsInARow: number;
  sleepUntil: number;
  done: boolean;
}

export interface AttackOutcome {
  readonly scenario: Scenario;
  firstActAt?: number;
  lastDisclosureAt?: number;
  readonly attempted: Set<string>;
  readonly disclosed: Set<string>;
  /** Cumulative distinct records disclosed: [ms, count]. */
  readonly timeline: [number, number][];
  /** Which layer refused what: control name → count. */
  readonly layers: Map<string, number>;
  readonly entities: Set<string>;
  readonly log: { at: number; what: string }[];
  /** The layer that ended the campaign, or why it ended. */
  endedBy?: string;
  endedAt?: number;
}

/** The layer named when a stolen session cannot confirm a privileged act with the victim's passkey. */
export const STEP_UP_LAYER = 'step-up (user-verified passkey)';
