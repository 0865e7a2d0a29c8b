/** The session cache is bounded by (estimated) bytes, oldest out first (ADR 0021, issue: memory at a million sessions). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CachedSession } from "./session-cache.ts";
import { SessionCache } from "./session-cache.ts";
import { identityRecord, sessionRecord } from "../../../test/support/records.ts";

const T = new Date(Date.UTC(2031, 0, 1));

function entry(userAgent = "node:test"): CachedSession {
  const identity = identityRecord(T);
  const session = sessionRecord(identity.id, T);
  return { session: { ...session, device: { ipAddress: "192.0.2.1", userAgent } }, identity, cached: true };
}

describe("SessionCache", () => {
  it("keeps at most its bound in bytes: the oldest entries make room, deletes give their bytes back", () => {
    const probe = new SessionCache(() => true);
    probe.set("probe", entry(), probe.generation);
    const size = probe.bytes;
    assert.ok(size > 1_000 && size < 4_000, `an entry is estimated at ${size} bytes`);

    const cache = new SessionCache(() => true, 3 * size);
    for (const id of ["a", "b", "c", "d"]) cache.set(id, entry(), cache.generation);
    assert.equal(cache.size, 3);
    assert.equal(cache.get("a"), undefined, "the oldest went first");
    assert.ok(cache.get("d"));
    assert.equal(cache.bytes, 3 * size);
    cache.set("d", entry(), cache.generation); // the same id again: replaced, not counted twice
    assert.equal(cache.bytes, 3 * size);
    cache.delete("b");
    assert.equal(cache.bytes, 2 * size);
    cache.set("long", entry("x".repeat(10 * size)), cache.generation);
    assert.equal(cache.get("long"), undefined, "an entry larger than the whole bound is not kept");
    cache.clear();
    assert.equal(cache.bytes, 0);
    assert.equal(cache.size, 0);
  });

  it("INV-2: a read that began before an invalidation is not kept, and nothing is kept or served while unusable", () => {
    let usable = true;
    const cache = new SessionCache(() => usable);
    const before = cache.generation;
    cache.delete("other");
    cache.set("a", entry(), before);
    assert.equal(cache.size, 0);
    cache.set("a", entry(), cache.generation);
    usable = false;
    assert.equal(cache.get("a"), undefined);
    cache.set("b", entry(), cache.generation);
    usable = true;
    assert.equal(cache.get("b"), undefined);
    assert.ok(cache.get("a"));
  });
});
