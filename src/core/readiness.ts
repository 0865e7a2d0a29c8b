/** Whether this process can serve: its store commits (`/health/ready`). */
import { asStoreFailure } from "./errors.ts";
import type { Clock, Store } from "./ports.ts";

/**
 * Readiness (`/health/ready`) proves a commit, and a probe a second is enough: every check within
 * a second of the last one shares its answer, so a load balancer polling many times a second
 * writes one row a second, not one per poll.
 */
export class Readiness {
  static readonly EVERY_MS = 1_000;
  #last: { at: number; outcome: Promise<void> } | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  check(): Promise<void> {
    const now = this.clock.now().getTime();
    if (this.#last === null || now - this.#last.at >= Readiness.EVERY_MS || now < this.#last.at) {
      const outcome = this.store.ping(new Date(now)).catch((e: unknown) => {
        throw asStoreFailure(e);
      });
      outcome.catch(() => {}); // shared: a caller that stopped waiting leaves no unhandled rejection
      this.#last = { at: now, outcome };
    }
    return this.#last.outcome;
  }
}
