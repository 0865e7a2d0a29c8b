/** Sign-in throttling (SEC-60 per identifier, SEC-61 per client IP) under a manual clock. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isCoreError } from "./errors.ts";
import { LoginThrottle, MemoryWindows } from "./login-throttle.ts";
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
  return { clock, throttle: new LoginThrottle(settings, (_name, max, windowMs) => new MemoryWindows(max, windowMs, clock)) };
}

async function assertLimited(fn: () => Promise<void>, retryAfterSeconds?: number): Promise<void> {
  await assert.rejects(fn, (error: unknown) => {
    assert.ok(isCoreError(error, "RATE_LIMITED"), `expected RATE_LIMITED, got ${String(error)}`);
    const wait = error.details.retryAfterSeconds;
    assert.ok(typeof wait === "number" && Number.isInteger(wait) && wait >= 1, `retryAfterSeconds ${wait}`);
    if (retryAfterSeconds !== undefined) assert.equal(wait, retryAfterSeconds);
    return true;
  });
}

describe("per-identifier failures (SEC-60)", () => {
  test("SEC-60 after max failures the identifier is RATE_LIMITED with retryAfterSeconds", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) {
      await throttle.admit("alice", null);
      await throttle.failed("alice");
    }
    await assertLimited(() => throttle.admit("alice", null), 15 * 60);
  });

  test("SEC-60 failures below the limit are admitted", async () => {
    const { throttle } = setup();
    await throttle.failed("alice");
    await throttle.failed("alice");
    await throttle.admit("alice", null);
  });

  test("SEC-60 the counter belongs to the identifier: rotating IPs does not help", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) {
      await throttle.admit("alice", `10.0.0.${i}`);
      await throttle.failed("alice");
    }
    await assertLimited(() => throttle.admit("alice", "10.0.0.99"));
  });

  test("SEC-60 one identifier's failures do not limit another identifier", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 3; i++) await throttle.failed("alice");
    await assertLimited(() => throttle.admit("alice", null));
    await throttle.admit("bob", null);
  });

  test("SEC-60 a success resets the identifier's failures", async () => {
    const { throttle } = setup();
    await throttle.failed("alice");
    await throttle.failed("alice");
    await throttle.succeeded("alice");
    await throttle.failed("alice");
    await throttle.failed("alice");
    await throttle.admit("alice", null);
    await throttle.failed("alice");
    await assertLimited(() => throttle.admit("alice", null));
  });

  test("SEC-60 retryAfterSeconds counts down with the clock and the window resets after it passes", async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 3; i++) await throttle.failed("alice");
    clock.advance(5 * MINUTE);
    await assertLimited(() => throttle.admit("alice", null), 10 * 60);
    clock.advance(10 * MINUTE - 1_500);
    await assertLimited(() => throttle.admit("alice", null), 2);
    clock.advance(1_500);
    await throttle.admit("alice", null);
    // A fresh window: the next limit needs max new failures.
    await throttle.failed("alice");
    await throttle.admit("alice", null);
  });

  test("SEC-60 the window is fixed from the first failure, not extended by later ones", async () => {
    const { clock, throttle } = setup();
    await throttle.failed("alice");
    clock.advance(14 * MINUTE);
    await throttle.failed("alice");
    await throttle.failed("alice");
    await assertLimited(() => throttle.admit("alice", null), 60);
    clock.advance(MINUTE);
    await throttle.admit("alice", null);
  });
});

describe("per-IP attempts (SEC-61)", () => {
  test("SEC-61 after max attempts from one IP the next is RATE_LIMITED, whatever the identifier", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) await throttle.admit(`user${i}`, "192.0.2.1");
    await assertLimited(() => throttle.admit("someone-else", "192.0.2.1"), 10 * 60);
  });

  test("SEC-61 attempts count whether or not they succeed", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) {
      await throttle.admit("alice", "192.0.2.1");
      await throttle.succeeded("alice");
    }
    await assertLimited(() => throttle.admit("alice", "192.0.2.1"));
  });

  test("SEC-61 another IP is not limited", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) await throttle.admit("alice", "192.0.2.1");
    await assertLimited(() => throttle.admit("alice", "192.0.2.1"));
    await throttle.admit("alice", "192.0.2.2");
  });

  test("SEC-61 a request without a known IP is only limited per identifier", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 50; i++) await throttle.admit(`user${i}`, null);
    await throttle.admit("alice", null);
  });

  test("SEC-61 the IP window resets after time passes", async () => {
    const { clock, throttle } = setup();
    for (let i = 0; i < 5; i++) await throttle.admit("alice", "192.0.2.1");
    clock.advance(10 * MINUTE - 1);
    await assertLimited(() => throttle.admit("alice", "192.0.2.1"), 1);
    clock.advance(1);
    await throttle.admit("alice", "192.0.2.1");
  });

  test("SEC-60/61 the longer of the two waits is reported", async () => {
    const { clock, throttle } = setup({
      perIdentifier: { max: 1, windowMs: 15 * MINUTE },
      perIp: { max: 1, windowMs: 2 * MINUTE },
    });
    await throttle.admit("alice", "192.0.2.1");
    await throttle.failed("alice");
    await assertLimited(() => throttle.admit("alice", "192.0.2.1"), 15 * 60);
    clock.advance(2 * MINUTE);
    await assertLimited(() => throttle.admit("alice", "192.0.2.1"), 13 * 60);
  });
});
