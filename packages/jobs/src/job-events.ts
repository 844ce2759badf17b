import type { Logger } from 'pino';
import type { JobEventName, JobEvents } from './job-queue.js';

type Listener<Event extends JobEventName> = (payload: JobEvents[Event]) => void;

/**
 * A small typed event hub. A throwing listener is logged, not propagated: it must not break the
 * driver that is delivering the event.
 */
export class JobEventHub {
  readonly #listeners = new Map<JobEventName, Set<Listener<never>>>();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  on<Event extends JobEventName>(event: Event, listener: Listener<Event>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    const stored = listener as Listener<never>;
    set.add(stored);
    return () => set.delete(stored);
  }

  /** Whether anyone listens to an event (a driver can skip work that only a listener needs). */
  has(event: JobEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<Event extends JobEventName>(event: Event, payload: JobEvents[Event]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<Event>)(payload);
      } catch (error) {
        this.#logger?.error({ err: error, event }, 'job event listener threw');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
