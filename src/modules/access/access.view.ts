import { FollowIndex, Interner } from './follow.index.js';

/**
 * The PDP's in-memory view of who may see what: organisations, accounts with their roles,
 * applications, follow relations, and the controls (freezes, step-up flags, export approvals) set by
 * the security team or detection. Loaded from the database at start and kept in step from the event
 * bus; the PDP only ever reads it synchronously, so a decision never waits on I/O.
 */

export interface OrganisationFacts {
  readonly id: string;
  readonly idx: number;
  readonly active: boolean;
  readonly kind: string;
  readonly path: string;
}

export interface RoleFact {
  readonly roleId: string;
  readonly organisationId: string;
  /** Epoch ms after which the assignment no longer holds; Infinity when open-ended. */
  readonly expiresAtMs: number;
}

export interface AccountFacts {
  readonly id: string;
  readonly idx: number;
  readonly organisationId: string;
  readonly orgIdx: number;
  readonly active: boolean;
  readonly kind: string;
  readonly roles: readonly RoleFact[];
  /** Bits (see roleBit) of the roles held without expiry: `has_role` is one AND on the hot path. */
  readonly roleMask: number;
  /** When the account was approved (or created, for accounts that needed no approval). */
  readonly approvedAtMs: number;
}

export interface ApplicationFacts {
  readonly id: string;
  readonly organisationId: string;
  readonly orgIdx: number;
  readonly active: boolean;
  readonly kind: string;
}

export interface ExportApproval {
  readonly id: string;
  readonly requesterAccountId: string;
  readonly maxRecords: number;
  readonly expiresAtMs: number;
  usedAtMs: number | undefined;
}

export type ControlTargetType = 'organisation' | 'application' | 'account';

const roleBits = new Map<string, number>();

/**
 * A bit per role name, process-wide (role names are few: the built-in ones and a handful more).
 * Names past the 30th get 0 and are checked by scanning the account's roles instead.
 */
export function roleBit(roleId: string): number {
  let bit = roleBits.get(roleId);
  if (bit === undefined) {
    bit = roleBits.size < 30 ? 1 << roleBits.size : 0;
    roleBits.set(roleId, bit);
  }
  return bit;
}

export class AccessView {
  readonly orgIds = new Interner();
  readonly accountIds = new Interner();
  readonly organisations = new Map<string, OrganisationFacts>();
  readonly accounts = new Map<string, AccountFacts>();
  readonly applications = new Map<string, ApplicationFacts>();
  follows = new FollowIndex();
  /**
   * Whether an organisation and every organisation above it are active, by interned index, so the
   * per-decision status check is an array read. Suspending a network stops the structures under it;
   * recomputed lazily after any organisation changes (rare, and O(organisations × depth)).
   */
  #orgActive = new Uint8Array(64);
  #chainsStale = false;
  /** Frozen budgets, keyed `<type>:<id>`: no disclosure is allowed while frozen. */
  readonly frozen = new Set<string>();
  /** Accounts that must authenticate again with a phishing-resistant factor, with when it was required. */
  readonly stepUp = new Map<string, number>();
  /** Four-eyes export approvals by SHA-256 (hex) of their token. */
  readonly approvals = new Map<string, ExportApproval>();

  putOrganisation(o: Omit<OrganisationFacts, 'idx'>): void {
    const idx = this.orgIds.intern(o.id);
    if (idx >= this.#orgActive.length) {
      const grown = new Uint8Array(Math.max(idx + 1, this.#orgActive.length * 2));
      grown.set(this.#orgActive);
      this.#orgActive = grown;
    }
    this.organisations.set(o.id, { ...o, idx });
    this.#chainsStale = true;
  }

  #recomputeChains(): void {
    this.#orgActive.fill(0);
    for (const o of this.organisations.values()) {
      let active = o.active;
      for (const ancestor of o.path.split('/')) {
        if (!active) break;
        if (ancestor !== '' && ancestor !== o.id) active = this.organisations.get(ancestor)?.active === true;
      }
      this.#orgActive[o.idx] = active ? 1 : 0;
    }
    this.#chainsStale = false;
  }

  putAccount(a: Omit<AccountFacts, 'idx' | 'orgIdx' | 'roleMask'>): void {
    let roleMask = 0;
    for (const r of a.roles) if (r.expiresAtMs === Infinity) roleMask |= roleBit(r.roleId);
    this.accounts.set(a.id, {
      ...a,
      idx: this.accountIds.intern(a.id),
      orgIdx: this.orgIds.intern(a.organisationId),
      roleMask,
    });
  }

  /** True when the organisation with interned index `idx` is known, active, and so is every one above it. */
  organisationActiveAt(idx: number): boolean {
    if (this.#chainsStale) this.#recomputeChains();
    return idx >= 0 && idx < this.#orgActive.length && this.#orgActive[idx] === 1;
  }

  putApplication(a: Omit<ApplicationFacts, 'orgIdx'>): void {
    this.applications.set(a.id, { ...a, orgIdx: this.orgIds.intern(a.organisationId) });
  }

  isFrozen(type: ControlTargetType, id: string): boolean {
    return this.frozen.size > 0 && this.frozen.has(`${type}:${id}`);
  }

  organisationActive(id: string): boolean {
    return this.organisations.get(id)?.active === true;
  }
}
