import type { EntityDirectory } from './entity.directory.js';
import type { EventView } from './rule.runtime.js';
import type { EntityType } from './rule.schema.js';

/**
 * One state record per entity, shared by the pack's rules: each stateful rule keyed by an entity
 * type owns a slot in the records of that type, and the record is fetched once per event whatever
 * the number of rules reading it. An account's record is its directory entry, which the engine has
 * already looked up for the event; an application's, an IP address's or an organisation's sits in
 * the entity table below. All the state of one entity is thus in one place (as a partitioned worker
 * would hold it) and a rule costs a slot read, not a map lookup by key string. Rules keyed by
 * something else (groupBy fields, sub-keys) and rules past the slot limit keep their own map.
 */
export interface EntityRecord {
  readonly id: string;
  /** Per-rule state, by slot; undefined where the rule holds nothing for this entity. */
  readonly slots: unknown[];
}

/**
 * Slots per entity type. A record's slot array grows to the highest slot it uses, so slots go to
 * the first rules compiled (the pack) and later ones keep their state in maps.
 */
const MAX_SLOTS = 64;

/** The records of one entity type other than account, with the record of the current event kept. */
class RecordMap {
  readonly records = new Map<string, EntityRecord>();
  slotCount = 0;
  #seq = -1;
  #key: string | undefined;
  #record: EntityRecord | undefined;

  /** The entity's record, looked up at most once per event (`view.seq`) and key. */
  get(view: EventView, key: string): EntityRecord | undefined {
    if (this.#seq === view.seq && this.#key === key) return this.#record;
    const r = this.records.get(key);
    this.#seq = view.seq;
    this.#key = key;
    this.#record = r;
    return r;
  }

  ensure(view: EventView, key: string): EntityRecord {
    const found = this.get(view, key);
    if (found) return found;
    const r: EntityRecord = { id: key, slots: [] };
    this.records.set(key, r);
    this.#record = r;
    return r;
  }

  /** Forgets a record none of whose slots holds state any more. */
  dropIfEmpty(r: EntityRecord): void {
    for (let i = 0; i < r.slots.length; i++) if (r.slots[i] !== undefined) return;
    this.records.delete(r.id);
    if (this.#record === r) this.#seq = -1;
  }
}

/** The entity table of one directory (one engine): records by type, then by entity id. */
class EntityTable {
  readonly #types = new Map<EntityType, RecordMap>();

  of(type: EntityType): RecordMap {
    let m = this.#types.get(type);
    if (!m) this.#types.set(type, (m = new RecordMap()));
    return m;
  }
}

const tables = new WeakMap<EntityDirectory, EntityTable>();

function tableOf(directory: EntityDirectory): EntityTable {
  let t = tables.get(directory);
  if (!t) tables.set(directory, (t = new EntityTable()));
  return t;
}

/**
 * A rule's state per entity: a slot of the entity's record when the rule is keyed by the entity
 * alone (`keyedBy`), else the rule's own map.
 */
export class EntityStates<T> {
  readonly #map = new Map<string, T>();
  readonly #directory: EntityDirectory;
  readonly #accountSlot: number | undefined;
  readonly #records: RecordMap | undefined;
  readonly #slot: number | undefined;

  /** `keyedBy`: the entity type whose id is the key; undefined for keys of another shape. */
  constructor(directory: EntityDirectory, keyedBy: EntityType | undefined) {
    this.#directory = directory;
    if (keyedBy === 'account') {
      this.#accountSlot = directory.allocateSlot();
      return;
    }
    if (keyedBy === undefined) return;
    const records = tableOf(directory).of(keyedBy);
    if (records.slotCount >= MAX_SLOTS) return;
    this.#records = records;
    this.#slot = records.slotCount++;
  }

  get(view: EventView, key: string): T | undefined {
    if (this.#accountSlot !== undefined) {
      if (key === view.accountId && view.facts) return view.facts.slots[this.#accountSlot] as T | undefined;
      return this.#map.get(key);
    }
    if (this.#records !== undefined) return this.#records.get(view, key)?.slots[this.#slot!] as T | undefined;
    return this.#map.get(key);
  }

  set(view: EventView, key: string, value: T): void {
    if (this.#accountSlot !== undefined) {
      if (key === view.accountId && view.facts) view.facts.slots[this.#accountSlot] = value;
      else this.#map.set(key, value);
      return;
    }
    if (this.#records !== undefined) this.#records.ensure(view, key).slots[this.#slot!] = value;
    else this.#map.set(key, value);
  }

  /** Drops every state for which `stale` says so; a record left with no state at all is forgotten. */
  sweep(stale: (value: T) => boolean): void {
    for (const [k, v] of this.#map) if (stale(v)) this.#map.delete(k);
    const accountSlot = this.#accountSlot;
    if (accountSlot !== undefined) {
      this.#directory.forEachAccount((f) => {
        const v = f.slots[accountSlot] as T | undefined;
        if (v !== undefined && stale(v)) f.slots[accountSlot] = undefined;
      });
      return;
    }
    const records = this.#records;
    if (records === undefined) return;
    const slot = this.#slot!;
    for (const r of records.records.values()) {
      const v = r.slots[slot] as T | undefined;
      if (v === undefined || !stale(v)) continue;
      r.slots[slot] = undefined;
      records.dropIfEmpty(r);
    }
  }

  get size(): number {
    let n = this.#map.size;
    const accountSlot = this.#accountSlot;
    if (accountSlot !== undefined)
      this.#directory.forEachAccount((f) => (n += f.slots[accountSlot] === undefined ? 0 : 1));
    const records = this.#records;
    if (records !== undefined)
      for (const r of records.records.values()) n += r.slots[this.#slot!] === undefined ? 0 : 1;
    return n;
  }
}
