/**
 * The sign-in throttle's windows on PostgreSQL, shared by every node of one database, through
 * rate-limiter-flexible's PostgreSQL store (its table `rate_limits`, beside Curfew's, created by
 * the library on first use and retried until it exists). Each limiter is one key prefix: the
 * windows of `login-identifier` and `login-ip` never mix.
 *
 * Its time is the database's rows' and this process's wall clock, not the core's injected clock:
 * tests of window arithmetic run on the memory windows (core/login-throttle.ts); tests here count
 * across nodes.
 */
import type pg from "pg";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import type { WindowCounters } from "../../core/ports.ts";

const TABLE = "rate_limits";

export class PostgresWindows implements WindowCounters {
  #limiter: Promise<RateLimiterPostgres> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string | null,
    private readonly name: string,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  async blockedFor(key: string): Promise<number> {
    const res = await (await this.#ready()).get(key);
    if (res === null || res.consumedPoints < this.max || res.msBeforeNext <= 0) return 0;
    return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  }

  async hit(key: string): Promise<void> {
    // penalty counts without refusing (consume would reject at the limit, which is the caller's call).
    await (await this.#ready()).penalty(key, 1);
  }

  async reset(key: string): Promise<void> {
    await (await this.#ready()).delete(key);
  }

  /** The limiter once its table exists; a failure (PostgreSQL down at start) is tried again next time. */
  #ready(): Promise<RateLimiterPostgres> {
    if (this.#limiter) return this.#limiter;
    const ready = new Promise<RateLimiterPostgres>((resolve, reject) => {
      const limiter: RateLimiterPostgres = new RateLimiterPostgres(
        {
          storeClient: this.pool,
          storeType: "pool",
          tableName: TABLE,
          ...(this.schema ? { schemaName: this.schema } : {}),
          keyPrefix: this.name,
          points: this.max,
          // Whole seconds: the library's unit.
          duration: Math.max(1, Math.ceil(this.windowMs / 1000)),
          clearExpiredByTimeout: true,
        },
        (error?: unknown) => (error ? reject(error) : resolve(limiter)),
      );
    });
    this.#limiter = ready;
    ready.catch(() => {
      if (this.#limiter === ready) this.#limiter = null;
    });
    return ready;
  }
}
