/**
 * Sign-in throttling, checked before any password hash is computed (SEC-61: about 80 argon2id
 * verifications a second saturate two cores, so the limit must come first).
 *
 * Two fixed windows: failures per identifier (SEC-60: the counter belongs to the account, so
 * rotating IPs does not help) and attempts per client IP (SEC-61). Where the counts live is the
 * store's to say (`Store.sharedWindows`): on PostgreSQL every node counts in one table, so N nodes
 * do not multiply the limits; on SQLite, one process serves, and they live in its memory, on the
 * core's clock (docs/adr/0006-login-throttling.md).
 */
import { CoreError, throwAsStoreFailure } from "./errors.ts";
import type { Clock, WindowCounters } from "./ports.ts";
import type { ThrottleSettings } from "./settings.ts";

interface Window {
  count: number;
  resetsAt: number;
}

const MAX_KEYS = 100_000;

/** Fixed windows in this process's memory, on the injected clock; bounded to MAX_KEYS keys. */
export class MemoryWindows implements WindowCounters {
  readonly #windows = new Map<string, Window>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  async blockedFor(key: string): Promise<number> {
    const now = this.clock.now().getTime();
    const w = this.#windows.get(key);
    if (!w || w.resetsAt <= now || w.count < this.max) return 0;
    return Math.max(1, Math.ceil((w.resetsAt - now) / 1000));
  }

  async hit(key: string): Promise<void> {
    const now = this.clock.now().getTime();
    const w = this.#windows.get(key);
    if (!w || w.resetsAt <= now) {
      if (this.#windows.size >= MAX_KEYS) this.#sweep(now);
      this.#windows.set(key, { count: 1, resetsAt: now + this.windowMs });
    } else {
      w.count++;
    }
  }

  async reset(key: string): Promise<void> {
    this.#windows.delete(key);
  }

  #sweep(now: number): void {
    for (const [key, w] of this.#windows) if (w.resetsAt <= now) this.#windows.delete(key);
    // Still full of live windows: drop the oldest rather than grow without bound.
    if (this.#windows.size >= MAX_KEYS) {
      const first = this.#windows.keys().next();
      if (!first.done) this.#windows.delete(first.value);
    }
  }
}

/** Where a throttle's windows live: the store's shared ones when it has them, else memory. */
export type WindowsFactory = (name: string, max: number, windowMs: number) => WindowCounters;

function limited(wait: number): CoreError {
  return new CoreError("RATE_LIMITED", "Too many sign-in attempts. Try again later.", { retryAfterSeconds: wait });
}

export class LoginThrottle {
  readonly #byIdentifier: WindowCounters;
  readonly #byIp: WindowCounters;

  constructor(settings: ThrottleSettings, windows: WindowsFactory) {
    this.#byIdentifier = windows("login-identifier", settings.perIdentifier.max, settings.perIdentifier.windowMs);
    this.#byIp = windows("login-ip", settings.perIp.max, settings.perIp.windowMs);
  }

  /** Counts one attempt from `ip` and refuses it if either limit is reached. Counters that cannot be read refuse too (INV-3). */
  async admit(identifier: string, ip: string | null): Promise<void> {
    const [byIdentifier, byIp] = await Promise.all([this.#byIdentifier.blockedFor(identifier), ip ? this.#byIp.blockedFor(ip) : 0]).catch(throwAsStoreFailure);
    const wait = Math.max(byIdentifier, byIp);
    if (wait > 0) throw limited(wait);
    if (ip) await this.#byIp.hit(ip).catch(throwAsStoreFailure);
  }

  /** Refuses an attempt on an account whose failure window is full, without counting anything. */
  async check(account: string): Promise<void> {
    const wait = await this.#byIdentifier.blockedFor(account).catch(throwAsStoreFailure);
    if (wait > 0) throw limited(wait);
  }

  /** Counts a failure; answers how long the account is now refused for (0: not locked). */
  async failed(identifier: string): Promise<number> {
    await this.#byIdentifier.hit(identifier).catch(throwAsStoreFailure);
    return this.#byIdentifier.blockedFor(identifier).catch(throwAsStoreFailure);
  }

  async succeeded(identifier: string): Promise<void> {
    await this.#byIdentifier.reset(identifier).catch(throwAsStoreFailure);
  }
}
