/**
 * The Firstock V4 door in-process (the Firstock V4 API documentation: Login, Logout, User Details
 * and the exception page; SEC-50..SEC-54): the exact envelopes, what a V4 client relies on,
 * ownership of a jKey (SEC-51), the daily cut-off (D5), the password digest verifier (D11), no account
 * enumeration (D14), and failing closed when the store does not answer (INV-1, INV-3). Every
 * response body any test here receives from the door is parsed and walked for JSON true, false
 * and null (test/support/firstock.ts).
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import { argon2Hasher } from "../../crypto/argon2-hasher.ts";
import type { HttpApp } from "../../http/app.ts";
import { FailingStore } from "../../../test/support/failing-store.ts";
import {
  INVALID_JKEY,
  INVALID_PASSWORD,
  LOGOUT_SUCCESS,
  OTHER_VENDOR,
  PASSWORD,
  VENDOR,
  assertFailure,
  assertInvalidJKey,
  assertJKeyDead,
  assertJKeyLive,
  comparableHeaders,
  firstockFor,
  firstockLogin,
  loginBody,
  logout,
  post,
  sha256hex,
  signInFirstock,
  userDetails,
  walkedResponses,
} from "../../../test/support/firstock.ts";
import { bySessionToken, createIdentity, submitLogin, whoami } from "../../../test/support/kratos.ts";
import { insertPreDigestIdentity } from "../../../test/support/records.ts";
import { ManualClock } from "../../../test/support/server.ts";

const MINUTE = 60_000;
const SECOND = 1_000;

let serial = 0;
/** A fresh person per test: `Person_N` / `Person.N@Example.COM`, stored with that casing. */
function person(): { email: string; username: string } {
  serial += 1;
  return { email: `Person.${serial}@Example.COM`, username: `Person_${serial}` };
}

/** A fresh person, stored through the admin API (D10). */
async function storedPerson(adm: HttpApp): Promise<{ email: string; username: string }> {
  const p = person();
  await createIdentity(adm, p);
  return p;
}

after(() => {
  // Every Firstock answer in this file went through the walker; make sure it really ran.
  assert.ok(walkedResponses > 50, `only ${walkedResponses} Firstock responses were walked`);
});

