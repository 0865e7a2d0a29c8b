/**
 * The logout engine (core/logout.ts): every target, what its outcome says, its one durable write,
 * and the after-commit listeners. A real store (SQLite in memory) behind a counting wrapper, a
 * manual clock, no password hashing (sessions are begun directly).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test, type TestContext } from "node:test";
import { ManualClock } from "../../test/support/clock.ts";
import { appDefinition } from "../../test/support/records.ts";
import { coreSettings, type CountedCalls, countingStore, DEFAULT_POLICY, noHashing, testSigningKeys } from "../../test/support/core.ts";
import { SqlStore } from "../storage/sql/sql-store.ts";
import { type CoreErrorCode, isCoreError } from "./errors.ts";
import { type Core, createCore } from "./index.ts";
import type { LogoutOutcome } from "./logout.ts";
import type { Actor, Door, Identity, RevocationReason } from "./model.ts";
import type { Store } from "./ports.ts";
import type { SignedIn } from "./sessions.ts";
import type { CoreSettings } from "./settings.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The default policy with another idle timeout. */
function settings(idleTimeoutMs = DEFAULT_POLICY.idleTimeoutMs): CoreSettings {
  return coreSettings({ ...DEFAULT_POLICY, idleTimeoutMs });
}

const SELF: Actor = { actor: "self", door: "kratos" };
const ADMIN: Actor = { actor: "admin", door: null };

interface Env {
  core: Core;
  store: Store & CountedCalls;
  sql: SqlStore;
  clock: ManualClock;
  failing: Set<string>;
  alice: Identity;
  bob: Identity;
  begin(identity: Identity, door?: Door): Promise<SignedIn>;
}

async function setup(t: TestContext, idleTimeoutMs?: number): Promise<Env> {
  const sql = await SqlStore.open("sqlite::memory:");
  t.after(() => sql.close());
  const failing = new Set<string>();
  const store = countingStore(sql, failing);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  const core = createCore({ store, hasher: noHashing, clock, settings: settings(idleTimeoutMs), signingKeys: await testSigningKeys() });
  const alice = await core.identities.create({ traits: { email: "alice@example.com" } }, "test");
  const bob = await core.identities.create({ traits: { email: "bob@example.com" } }, "test");
  return {
    core,
    store,
    sql,
    clock,
    failing,
    alice,
    bob,
    begin: (identity, door = "kratos") => core.sessions.begin(identity, { door, ipAddress: null, userAgent: null }),
  };
}

