import type { VigieEvent } from './event.js';

export type EventListener = (events: readonly VigieEvent[]) => void;

/**
 * In-process fan-out of committed events to the parts that follow the stream (access view,
 * detection). Publishing happens after commit, so a listener never sees an event that rolled back.
 * A throwing listener is isolated: it must not stop the others nor the command that published.
 */
export class EventBus {
  readonly #listeners = new Set<EventListener>();
  #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(events: readonly VigieEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(events);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
