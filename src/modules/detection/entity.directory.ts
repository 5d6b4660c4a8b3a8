import type { VigieEvent } from '../../shared/event.js';
import type { DirectorySnapshot } from './directory.repository.js';

/**
 * The engine's in-memory view of who is who: accounts (organisation, creator, roles, last activity),
 * organisations (path, kind) and decoy records. Loaded from the database at start and kept in step
 * with the event stream, so rules never wait on I/O.
 */
export interface AccountFacts {
  organisationId: string | undefined;
  /** NaN when unknown. Times are numbers from the start so V8 updates them in place, per event. */
  createdAtMs: number;
  createdBy: string | undefined;
  roles: string[];
  privileged: boolean;
  /** NaN when unknown. */
  lastSeenMs: number;
  /** Per-rule state of rules keyed by this account (see EntityStates). */
  slots: unknown[];
}

const MAX_SLOTS = 64;

/**
 * External principals (names an application reported that are no Vigie account: `root`, `admin`
 * from an SSH log) are remembered by last sighting only, and boundedly: anyone can make up names,
 * so a flood of them must not grow the engine. Least recently seen are forgotten first.
 */
export const MAX_EXTERNAL_PER_APPLICATION = 2_000;
export const MAX_EXTERNAL = 50_000;

export class EntityDirectory {
  readonly #accounts = new Map<string, AccountFacts>();
  readonly #organisations = new Map<string, { path: string; kind: string }>();
  readonly #privilegedRoles = new Set<string>();
  readonly #decoys = new Set<string>();
  /** External principal id → last sighting, least recently seen first (Map keeps insertion order). */
  readonly #externals = new Map<string, { application: string; lastSeenMs: number }>();
  readonly #externalsOf = new Map<string, Set<string>>();

  load(snapshot: DirectorySnapshot): void {
    this.#organisations.clear();
    for (const o of snapshot.organisations) this.#organisations.set(o.id, { path: o.path, kind: o.kind });
    for (const r of snapshot.privilegedRoles) this.#privilegedRoles.add(r);
    for (const a of snapshot.accounts) {
      const facts = this.#facts(a.id);
      facts.organisationId = a.organisationId;
      facts.createdAtMs = Date.parse(a.createdAt);
      facts.createdBy = a.createdBy ?? undefined;
      const seen = a.lastSeenAt ? Date.parse(a.lastSeenAt) : undefined;
      if (seen !== undefined && (Number.isNaN(facts.lastSeenMs) || seen > facts.lastSeenMs))
        facts.lastSeenMs = seen;
      facts.roles = [];
      facts.privileged = false;
    }
    for (const g of snapshot.grants) this.#grant(g.accountId, g.roleId, g.privileged);
    this.#decoys.clear();
    for (const d of snapshot.decoys) this.#decoys.add(d);
  }

