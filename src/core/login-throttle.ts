/**
 * Sign-in throttling, checked before any password hash is computed (SEC-61: about 80 argon2id
 * verifications a second saturate two cores, so the limit must come first).
 *
 * Two fixed windows: failures per identifier (SEC-60: the counter belongs to the account, so
 * rotating IPs does not help) and attempts per client IP (SEC-61). In memory, per process:
 * a cluster multiplies the limits by its node count until a shared store exists (documented
 * in docs/adr/0006-login-throttling.md).
 */
import { CoreError } from "./errors.ts";
import type { Clock } from "./ports.ts";
import type { ThrottleSettings } from "./settings.ts";

interface Window {
  count: number;
  resetsAt: number;
}

const MAX_KEYS = 100_000;

class FixedWindows {
  readonly #windows = new Map<string, Window>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  blockedFor(key: string, now: number): number {
    const w = this.#windows.get(key);
    if (!w || w.resetsAt <= now || w.count < this.max) return 0;
    return Math.max(1, Math.ceil((w.resetsAt - now) / 1000));
  }

  hit(key: string, now: number): void {
    const w = this.#windows.get(key);
    if (!w || w.resetsAt <= now) {
      if (this.#windows.size >= MAX_KEYS) this.#sweep(now);
      this.#windows.set(key, { count: 1, resetsAt: now + this.windowMs });
    } else {
      w.count++;
    }
  }

  reset(key: string): void {
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

export class LoginThrottle {
  readonly #byIdentifier: FixedWindows;
  readonly #byIp: FixedWindows;

  constructor(
    settings: ThrottleSettings,
    private readonly clock: Clock,
  ) {
    this.#byIdentifier = new FixedWindows(settings.perIdentifier.max, settings.perIdentifier.windowMs);
    this.#byIp = new FixedWindows(settings.perIp.max, settings.perIp.windowMs);
  }

  /** Counts one attempt from `ip` and refuses it if either limit is reached. */
  admit(identifier: string, ip: string | null): void {
    const now = this.clock.now().getTime();
    const wait = Math.max(this.#byIdentifier.blockedFor(identifier, now), ip ? this.#byIp.blockedFor(ip, now) : 0);
    if (wait > 0) {
      throw new CoreError("RATE_LIMITED", "Too many sign-in attempts. Try again later.", { retryAfterSeconds: wait });
    }
    if (ip) this.#byIp.hit(ip, now);
  }

  /** Refuses an attempt on an account whose failure window is full, without counting anything. */
  check(account: string): void {
    const wait = this.#byIdentifier.blockedFor(account, this.clock.now().getTime());
    if (wait > 0) {
      throw new CoreError("RATE_LIMITED", "Too many sign-in attempts. Try again later.", { retryAfterSeconds: wait });
    }
  }

  failed(identifier: string): void {
    this.#byIdentifier.hit(identifier, this.clock.now().getTime());
  }

  succeeded(identifier: string): void {
    this.#byIdentifier.reset(identifier);
  }
}
