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
import { ManualClock } from "../../test/support/clock.ts";
import { coreSettings, DEFAULT_POLICY, noHashing, testSigningKeys } from "../../test/support/core.ts";

const MINUTE = 60_000;

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
    const core = createCore({ store, hasher: noHashing, clock, settings: coreSettings({ ...DEFAULT_POLICY, idleTimeoutMs: MINUTE }), signingKeys: await testSigningKeys() });
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