async function rejectsWith(promise: Promise<unknown>, code: CoreErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isCoreError(error), `expected CoreError ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

const idsOf = (outcome: LogoutOutcome) => outcome.ended.map((s) => s.id).sort();
const live = async (core: Core, s: SignedIn) => (await core.sessions.findLive(s.token)) !== null;

describe("logout targets", () => {
  test("INV-4: the expired target sweeps sessions of single sign-on that ended by time, and only those; none was in use", async (t) => {
    const { core, clock, alice, begin } = await setup(t);
    await core.apps.syncConfig([appDefinition("rp")]);
    const rp = (await core.apps.find("rp"))!;
    const joined = await begin(alice);
    const alone = await begin(alice);
    assert.ok(await core.grants.issueCode(rp, joined, { redirectUri: "https://rp.example/cb", scope: "openid", nonce: null, codeChallenge: null }));
    assert.deepEqual((await core.logout({ kind: "expired", limit: 10 }, "expired", { actor: "system", door: null })).ended, [], "nothing has ended yet");
    clock.advance(31 * MINUTE); // past the idle timeout
    const swept = await core.logout({ kind: "expired", limit: 10 }, "expired", { actor: "system", door: null });
    assert.deepEqual(swept.ended, [{ id: joined.session.id, identityId: alice.id, door: "kratos", wasInUse: false }]);
    assert.equal((await core.sessions.get(alone.session.id)).revokedAt, null, "no app took part: nobody to tell");
  });

  test("INV-1, INV-2: a session target ends that session, keeps its row with the reason, and says exactly what it ended", async (t) => {
    const { core, alice, begin } = await setup(t);
    const s = await begin(alice, "firstock");
    const other = await begin(alice);
    const outcome = await core.logout({ kind: "session", sessionId: s.session.id }, "logout", SELF);
    assert.deepEqual(outcome, { ended: [{ id: s.session.id, identityId: alice.id, door: "firstock", wasInUse: true }] });
    assert.equal(await live(core, s), false);
    assert.equal(await live(core, other), true, "and nothing else");
    const row = await core.sessions.get(s.session.id);
    assert.equal(row.revokedReason, "logout");
    // A repeat ends nothing more and keeps the first end (D6).
    assert.deepEqual(await core.logout({ kind: "session", sessionId: s.session.id }, "revoked_by_admin", ADMIN), { ended: [] });
    assert.equal((await core.sessions.get(s.session.id)).revokedReason, "logout");
  });

  test("SEC-51: a session target with an owner ends nothing of another identity", async (t) => {
    const { core, alice, bob, begin } = await setup(t);
    const bobs = await begin(bob);
    assert.deepEqual(await core.logout({ kind: "session", sessionId: bobs.session.id, ownerId: alice.id }, "revoked_by_user", SELF), { ended: [] });
    assert.equal(await live(core, bobs), true);
    const outcome = await core.logout({ kind: "session", sessionId: bobs.session.id, ownerId: bob.id }, "revoked_by_user", SELF);
    assert.deepEqual(idsOf(outcome), [bobs.session.id]);
  });

  test("a token target ends the session the token proves, once; then it ends nothing", async (t) => {
    const { core, alice, begin } = await setup(t);
    const s = await begin(alice);
    assert.deepEqual(idsOf(await core.logout({ kind: "token", token: s.token }, "logout", SELF)), [s.session.id]);
    assert.equal(await live(core, s), false);
    assert.deepEqual(await core.logout({ kind: "token", token: s.token }, "logout", SELF), { ended: [] });
  });

  test("SEC-51, SEC-54: a token target with a malformed, unknown or wrong token, or another owner, is SESSION_INACTIVE and ends nothing", async (t) => {
    const { core, alice, bob, begin, store } = await setup(t);
    const s = await begin(alice);
    for (const token of ["garbage", `${randomUUID()}.${"A".repeat(43)}`, `${s.session.id}.${"A".repeat(43)}`]) {
      await rejectsWith(core.logout({ kind: "token", token }, "logout", SELF), "SESSION_INACTIVE");
    }
    await rejectsWith(core.logout({ kind: "token", token: s.token, ownerId: bob.id }, "logout", SELF), "SESSION_INACTIVE");
    assert.equal(store.calls.get("revokeSessions") ?? 0, 0, "no write was even tried");
    assert.equal(await live(core, s), true);
  });

  test("INV-1, INV-2: a session past its idle timeout is still revoked through its token, and the outcome says it was no longer in use", async (t) => {
    const { core, alice, begin, clock, sql } = await setup(t);
    const s = await begin(alice, "firstock");
    clock.advance(31 * MINUTE);
    const outcome = await core.logout({ kind: "token", token: s.token }, "logout", SELF);
    assert.deepEqual(outcome, { ended: [{ id: s.session.id, identityId: alice.id, door: "firstock", wasInUse: false }] });
    // The end is in the row, not only a computation from clock and configuration: a longer idle
    // timeout after a restart over the same database does not revive it.
    const later = createCore({ store: sql, hasher: noHashing, clock, settings: settings(2 * HOUR), signingKeys: await testSigningKeys() });
    assert.equal(await later.sessions.findLive(s.token), null);
    assert.equal((await sql.findSession(s.session.id))?.revokedAt?.getTime(), clock.t);
  });

  test("a session past its absolute expiry is over for good: its token target writes nothing", async (t) => {
    const { core, alice, begin, clock, store } = await setup(t);
    const s = await begin(alice);
    clock.advance(12 * HOUR);
    assert.deepEqual(await core.logout({ kind: "token", token: s.token }, "logout", SELF), { ended: [] });
    assert.equal(store.calls.get("revokeSessions") ?? 0, 0);
  });

  test("Kratos disableMyOtherSessions: an others target ends every other live session of the identity, and nobody else's", async (t) => {
    const { core, alice, bob, begin } = await setup(t);
    const current = await begin(alice);
    const others = [await begin(alice, "assets"), await begin(alice, "firstock")];
    const bobs = await begin(bob);
    const outcome = await core.logout({ kind: "others", of: current.session }, "revoked_by_user", SELF);
    assert.deepEqual(idsOf(outcome), others.map((o) => o.session.id).sort());
    for (const o of others) assert.equal(await live(core, o), false);
    assert.equal(await live(core, current), true);
    assert.equal(await live(core, bobs), true);
    assert.deepEqual(await core.logout({ kind: "others", of: current.session }, "revoked_by_user", SELF), { ended: [] }, "already-ended sessions are not counted");
  });

  test("SEC-17: an identity target ends every session of the identity", async (t) => {
    const { core, alice, begin } = await setup(t);
    const all = [await begin(alice), await begin(alice, "assets")];
    const outcome = await core.logout({ kind: "identity", identityId: alice.id }, "revoked_by_admin", ADMIN);
    assert.deepEqual(idsOf(outcome), all.map((s) => s.session.id).sort());
    for (const s of all) assert.equal(await live(core, s), false);
    assert.ok(await core.identities.get(alice.id), "the identity stays");
  });

  test("D6, SEC-17: deleting an identity goes through the engine: its sessions end, then it is gone, in one write", async (t) => {
    const { core, alice, begin, store, sql } = await setup(t);
    const s = await begin(alice);
    const writes = store.calls.get("revokeSessions") ?? 0;
    await core.identities.delete(alice.id, ADMIN);
    assert.equal(store.calls.get("revokeSessions"), writes + 1);
    assert.equal(await live(core, s), false);
    await rejectsWith(core.identities.get(alice.id), "IDENTITY_NOT_FOUND");
    assert.equal((await sql.findSession(s.session.id))?.revokedReason, "identity_deleted", "the row stays, revoked (D6)");
    const events = (await sql.listAuditEvents({ identityId: alice.id, limit: 10 })).items;
    assert.deepEqual(events.map((e) => e.type).sort(), ["identity.created", "identity.deleted", "session.begun", "session.ended"]);
    await rejectsWith(core.identities.delete(alice.id, ADMIN), "IDENTITY_NOT_FOUND");
  });
});

describe("the audit trail of a logout", () => {
  test("each ended session gets one session.ended event with the reason, the actor and the door the end came through", async (t) => {
    const { core, alice, begin, sql, clock } = await setup(t);
    const s = await begin(alice, "assets");
    clock.advance(MINUTE);
    await core.logout({ kind: "session", sessionId: s.session.id }, "logout", { actor: "self", door: "firstock" });
    const [ended] = (await sql.listAuditEvents({ sessionId: s.session.id, limit: 1 })).items;
    assert.equal(ended?.type, "session.ended");
    assert.equal(ended?.reason, "logout");
    assert.equal(ended?.actor, "self");
    assert.equal(ended?.door, "firstock", "the door it ended through, not the one it began at");
  });
});

describe("one durable write, then the listeners", () => {
  test("INV-1: a logout after authenticating without recording activity costs exactly one store write", async (t) => {
    const { core, alice, begin, clock, store } = await setup(t);
    const s = await begin(alice);
    clock.advance(5 * MINUTE); // activity would be due now
    const before = new Map(store.calls);
    const current = await core.sessions.findLive(s.token, { recordActivity: false });
    assert.ok(current);
    await core.logout({ kind: "session", sessionId: current.session.id }, "logout", SELF);
    const delta = (m: string) => (store.calls.get(m) ?? 0) - (before.get(m) ?? 0);
    assert.equal(delta("touchSession"), 0, "no last-seen write before the revocation");
    assert.equal(delta("revokeSessions"), 1);
  });

  test("after-commit listeners hear every committed logout, with its outcome, reason and actor, after the commit", async (t) => {
    const { core, alice, begin, sql } = await setup(t);
    const s = await begin(alice);
    const heard: [string[], RevocationReason, Actor][] = [];
    const revokedWhenHeard: Promise<boolean>[] = [];
    core.afterLogout((outcome, reason, by) => {
      heard.push([outcome.ended.map((e) => e.id), reason, by]);
      revokedWhenHeard.push(sql.findSession(s.session.id).then((row) => row?.revokedAt !== null));
    });
    await core.logout({ kind: "session", sessionId: s.session.id }, "logout", SELF);
    assert.deepEqual(heard, [[[s.session.id], "logout", SELF]]);
    assert.deepEqual(await Promise.all(revokedWhenHeard), [true], "the revocation was committed before the listener ran");
  });

  test("INV-1, INV-3: a write the store cannot commit is STORE_UNAVAILABLE; no listener hears of it and nothing ended", async (t) => {
    const { core, alice, begin, failing } = await setup(t);
    const s = await begin(alice);
    const heard: LogoutOutcome[] = [];
    core.afterLogout((outcome) => heard.push(outcome));
    failing.add("revokeSessions");
    await rejectsWith(core.logout({ kind: "session", sessionId: s.session.id }, "logout", SELF), "STORE_UNAVAILABLE");
    await rejectsWith(core.logout({ kind: "identity", identityId: alice.id }, "revoked_by_admin", ADMIN), "STORE_UNAVAILABLE");
    await rejectsWith(core.identities.delete(alice.id, ADMIN), "STORE_UNAVAILABLE");
    failing.clear();
    failing.add("findSession");
    await rejectsWith(core.logout({ kind: "token", token: s.token }, "logout", SELF), "STORE_UNAVAILABLE");
    failing.clear();
    assert.deepEqual(heard, []);
    assert.equal(await live(core, s), true);
  });
});
