import type { EntityDirectory } from './entity.directory.js';
import type { EventView } from './rule.runtime.js';

/**
 * A rule's state per entity. For rules keyed by the acting account, the state sits in a slot of the
 * account's directory entry, which the engine has already looked up for the event: no map lookup per
 * rule on the hot path, and an account's state is all in one place (as a partitioned worker would
 * hold it). Other keys (IP, application, sub-keys) use the rule's own map.
 */
export class EntityStates<T> {
  readonly #map = new Map<string, T>();
  readonly #directory: EntityDirectory;
  readonly #slot: number | undefined;

  constructor(directory: EntityDirectory, accountKeyed: boolean) {
    this.#directory = directory;
    this.#slot = accountKeyed ? directory.allocateSlot() : undefined;
  }

  get(view: EventView, key: string): T | undefined {
    if (this.#slot !== undefined && key === view.accountId && view.facts)
      return view.facts.slots[this.#slot] as T | undefined;
    return this.#map.get(key);
  }

  set(view: EventView, key: string, value: T): void {
    if (this.#slot !== undefined && key === view.accountId && view.facts)
      view.facts.slots[this.#slot] = value;
    else this.#map.set(key, value);
  }

  /** Drops every state for which `stale` says so. */
  sweep(stale: (value: T) => boolean): void {
    for (const [k, v] of this.#map) if (stale(v)) this.#map.delete(k);
    const slot = this.#slot;
    if (slot === undefined) return;
    this.#directory.forEachAccount((f) => {
      const v = f.slots[slot] as T | undefined;
      if (v !== undefined && stale(v)) f.slots[slot] = undefined;
    });
  }

  get size(): number {
    let n = this.#map.size;
    const slot = this.#slot;
    if (slot !== undefined) this.#directory.forEachAccount((f) => (n += f.slots[slot] === undefined ? 0 : 1));
    return n;
  }
}