  #facts(id: string): AccountFacts {
    let f = this.#accounts.get(id);
    if (!f) {
      f = {
        organisationId: undefined,
        createdAtMs: NaN,
        createdBy: undefined,
        roles: [],
        privileged: false,
        lastSeenMs: NaN,
        slots: [],
      };
      this.#accounts.set(id, f);
    }
    return f;
  }

  #grant(accountId: string, roleId: string, privileged: boolean): void {
    const f = this.#facts(accountId);
    if (!f.roles.includes(roleId)) f.roles.push(roleId);
    f.roles.sort();
    if (privileged) f.privileged = true;
  }

  account(id: string): AccountFacts | undefined {
    return this.#accounts.get(id);
  }

  /** The entry of an account, created when first seen (an account the events name). */
  ensureAccount(id: string): AccountFacts {
    return this.#facts(id);
  }

  #slots = 0;
  /**
   * A slot for one rule's per-account state, or undefined once MAX_SLOTS are taken: the slot array
   * of an account grows to the highest slot it uses, so slots are kept for the first (pack) rules
   * and later ones keep their state in maps.
   */
  allocateSlot(): number | undefined {
    return this.#slots < MAX_SLOTS ? this.#slots++ : undefined;
  }

  forEachAccount(visit: (facts: AccountFacts) => void): void {
    for (const f of this.#accounts.values()) visit(f);
  }

  organisationPath(id: string | undefined): string | undefined {
    return id ? this.#organisations.get(id)?.path : undefined;
  }

  /** Peer group of an account: its roles and the kind of its organisation. */
  peerGroup(id: string): string | undefined {
    const f = this.#accounts.get(id);
    if (!f || f.roles.length === 0) return undefined;
    const kind = f.organisationId ? this.#organisations.get(f.organisationId)?.kind : undefined;
    return `${f.roles.join('+')}@${kind ?? '?'}`;
  }

  isDecoy(subjectId: string): boolean {
    return this.#decoys.has(subjectId);
  }

  /** True when `accountId` was created by `ancestorId`, directly or through up to `depth` generations. */
  createdBy(accountId: string, ancestorId: string, depth = 4): boolean {
    let current = this.#accounts.get(accountId)?.createdBy;
    for (let i = 0; i < depth && current; i++) {
      if (current === ancestorId) return true;
      current = this.#accounts.get(current)?.createdBy;
    }
    return false;
  }

  get trackedAccounts(): number {
    return this.#accounts.size;
  }

  get trackedExternalPrincipals(): number {
    return this.#externals.size;
  }

  /** Last sighting (event time) of an external principal, while it is still remembered. */
  externalLastSeen(id: string): number | undefined {
    return this.#externals.get(id)?.lastSeenMs;
  }

  #seeExternal(id: string, application: string, timeMs: number): void {
    const known = this.#externals.get(id);
    if (known) {
      this.#externals.delete(id);
      known.lastSeenMs = Math.max(known.lastSeenMs, timeMs);
      this.#externals.set(id, known);
      const own = this.#externalsOf.get(known.application);
      own?.delete(id);
      own?.add(id);
      return;
    }
    let own = this.#externalsOf.get(application);
    if (!own) this.#externalsOf.set(application, (own = new Set()));
    // A Set iterates in insertion order and entries are re-inserted on sight: the first is the oldest.
    if (own.size >= MAX_EXTERNAL_PER_APPLICATION) this.#forgetExternal(own.values().next().value!);
    if (this.#externals.size >= MAX_EXTERNAL) this.#forgetExternal(this.#externals.keys().next().value!);
    this.#externals.set(id, { application, lastSeenMs: timeMs });
    own.add(id);
  }

  #forgetExternal(id: string): void {
    const entry = this.#externals.get(id);
    if (!entry) return;
    this.#externals.delete(id);
    const own = this.#externalsOf.get(entry.application);
    own?.delete(id);
    if (own?.size === 0) this.#externalsOf.delete(entry.application);
  }

  /**
   * Applies what an event says about the directory. Called after the rules have seen the event, so a
   * rule reads the facts as they were before it (an account's previous activity, for instance).
   * Returns true when the event needs a reload from the database (bulk imports, new organisations).
   */
  observe(event: VigieEvent, timeMs: number, known?: AccountFacts): boolean {
    if (event.actor.type === 'account') {
      const f = known ?? this.#facts(event.actor.id);
      if (Number.isNaN(f.lastSeenMs) || timeMs > f.lastSeenMs) f.lastSeenMs = timeMs;
    } else if (event.actor.type === 'external') {
      this.#seeExternal(event.actor.id, event.source ?? 'vigie', timeMs);
    }
    const kind = event.kind;
    // Only Vigie's own events may change who created whom or who holds which role: an ingested
    // event is a claim by an application, not a fact of the directory.
    if ((event.source ?? 'vigie') !== 'vigie') return false;
    if (kind === 'account.created' && event.target) {
      const f = this.#facts(event.target.id);
      f.createdAtMs = timeMs;
      if (event.actor.type === 'account') f.createdBy = event.actor.id;
      f.organisationId = event.organisationId ?? f.organisationId;
      return false;
    }
    if (kind === 'role.granted' && event.target?.type === 'account') {
      const roleId = roleOf(event);
      if (roleId) this.#grant(event.target.id, roleId, this.#privilegedRoles.has(roleId));
      return false;
    }
    if (kind === 'role.revoked' && event.target?.type === 'account') return true;
    if (kind === 'subject.created' && event.data?.decoy === true && event.target) {
      this.#decoys.add(event.target.id);
      return false;
    }
    return kind === 'organisation.created' || kind.endsWith('.imported');
  }
}

function roleOf(event: VigieEvent): string | undefined {
  const d = event.data;
  const v = d?.roleId ?? d?.role;
  return typeof v === 'string' ? v : undefined;
}