describe("golden envelopes (the Firstock V4 API documentation), byte for byte", () => {
  test("login success: {status, data: {actid, userName, susertoken, email}} in that key order, actid = userName = username", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const res = await firstockLogin(pub, p.username);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers["content-type"], "application/json; charset=utf-8");
    assert.match(String(res.headers["cache-control"]), /\bno-store\b/, "a response carrying a token is not cacheable");
    const token = (JSON.parse(res.body) as { data: { susertoken: string } }).data.susertoken;
    // D1: the jKey is the Curfew session token id.secret, >= 128 bits of secret.
    assert.match(token, /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43,}$/);
    assert.equal(
      res.body,
      `{"status":"success","data":{"actid":"${p.username}","userName":"${p.username}","susertoken":"${token}","email":"${p.email}"}}`,
    );
  });

  test("login success for an identity without a username: actid and userName are the email", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const email = person().email;
    await createIdentity(adm, { email });
    const res = await firstockLogin(pub, email.toLowerCase());
    assert.equal(res.statusCode, 200, res.body);
    const token = (JSON.parse(res.body) as { data: { susertoken: string } }).data.susertoken;
    assert.equal(res.body, `{"status":"success","data":{"actid":"${email}","userName":"${email}","susertoken":"${token}","email":"${email}"}}`);
  });

  test("logout success is exactly {\"status\":\"success\",\"data\":\"Successfully logged out\"} with HTTP 200", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    const res = await logout(pub, p.username, susertoken);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(res.body, LOGOUT_SUCCESS);
  });

  test("INVALID_JKEY is exactly the V4 Logout page's failure with HTTP 401", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const res = await logout(pub, p.username, `${randomUUID()}.${randomBytes(32).toString("base64url")}`);
    assert.equal(res.statusCode, 401);
    assert.equal(
      res.body,
      '{"status":"failed","code":"401","name":"INVALID_JKEY","error":{"field":"jKey","message":"jKey parameter is invalid"}}',
    );
    assertInvalidJKey(res);
  });

  test("D14: a wrong password and an unknown userId get the same INVALID_PASSWORD, byte for byte, same status and headers", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const wrong = await firstockLogin(pub, p.username, "not the password at all");
    const unknown = await firstockLogin(pub, "Nobody_At_All");
    const unknownEmail = await firstockLogin(pub, "nobody@example.com");
    for (const res of [wrong, unknown, unknownEmail]) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.body, INVALID_PASSWORD);
      assertFailure(res, 401, "INVALID_PASSWORD");
    }
    assert.deepEqual(comparableHeaders(wrong), comparableHeaders(unknown));
    assert.deepEqual(comparableHeaders(wrong), comparableHeaders(unknownEmail));
  });

  test("D14: an identity without a password, and an inactive one, get the same INVALID_PASSWORD", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const noPassword = person();
    await createIdentity(adm, noPassword, { password: null });
    const inactive = person();
    await createIdentity(adm, inactive, { state: "inactive" });
    const reference = await firstockLogin(pub, "Nobody_At_All");
    for (const res of [await firstockLogin(pub, noPassword.username), await firstockLogin(pub, inactive.username)]) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.body, INVALID_PASSWORD);
      assert.deepEqual(comparableHeaders(res), comparableHeaders(reference));
    }
  });

  test("userDetails success (the vendor's User Details page): actid, email, exchange, orarr, requestTime in the cut-off's zone, uprev, userName", async (t) => {
    const clock = new ManualClock(Date.parse("2026-11-21T08:00:00Z"));
    const { pub, adm } = await firstockFor(t, { clock });
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    const res = await userDetails(pub, p.username, susertoken);
    assert.equal(res.statusCode, 200, res.body);
    // 08:00 UTC is 13:30 in Asia/Kolkata; "HH:MM:SS DD-MM-YYYY".
    assert.equal(
      res.body,
      `{"status":"success","data":{"actid":"${p.username}","email":"${p.email}","exchange":[],"orarr":[],"requestTime":"13:30:00 21-11-2026","uprev":"INVESTOR","userName":"${p.username}"}}`,
    );
  });
});

