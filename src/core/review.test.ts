/**
 * Findings of a security review of the session core, each named after the rule it proves.
 * A real store (SQLite in memory) and a manual clock; no hashing is needed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SqlStore } from "../storage/sql/sql-store.ts";
import { isCoreError } from "./errors.ts";
import { validateTraits } from "./identities.ts";
import { createCore } from "./index.ts";
import type { Clock, PasswordHasher } from "./ports.ts";
import type { CoreSettings, SessionPolicy } from "./settings.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

class ManualClock implements Clock {
  t = Date.UTC(2026, 0, 1, 8, 0, 0);
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const noHashing: PasswordHasher = {
  hash: async () => "unused",
  verify: async () => false,
};

function settings(idleTimeoutMs: number): CoreSettings {
  const policy: SessionPolicy = { lifespanMs: 12 * HOUR, idleTimeoutMs };
  return {
    secret: "a-server-secret-of-at-least-32-bytes!",
    sessions: { kratos: policy, oidc: policy, firstock: policy, assets: policy },
    purgeAfterMs: 7 * 24 * HOUR,
    flows: { lifespanMs: { login: HOUR, registration: HOUR }, registrationEnabled: true },
    throttle: { perIdentifier: { max: 20, windowMs: 15 * MINUTE }, perIp: { max: 1_000, windowMs: 15 * MINUTE } },
  };
}

describe("Sessions.logoutWithToken (review)", () => {
  test("INV-1, INV-2: a logout of a session ended only by idleness revokes it durably, so a longer idle timeout after a restart does not revive it", async (t) => {
    const store = await SqlStore.open("sqlite::memory:");
    t.after(() => store.close());
    const clock = new ManualClock();
    const before = createCore({ store, hasher: noHashing, clock, settings: settings(30 * MINUTE) });
    const identity = await before.identities.create({ traits: { email: "idle@example.com" } }, "test");
    const signed = await before.sessions.begin(identity, { door: "kratos", ipAddress: null, userAgent: null });

    clock.advance(31 * MINUTE);
    // Idle: it had already ended, so the doors answer as for a repeat (Kratos 204, Firstock INVALID_JKEY)...
    assert.equal(await before.sessions.logoutWithToken(signed.token, { actor: "self", door: "kratos" }), false);
    // ...but the end is now in the row, not only in a computation from clock and configuration.
    const row = await store.findSession(signed.session.id);
    assert.equal(row?.revokedAt?.getTime(), clock.now().getTime());
    assert.equal(row?.revokedReason, "logout");

    // The operator raises the idle timeout and restarts over the same database.
    const after = createCore({ store, hasher: noHashing, clock, settings: settings(2 * HOUR) });
    assert.equal(await after.sessions.findLive(signed.token), null);
    // And a repeat changes nothing more.
    assert.equal(await after.sessions.logoutWithToken(signed.token, { actor: "self", door: "kratos" }), false);
    assert.equal((await store.findSession(signed.session.id))?.revokedAt?.getTime(), row?.revokedAt?.getTime());
  });

  test("INV-1: a live session's logout still answers true once, then false", async (t) => {
    const store = await SqlStore.open("sqlite::memory:");
    t.after(() => store.close());
    const core = createCore({ store, hasher: noHashing, clock: new ManualClock(), settings: settings(30 * MINUTE) });
    const identity = await core.identities.create({ traits: { email: "live@example.com" } }, "test");
    const signed = await core.sessions.begin(identity, { door: "firstock", ipAddress: null, userAgent: null });
    assert.equal(await core.sessions.logoutWithToken(signed.token, { actor: "self", door: "firstock" }), true);
    assert.equal(await core.sessions.logoutWithToken(signed.token, { actor: "self", door: "firstock" }), false);
  });
});

describe("validateTraits (review)", () => {
  test("D9: an email with a control character (U+0000 included, which PostgreSQL cannot store) is TRAITS_INVALID, not a store failure", () => {
    for (const email of ["a\u0000b@example.com", "ab@exa\u0001mple.com", "ab@example.c\u007fom", "a\u001fb@example.com"]) {
      assert.throws(
        () => validateTraits({ email }),
        (e: unknown) => isCoreError(e, "TRAITS_INVALID") && e.details.field === "traits.email",
        JSON.stringify(email),
      );
    }
    assert.deepEqual(validateTraits({ email: "ü@example.com" }), { email: "ü@example.com" });
  });
});

describe("Sessions.authenticate with a short idle timeout", () => {
  test("D5: with idle_timeout under two minutes, use every 40 s of a 60 s timeout keeps the session alive; 61 s of silence ends it", async (t) => {
    const store = await SqlStore.open("sqlite::memory:");
    t.after(() => store.close());
    const clock = new ManualClock();
    const core = createCore({ store, hasher: noHashing, clock, settings: settings(MINUTE) });
    const identity = await core.identities.create({ traits: { email: "short@example.com" } }, "test");
    const signed = await core.sessions.begin(identity, { door: "kratos", ipAddress: null, userAgent: null });
    for (let i = 0; i < 5; i++) {
      clock.advance(40_000);
      assert.equal((await core.sessions.findLive(signed.token))?.session.id, signed.session.id, `use ${i + 1}`);
    }
    clock.advance(61_000);
    assert.equal(await core.sessions.findLive(signed.token), null);
  });
});
