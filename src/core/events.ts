/**
 * What the core tells its observers (the metrics and the security log, src/http/observability.ts)
 * about what it did: sign-ins and their outcomes, lockouts, and validations. Logouts are told
 * through the logout engine's after-commit listeners, once committed (core/logout.ts).
 *
 * Every field is from a closed set or an id Curfew made; never an identifier someone typed, a
 * password, a token or an address, so an observer cannot leak one by passing an event on.
 * Listeners run synchronously and must not throw: what the core did has happened either way.
 */
import type { Door } from "./model.ts";

/** `throttled`: refused by the login throttle before any password was checked (ADR 0006). */
export type SignInOutcome = "ok" | "bad_credentials" | "throttled";

export type CoreEvent =
  /** A sign-in or re-authentication with a password or a Firstock digest. */
  | { type: "signin"; door: Door; outcome: SignInOutcome; identityId: string | null }
  /** A failed sign-in filled the account's failure window: it is refused until the window ends. */
  | { type: "lockout"; door: Door; identityId: string | null; retryAfterSeconds: number }
  /** A session token checked (`Sessions.authenticate`): whether it was accepted, and whether the cache answered. */
  | { type: "validation"; outcome: "ok" | "refused"; cache: "hit" | "miss" };

export type CoreListener = (event: CoreEvent) => void;

/** The four validation events, built once: a validation is the hottest path there is. */
export const VALIDATION = {
  okHit: { type: "validation", outcome: "ok", cache: "hit" },
  okMiss: { type: "validation", outcome: "ok", cache: "miss" },
  refusedHit: { type: "validation", outcome: "refused", cache: "hit" },
  refusedMiss: { type: "validation", outcome: "refused", cache: "miss" },
} as const satisfies Record<string, CoreEvent>;

export class CoreEvents {
  readonly #listeners: CoreListener[] = [];

  on(listener: CoreListener): void {
    this.#listeners.push(listener);
  }

  emit(event: CoreEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