describe("what a Firstock V4 client relies on", () => {
  test("login: the password is the lowercase hex SHA-256 of the password; the plain password, or the digest of a wrong one, is INVALID_PASSWORD", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const plain = await post(pub, "login", { ...loginBody(p.username), password: PASSWORD });
    assert.equal(plain.body, INVALID_PASSWORD);
    const wrongDigest = await post(pub, "login", { ...loginBody(p.username), password: sha256hex(PASSWORD + " ") });
    assert.equal(wrongDigest.body, INVALID_PASSWORD);
    const ok = await post(pub, "login", { ...loginBody(p.username), password: sha256hex(PASSWORD) });
    assert.equal(ok.statusCode, 200, ok.body);
    // Hex is case-insensitive: an upper-case digest names the same bytes.
    const upper = await post(pub, "login", { ...loginBody(p.username), password: sha256hex(PASSWORD).toUpperCase() });
    assert.equal(upper.statusCode, 200, upper.body);
  });

  test("login: vendorCode and apiKey must be a configured pair; any other pair is refused without an identity lookup or a password check", async (t) => {
    const store = await FailingStore.open();
    const { pub, adm } = await firstockFor(t, { store, config: { "login.rate_limit.per_ip.max": 3 } });
    const p = await storedPerson(adm);
    const lookups = store.callCount("findIdentityByIdentifier");
    const refused = [
      { vendorCode: VENDOR.vendorCode, apiKey: OTHER_VENDOR.apiKey },
      { vendorCode: OTHER_VENDOR.vendorCode, apiKey: VENDOR.apiKey },
      { vendorCode: "NOPE_API", apiKey: VENDOR.apiKey },
      { vendorCode: VENDOR.vendorCode, apiKey: VENDOR.apiKey + "x" },
      { vendorCode: VENDOR.vendorCode.toLowerCase(), apiKey: VENDOR.apiKey },
    ];
    for (const pair of refused) {
      const res = await post(pub, "login", { ...loginBody(p.username), ...pair });
      const body = assertFailure(res, 401, "INVALID_APIKEY");
      assert.equal(body.error.field, "apiKey");
    }
    // No identity was looked up (so no argon2 verification ran) and no attempt was counted:
    // with a per-IP limit of 3, five refused pairs would otherwise have throttled this sign-in.
    assert.equal(store.callCount("findIdentityByIdentifier"), lookups);
    const ok = await firstockLogin(pub, p.username);
    assert.equal(ok.statusCode, 200, ok.body);
    const other = await post(pub, "login", { ...loginBody(p.username), ...OTHER_VENDOR });
    assert.equal(other.statusCode, 200, "the second configured pair works too");
  });

  test("login: with no vendors configured, every Firstock sign-in is refused", async (t) => {
    const { pub, adm } = await firstockFor(t, { config: { "firstock.vendors": [] } });
    const p = await storedPerson(adm);
    assertFailure(await firstockLogin(pub, p.username), 401, "INVALID_APIKEY");
  });

  test("login: TOTP is accepted and ignored (any string, empty included)", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    for (const TOTP of ["", "897623", "000000", "not-a-code"]) {
      const res = await firstockLogin(pub, p.username, PASSWORD, { TOTP });
      assert.equal(res.statusCode, 200, `TOTP ${JSON.stringify(TOTP)}: ${res.body}`);
    }
  });

  test("userDetails: the jKey works there, and each login is its own session", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const first = await signInFirstock(pub, p.username);
    const second = await signInFirstock(pub, p.username);
    assert.notEqual(first.susertoken, second.susertoken);
    await assertJKeyLive(pub, p.username, first.susertoken);
    await assertJKeyLive(pub, p.username, second.susertoken);
    assert.equal((await logout(pub, p.username, first.susertoken)).body, LOGOUT_SUCCESS);
    await assertJKeyDead(pub, p.username, first.susertoken);
    await assertJKeyLive(pub, p.username, second.susertoken);
  });

  test("logout: after logout, userDetails and logout with that jKey answer INVALID_JKEY; a repeat logout is 401, never 5xx (BAD-J21)", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    assert.equal((await logout(pub, p.username, susertoken)).body, LOGOUT_SUCCESS);
    await assertJKeyDead(pub, p.username, susertoken);
    assertInvalidJKey(await logout(pub, p.username, susertoken));
    assertInvalidJKey(await logout(pub, p.username, susertoken));
    await assertJKeyDead(pub, p.username, susertoken);
  });

  test("D9: userId is the username or the email, matched case-insensitively, at login, userDetails and logout", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    for (const userId of [p.username, p.username.toUpperCase(), p.email, p.email.toLowerCase(), p.email.toUpperCase()]) {
      const data = await signInFirstock(pub, userId);
      assert.equal(data.actid, p.username, "actid is the username as stored, whatever identifier was typed");
      assert.equal(data.email, p.email);
      await assertJKeyLive(pub, p.email.toUpperCase(), data.susertoken);
      await assertJKeyLive(pub, p.username.toLowerCase(), data.susertoken);
      assert.equal((await logout(pub, userId.toLowerCase(), data.susertoken)).body, LOGOUT_SUCCESS);
      await assertJKeyDead(pub, p.username, data.susertoken);
    }
  });

  test("BAD-J16: a look-alike userId (full-width letters, a zero-width space) is another, unknown user; nothing is revoked", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = { email: "aa0013@example.com", username: "AA0013" };
    await createIdentity(adm, p);
    const { susertoken } = await signInFirstock(pub, p.username);
    for (const userId of ["ＡＡ0013", "AA0013\u200b", "AA0O13"]) {
      assertInvalidJKey(await logout(pub, userId, susertoken));
      assertInvalidJKey(await userDetails(pub, userId, susertoken));
      assert.equal((await firstockLogin(pub, userId)).body, INVALID_PASSWORD);
    }
    await assertJKeyLive(pub, p.username, susertoken);
  });

  test("SEC-51 (BAD-J18, BAD-J19): another user's jKey with one's own userId is 401 identical to an unknown jKey, and revokes nothing", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const a = person();
    const b = person();
    await createIdentity(adm, a);
    await createIdentity(adm, b);
    const aKey = (await signInFirstock(pub, a.username)).susertoken;
    const bKey = (await signInFirstock(pub, b.username)).susertoken;
    const unknownKey = `${randomUUID()}.${randomBytes(32).toString("base64url")}`;

    for (const route of ["logout", "userDetails"] as const) {
      const reference = await post(pub, route, { userId: a.username, jKey: unknownKey });
      assertInvalidJKey(reference);
      const cases = [
        { userId: a.username, jKey: bKey }, // A presents B's jKey (BAD-J18)
        { userId: b.username, jKey: aKey }, // A presents own jKey as B (BAD-J19)
        { userId: b.email, jKey: aKey },
        { userId: "Nobody_At_All", jKey: aKey }, // an unknown user with a live jKey
      ];
      for (const body of cases) {
        const res = await post(pub, route, body);
        assert.equal(res.statusCode, reference.statusCode);
        assert.equal(res.body, reference.body, `${route} ${JSON.stringify(body.userId)}`);
        assert.deepEqual(comparableHeaders(res), comparableHeaders(reference));
      }
    }
    // Nothing was revoked: both jKeys still work, and each owner can still log out.
    await assertJKeyLive(pub, a.username, aKey);
    await assertJKeyLive(pub, b.username, bKey);
    assert.equal((await logout(pub, b.username, bKey)).body, LOGOUT_SUCCESS);
    await assertJKeyLive(pub, a.username, aKey);
    assert.equal((await logout(pub, a.username, aKey)).body, LOGOUT_SUCCESS);
  });

  test("BAD-J25: a structurally valid but random jKey, and one with the right id and a wrong secret, are INVALID_JKEY and end nothing", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    const [id] = susertoken.split(".") as [string];
    assertInvalidJKey(await logout(pub, p.username, `${randomUUID()}.${randomBytes(32).toString("base64url")}`));
    assertInvalidJKey(await logout(pub, p.username, `${id}.${randomBytes(32).toString("base64url")}`));
    assertInvalidJKey(await userDetails(pub, p.username, `${id}.${randomBytes(32).toString("base64url")}`));
    assertInvalidJKey(await logout(pub, p.username, randomBytes(16).toString("hex")));
    assertInvalidJKey(await logout(pub, p.username, ""));
    await assertJKeyLive(pub, p.username, susertoken);
  });

  test("D1: the jKey is a Curfew session token: Kratos whoami accepts it, and a Firstock logout ends it at every door", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    const who = await whoami(pub, bySessionToken(susertoken));
    assert.equal(who.statusCode, 200, who.body);
    assert.equal((JSON.parse(who.body) as { door: string }).door, "firstock");
    assert.equal((await logout(pub, p.username, susertoken)).body, LOGOUT_SUCCESS);
    assert.equal((await whoami(pub, bySessionToken(susertoken))).statusCode, 401);
  });

  test("D11: an identity created with a password through the admin API can sign in at Firstock with the digest", async (t) => {
    const { pub, adm } = await firstockFor(t);
    const p = person();
    const password = "ünïcödé pässwörd ✓ 42";
    await createIdentity(adm, p, { password });
    assert.equal((await firstockLogin(pub, p.username, PASSWORD)).body, INVALID_PASSWORD);
    const data = await signInFirstock(pub, p.email, password);
    await assertJKeyLive(pub, p.username, data.susertoken);
  });

  test("D11 backfill: an identity without a digest verifier gains one at its next password sign-in through another door", async (t) => {
    const { t: server, pub } = await firstockFor(t);
    const p = person();
    const now = server.server.core.clock.now();
    // As an identity stored before D11 (or imported) looks: a password verifier, no digest verifier.
    const record = await insertPreDigestIdentity(server.server.store, p, await argon2Hasher(server.config.argon2).hash(PASSWORD), now);

    // Until then the Firstock door cannot verify the digest: the same answer as a wrong password.
    assert.equal((await firstockLogin(pub, p.username)).body, INVALID_PASSWORD);
    assert.equal((await server.server.store.findIdentity(record.id))?.digestHash, null);

    // A wrong password through the Kratos door adds nothing.
    assert.equal((await submitLogin(pub, p.email, "not the password at all")).statusCode, 400);
    assert.equal((await server.server.store.findIdentity(record.id))?.digestHash, null);

    const kratos = await submitLogin(pub, p.email, PASSWORD);
    assert.equal(kratos.statusCode, 200, kratos.body);
    const stored = await server.server.store.findIdentity(record.id);
    assert.match(stored?.digestHash ?? "", /^\$argon2id\$/);
    assert.equal(stored?.passwordHash, record.passwordHash, "the password verifier is unchanged");

    const data = await signInFirstock(pub, p.username);
    await assertJKeyLive(pub, p.username, data.susertoken);
  });

  test("login: repeated wrong passwords are throttled with API_RATE_LIMIT, HTTP 429 and Retry-After", async (t) => {
    const { pub, adm } = await firstockFor(t, { config: { "login.rate_limit.per_identifier.max": 3 } });
    const p = await storedPerson(adm);
    for (let i = 0; i < 3; i++) assert.equal((await firstockLogin(pub, p.username, "wrong password")).body, INVALID_PASSWORD);
    const limited = await firstockLogin(pub, p.username);
    assertFailure(limited, 429, "API_RATE_LIMIT");
    assert.match(String(limited.headers["retry-after"]), /^[1-9][0-9]*$/);
  });
});

