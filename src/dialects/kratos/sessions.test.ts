/**
 * The caller's own sessions through the Kratos door, in process: whoami and its credential
 * carriers (X-Session-Token, then the cookie, then Authorization: Bearer, as ory/kratos
 * session/manager_http.go reads them), lifetimes (D5), the session list and the two
 * revocations (`DELETE /sessions`, `DELETE /sessions/{id}`), and the same-site check on
 * cookie-authenticated revocations (D12).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALICE,
  BASE,
  PASSWORD,
  UNKNOWN_ID,
  adminSession,
  assertDead,
  assertHerodot,
  assertLive,
  assertNoStore,
  byBearer,
  byCookie,
  bySessionToken,
  createIdentity,
  json,
  kratosFor,
  nativeLogout,
  signIn,
  signInSeries,
  submitLogin,
  whoami,
  withAlice,
  type Response,
  type SessionJson,
} from "../../../test/support/kratos.ts";
import { ManualClock } from "../../../test/support/server.ts";

const BOB = { email: "bob@example.com" };
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

describe("whoami", () => {
  it("K-21: whoami with X-Session-Token answers 200 with the expanded session, the identity id header, and no secrets", async (t) => {
    const { pub, adm } = await kratosFor(t);
    const identity = await createIdentity(adm, ALICE, { extra: { metadata_public: { plan: "pro" }, metadata_admin: { note: "vip" }, external_id: "ext-7" } });
    const { token, session } = await signIn(pub, ALICE.email, PASSWORD, { "user-agent": "curfew-test/1.0" });
    const res = await whoami(pub, bySessionToken(token));
    assert.equal(res.statusCode, 200);
    assertNoStore(res);
    assert.equal(res.headers["x-kratos-authenticated-identity-id"], identity.id);
    assert.equal(res.headers["set-cookie"], undefined, "K-20/K-21: whoami sets no cookie (CSRF or session)");
    const body = json<SessionJson>(res);
    assert.equal(body.id, session.id);
    assert.equal(body.active, true);
    assert.equal(body.door, "kratos", "D7");
    assert.equal(body.authenticator_assurance_level, "aal1");
    assert.equal(body.authentication_methods[0]?.method, "password");
    assert.ok(body.identity);
    assert.equal(body.identity.id, identity.id);
    assert.equal(body.identity.credentials, undefined);
    assert.ok(!("metadata_admin" in body.identity), "public endpoints never show metadata_admin");
    assert.deepEqual(body.identity.metadata_public, { plan: "pro" });
    assert.equal(body.identity.external_id, "ext-7");
    assert.ok(body.identity.verifiable_addresses.length > 0);
    assert.ok(body.identity.recovery_addresses.length > 0);
    assert.equal(body.devices.length, 1);
    assert.equal(body.devices[0]?.user_agent, "curfew-test/1.0");
    assert.ok(!res.body.includes(token.split(".")[1] as string), "the token's secret is never serialized");
    assert.ok(!res.body.includes("$argon2"), "no password verifier");
  });

  it("K-21: whoami answers on GET, POST, PUT, PATCH and DELETE (DELETE /sessions/whoami is whoami, not a revocation)", async (t) => {
    const { pub } = await withAlice(t);
    const { token, session } = await signIn(pub, ALICE.email);
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
      const res = await whoami(pub, bySessionToken(token), method);
      assert.equal(res.statusCode, 200, method);
      assert.equal(json<SessionJson>(res).id, session.id);
      assertNoStore(res);
    }
    await assertLive(pub, token);
  });

  it("K-28: the ory_kratos_session cookie authenticates, and whoami re-issues no cookie", async (t) => {
    const { pub } = await withAlice(t);
    const { token, session } = await signIn(pub, ALICE.email);
    const res = await whoami(pub, { cookie: `theme=dark; ory_kratos_session=${token}; other=1` });
    assert.equal(res.statusCode, 200);
    assert.equal(json<SessionJson>(res).id, session.id);
    assert.equal(res.headers["set-cookie"], undefined);
  });

  it("K-30 / K-52: Authorization: Bearer authenticates as a fallback, case-insensitively, and sets no cookie", async (t) => {
    const { pub } = await withAlice(t);
    const { token, session } = await signIn(pub, ALICE.email);
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`]) {
      const res = await whoami(pub, { authorization });
      assert.equal(res.statusCode, 200, authorization.slice(0, 7));
      assert.equal(json<SessionJson>(res).id, session.id);
      assert.equal(res.headers["set-cookie"], undefined);
    }
    for (const authorization of [`Bearer  ${token}`, `Basic ${token}`, `Bearer ${token} extra`, token, "Bearer"]) {
      assertHerodot(await whoami(pub, { authorization }), 401, { id: null });
    }
  });

  it("Kratos's carrier order: X-Session-Token wins over a valid cookie and a valid Bearer; the cookie wins over Bearer", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, BOB);
    const a = await signIn(pub, ALICE.email);
    const b = await signIn(pub, BOB.email);
    const c = await signIn(pub, ALICE.email);
    const idOf = async (headers: Record<string, string>) => {
      const res = await whoami(pub, headers);
      assert.equal(res.statusCode, 200, res.body);
      return json<SessionJson>(res).id;
    };
    assert.equal(await idOf({ ...bySessionToken(a.token), ...byCookie(b.token), ...byBearer(c.token) }), a.session.id);
    assert.equal(await idOf({ ...byCookie(b.token), ...byBearer(c.token) }), b.session.id);
    assert.equal(await idOf({ ...bySessionToken(a.token), ...byBearer(c.token) }), a.session.id);
    // An empty X-Session-Token is no token: the next carrier counts.
    assert.equal(await idOf({ "x-session-token": "", ...byCookie(b.token) }), b.session.id);
  });

  it("K-52: an invalid X-Session-Token is a 401 even beside a valid cookie or Bearer (no fallback)", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    assertHerodot(await whoami(pub, { "x-session-token": "invalid", ...byCookie(token) }), 401, { id: null });
    assertHerodot(await whoami(pub, { "x-session-token": "invalid", ...byBearer(token) }), 401, { id: null });
  });

  it("SEC-10: two ory_kratos_session cookies with different values authenticate nobody, in either order", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, BOB);
    const victim = await signIn(pub, ALICE.email);
    const attacker = await signIn(pub, BOB.email);
    for (const cookie of [
      `ory_kratos_session=${victim.token}; ory_kratos_session=${attacker.token}`,
      `ory_kratos_session=${attacker.token}; ory_kratos_session=${victim.token}`,
    ]) {
      assertHerodot(await whoami(pub, { cookie }), 401, { id: null });
    }
    // The same value twice is not ambiguous.
    assert.equal((await whoami(pub, { cookie: `ory_kratos_session=${victim.token}; ory_kratos_session=${victim.token}` })).statusCode, 200);
  });

  it("as Kratos: every 401 of whoami has no error.id, Kratos's reason and message, and sets no cookie", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    const [id, secret] = token.split(".") as [string, string];
    const cases: Record<string, string>[] = [
      {},
      bySessionToken("garbage"),
      bySessionToken(`${UNKNOWN_ID}.${secret}`),
      bySessionToken(`${id}.${"B".repeat(43)}`),
      byCookie("garbage"),
      byBearer(`${id}.${"C".repeat(43)}`),
      { cookie: "ory_kratos_session=" },
    ];
    for (const headers of cases) {
      const res = await whoami(pub, headers);
      const body = assertHerodot(res, 401, { id: null, reason: "No valid session credentials found in the request." });
      assert.equal(body.error.message, "The request could not be authorized");
      assert.equal(res.headers["ory-error-id"], "");
      assert.equal(res.headers["set-cookie"], undefined);
      assert.equal(res.headers["x-kratos-authenticated-identity-id"], undefined);
    }
  });

  it("as Kratos (herodot): X-Request-ID is echoed as error.request", async (t) => {
    const { pub } = await kratosFor(t);
    const body = assertHerodot(await whoami(pub, { "x-request-id": "req-42" }), 401);
    assert.equal(body.error.request, "req-42");
  });

  it("K-54 (deviation, SEC-61): the device records the socket's IP and the User-Agent; forwarded headers are ignored", async (t) => {
    const { pub } = await withAlice(t);
    const res = await submitLogin(pub, ALICE.email, PASSWORD, {
      remoteAddress: "198.51.100.20",
      headers: { "user-agent": "phone/2", "x-forwarded-for": "203.0.113.9", "true-client-ip": "203.0.113.10", "x-real-ip": "203.0.113.11" },
    });
    assert.equal(res.statusCode, 200);
    const device = json<{ session: SessionJson }>(res).session.devices[0];
    assert.equal(device?.ip_address, "198.51.100.20");
    assert.equal(device?.user_agent, "phone/2");
    assert.equal(device?.location, "");
  });
});

describe("Session lifetimes (D5, SEC-13, SEC-14, SEC-15)", () => {
  it("D5/SEC-13: a session unused for the idle timeout is over: whoami 401, admin active:false; use within it keeps it alive", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    // Used every 29 minutes: alive for well over the 30-minute idle timeout.
    for (let i = 0; i < 4; i++) {
      clock.advance(29 * MINUTE);
      await assertLive(pub, token);
    }
    clock.advance(31 * MINUTE);
    assertHerodot(await whoami(pub, bySessionToken(token)), 401, { id: null });
    assertHerodot(await whoami(pub, byCookie(token)), 401, { id: null });
    assert.equal((await adminSession(adm, session.id)).active, false);
    // Failed requests do not count as activity, and time does not heal it.
    clock.advance(MINUTE);
    await assertDead(pub, token);
  });

  it("D5: asking for a logout URL, and a browser logout refused for a wrong logout token, are use of the session like any other request", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    const browser = { ...byCookie(token), accept: "application/json" };
    clock.advance(20 * MINUTE);
    assert.equal((await pub.inject({ method: "GET", url: "/self-service/logout/browser", headers: browser })).statusCode, 200);
    clock.advance(20 * MINUTE); // 40 minutes after sign-in, 20 after the last use
    assertHerodot(await pub.inject({ method: "GET", url: "/self-service/logout?token=ory_lo_wrong", headers: browser }), 403);
    clock.advance(20 * MINUTE);
    await assertLive(pub, token);
  });

  it("D5/SEC-14: the absolute lifetime (12 h) ends a session however active it is", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    assert.equal(Date.parse(session.expires_at) - Date.parse(session.authenticated_at), 12 * HOUR);
    let elapsed = 0;
    while (elapsed + 25 * MINUTE < 12 * HOUR) {
      clock.advance(25 * MINUTE);
      elapsed += 25 * MINUTE;
      await assertLive(pub, token);
    }
    clock.advance(12 * HOUR - elapsed);
    assertHerodot(await whoami(pub, bySessionToken(token)), 401, { id: null });
    assert.equal((await adminSession(adm, session.id)).active, false, "K-38");
  });

  it("D5: lifetimes follow the configuration (session.idle_timeout, session.lifespan)", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock, config: { "session.idle_timeout": "5m", "session.lifespan": "1h" } });
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    assert.equal(Date.parse(session.expires_at) - Date.parse(session.issued_at), HOUR);
    clock.advance(4 * MINUTE);
    await assertLive(pub, token);
    clock.advance(5 * MINUTE);
    await assertDead(pub, token);
  });

  it("SEC-15: an expired session behaves like a revoked one on every session endpoint", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    const other = await signIn(pub, ALICE.email);
    clock.advance(31 * MINUTE);
    for (const headers of [bySessionToken(token), byCookie(token), byBearer(token)]) {
      assertHerodot(await whoami(pub, headers), 401);
      assertHerodot(await pub.inject({ method: "GET", url: "/sessions", headers }), 401);
      assertHerodot(await pub.inject({ method: "DELETE", url: "/sessions", headers }), 401);
      assertHerodot(await pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers }), 401);
    }
  });
});

describe("GET /sessions", () => {
  it("K-23: lists the caller's other live sessions, newest first, never the current, revoked or another identity's; Link and X-Total-Count", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    await createIdentity(adm, BOB);
    const [older, revoked, newer, current] = await signInSeries(pub, clock, ALICE.email, 4);
    await signIn(pub, BOB.email);
    assert.equal((await nativeLogout(pub, revoked.token)).statusCode, 204);

    const res = await pub.inject({ method: "GET", url: "/sessions", headers: bySessionToken(current.token) });
    assert.equal(res.statusCode, 200);
    assertNoStore(res);
    const list = json<SessionJson[]>(res);
    assert.deepEqual(
      list.map((s) => s.id),
      [newer.session.id, older.session.id],
    );
    for (const s of list) {
      assert.equal(s.active, true);
      assert.equal(s.identity?.traits.email, ALICE.email, "identity expanded");
      assert.ok(s.identity && !("metadata_admin" in s.identity), "not an admin view");
      assert.equal(s.devices.length, 1, "devices expanded");
    }
    assert.equal(res.headers["x-total-count"], "2");
    assert.match(String(res.headers.link), /<http:\/\/localhost:4433\/sessions\?page_size=250>; rel="first"/);
  });

  it(
    "an idle-expired session is not listed among the caller's live sessions, nor counted",
    async (t) => {
      const clock = new ManualClock();
      const { pub, adm } = await kratosFor(t, { clock });
      await createIdentity(adm, ALICE);
      await signIn(pub, ALICE.email); // never used again: idle-dead after 30 minutes
      const current = await signIn(pub, ALICE.email);
      for (let i = 0; i < 2; i++) {
        clock.advance(20 * MINUTE);
        await assertLive(pub, current.token);
      }
      const res = await pub.inject({ method: "GET", url: "/sessions", headers: bySessionToken(current.token) });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(json<SessionJson[]>(res), []);
      assert.equal(res.headers["x-total-count"], "0");
    },
  );

  it("page_size pages through with Link rel=next, and the pages add up", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const [o1, o2, o3, current] = await signInSeries(pub, clock, ALICE.email, 4);
    const others = [o1, o2, o3].map((s) => s.session.id);
    const seen: string[] = [];
    let url: string | null = "/sessions?page_size=2";
    let pages = 0;
    while (url && pages < 5) {
      const res: Response = await pub.inject({ method: "GET", url, headers: bySessionToken(current.token) });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers["x-total-count"], "3");
      seen.push(...json<SessionJson[]>(res).map((s) => s.id));
      const next: string | undefined = /<([^>]+)>; rel="next"/.exec(String(res.headers.link))?.[1];
      url = next ? next.replace(BASE, "") : null;
      pages++;
    }
    assert.equal(pages, 2);
    assert.deepEqual(seen, [...others].reverse());
  });

  it("as Kratos: without a live session the list answers 401 without error.id", async (t) => {
    const { pub } = await kratosFor(t);
    for (const headers of [{}, bySessionToken("garbage"), byCookie(`${UNKNOWN_ID}.${"A".repeat(43)}`)]) {
      assertHerodot(await pub.inject({ method: "GET", url: "/sessions", headers }), 401, { id: null, reason: "No valid session cookie found." });
    }
  });

  it("a malformed page_size answers 400", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    for (const q of ["page_size=abc", "page_size=-1", "per_page=1e3"]) {
      assertHerodot(await pub.inject({ method: "GET", url: `/sessions?${q}`, headers: bySessionToken(token) }), 400);
    }
  });
});

describe("DELETE /sessions", () => {
  it("K-24: ends every other session of the caller → 200 {count}; the current one and other identities' stay live", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, BOB);
    const others = [await signIn(pub, ALICE.email), await signIn(pub, ALICE.email)];
    const bob = await signIn(pub, BOB.email);
    const current = await signIn(pub, ALICE.email);
    const res = await pub.inject({ method: "DELETE", url: "/sessions", headers: bySessionToken(current.token) });
    assert.equal(res.statusCode, 200);
    assertNoStore(res);
    assert.deepEqual(json(res), { count: 2 });
    for (const o of others) {
      await assertDead(pub, o.token);
      assert.equal((await adminSession(adm, o.session.id)).active, false, "revoked, row kept (D6)");
    }
    await assertLive(pub, current.token);
    await assertLive(pub, bob.token);
  });

  it("K-56 (deviation): count is the number of sessions this call ended; already-ended ones are not counted again", async (t) => {
    const { pub } = await withAlice(t);
    const ended = await signIn(pub, ALICE.email);
    await signIn(pub, ALICE.email);
    const current = await signIn(pub, ALICE.email);
    assert.equal((await nativeLogout(pub, ended.token)).statusCode, 204);
    const first = await pub.inject({ method: "DELETE", url: "/sessions", headers: bySessionToken(current.token) });
    assert.deepEqual(json(first), { count: 1 });
    const again = await pub.inject({ method: "DELETE", url: "/sessions", headers: bySessionToken(current.token) });
    assert.deepEqual(json(again), { count: 0 });
  });

  it("as Kratos: without a live session it answers 401 without error.id and ends nothing", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    assertHerodot(await pub.inject({ method: "DELETE", url: "/sessions" }), 401, { id: null, reason: "No valid session cookie found." });
    assertHerodot(await pub.inject({ method: "DELETE", url: "/sessions", headers: bySessionToken("garbage") }), 401);
    await assertLive(pub, token);
  });
});

describe("DELETE /sessions/{id}", () => {
  it("K-25: ending another own session answers 204; only that one is dead", async (t) => {
    const { pub, adm } = await withAlice(t);
    const target = await signIn(pub, ALICE.email);
    const bystander = await signIn(pub, ALICE.email);
    const current = await signIn(pub, ALICE.email);
    const res = await pub.inject({ method: "DELETE", url: `/sessions/${target.session.id}`, headers: bySessionToken(current.token) });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, "");
    assertNoStore(res);
    await assertDead(pub, target.token);
    assert.equal((await adminSession(adm, target.session.id)).active, false);
    await assertLive(pub, bystander.token);
    await assertLive(pub, current.token);
  });

  it("K-26: the current session cannot be ended here → 400 'cannot revoke current session', and it stays live", async (t) => {
    const { pub } = await withAlice(t);
    const current = await signIn(pub, ALICE.email);
    const res = await pub.inject({ method: "DELETE", url: `/sessions/${current.session.id}`, headers: bySessionToken(current.token) });
    const body = assertHerodot(res, 400);
    assert.equal(body.error.message, "cannot revoke current session");
    await assertLive(pub, current.token);
  });

  it("K-27: an already-ended, unknown or other user's session id answers 204 and changes nothing", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, BOB);
    const ended = await signIn(pub, ALICE.email);
    const bob = await signIn(pub, BOB.email);
    const current = await signIn(pub, ALICE.email);
    assert.equal((await nativeLogout(pub, ended.token)).statusCode, 204);
    for (const id of [ended.session.id, UNKNOWN_ID, bob.session.id]) {
      const res = await pub.inject({ method: "DELETE", url: `/sessions/${id}`, headers: bySessionToken(current.token) });
      assert.equal(res.statusCode, 204, id);
    }
    await assertLive(pub, bob.token);
    assert.equal((await adminSession(adm, bob.session.id)).active, true);
    await assertLive(pub, current.token);
  });

  it("as Kratos: the session is checked first (401), then the id: a malformed UUID answers 400", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    assertHerodot(await pub.inject({ method: "DELETE", url: "/sessions/not-a-uuid" }), 401);
    for (const id of ["not-a-uuid", "00000000-0000-4000-8000-00000000000", `${UNKNOWN_ID}x`]) {
      assertHerodot(await pub.inject({ method: "DELETE", url: `/sessions/${id}`, headers: bySessionToken(token) }), 400);
    }
    await assertLive(pub, token);
  });

  it("K-47: PATCH /sessions/{id}/extend on the public listener answers 404, not a CSRF error, and extends nothing", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    clock.advance(HOUR);
    for (const headers of [{}, bySessionToken(token), byCookie(token)]) {
      const body = assertHerodot(await pub.inject({ method: "PATCH", url: `/sessions/${session.id}/extend`, headers }), 404);
      assert.notEqual(body.error.id, "security_csrf_violation");
    }
    assert.equal((await adminSession(adm, session.id)).expires_at, session.expires_at);
  });
});

describe("D12: cookie-authenticated revocations prove they are same-site", () => {
  const crossSite: Record<string, string>[] = [
    { "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "same-site" },
    { origin: "https://evil.example" },
    { origin: "http://localhost:4433.evil.example" },
    { origin: "null" },
  ];

  it("D12: DELETE /sessions with a cookie and Sec-Fetch-Site: cross-site or a foreign Origin → 403 security_csrf_violation, nothing revoked", async (t) => {
    const { pub } = await withAlice(t);
    const other = await signIn(pub, ALICE.email);
    const current = await signIn(pub, ALICE.email);
    for (const headers of crossSite) {
      const res = await pub.inject({ method: "DELETE", url: "/sessions", headers: { ...byCookie(current.token), ...headers } });
      assertHerodot(res, 403, { id: "security_csrf_violation" });
      assert.equal(res.headers["set-cookie"], undefined, "the cookie is kept");
    }
    await assertLive(pub, other.token);
    await assertLive(pub, current.token);
  });

  it("D12: DELETE /sessions/{id} with a cookie from another site → 403, nothing revoked", async (t) => {
    const { pub } = await withAlice(t);
    const other = await signIn(pub, ALICE.email);
    const current = await signIn(pub, ALICE.email);
    for (const headers of crossSite) {
      const res = await pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers: { ...byCookie(current.token), ...headers } });
      assertHerodot(res, 403, { id: "security_csrf_violation" });
    }
    await assertLive(pub, other.token);
  });

  it("D12: Sec-Fetch-Site decides over Origin when both are sent", async (t) => {
    const { pub } = await withAlice(t);
    const other = await signIn(pub, ALICE.email);
    const current = await signIn(pub, ALICE.email);
    const res = await pub.inject({
      method: "DELETE",
      url: `/sessions/${other.session.id}`,
      headers: { ...byCookie(current.token), "sec-fetch-site": "cross-site", origin: BASE },
    });
    assertHerodot(res, 403, { id: "security_csrf_violation" });
    await assertLive(pub, other.token);
  });

  it("D12: a same-origin cookie call passes (Sec-Fetch-Site same-origin or none, or our own Origin), and so does one with neither header", async (t) => {
    const { pub } = await withAlice(t);
    const current = await signIn(pub, ALICE.email);
    for (const headers of [{ "sec-fetch-site": "same-origin" }, { "sec-fetch-site": "none" }, { origin: BASE }, {}]) {
      const victim = await signIn(pub, ALICE.email);
      const res = await pub.inject({ method: "DELETE", url: `/sessions/${victim.session.id}`, headers: { ...byCookie(current.token), ...headers } });
      assert.equal(res.statusCode, 204, JSON.stringify(headers));
      await assertDead(pub, victim.token);
    }
    const all = await pub.inject({ method: "DELETE", url: "/sessions", headers: { ...byCookie(current.token), origin: BASE } });
    assert.equal(all.statusCode, 200);
  });

  it("D12: token-authenticated calls need no same-site proof, even when a browser says cross-site", async (t) => {
    const { pub } = await withAlice(t);
    const current = await signIn(pub, ALICE.email);
    for (const auth of [bySessionToken(current.token), byBearer(current.token)]) {
      const victim = await signIn(pub, ALICE.email);
      const one = await pub.inject({
        method: "DELETE",
        url: `/sessions/${victim.session.id}`,
        headers: { ...auth, "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      });
      assert.equal(one.statusCode, 204);
      await assertDead(pub, victim.token);
      const survivor = await signIn(pub, ALICE.email);
      const all = await pub.inject({ method: "DELETE", url: "/sessions", headers: { ...auth, "sec-fetch-site": "cross-site" } });
      assert.deepEqual(json(all), { count: 1 });
      await assertDead(pub, survivor.token);
    }
  });
});
