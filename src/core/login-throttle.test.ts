/** Sign-in throttling (SEC-60 per identifier, SEC-61 per client IP) under a manual clock. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isCoreError } from "./errors.ts";
import { LoginThrottle } from "./login-throttle.ts";
import type { ThrottleSettings } from "./settings.ts";
import { ManualClock } from "../../test/support/clock.ts";

const MINUTE = 60_000;

function setup(overrides: Partial<ThrottleSettings> = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const settings: ThrottleSettings = {
    perIdentifier: { max: 3, windowMs: 15 * MINUTE },
    perIp: { max: 5, windowMs: 10 * MINUTE },
    ...overrides,
  };
  return { clock, throttle: new LoginThrottle(settings, clock) };
}

function assertLimited(fn: () => void, retryAfterSeconds?: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isCoreError(error, "RATE_LIMITED"), `expected RATE_LIMITED, got ${String(error)}`);
    const wait = error.details.retryAfterSeconds;
    assert.ok(typeof wait === "number" && Number.isInteger(wait) && wait >= 1, `retryAfterSeconds ${wait}`);
    if (retryAfterSeconds !== undefined) assert.equal(wait, retryAfterSeconds);
    return true;
  });
}

describe("per-identifier failures (SEC-60)", () => {
  test("SEC-60 after max failures the identifier is RATE_LIMITED with retryAfterSeconds", () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) {
      throttle.admit("alice", null);
      throttle.failed("alice");
    }
    assertLimited(() => throttle.admit("alice", null), 15 * 60);
  });

  test("SEC-60 failures below the limit are admitted", () => {
    const { throttle } = setup();
    throttle.failed("alice");
    throttle.failed("alice");
    assert.doesNotThrow(() => throttle.admit("alice", null));
  });

  test("SEC-60 the counter belongs to the identifier: rotating IPs does not help", () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) {
      throttle.admit("alice", `10.0.0.${i}`);
      throttle.failed("alice");
    }
    assertLimited(() => throttle.admit("alice", "10.0.0.99"));
  });

  test("SEC-60 one identifier's failures do not limit another identifier", () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) throttle.failed("alice");
    assertLimited(() => throttle.admit("alice", null));
    assert.doesNotThrow(() => throttle.admit("bob", null));
  });

  test("SEC-60 a success resets the identifier's failures", () => {
    const { throttle } = setup();
    throttle.failed("alice");
    throttle.failed("alice");
    throttle.succeeded("alice");
    throttle.failed("alice");
    throttle.failed("alice");
    assert.doesNotThrow(() => throttle.admit("alice", null));
    throttle.failed("alice");
    assertLimited(() => throttle.admit("alice", null));
  });

  test("SEC-60 retryAfterSeconds counts down with the clock and the window resets after it passes", () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 3; i++) throttle.failed("alice");
    clock.advance(5 * MINUTE);
    assertLimited(() => throttle.admit("alice", null), 10 * 60);
    clock.advance(10 * MINUTE - 1_500);
    assertLimited(() => throttle.admit("alice", null), 2);
    clock.advance(1_500);
    assert.doesNotThrow(() => throttle.admit("alice", null));
    // A fresh window: the next limit needs max new failures.
    throttle.failed("alice");
    assert.doesNotThrow(() => throttle.admit("alice", null));
  });

  test("SEC-60 the window is fixed from the first failure, not extended by later ones", () => {
    const { clock, throttle } = setup();
    throttle.failed("alice");
    clock.advance(14 * MINUTE);
    throttle.failed("alice");
    throttle.failed("alice");
    assertLimited(() => throttle.admit("alice", null), 60);
    clock.advance(MINUTE);
    assert.doesNotThrow(() => throttle.admit("alice", null));
  });
});

describe("per-IP attempts (SEC-61)", () => {
  test("SEC-61 after max attempts from one IP the next is RATE_LIMITED, whatever the identifier", () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) throttle.admit(`user${i}`, "192.0.2.1");
    assertLimited(() => throttle.admit("someone-else", "192.0.2.1"), 10 * 60);
  });

  test("SEC-61 attempts count whether or not they succeed", () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) {
      throttle.admit("alice", "192.0.2.1");
      throttle.succeeded("alice");
    }
    assertLimited(() => throttle.admit("alice", "192.0.2.1"));
  });

  test("SEC-61 another IP is not limited", () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) throttle.admit("alice", "192.0.2.1");
    assertLimited(() => throttle.admit("alice", "192.0.2.1"));
    assert.doesNotThrow(() => throttle.admit("alice", "192.0.2.2"));
  });

  test("SEC-61 a request without a known IP is only limited per identifier", () => {
    const { throttle } = setup();
    for (let i = 0; i < 50; i++) throttle.admit(`user${i}`, null);
    assert.doesNotThrow(() => throttle.admit("alice", null));
  });

  test("SEC-61 the IP window resets after time passes", () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 5; i++) throttle.admit("alice", "192.0.2.1");
    clock.advance(10 * MINUTE - 1);
    assertLimited(() => throttle.admit("alice", "192.0.2.1"), 1);
    clock.advance(1);
    assert.doesNotThrow(() => throttle.admit("alice", "192.0.2.1"));
  });

  test("SEC-60/61 the longer of the two waits is reported", () => {
    const { clock, throttle } = setup({
      perIdentifier: { max: 1, windowMs: 15 * MINUTE },
      perIp: { max: 1, windowMs: 2 * MINUTE },
    });
    throttle.admit("alice", "192.0.2.1");
    throttle.failed("alice");
    assertLimited(() => throttle.admit("alice", "192.0.2.1"), 15 * 60);
    clock.advance(2 * MINUTE);
    assertLimited(() => throttle.admit("alice", "192.0.2.1"), 13 * 60);
  });
});
