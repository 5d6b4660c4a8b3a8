/**
 * Who follows whom, for up to millions of people, in a handful of typed arrays: a record (a data
 * subject) is interned to an integer; its follow relations form a linked list in struct-of-arrays
 * layout (organisation, account, relation, until, next). 1.6 M people cost their id strings plus
 * ~17 bytes per relation, and a check walks one or two array slots without allocating.
 */

export const RELATION_FOLLOWS = 1;
export const RELATION_ENROLLED = 2;
const FLAG_DECOY = 1;
const FLAG_SEALED = 2;
const NO_UNTIL = 0;

/** Interns string ids to dense integers so the hot path compares numbers. */
export class Interner {
  readonly #index = new Map<string, number>();
  readonly ids: string[] = [];
  intern(id: string): number {
    let i = this.#index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.ids.push(id);
      this.#index.set(id, i);
    }
    return i;
  }
  find(id: string): number {
    return this.#index.get(id) ?? -1;
  }
  get size(): number {
    return this.ids.length;
  }
}

export interface FollowInput {
  readonly organisation: number;
  readonly account: number;
  readonly relation: number;
  /** Minutes since the epoch after which the relation no longer holds; 0 when open-ended. */
  readonly untilMinute: number;
}

function grow<T extends Int32Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let size = Math.max(16, a.length);
  while (size < need) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/* Layout: per person, [head, flags] in one Int32Array; per relation, [organisation, account, until,
 * next] in another. A check touches one cache line of each instead of one per field, which is what
 * keeps a decision over 1.6 M people close to one over a thousand. */
const R_HEAD = 0;
const R_FLAGS = 1;
const R_STRIDE = 2;
const F_ORG = 0;
const F_ACCOUNT = 1;
const F_UNTIL = 2;
const F_NEXT = 3;
const F_STRIDE = 4;

export class FollowIndex {
  readonly records = new Interner();
  #rec = new Int32Array(0);
  #fol = new Int32Array(1024 * F_STRIDE);
  #relation = new Uint8Array(1024);
  #follows = 0;
  /** Relation slots freed by a reload of one person, reused before growing. */
  #free: number[] = [];

  get followCount(): number {
    return this.#follows - this.#free.length;
  }

  /** Interns a person and sets its decoy/sealed flags; returns its index. */
  upsertRecord(id: string, decoy: boolean, sealed: boolean): number {
    const r = this.records.intern(id);
    if ((r + 1) * R_STRIDE > this.#rec.length) {
      const old = this.#rec.length;
      this.#rec = grow(this.#rec, Math.max(1024 * R_STRIDE, (r + 1) * R_STRIDE));
      for (let i = old; i < this.#rec.length; i += R_STRIDE) {
        this.#rec[i + R_HEAD] = -1;
        this.#rec[i + R_FLAGS] = 0;
      }
    }
    this.#rec[r * R_STRIDE + R_FLAGS] = (decoy ? FLAG_DECOY : 0) | (sealed ? FLAG_SEALED : 0);
    return r;
  }

  recordOf(id: string): number {
    return this.records.find(id);
  }

  isDecoy(r: number): boolean {
    return (this.#rec[r * R_STRIDE + R_FLAGS]! & FLAG_DECOY) !== 0;
  }

  isSealed(r: number): boolean {
    return (this.#rec[r * R_STRIDE + R_FLAGS]! & FLAG_SEALED) !== 0;
  }

  addFollow(r: number, f: FollowInput): void {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#follows++;
      if ((slot + 1) * F_STRIDE > this.#fol.length) {
        this.#fol = grow(this.#fol, (slot + 1) * F_STRIDE);
        this.#relation = grow(this.#relation, slot + 1);
      }
    }
    const at = slot * F_STRIDE;
    this.#fol[at + F_ORG] = f.organisation;
    this.#fol[at + F_ACCOUNT] = f.account;
    this.#fol[at + F_UNTIL] = f.untilMinute;
    this.#fol[at + F_NEXT] = this.#rec[r * R_STRIDE + R_HEAD]!;
    this.#relation[slot] = f.relation;
    this.#rec[r * R_STRIDE + R_HEAD] = slot;
  }

  /** Replaces every relation of one person (after a follow was created or ended). */
  replaceFollows(r: number, follows: readonly FollowInput[]): void {
    let slot = this.#rec[r * R_STRIDE + R_HEAD]!;
    while (slot !== -1) {
      this.#free.push(slot);
      slot = this.#fol[slot * F_STRIDE + F_NEXT]!;
    }
    this.#rec[r * R_STRIDE + R_HEAD] = -1;
    for (const f of follows) this.addFollow(r, f);
  }

  /** True when a relation of person `r` has `value` in field `field` and still holds at `nowMinute`. */
  #has(r: number, field: number, value: number, nowMinute: number): boolean {
    if (r < 0 || value < 0) return false;
    const fol = this.#fol;
    for (let s = this.#rec[r * R_STRIDE + R_HEAD]!; s !== -1; s = fol[s * F_STRIDE + F_NEXT]!) {
      const at = s * F_STRIDE;
      if (fol[at + field] === value) {
        const until = fol[at + F_UNTIL]!;
        if (until === NO_UNTIL || until > nowMinute) return true;
      }
    }
    return false;
  }

  /** True when organisation `org` has a relation with person `r` that still holds at `nowMinute`. */
  followedBy(r: number, org: number, nowMinute: number): boolean {
    return this.#has(r, F_ORG, org, nowMinute);
  }

  /** True when the person is in account `account`'s own caseload at `nowMinute`. */
  inCaseload(r: number, account: number, nowMinute: number): boolean {
    return this.#has(r, F_ACCOUNT, account, nowMinute);
  }

  /** People followed by `org` or in `account`'s caseload (for resource search); bounded by `max`. */
  recordsOf(org: number, account: number, nowMinute: number, max: number): number[] {
    const out: number[] = [];
    const n = this.records.size;
    for (let r = 0; r < n && out.length < max; r++) {
      if (this.#has(r, F_ORG, org, nowMinute) || this.#has(r, F_ACCOUNT, account, nowMinute)) out.push(r);
    }
    return out;
  }
}

export const toMinute = (ms: number): number => Math.floor(ms / 60_000);
