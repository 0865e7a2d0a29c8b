/** The session core's own tests: settings, a hasher that is never asked, a store that counts and fails. */
import type { Door } from "../../src/core/model.ts";
import type { PasswordHasher, Store } from "../../src/core/ports.ts";
import type { CoreSettings, SessionPolicy } from "../../src/core/settings.ts";
import { SigningKeys } from "../../src/core/signing-keys.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Twelve hours absolute, thirty minutes idle: the demo configuration's session. */
export const DEFAULT_POLICY: SessionPolicy = { lifespanMs: 12 * HOUR, idleTimeoutMs: 30 * MINUTE };

/** Core settings with one session policy for every door, and `perDoor` where a test needs another. */
export function coreSettings(policy: SessionPolicy = DEFAULT_POLICY, perDoor: Partial<Record<Door, SessionPolicy>> = {}): CoreSettings {
  return {
    secret: "a-server-secret-of-at-least-32-bytes!",
    sessions: { kratos: policy, oidc: policy, firstock: policy, assets: policy, ...perDoor },
    purgeAfterMs: 7 * 24 * HOUR,
    auditRetentionMs: 90 * 24 * 3_600_000,
    flows: {
      lifespanMs: { login: HOUR, registration: HOUR, settings: HOUR },
      registrationEnabled: true,
      privilegedSessionMaxAgeMs: 15 * MINUTE,
      revokeOtherSessionsOnPasswordChange: true,
    },
    throttle: { perIdentifier: { max: 20, windowMs: 15 * MINUTE }, perIp: { max: 1_000, windowMs: 15 * MINUTE } },
    requestLimits: { flow: { max: 10_000, windowMs: 15 * MINUTE }, "stored-error": { max: 10_000, windowMs: 15 * MINUTE }, "bad-token": { max: 10_000, windowMs: 15 * MINUTE } },
  };
}

/** For tests that begin sessions directly: no password is ever hashed or checked. */
export const noHashing: PasswordHasher = { hash: async () => "unused", verify: async () => false };

export interface CountedCalls {
  /** How many times each store method was called, failed or not. */
  calls: Map<string, number>;
}

/**
 * Wraps a store: counts every call, and makes the methods named in `failing` (read at call time, so
 * a test may change it) reject with an Error carrying `message`, as a lost connection's driver would.
 */
export function countingStore(store: Store, failing: ReadonlySet<string> = new Set(), message = "connection terminated"): Store & CountedCalls {
  const calls = new Map<string, number>();
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "calls") return calls;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        if (failing.has(prop)) return Promise.reject(new Error(message));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store & CountedCalls;
}

let keys: Promise<SigningKeys> | null = null;
/** One RS256 key for the whole test process: generating one costs ~100 ms. */
export function testSigningKeys(): Promise<SigningKeys> {
  keys ??= SigningKeys.generate().then((jwk) => SigningKeys.load({ keys: [jwk] }));
  return keys;
}
