/**
 * Limits per client IP on the writes anyone may cause without a credential (SEC-101): creating
 * flows, keeping errors for the error page, and presenting tokens that turn out dead (Firstock's
 * logout and userDetails, BAD-J24). Each costs a row or a lookup; unlimited, one address could
 * fill the store or hammer it. Counted in the same windows as the sign-in throttle (shared by
 * every node on PostgreSQL, ADR 0006). A request without a known IP (in-process calls) is not
 * limited.
 */
import { CoreError, throwAsStoreFailure } from "./errors.ts";
import type { WindowsFactory } from "./login-throttle.ts";
import type { WindowCounters } from "./ports.ts";

/** What is counted: every flow and stored error, and only the failures of a token check. */
export type LimitedAct = "flow" | "stored-error" | "bad-token";

export type RequestLimitSettings = Record<LimitedAct, { max: number; windowMs: number }>;

export class RequestLimits {
  readonly #windows: Record<LimitedAct, WindowCounters>;

  constructor(settings: RequestLimitSettings, windows: WindowsFactory) {
    this.#windows = {
      flow: windows("flow-ip", settings.flow.max, settings.flow.windowMs),
      "stored-error": windows("stored-error-ip", settings["stored-error"].max, settings["stored-error"].windowMs),
      "bad-token": windows("bad-token-ip", settings["bad-token"].max, settings["bad-token"].windowMs),
    };
  }

  /** RATE_LIMITED when `ip` has used up `act` in its window; nothing is counted. */
  async check(act: LimitedAct, ip: string | null): Promise<void> {
    if (ip === null) return;
    const wait = await this.#windows[act].blockedFor(ip).catch(throwAsStoreFailure);
    if (wait > 0) throw new CoreError("RATE_LIMITED", "Too many requests from this address. Try again later.", { retryAfterSeconds: wait });
  }

  /** Counts one `act` from `ip`. */
  async record(act: LimitedAct, ip: string | null): Promise<void> {
    if (ip === null) return;
    await this.#windows[act].hit(ip).catch(throwAsStoreFailure);
  }

  /** Checks, then counts: for acts counted whatever their outcome. */
  async admit(act: LimitedAct, ip: string | null): Promise<void> {
    await this.check(act, ip);
    await this.record(act, ip);
  }
}
