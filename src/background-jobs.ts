/**
 * The one home of the server's periodic work (the purge, back-channel delivery, the expiry
 * sweep; their schedules are in server.ts): each job runs on its own interval, never overlapping itself,
 * and `stop` waits for a run in progress, so shutdown never closes the store under a job.
 */
export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export class BackgroundJobs {
  readonly #jobs: Job[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<void>>();

  /** `failed` hears a run that threw; the job runs again at its next turn. */
  constructor(private readonly failed: (job: string, error: unknown) => void) {}

  add(job: Job): void {
    this.#jobs.push(job);
  }

  start(): void {
    for (const job of this.#jobs) {
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return; // a slow run is not overlapped by the next one
        busy = true;
        const run = job
          .run()
          .then(
            () => undefined,
            (error: unknown) => this.failed(job.name, error),
          )
          .finally(() => {
            busy = false;
            this.#running.delete(run);
          });
        this.#running.add(run);
      }, job.everyMs);
      // A timer alone does not keep the process alive: the listeners do.
      timer.unref();
      this.#timers.push(timer);
    }
  }

  /** No new runs; resolves once every run in progress has finished. */
  async stop(): Promise<void> {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await Promise.all([...this.#running]);
  }
}
