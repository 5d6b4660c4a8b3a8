import type { VigieEvent } from '../../shared/event.js';
import type { AccountFacts, EntityDirectory } from './entity.directory.js';
import type { VirtualFields } from './event-field.js';
import type { GeoLocator } from './geo.locator.js';
import type { Discriminator } from './sigma-detection.compiler.js';
import { durationMs, type EntityType, type RuleDocument } from './rule.schema.js';

/** One event as the rules see it: parsed once, its time in milliseconds (event time, not arrival). */
export interface EventView {
  readonly event: VigieEvent;
  readonly t: number;
  /** The acting account and its directory facts, looked up once per event for all rules. */
  readonly accountId: string | undefined;
  readonly facts: AccountFacts | undefined;
  /** Increases with every event: lets rules sharing a detection block evaluate it once per event. */
  readonly seq: number;
}

export interface Finding {
  readonly rule: CompiledRule;
  readonly entity: { readonly type: EntityType; readonly id: string };
  readonly organisationId: string | undefined;
  readonly evidence: readonly string[];
  readonly timeMs: number;
  readonly summary: Readonly<Record<string, unknown>>;
}

/** A rule ready to run: a closure per event, its own state keyed by entity, and a sweeper. */
export interface CompiledRule {
  readonly doc: RuleDocument;
  readonly id: string;
  readonly kinds: readonly string[];
  readonly discriminator: Discriminator | undefined;
  /** Longest time the rule keeps state for, so the engine knows what it may forget. */
  readonly horizonMs: number;
  evaluate(view: EventView): Finding | undefined;
  /** Drops state older than `beforeMs` (event time). */
  sweep(beforeMs: number): void;
  /** Number of keys the rule tracks (for the memory report). */
  stateSize(): number;
}

export interface RuleEnv {
  readonly directory: EntityDirectory;
  readonly geo: GeoLocator;
}

export const MAX_EVIDENCE = 20;

/** The acting account of an event: the actor when it is an account, else a named account in data. */
export function accountOf(e: VigieEvent): string | undefined {
  if (e.actor.type === 'account') return e.actor.id;
  const v = e.data?.accountId ?? e.data?.subjectAccountId;
  return typeof v === 'string' ? v : undefined;
}

export function applicationOf(e: VigieEvent): string | undefined {
  if (e.actor.type === 'application') return e.actor.id;
  const v = e.data?.applicationId;
  if (typeof v === 'string') return v;
  return e.source && e.source !== 'vigie' ? e.source : undefined;
}

/** The partition key of an event for a rule's entity type; undefined when the event has none. */
export function entityKeyOf(type: EntityType, e: VigieEvent, env: RuleEnv): string | undefined {
  switch (type) {
    case 'account':
      return accountOf(e);
    case 'application':
      return applicationOf(e);
    case 'ip':
      return e.context?.ip;
    case 'organisation': {
      if (e.organisationId) return e.organisationId;
      const a = accountOf(e);
      return a ? env.directory.account(a)?.organisationId : undefined;
    }
  }
}

export function organisationOf(e: VigieEvent, env: RuleEnv): string | undefined {
  if (e.organisationId) return e.organisationId;
  const a = accountOf(e);
  return a ? env.directory.account(a)?.organisationId : undefined;
}

/** Conditions on the acting account's facts (`account:` in a rule); undefined when none. */
export function compileAccountCondition(doc: RuleDocument): ((view: EventView) => boolean) | undefined {
  const c = doc.account;
  if (!c) return undefined;
  // One small closure per condition, combined; each reads the view itself so no number is boxed
  // on the way. Comparisons with NaN (an unknown time) are false: an unknown time never passes.
  const tests: Array<(view: EventView, f: AccountFacts) => boolean> = [];
  if (c.privileged !== undefined) {
    const wanted = c.privileged;
    tests.push((_view, f) => f.privileged === wanted);
  }
  if (c.roles) {
    const roles = c.roles;
    tests.push((_view, f) => {
      for (let i = 0; i < roles.length; i++) if (f.roles.includes(roles[i]!)) return true;
      return false;
    });
  }
  if (c.createdWithin) {
    const within = durationMs(c.createdWithin);
    tests.push((view, f) => view.t - f.createdAtMs <= within);
  }
  if (c.dormantFor) {
    const idle = durationMs(c.dormantFor);
    tests.push((view, f) => view.t - f.lastSeenMs >= idle);
  }
  if (tests.length === 1) {
    const only = tests[0]!;
    return (view) => view.facts !== undefined && only(view, view.facts);
  }
  return (view) => {
    const f = view.facts;
    if (f === undefined) return false;
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(view, f)) return false;
    return true;
  };
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const QUARTER_HOUR = 15 * 60_000;

/** Local hour (0–23) and ISO weekday (1 = Monday … 7 = Sunday) in a time zone, cached per quarter hour. */
function localClock(timeZone: string): (ms: number) => { hour: number; weekday: number } {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: 'numeric',
    weekday: 'short',
    hourCycle: 'h23',
  });
  const cache = new Map<number, { hour: number; weekday: number }>();
  return (ms) => {
    const bucket = Math.floor(ms / QUARTER_HOUR);
    let v = cache.get(bucket);
    if (!v) {
      const parts = format.formatToParts(new Date(bucket * QUARTER_HOUR));
      const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
      const day = WEEKDAYS.indexOf(parts.find((p) => p.type === 'weekday')?.value ?? 'Mon');
      v = { hour, weekday: day === 0 ? 7 : day };
      if (cache.size > 10_000) cache.clear();
      cache.set(bucket, v);
    }
    return v;
  };
}

export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function seenNetworkAddress(e: VigieEvent): string | undefined {
  const seen = (e.data?.seen as { networkPrefix?: unknown } | undefined)?.networkPrefix;
  if (typeof seen !== 'string') return undefined;
  const slash = seen.indexOf('/');
  return slash > 0 ? seen.slice(0, slash) : undefined;
}

/** Virtual fields a rule may read: facts the engine derives from the event and its own data. */
export function virtualFields(env: RuleEnv, timeZone = 'Europe/Paris'): VirtualFields {
  const clock = localClock(timeZone);
  const time = (e: VigieEvent) => Date.parse(e.time);
  return {
    '@country': (e) => env.geo.locate(e.context?.ip)?.country,
    '@asn': (e) => env.geo.locate(e.context?.ip)?.asn,
    // The network an event came from: its address, or for a session Vigie ended on a change of
    // network (session.context_changed, which names the network seen, not the address) the first
    // address of that network.
    '@seenAsn': (e) => env.geo.locate(e.context?.ip ?? seenNetworkAddress(e))?.asn,
    '@hour': (e) => clock(time(e)).hour,
    '@weekday': (e) => clock(time(e)).weekday,
    '@device': (e) => e.context?.userAgent?.slice(0, 200),
    // A constant, for "first time this entity does X at all" (first_seen on it).
    '@always': () => 'always',
    '@privileged': (e) => {
      const a = accountOf(e);
      return a ? (env.directory.account(a)?.privileged ?? false) : false;
    },
  };
}
