/**
 * The session core over a real store (SQLite in memory), a cheap argon2id hasher and a manual
 * clock: sign-in (D9, D11, D14), authentication (D5, INV-2), revocation, extension (D6) and
 * failing closed when the store does not answer (INV-3).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test, type TestContext } from "node:test";
import { argon2Hasher } from "../crypto/argon2-hasher.ts";
import { SqlStore } from "../storage/sql/sql-store.ts";
import { type CoreErrorCode, isCoreError } from "./errors.ts";
import { type Core, createCore } from "./index.ts";
import type { Actor } from "./model.ts";
import type { PasswordHasher, Store } from "./ports.ts";
import { LAST_SEEN_GRANULARITY_MS, type RequestOrigin } from "./sessions.ts";
import type { SessionPolicy } from "./settings.ts";
import { passwordDigest } from "./tokens.ts";
import { ManualClock } from "../../test/support/clock.ts";
import { coreSettings, type CountedCalls, countingStore, DEFAULT_POLICY, testSigningKeys } from "../../test/support/core.ts";
import { insertPreDigestIdentity } from "../../test/support/records.ts";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** A door with a short absolute lifetime, to reach absolute expiry before the idle timeout. */
const SHORT_POLICY: SessionPolicy = { lifespanMs: 10 * MINUTE, idleTimeoutMs: 30 * MINUTE };

const settings = coreSettings(DEFAULT_POLICY, { firstock: SHORT_POLICY });

const ORIGIN: RequestOrigin = { door: "kratos", ipAddress: "192.0.2.10", userAgent: "node:test" };
const SELF: Actor = { actor: "self", door: "kratos" };
const PASSWORD = "correct horse battery staple";
const EMAIL = "Alice@Example.com";
const USERNAME = "Alice_1";

/** Wraps a hasher to count verifications (D14: every sign-in attempt runs exactly one). */
function countingHasher(inner: PasswordHasher): PasswordHasher & { verifies: number } {
  const counted = {
    verifies: 0,
    hash: (password: string) => inner.hash(password),
    verify: (phc: string, password: string) => {
      counted.verifies++;
      return inner.verify(phc, password);
    },
  };
  return counted;
}

interface Env {
  core: Core;
  store: Store & CountedCalls;
  sql: SqlStore;
  clock: ManualClock;
  hasher: PasswordHasher & { verifies: number };
  /** A second core over the same database whose store fails on the named methods. */
  failingCore(methods: string[]): Core;
}

async function setup(t: TestContext): Promise<Env> {
  const sql = await SqlStore.open("sqlite::memory:");
  t.after(() => sql.close());
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  const hasher = countingHasher(argon2Hasher({ memoryKib: 64, iterations: 1 }));
  const store = countingStore(sql);
  const signingKeys = await testSigningKeys();
  const core = createCore({ store, hasher, clock, settings, signingKeys });
  return {
    core,
    store,
    sql,
    clock,
    hasher,
    failingCore: (methods) => createCore({ store: countingStore(sql, new Set(methods), "SQLITE_IOERR: disk I/O error"), hasher, clock, settings, signingKeys }),
  };
}

async function createAlice(core: Core, state: "active" | "inactive" = "active") {
  return core.identities.create({ traits: { email: EMAIL, username: USERNAME }, password: PASSWORD, state }, "test");
}