describe("D5: a Firstock session ends at the daily cut-off (default 23:59 Asia/Kolkata = 18:29 UTC)", () => {
  test("BAD-J20: a session begun at 18:00 UTC works until 18:28:59 and is INVALID_JKEY from 18:29:00, at userDetails and at logout", async (t) => {
    const clock = new ManualClock(Date.parse("2026-11-21T18:00:00Z"));
    const { pub, adm } = await firstockFor(t, { clock });
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    clock.advance(28 * MINUTE + 59 * SECOND);
    await assertJKeyLive(pub, p.username, susertoken);
    clock.advance(1 * SECOND);
    await assertJKeyDead(pub, p.username, susertoken);
    assertInvalidJKey(await logout(pub, p.username, susertoken));
    // A sign-in at the cut-off gets a session for the next trading day.
    const next = await signInFirstock(pub, p.username);
    clock.advance(20 * MINUTE);
    await assertJKeyLive(pub, p.username, next.susertoken);
  });

  test("the cut-off is the configured time in the configured zone", async (t) => {
    const clock = new ManualClock(Date.parse("2026-11-21T16:50:00Z"));
    const { pub, adm } = await firstockFor(t, {
      clock,
      config: { "session.doors.firstock.daily_cutoff": "17:00", "session.doors.firstock.timezone": "UTC" },
    });
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    clock.advance(9 * MINUTE + 59 * SECOND);
    await assertJKeyLive(pub, p.username, susertoken);
    clock.advance(SECOND);
    await assertJKeyDead(pub, p.username, susertoken);
  });

  test("an empty daily_cutoff turns the cut-off off: a session begun at 18:00 UTC outlives 18:29 UTC", async (t) => {
    const clock = new ManualClock(Date.parse("2026-11-21T18:00:00Z"));
    const { pub, adm } = await firstockFor(t, { clock, config: { "session.doors.firstock.daily_cutoff": "" } });
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    clock.advance(20 * MINUTE);
    await assertJKeyLive(pub, p.username, susertoken);
    clock.advance(20 * MINUTE);
    await assertJKeyLive(pub, p.username, susertoken);
  });

  test("a lifespan shorter than the time to the cut-off ends the session first", async (t) => {
    const clock = new ManualClock(Date.parse("2026-11-21T08:00:00Z"));
    const { pub, adm } = await firstockFor(t, { clock, config: { "session.doors.firstock.lifespan": "10m" } });
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    clock.advance(10 * MINUTE - SECOND);
    await assertJKeyLive(pub, p.username, susertoken);
    clock.advance(SECOND);
    await assertJKeyDead(pub, p.username, susertoken);
    assertInvalidJKey(await logout(pub, p.username, susertoken));
  });

  test("an idle jKey (30 min unused) is INVALID_JKEY at userDetails and at logout alike", async (t) => {
    const clock = new ManualClock(Date.parse("2026-11-21T08:00:00Z"));
    const { t: server, pub, adm } = await firstockFor(t, { clock });
    const p = await storedPerson(adm);
    const { susertoken } = await signInFirstock(pub, p.username);
    clock.advance(30 * MINUTE);
    assertInvalidJKey(await logout(pub, p.username, susertoken));
    await assertJKeyDead(pub, p.username, susertoken);
    // Idleness is computed from clock and configuration; the owner's logout makes the end durable,
    // so a longer idle timeout after a restart cannot revive it (INV-1, INV-2; src/core/review.test.ts).
    const session = await server.server.store.findSession(susertoken.split(".")[0]!);
    assert.equal(session?.revokedAt?.getTime(), clock.now().getTime());
  });
});