async function rejectsWith(promise: Promise<unknown>, code: CoreErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isCoreError(error), `expected CoreError ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe("signIn", () => {
  test("D9 sign-in by email is case-insensitive and gives a working session token", async (t) => {
    const { core } = await setup(t);
    const alice = await createAlice(core);
    for (const identifier of [EMAIL, "alice@example.com", "ALICE@EXAMPLE.COM", "  alice@example.com  "]) {
      const signedIn = await core.sessions.signIn(identifier, { kind: "password", password: PASSWORD }, ORIGIN);
      assert.equal(signedIn.identity.id, alice.id);
      assert.equal(signedIn.identity.traits.email, EMAIL, "stored as given");
      assert.equal(signedIn.session.door, "kratos");
      assert.ok(signedIn.token.startsWith(`${signedIn.session.id}.`));
      const found = await core.sessions.authenticate(signedIn.token);
      assert.equal(found.session.id, signedIn.session.id);
    }
  });

  test("D9 sign-in by username is case-insensitive", async (t) => {
    const { core } = await setup(t);
    const alice = await createAlice(core);
    for (const identifier of [USERNAME, "alice_1", "ALICE_1"]) {
      const signedIn = await core.sessions.signIn(identifier, { kind: "password", password: PASSWORD }, ORIGIN);
      assert.equal(signedIn.identity.id, alice.id);
    }
  });

  test("SEC-12 every sign-in begins a new session with a new token", async (t) => {
    const { core } = await setup(t);
    await createAlice(core);
    const a = await core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN);
    const b = await core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN);
    assert.notEqual(a.session.id, b.session.id);
    assert.notEqual(a.token, b.token);
    assert.ok(!JSON.stringify(a.session).includes(a.token.slice(37)), "the secret is not in the session record");
  });

  test("D14 an unknown identifier and a wrong password get the same error after one verification each", async (t) => {
    const { core, hasher } = await setup(t);
    await createAlice(core);
    const before = hasher.verifies;
    const wrong = await core.sessions.signIn(EMAIL, { kind: "password", password: "wrong password" }, ORIGIN).catch((e: unknown) => e);
    assert.equal(hasher.verifies - before, 1);
    const unknown = await core.sessions
      .signIn("nobody@example.com", { kind: "password", password: PASSWORD }, ORIGIN)
      .catch((e: unknown) => e);
    assert.equal(hasher.verifies - before, 2, "an unknown identifier costs one verification too");
    assert.ok(isCoreError(wrong, "CREDENTIALS_INVALID"));
    assert.ok(isCoreError(unknown, "CREDENTIALS_INVALID"));
    assert.equal(wrong.message, unknown.message);
    assert.deepEqual(wrong.details, unknown.details);
  });

  test("D14 an inactive identity with the right password is refused like a wrong password, with no session", async (t) => {
    const { core } = await setup(t);
    const bob = await createAlice(core, "inactive");
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN), "CREDENTIALS_INVALID");
    assert.equal(await core.sessions.count({ identityId: bob.id }), 0);
  });

  test("SEC-60 repeated failures for one identifier are RATE_LIMITED before any hash is computed", async (t) => {
    const { core, hasher } = await setup(t);
    await createAlice(core);
    for (let i = 0; i < settings.throttle.perIdentifier.max; i++) {
      await rejectsWith(core.sessions.signIn(EMAIL, { kind: "password", password: "nope" }, ORIGIN), "CREDENTIALS_INVALID");
    }
    const before = hasher.verifies;
    // Even the right password, and with the identifier in another case (D9).
    await rejectsWith(core.sessions.signIn("ALICE@example.com", { kind: "password", password: PASSWORD }, ORIGIN), "RATE_LIMITED");
    assert.equal(hasher.verifies, before);
  });

  test("SEC-60 failures count against the account, whichever of its identifiers was typed", async (t) => {
    const { core, hasher } = await setup(t);
    await createAlice(core);
    const max = settings.throttle.perIdentifier.max;
    for (let i = 0; i < max; i++) {
      const identifier = i % 2 === 0 ? EMAIL : USERNAME;
      await rejectsWith(core.sessions.signIn(identifier, { kind: "password", password: "nope" }, ORIGIN), "CREDENTIALS_INVALID");
    }
    const before = hasher.verifies;
    await rejectsWith(core.sessions.signIn(USERNAME, { kind: "password", password: PASSWORD }, ORIGIN), "RATE_LIMITED");
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN), "RATE_LIMITED");
    assert.equal(hasher.verifies, before);
  });
});

describe("authenticate (D5)", () => {
  async function signedIn(t: TestContext, door: RequestOrigin["door"] = "kratos") {
    const env = await setup(t);
    await createAlice(env.core);
    const s = await env.core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, { ...ORIGIN, door });
    return { ...env, s };
  }

  test("D5 no token is SESSION_MISSING", async (t) => {
    const { core } = await setup(t);
    for (const token of [undefined, null, ""]) await rejectsWith(core.sessions.authenticate(token), "SESSION_MISSING");
  });

  test("D5 a malformed token is SESSION_INACTIVE without asking the store", async (t) => {
    const { core, store } = await setup(t);
    for (const token of ["x", "not.a.token", `${randomUUID()}.short`, `${randomUUID()}:${"A".repeat(43)}`]) {
      await rejectsWith(core.sessions.authenticate(token), "SESSION_INACTIVE");
    }
    assert.equal(store.calls.get("findSessionWithIdentity") ?? 0, 0);
  });

  test("D5 a well-formed token of no session is SESSION_INACTIVE", async (t) => {
    const { core } = await setup(t);
    await rejectsWith(core.sessions.authenticate(`${randomUUID()}.${"A".repeat(43)}`), "SESSION_INACTIVE");
  });

  test("D1 a token with the right id and the wrong secret is SESSION_INACTIVE", async (t) => {
    const { core, s } = await signedIn(t);
    const forged = `${s.session.id}.${"A".repeat(43)}`;
    await rejectsWith(core.sessions.authenticate(forged), "SESSION_INACTIVE");
    // Tampering with one character of the real secret is just as dead.
    const last = s.token.at(-1) === "A" ? "B" : "A";
    await rejectsWith(core.sessions.authenticate(s.token.slice(0, -1) + last), "SESSION_INACTIVE");
  });

  test("INV-2 a revoked session is SESSION_INACTIVE", async (t) => {
    const { core, s } = await signedIn(t);
    await core.logout({ kind: "session", sessionId: s.session.id }, "logout", SELF);
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
    const row = await core.sessions.get(s.session.id);
    assert.ok(row.revokedAt, "revoked, row kept (D6)");
    assert.equal(row.revokedReason, "logout");
  });

  test("D5 a session past its absolute lifetime is SESSION_INACTIVE, however active it has been", async (t) => {
    const { core, clock, s } = await signedIn(t);
    // Used every 20 minutes: never idle, so only the 12 h cut-off can end it.
    for (let elapsed = 0; elapsed + 20 * MINUTE < DEFAULT_POLICY.lifespanMs; elapsed += 20 * MINUTE) {
      clock.advance(20 * MINUTE);
      await core.sessions.authenticate(s.token);
    }
    clock.t = s.session.expiresAt.getTime() - 1;
    await core.sessions.authenticate(s.token);
    clock.t = s.session.expiresAt.getTime();
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("D5 a session of a door with a shorter lifetime ends at that door's lifetime", async (t) => {
    const { core, clock, s } = await signedIn(t, "firstock");
    assert.equal(s.session.expiresAt.getTime() - s.session.issuedAt.getTime(), SHORT_POLICY.lifespanMs);
    clock.advance(SHORT_POLICY.lifespanMs - 1);
    await core.sessions.authenticate(s.token);
    clock.advance(1);
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("D5 a session unused for its idle timeout is SESSION_INACTIVE", async (t) => {
    const { core, clock, s } = await signedIn(t);
    clock.advance(DEFAULT_POLICY.idleTimeoutMs - 1);
    await core.sessions.authenticate(s.token);
    // That use moved last_seen forward: the idle clock starts again from it.
    clock.advance(DEFAULT_POLICY.idleTimeoutMs - 1);
    await core.sessions.authenticate(s.token);
    clock.advance(DEFAULT_POLICY.idleTimeoutMs);
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("ADR-0021 a cached copy may only say yes faster: a session used on another node is not refused for the copy's old activity", async (t) => {
    const { core, clock, sql, s } = await signedIn(t);
    await core.sessions.authenticate(s.token); // now in this node's cache, last seen at sign-in
    clock.advance(DEFAULT_POLICY.idleTimeoutMs - MINUTE);
    // Another node served the session just now and wrote its activity; this node's copy is older.
    await sql.db.updateTable("sessions").set({ last_seen_at: clock.now().getTime() }).where("id", "=", s.session.id).execute();
    assert.equal((await sql.findSessionWithIdentity(s.session.id))?.cached, true, "the copy is still the old one");
    clock.advance(2 * MINUTE); // idle by the copy, not by the record
    const found = await core.sessions.authenticate(s.token);
    assert.equal(found.session.id, s.session.id);
    clock.advance(DEFAULT_POLICY.idleTimeoutMs);
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("ADR-0004 last_seen is written at most once per granularity interval", async (t) => {
    const { core, clock, store, s } = await signedIn(t);
    const touches = () => store.calls.get("touchSession") ?? 0;
    await core.sessions.authenticate(s.token);
    clock.advance(LAST_SEEN_GRANULARITY_MS - 1);
    await core.sessions.authenticate(s.token);
    assert.equal(touches(), 0, "no write within the interval");
    clock.advance(1);
    await core.sessions.authenticate(s.token);
    assert.equal(touches(), 1);
    assert.equal((await core.sessions.get(s.session.id)).lastSeenAt.getTime(), clock.t);
    clock.advance(LAST_SEEN_GRANULARITY_MS / 2);
    await core.sessions.authenticate(s.token);
    assert.equal(touches(), 1, "coalesced again after the write");
  });

  test("D6 deleting an identity ends its sessions", async (t) => {
    const { core, s } = await signedIn(t);
    await core.identities.delete(s.identity.id, { actor: "admin", door: null });
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });
});

describe("extend (D6)", () => {
  async function one(t: TestContext, door: RequestOrigin["door"] = "kratos") {
    const env = await setup(t);
    await createAlice(env.core);
    const s = await env.core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, { ...ORIGIN, door });
    return { ...env, s };
  }

  test("D6 a live session is extended by its door's lifespan from now", async (t) => {
    const { core, clock, s } = await one(t);
    clock.advance(10 * MINUTE);
    const extended = await core.sessions.extend(s.session.id);
    assert.equal(extended.expiresAt.getTime(), clock.t + DEFAULT_POLICY.lifespanMs);
    assert.equal((await core.sessions.get(s.session.id)).expiresAt.getTime(), clock.t + DEFAULT_POLICY.lifespanMs);
  });

  test("D6 a revoked session is not extended and stays ended", async (t) => {
    const { core, s } = await one(t);
    await core.logout({ kind: "session", sessionId: s.session.id }, "logout", SELF);
    await rejectsWith(core.sessions.extend(s.session.id), "SESSION_NOT_FOUND");
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("D6 an expired session is not revived", async (t) => {
    const { core, clock, s } = await one(t, "firstock");
    clock.advance(SHORT_POLICY.lifespanMs);
    await rejectsWith(core.sessions.extend(s.session.id), "SESSION_NOT_FOUND");
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("D6 an idle-expired session is not revived", async (t) => {
    const { core, clock, s } = await one(t);
    clock.advance(DEFAULT_POLICY.idleTimeoutMs);
    await rejectsWith(core.sessions.extend(s.session.id), "SESSION_NOT_FOUND");
    await rejectsWith(core.sessions.authenticate(s.token), "SESSION_INACTIVE");
  });

  test("D6 an unknown session is SESSION_NOT_FOUND", async (t) => {
    const { core } = await setup(t);
    await rejectsWith(core.sessions.extend(randomUUID()), "SESSION_NOT_FOUND");
  });
});

describe("password digest verifier (D11)", () => {
  test("D11 after registration the hex SHA-256 of the password signs in, in either case", async (t) => {
    const { core } = await setup(t);
    const alice = await createAlice(core);
    const digest = passwordDigest(PASSWORD);
    const signedIn = await core.sessions.signIn(USERNAME, { kind: "digest", digest }, { ...ORIGIN, door: "firstock" });
    assert.equal(signedIn.identity.id, alice.id);
    assert.equal(signedIn.session.door, "firstock");
    await core.sessions.signIn(EMAIL, { kind: "digest", digest: digest.toUpperCase() }, { ...ORIGIN, door: "firstock" });
    // The digest is not the password, and the password is not the digest.
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "digest", digest: passwordDigest("wrong password") }, ORIGIN), "CREDENTIALS_INVALID");
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "password", password: digest }, ORIGIN), "CREDENTIALS_INVALID");
  });

  test("D11 an identity without a digest verifier gains one at its next password sign-in", async (t) => {
    const { core, sql, clock } = await setup(t);
    const hasher = argon2Hasher({ memoryKib: 64, iterations: 1 });
    const now = clock.now();
    const record = await insertPreDigestIdentity(sql, { email: "old@example.com" }, await hasher.hash(PASSWORD), now);
    const digest = { kind: "digest", digest: passwordDigest(PASSWORD) } as const;
    await rejectsWith(core.sessions.signIn("old@example.com", digest, ORIGIN), "CREDENTIALS_INVALID");

    await core.sessions.signIn("old@example.com", { kind: "password", password: PASSWORD }, ORIGIN);
    assert.ok((await sql.findIdentity(record.id))?.digestHash, "the digest verifier was added");
    const signedIn = await core.sessions.signIn("old@example.com", digest, { ...ORIGIN, door: "firstock" });
    assert.equal(signedIn.identity.id, record.id);
  });
});

describe("INV-3 fail closed: a store that throws is STORE_UNAVAILABLE", () => {
  test("INV-3 ready() fails when the store does not answer", async (t) => {
    const env = await setup(t);
    await env.core.ready();
    await rejectsWith(env.failingCore(["ping"]).ready(), "STORE_UNAVAILABLE");
  });

  test("INV-3 sign-in fails closed when the identity lookup or the session insert fails", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    const proof = { kind: "password", password: PASSWORD } as const;
    await rejectsWith(env.failingCore(["findIdentityByIdentifier"]).sessions.signIn(EMAIL, proof, ORIGIN), "STORE_UNAVAILABLE");
    await rejectsWith(env.failingCore(["insertSession"]).sessions.signIn(EMAIL, proof, ORIGIN), "STORE_UNAVAILABLE");
    assert.equal(await env.core.sessions.count({}), 0);
  });

  test("INV-3 authentication fails closed, also when only the last-seen write fails", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    const s = await env.core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN);
    await rejectsWith(env.failingCore(["findSessionWithIdentity"]).sessions.authenticate(s.token), "STORE_UNAVAILABLE");
    env.clock.advance(LAST_SEEN_GRANULARITY_MS);
    await rejectsWith(env.failingCore(["touchSession"]).sessions.authenticate(s.token), "STORE_UNAVAILABLE");
  });

  test("INV-3 findLive answers null for no live session, but a store failure still throws", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    const s = await env.core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN);
    assert.equal((await env.core.sessions.findLive(s.token))?.session.id, s.session.id);
    for (const token of [undefined, null, "", "not-a-token", `${s.session.id}.${"A".repeat(43)}`]) {
      assert.equal(await env.core.sessions.findLive(token), null);
    }
    await rejectsWith(env.failingCore(["findSessionWithIdentity"]).sessions.findLive(s.token), "STORE_UNAVAILABLE");
  });

  test("INV-1 a revocation the store cannot commit is STORE_UNAVAILABLE, never a success", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    const s = await env.core.sessions.signIn(EMAIL, { kind: "password", password: PASSWORD }, ORIGIN);
    const broken = env.failingCore(["revokeSessions", "findSession"]);
    await rejectsWith(broken.logout({ kind: "session", sessionId: s.session.id }, "logout", SELF), "STORE_UNAVAILABLE");
    await rejectsWith(broken.logout({ kind: "others", of: s.session }, "revoked_by_user", SELF), "STORE_UNAVAILABLE");
    await rejectsWith(broken.logout({ kind: "token", token: s.token }, "logout", SELF), "STORE_UNAVAILABLE");
    await rejectsWith(broken.identities.delete(s.identity.id, SELF), "STORE_UNAVAILABLE");
    await rejectsWith(broken.sessions.extend(s.session.id), "STORE_UNAVAILABLE");
    // Nothing happened: the session is still live.
    await env.core.sessions.authenticate(s.token);
  });

  test("INV-3 a CoreError from the store keeps its code", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    await rejectsWith(
      env.core.identities.create({ traits: { email: "ALICE@example.com" }, password: PASSWORD }, "test"),
      "IDENTIFIER_TAKEN",
    );
  });
});

describe("the audit trail of sign-in attempts (docs/adr/0025-audit-trail.md)", () => {
  test("a failed sign-in is in the trail, with its door and client, before the answer", async (t) => {
    const { core, sql } = await setup(t);
    const alice = await createAlice(core);
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "password", password: "wrong" }, ORIGIN), "CREDENTIALS_INVALID");
    const [failed] = (await sql.listAuditEvents({ type: "signin.failed", limit: 10 })).items;
    assert.deepEqual({ ...failed!, id: "" }, {
      id: "",
      at: new Date(Date.UTC(2026, 0, 1, 8, 0, 0)),
      type: "signin.failed",
      identityId: alice.id,
      sessionId: null,
      door: "kratos",
      reason: null,
      actor: "self",
      ipAddress: "192.0.2.10",
      userAgent: "node:test",
    });
  });

  test("INV-3: a store that cannot keep the attempt makes the answer STORE_UNAVAILABLE, not a plain no", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    await rejectsWith(env.failingCore(["insertAuditEvents"]).sessions.signIn(EMAIL, { kind: "password", password: "wrong" }, ORIGIN), "STORE_UNAVAILABLE");
  });

  test("the purge deletes audit events older than audit.retention, and keeps the rest", async (t) => {
    const { core, sql, clock } = await setup(t);
    await createAlice(core); // identity.created now
    clock.advance(settings.auditRetentionMs - 1);
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "password", password: "wrong" }, ORIGIN), "CREDENTIALS_INVALID");
    clock.advance(2);
    assert.equal((await core.purge()).audit, 1);
    assert.deepEqual(
      (await sql.listAuditEvents({ limit: 10 })).items.map((e) => e.type),
      ["signin.failed"],
    );
  });
});

describe("SEC-102: a password change (docs/adr/0026-password-change.md)", () => {
  const SELF: Actor = { actor: "self", door: "kratos" };
  const NEW_PASSWORD = "a different long passphrase 42";
  const signIn = (core: Core, password = PASSWORD) => core.sessions.signIn(EMAIL, { kind: "password", password }, ORIGIN);

  test("replaces both verifiers, ends every other session of the identity before it answers, and keeps the current one", async (t) => {
    const { core, sql } = await setup(t);
    await createAlice(core);
    const current = await signIn(core);
    const others = [await signIn(core), await core.sessions.signIn(EMAIL, { kind: "digest", digest: passwordDigest(PASSWORD) }, { ...ORIGIN, door: "firstock" })];
    assert.deepEqual(await core.identities.changePassword(current, NEW_PASSWORD, SELF), { ended: 2 });
    for (const other of others) {
      assert.equal(await core.sessions.findLive(other.token), null);
      assert.equal((await sql.findSession(other.session.id))?.revokedReason, "password_changed");
    }
    assert.ok(await core.sessions.findLive(current.token), "the session that changed it stays");
    await rejectsWith(signIn(core), "CREDENTIALS_INVALID");
    assert.ok(await signIn(core, NEW_PASSWORD));
    await rejectsWith(core.sessions.signIn(EMAIL, { kind: "digest", digest: passwordDigest(PASSWORD) }, { ...ORIGIN, door: "firstock" }), "CREDENTIALS_INVALID");
    const [audit] = (await sql.listAuditEvents({ type: "password.changed", limit: 10 })).items;
    assert.equal(audit?.sessionId, current.session.id);
  });

  test("outside the privileged window: SESSION_REFRESH_REQUIRED, and nothing changes", async (t) => {
    const { core, clock } = await setup(t);
    await createAlice(core);
    const current = await signIn(core);
    const other = await signIn(core);
    clock.advance(settings.flows.privilegedSessionMaxAgeMs + 1);
    await rejectsWith(core.identities.changePassword(current, NEW_PASSWORD, SELF), "SESSION_REFRESH_REQUIRED");
    assert.ok(await core.sessions.findLive(other.token));
    assert.ok(await signIn(core));
  });

  test("a password the rules refuse is PASSWORD_REJECTED, and nothing changes", async (t) => {
    const { core } = await setup(t);
    await createAlice(core);
    const current = await signIn(core);
    const other = await signIn(core);
    for (const bad of ["", 42, "x".repeat(5000)]) await rejectsWith(core.identities.changePassword(current, bad, SELF), "PASSWORD_REJECTED");
    assert.ok(await core.sessions.findLive(other.token));
  });

  test("INV-3: a store that cannot write the verifiers is STORE_UNAVAILABLE; nothing ends and the old password still works", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    const current = await signIn(env.core);
    const other = await signIn(env.core);
    await rejectsWith(env.failingCore(["setPasswordHashes"]).identities.changePassword(current, NEW_PASSWORD, SELF), "STORE_UNAVAILABLE");
    assert.ok(await env.core.sessions.findLive(other.token));
    assert.ok(await signIn(env.core));
  });

  test("INV-3: an operator's deactivation whose logout failed ends the sessions when retried, though the state is inactive already", async (t) => {
    const env = await setup(t);
    const alice = await createAlice(env.core);
    const session = await signIn(env.core);
    const ADMIN: Actor = { actor: "admin", door: null };
    await rejectsWith(env.failingCore(["revokeSessions"]).identities.update(alice.id, { state: "inactive" }, ADMIN), "STORE_UNAVAILABLE");
    assert.deepEqual((await env.core.identities.update(alice.id, { state: "inactive" }, ADMIN)).ended, 1);
    assert.equal((await env.sql.findSession(session.session.id))?.revokedReason, "identity_deactivated");
  });

  test("INV-3: a store that cannot end the other sessions is STORE_UNAVAILABLE, never a success; a retry ends them", async (t) => {
    const env = await setup(t);
    await createAlice(env.core);
    const current = await signIn(env.core);
    const other = await signIn(env.core);
    await rejectsWith(env.failingCore(["revokeSessions"]).identities.changePassword(current, NEW_PASSWORD, SELF), "STORE_UNAVAILABLE");
    assert.ok(await env.core.sessions.findLive(other.token), "not ended, and not said to be");
    assert.deepEqual(await env.core.identities.changePassword(current, NEW_PASSWORD, SELF), { ended: 1 });
    assert.equal(await env.core.sessions.findLive(other.token), null);
  });
});