describe("INV-1 / INV-3 with a failing store (D19, SEC-52)", () => {
  async function withStore(t: { after(fn: () => unknown): void }) {
    const store = await FailingStore.open();
    const f = await firstockFor(t, { store });
    const p = await storedPerson(f.adm);
    const { susertoken } = await signInFirstock(f.pub, p.username);
    return { ...f, store, p, jKey: susertoken };
  }

  function assertUnavailable(res: Awaited<ReturnType<typeof post>>): void {
    const body = assertFailure(res, 503, "SERVICE_UNAVAILABLE");
    assert.notEqual(JSON.parse(res.body).status, "success");
    assert.match(body.error.message, /Nothing was changed/);
    assert.equal(res.headers["retry-after"], "1");
  }

  test("INV-1: logout whose revocation cannot be written answers 503, never success; the jKey still works; a retry succeeds", async (t) => {
    const { pub, store, p, jKey } = await withStore(t);
    store.fail("revokeSessions", "before");
    assertUnavailable(await logout(pub, p.username, jKey));
    assertUnavailable(await logout(pub, p.username, jKey));
    store.heal();
    await assertJKeyLive(pub, p.username, jKey);
    assert.equal((await logout(pub, p.username, jKey)).body, LOGOUT_SUCCESS);
    await assertJKeyDead(pub, p.username, jKey);
  });

  test("INV-1: a revocation committed but unconfirmed answers 503, never success; the retry then finds the jKey ended", async (t) => {
    const { pub, store, p, jKey } = await withStore(t);
    store.fail("revokeSessions", "after");
    assertUnavailable(await logout(pub, p.username, jKey));
    store.heal();
    await assertJKeyDead(pub, p.username, jKey);
    assertInvalidJKey(await logout(pub, p.username, jKey));
  });

  test("INV-3: logout when the session or the user cannot be looked up answers 503 and changes nothing", async (t) => {
    const { pub, store, p, jKey } = await withStore(t);
    for (const method of ["findSession", "findIdentityByIdentifier"] as const) {
      store.fail(method);
      assertUnavailable(await logout(pub, p.username, jKey));
      store.heal();
      await assertJKeyLive(pub, p.username, jKey);
    }
  });

  test("INV-3: userDetails when the session cannot be looked up answers 503, never success", async (t) => {
    const { pub, store, p, jKey } = await withStore(t);
    store.fail("findSessionWithIdentity");
    assertUnavailable(await userDetails(pub, p.username, jKey));
    store.fail("findIdentityByIdentifier");
    assertUnavailable(await userDetails(pub, p.username, jKey));
    store.heal();
    await assertJKeyLive(pub, p.username, jKey);
  });

  test("INV-3: login when the store cannot look the user up or record the session answers 503, not INVALID_PASSWORD and not success", async (t) => {
    const { pub, store, p } = await withStore(t);
    store.fail("findIdentityByIdentifier");
    assertUnavailable(await firstockLogin(pub, p.username));
    store.heal();
    store.fail("insertSession");
    assertUnavailable(await firstockLogin(pub, p.username));
    store.heal();
    const ok = await firstockLogin(pub, p.username);
    assert.equal(ok.statusCode, 200, ok.body);
  });
});

test("INVALID_JKEY and INVALID_PASSWORD constants are the bytes of the V4 Logout and Login pages", () => {
  assert.equal(INVALID_JKEY, JSON.stringify({ status: "failed", code: "401", name: "INVALID_JKEY", error: { field: "jKey", message: "jKey parameter is invalid" } }));
  assert.equal(
    INVALID_PASSWORD,
    JSON.stringify({ status: "failed", code: "401", name: "INVALID_PASSWORD", error: { field: "password", message: "password parameter is invalid" } }),
  );
  assert.equal(LOGOUT_SUCCESS, JSON.stringify({ status: "success", data: "Successfully logged out" }));
});
