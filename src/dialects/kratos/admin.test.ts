/**
 * The Kratos admin API, in process: identities (D10, as in ory/kratos spec/api.json), sessions
 * (K-31 to K-47 in docs/dialects/kratos.md), revoke-never-resurrect (D6), identity deletion (SEC-17), and the
 * admin key.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALICE,
  BOB,
  PASSWORD,
  UNKNOWN_ID,
  adminSession,
  assertDead,
  assertHerodot,
  assertLive,
  assertNoStore,
  bySessionToken,
  createIdentity,
  json,
  kratosFor,
  nativeLogout,
  signIn,
  signInSeries,
  submitLogin,
  withAlice,
  type IdentityJson,
  type Response,
  type SessionJson,
} from "../../../test/support/kratos.ts";
import { ManualClock, startTestServer } from "../../../test/support/server.ts";

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

/** Alice signed in twice and Bob once, on a server for one test. */
async function aliceTwiceBobOnce(t: { after(fn: () => unknown): void }) {
  const { pub, adm } = await kratosFor(t);
  const alice = await createIdentity(adm, ALICE);
  await createIdentity(adm, BOB);
  const a1 = await signIn(pub, ALICE.email);
  const a2 = await signIn(pub, ALICE.email);
  const bob = await signIn(pub, BOB.email);
  return { pub, adm, alice, a1, a2, bob };
}

describe("Admin identities (D10)", () => {
  it("D10: POST /admin/identities answers 201 with the identity: schema, traits as given, metadata, never credentials", async (t) => {
    const { adm } = await kratosFor(t);
    const res = await adm.inject({
      method: "POST",
      url: "/admin/identities",
      payload: {
        schema_id: "default",
        traits: { email: "Alice@Example.com", username: "alice" },
        credentials: { password: { config: { password: PASSWORD } } },
        metadata_public: { tier: 1 },
        metadata_admin: { note: "x" },
        external_id: "crm-1",
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    assertNoStore(res);
    const identity = json<IdentityJson>(res);
    assert.match(identity.id, /^[0-9a-f-]{36}$/);
    assert.equal(identity.schema_id, "default");
    assert.equal(identity.schema_url, "http://localhost:4433/schemas/ZGVmYXVsdA", "D9");
    assert.equal(identity.state, "active");
    assert.deepEqual(identity.traits, { email: "Alice@Example.com", username: "alice" });
    assert.deepEqual(identity.metadata_public, { tier: 1 });
    assert.deepEqual(identity.metadata_admin, { note: "x" }, "admin views carry metadata_admin");
    assert.equal(identity.external_id, "crm-1");
    assert.equal(identity.credentials, undefined);
    assert.ok(!res.body.includes(PASSWORD) && !res.body.includes("$argon2"));
  });

  it("D10: the password set through the admin API signs in; an identity created without one cannot", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, BOB, { password: null });
    await signIn(pub, ALICE.email);
    assert.equal((await submitLogin(pub, BOB.email, PASSWORD)).statusCode, 400);
  });

  it("D10: a duplicate email or username, in any case, answers 409 and creates nothing", async (t) => {
    const { adm } = await withAlice(t);
    for (const traits of [{ email: "ALICE@example.com" }, { email: "new@example.com", username: "ALICE" }]) {
      const res = await adm.inject({ method: "POST", url: "/admin/identities", payload: { schema_id: "default", traits } });
      assertHerodot(res, 409);
    }
    assert.equal(json<IdentityJson[]>(await adm.inject({ method: "GET", url: "/admin/identities" })).length, 1);
  });

  it("D10: invalid traits, an unknown schema_id or a bad password answer 400 and create nothing", async (t) => {
    const { adm } = await kratosFor(t);
    const bodies: unknown[] = [
      { schema_id: "default", traits: { email: "not-an-email" } },
      { schema_id: "default", traits: {} },
      { schema_id: "default", traits: { email: "a@example.com", phone: "+1" } },
      { schema_id: "default", traits: { email: "a@example.com", username: "has space" } },
      { schema_id: "default", traits: { email: "a@example.com", username: "has@sign" } },
      { schema_id: "default", traits: { email: 42 } },
      { schema_id: "default", traits: "a@example.com" },
      { schema_id: "customer", traits: { email: "a@example.com" } },
      { traits: { email: "a@example.com" } },
      { schema_id: "default" },
      { schema_id: "default", traits: { email: "a@example.com" }, credentials: { password: { config: { password: "short" } } } },
      { schema_id: "default", traits: { email: "a@example.com" }, credentials: { password: { config: { password: "x".repeat(1025) } } } },
      { schema_id: "default", traits: { email: "a@example.com" }, credentials: { password: { config: { hashed_password: "$2a$..." } } } },
      { schema_id: "default", traits: { email: "a@example.com" }, state: "banned" },
    ];
    for (const payload of bodies) {
      const res = await adm.inject({ method: "POST", url: "/admin/identities", payload: payload as Record<string, unknown> });
      assertHerodot(res, 400);
    }
    assert.deepEqual(json(await adm.inject({ method: "GET", url: "/admin/identities" })), []);
  });

  it("D10: GET /admin/identities lists identities; credentials_identifier filters by email or username, case-insensitively", async (t) => {
    const { adm } = await kratosFor(t);
    const alice = await createIdentity(adm, ALICE);
    const bob = await createIdentity(adm, BOB);
    const all = await adm.inject({ method: "GET", url: "/admin/identities" });
    assert.equal(all.statusCode, 200);
    assertNoStore(all);
    assert.match(String(all.headers.link), /rel="first"/);
    assert.deepEqual(json<IdentityJson[]>(all).map((i) => i.id).sort(), [alice.id, bob.id].sort());
    for (const identifier of ["alice@example.com", "ALICE@EXAMPLE.COM", "Alice"]) {
      const res = await adm.inject({ method: "GET", url: `/admin/identities?credentials_identifier=${encodeURIComponent(identifier)}` });
      assert.deepEqual(json<IdentityJson[]>(res).map((i) => i.id), [alice.id], identifier);
    }
    const none = await adm.inject({ method: "GET", url: "/admin/identities?credentials_identifier=carol%40example.com" });
    assert.deepEqual(json(none), []);
  });

  it("D10: GET /admin/identities pages with page_size and Link rel=next", async (t) => {
    const { adm } = await kratosFor(t);
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await createIdentity(adm, { email: `u${i}@example.com` }, { password: null })).id);
    const seen: string[] = [];
    let url: string | null = "/admin/identities?page_size=2";
    for (let pages = 0; url && pages < 5; pages++) {
      const res: Response = await adm.inject({ method: "GET", url });
      seen.push(...json<IdentityJson[]>(res).map((i) => i.id));
      const next: string | undefined = /<([^>]+)>; rel="next"/.exec(String(res.headers.link))?.[1];
      url = next ? new URL(next).pathname + new URL(next).search : null;
    }
    assert.deepEqual(new Set(seen), ids);
    assert.equal(seen.length, 3);
  });

  it("as Kratos: GET /admin/identities/{id} answers 200; an unknown id 404; a malformed id 400", async (t) => {
    const { adm } = await kratosFor(t);
    const alice = await createIdentity(adm, ALICE);
    const res = await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(json(res), alice);
    assertHerodot(await adm.inject({ method: "GET", url: `/admin/identities/${UNKNOWN_ID}` }), 404);
    assertHerodot(await adm.inject({ method: "GET", url: "/admin/identities/not-a-uuid" }), 400);
  });

  it("SEC-17/D6: deleting an identity revokes its sessions first: 204, its tokens stop working, the rows stay inactive", async (t) => {
    const { pub, adm, alice, a1, a2, bob } = await aliceTwiceBobOnce(t);
    const res = await adm.inject({ method: "DELETE", url: `/admin/identities/${alice.id}` });
    assert.equal(res.statusCode, 204);
    assertNoStore(res);
    for (const s of [a1, a2]) {
      await assertDead(pub, s.token);
      assertHerodot(await pub.inject({ method: "GET", url: "/sessions", headers: bySessionToken(s.token) }), 401);
      const row = await adminSession(adm, s.session.id);
      assert.equal(row.active, false);
      assert.equal(row.identity, null);
    }
    await assertLive(pub, bob.token);
    assertHerodot(await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}` }), 404);
    assertHerodot(await adm.inject({ method: "DELETE", url: `/admin/identities/${alice.id}` }), 404);
    assert.equal((await submitLogin(pub, ALICE.email, PASSWORD)).statusCode, 400, "the identity can no longer sign in");
    // The email is free again.
    await createIdentity(adm, ALICE);
  });

  it("as Kratos: DELETE /admin/identities/{id} with an unknown id answers 404, a malformed one 400", async (t) => {
    const { adm } = await kratosFor(t);
    assertHerodot(await adm.inject({ method: "DELETE", url: `/admin/identities/${UNKNOWN_ID}` }), 404);
    assertHerodot(await adm.inject({ method: "DELETE", url: "/admin/identities/BADUUID" }), 400);
  });
});

describe("Admin identity sessions (K-36, K-40 to K-43)", () => {
  it("K-36 / K-43: GET /admin/identities/{id}/sessions lists newest first with identity (metadata_admin) and devices; active filters", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    const alice = await createIdentity(adm, ALICE, { extra: { metadata_admin: { note: "vip" } } });
    await createIdentity(adm, BOB);
    const [s1, s2, s3] = await signInSeries(pub, clock, ALICE.email, 3);
    await signIn(pub, BOB.email);
    assert.equal((await nativeLogout(pub, s2.token)).statusCode, 204);

    const res = await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}/sessions` });
    assert.equal(res.statusCode, 200);
    assertNoStore(res);
    const list = json<SessionJson[]>(res);
    assert.deepEqual(list.map((s) => s.id), [s3.session.id, s2.session.id, s1.session.id]);
    assert.deepEqual(list.map((s) => s.active), [true, false, true]);
    for (const s of list) {
      assert.deepEqual(s.identity?.metadata_admin, { note: "vip" });
      assert.equal(s.devices.length, 1);
    }
    assert.equal(res.headers["x-total-count"], "3");
    assert.match(String(res.headers.link), /rel="first"/);

    const active = json<SessionJson[]>(await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}/sessions?active=true` }));
    assert.deepEqual(active.map((s) => s.id), [s3.session.id, s1.session.id]);
    const ended = json<SessionJson[]>(await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}/sessions?active=false` }));
    assert.deepEqual(ended.map((s) => s.id), [s2.session.id]);
    assertHerodot(await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}/sessions?active=yes` }), 400);
  });

  it("as Kratos: an unknown identity's session list is [], not 404; a malformed id is 400 (K-41)", async (t) => {
    const { adm } = await kratosFor(t);
    const res = await adm.inject({ method: "GET", url: `/admin/identities/${UNKNOWN_ID}/sessions` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(json(res), []);
    assertHerodot(await adm.inject({ method: "GET", url: "/admin/identities/BADUUID/sessions" }), 400);
    assertHerodot(await adm.inject({ method: "DELETE", url: "/admin/identities/BADUUID/sessions" }), 400);
  });

  it("K-40 (deviation D6): DELETE /admin/identities/{id}/sessions answers 204 and revokes them all; rows stay, inactive", async (t) => {
    const { pub, adm, alice, a1, a2, bob } = await aliceTwiceBobOnce(t);
    const res = await adm.inject({ method: "DELETE", url: `/admin/identities/${alice.id}/sessions` });
    assert.equal(res.statusCode, 204);
    await assertDead(pub, a1.token);
    await assertDead(pub, a2.token);
    await assertLive(pub, bob.token);
    const list = json<SessionJson[]>(await adm.inject({ method: "GET", url: `/admin/identities/${alice.id}/sessions` }));
    assert.equal(list.length, 2, "Kratos hard-deletes; Curfew keeps the rows with the reason (D6)");
    assert.ok(list.every((s) => !s.active));
    // Repeating it is harmless, and the identity can still sign in afresh.
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/identities/${alice.id}/sessions` })).statusCode, 204);
    await signIn(pub, ALICE.email);
  });

  it("K-42: DELETE /admin/identities/{unknown}/sessions answers 404", async (t) => {
    const { adm } = await kratosFor(t);
    assertHerodot(await adm.inject({ method: "DELETE", url: `/admin/identities/${UNKNOWN_ID}/sessions` }), 404);
  });
});

describe("Admin sessions (K-31 to K-39, K-44 to K-46)", () => {
  it("K-35: GET /admin/sessions lists newest first without identity or devices, with a Link header", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    await createIdentity(adm, BOB);
    const a = await signIn(pub, ALICE.email);
    clock.advance(1000);
    const b = await signIn(pub, BOB.email);
    const res = await adm.inject({ method: "GET", url: "/admin/sessions" });
    assert.equal(res.statusCode, 200);
    assertNoStore(res);
    assert.match(String(res.headers.link), /rel="first"/);
    const list = json<SessionJson[]>(res);
    assert.deepEqual(list.map((s) => s.id), [b.session.id, a.session.id]);
    for (const s of list) {
      assert.equal(s.identity, null);
      assert.deepEqual(s.devices, []);
    }
  });

  it("K-35: expand=identity and expand=devices, in any case, expand the list; both together too", async (t) => {
    const { pub, adm } = await kratosFor(t);
    await createIdentity(adm, ALICE, { extra: { metadata_admin: { note: "vip" } } });
    await signIn(pub, ALICE.email, PASSWORD, { "user-agent": "ua/1" });
    const get = async (q: string) => {
      const res = await adm.inject({ method: "GET", url: `/admin/sessions?${q}` });
      assert.equal(res.statusCode, 200, `${q}: ${res.body}`);
      const s = json<SessionJson[]>(res)[0];
      assert.ok(s);
      return s;
    };
    for (const q of ["expand=identity", "expand=Identity", "expand=IDENTITY"]) {
      const s = await get(q);
      assert.equal(s.identity?.traits.email, ALICE.email, q);
      assert.deepEqual(s.identity?.metadata_admin, { note: "vip" });
      assert.deepEqual(s.devices, []);
    }
    for (const q of ["expand=devices", "expand=Devices"]) {
      const s = await get(q);
      assert.equal(s.identity, null);
      assert.equal(s.devices[0]?.user_agent, "ua/1");
    }
    const both = await get("expand=identity&expand=devices");
    assert.ok(both.identity);
    assert.equal(both.devices.length, 1);
  });

  it("as Kratos: an unknown expand value or a non-boolean active answers 400", async (t) => {
    const { adm } = await kratosFor(t);
    const body = assertHerodot(await adm.inject({ method: "GET", url: "/admin/sessions?expand=credentials" }), 400);
    assert.equal(body.error.message, "Could not parse expand option: credentials");
    assertHerodot(await adm.inject({ method: "GET", url: "/admin/sessions?expand=identity&expand=bogus" }), 400);
    assertHerodot(await adm.inject({ method: "GET", url: "/admin/sessions?active=1" }), 400);
  });

  it("as Kratos: ?active=true lists live sessions only, ?active=false the ended ones", async (t) => {
    const { pub, adm } = await withAlice(t);
    const live = await signIn(pub, ALICE.email);
    const ended = await signIn(pub, ALICE.email);
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/sessions/${ended.session.id}` })).statusCode, 204);
    const ids = async (q: string) => json<SessionJson[]>(await adm.inject({ method: "GET", url: `/admin/sessions?${q}` })).map((s) => s.id);
    assert.deepEqual(await ids("active=true"), [live.session.id]);
    assert.deepEqual(await ids("active=false"), [ended.session.id]);
    assert.equal((await ids("")).length, 2);
  });

  it("as Kratos: page_size is at most 1000 and at least 1 (ory/x pagination), and pages through with Link rel=next", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const made = (await signInSeries(pub, clock, ALICE.email, 3)).map((s) => s.session.id);
    clock.advance(1000);
    const big = await adm.inject({ method: "GET", url: "/admin/sessions?page_size=5000" });
    assert.equal(big.statusCode, 200);
    assert.match(String(big.headers.link), /page_size=1000>; rel="first"/);
    const zero = await adm.inject({ method: "GET", url: "/admin/sessions?page_size=0" });
    assert.equal(json<SessionJson[]>(zero).length, 3, "page_size=0 means the default size, not an empty page");
    const first = await adm.inject({ method: "GET", url: "/admin/sessions?page_size=2" });
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link))?.[1];
    assert.ok(next);
    const second = await adm.inject({ method: "GET", url: new URL(next).pathname.replace(/^\//, "/") + new URL(next).search });
    assert.deepEqual(
      [...json<SessionJson[]>(first), ...json<SessionJson[]>(second)].map((s) => s.id),
      [...made].reverse(),
    );
  });

  it("K-31 / K-32: GET /admin/sessions/{id} has no identity and no devices by default; expand adds them with metadata_admin", async (t) => {
    const { pub, adm } = await kratosFor(t);
    await createIdentity(adm, ALICE, { extra: { metadata_admin: { note: "vip" } } });
    const { session } = await signIn(pub, ALICE.email);
    const plain = await adm.inject({ method: "GET", url: `/admin/sessions/${session.id}` });
    assert.equal(plain.statusCode, 200);
    assertNoStore(plain);
    const body = json<SessionJson>(plain);
    assert.equal(body.id, session.id);
    assert.equal(body.active, true);
    assert.equal(body.identity, null);
    assert.deepEqual(body.devices, []);
    for (const q of ["expand=Identity&expand=Devices", "expand=identity&expand=devices"]) {
      const expanded = json<SessionJson>(await adm.inject({ method: "GET", url: `/admin/sessions/${session.id}?${q}` }));
      assert.deepEqual(expanded.identity?.metadata_admin, { note: "vip" }, q);
      assert.equal(expanded.devices.length, 1);
    }
  });

  it("K-33 / K-34: bad expand → 400; an unknown id → 404; a malformed id → 400; whoami → 307 to the public whoami", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { session } = await signIn(pub, ALICE.email);
    assertHerodot(await adm.inject({ method: "GET", url: `/admin/sessions/${session.id}?expand=invalid` }), 400);
    assertHerodot(await adm.inject({ method: "GET", url: `/admin/sessions/${UNKNOWN_ID}` }), 404);
    assertHerodot(await adm.inject({ method: "GET", url: "/admin/sessions/BADUUID" }), 400);
    const redirect = await adm.inject({ method: "GET", url: "/admin/sessions/whoami" });
    assert.equal(redirect.statusCode, 307);
    assert.equal(redirect.headers.location, "http://localhost:4433/sessions/whoami");
  });

  it("K-37 / K-55: DELETE /admin/sessions/{id} answers 204, the session is dead and shows active:false; repeating it is 204", async (t) => {
    const { pub, adm } = await withAlice(t);
    const target = await signIn(pub, ALICE.email);
    const other = await signIn(pub, ALICE.email);
    const res = await adm.inject({ method: "DELETE", url: `/admin/sessions/${target.session.id}` });
    assert.equal(res.statusCode, 204);
    assertNoStore(res);
    await assertDead(pub, target.token);
    assert.equal((await adminSession(adm, target.session.id)).active, false);
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/sessions/${target.session.id}` })).statusCode, 204);
    await assertLive(pub, other.token);
  });

  it("as Kratos: DELETE /admin/sessions/{id} with an unknown id answers 404, with a malformed one 400", async (t) => {
    const { adm } = await kratosFor(t);
    assertHerodot(await adm.inject({ method: "DELETE", url: `/admin/sessions/${UNKNOWN_ID}` }), 404, { id: null });
    assertHerodot(await adm.inject({ method: "DELETE", url: "/admin/sessions/BADUUID" }), 400);
  });

  it("K-39: a session of an inactive identity authenticates nobody and shows active:false with its identity loaded", async (t) => {
    const { pub, adm, t: server } = await kratosFor(t);
    const created = await createIdentity(adm, ALICE, { state: "inactive" });
    assert.equal(created.state, "inactive");
    // Sign-in refuses inactive identities, so begin the session in the core directly.
    const identity = await server.server.core.identities.get(created.id);
    const { token, session } = await server.server.core.sessions.begin(identity, { door: "kratos", ipAddress: null, userAgent: null });
    await assertDead(pub, token);
    // As Kratos's IsActive: the identity's state counts when the identity is loaded (expanded).
    const expanded = json<SessionJson>(await adm.inject({ method: "GET", url: `/admin/sessions/${session.id}?expand=identity` }));
    assert.equal(expanded.active, false);
    assert.equal(expanded.identity?.state, "inactive");
  });

  it("K-44: PATCH /admin/sessions/{id}/extend answers 200 with a later expires_at, which whoami then shows", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    for (let i = 0; i < 3; i++) {
      clock.advance(20 * MINUTE); // used within the idle timeout, so still live an hour later
      await assertLive(pub, token);
    }
    const res = await adm.inject({ method: "PATCH", url: `/admin/sessions/${session.id}/extend` });
    assert.equal(res.statusCode, 200, res.body);
    assertNoStore(res);
    const extended = json<SessionJson>(res);
    assert.equal(extended.id, session.id);
    assert.equal(extended.active, true);
    assert.equal(extended.identity?.traits.email, ALICE.email, "identity expanded");
    assert.equal(Date.parse(extended.expires_at), Date.parse(session.expires_at) + HOUR, "now + lifespan");
    assert.equal((await assertLive(pub, token)).expires_at, extended.expires_at);
    // Alive past the original expiry.
    for (let i = 0; i < 23; i++) {
      clock.advance(30 * MINUTE - 1);
      await assertLive(pub, token);
    }
    assert.ok(clock.now().getTime() > Date.parse(session.expires_at));
  });

  it("D6: extending a revoked session answers 404 and it stays revoked", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { token, session } = await signIn(pub, ALICE.email);
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    const before = await adminSession(adm, session.id);
    assertHerodot(await adm.inject({ method: "PATCH", url: `/admin/sessions/${session.id}/extend` }), 404);
    await assertDead(pub, token);
    const after = await adminSession(adm, session.id);
    assert.equal(after.active, false);
    assert.equal(after.expires_at, before.expires_at);
  });

  it("D6 (deviation from Kratos, which revives): extending an expired session answers 404 and it stays expired", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const absolute = await signIn(pub, ALICE.email);
    clock.advance(12 * HOUR);
    assertHerodot(await adm.inject({ method: "PATCH", url: `/admin/sessions/${absolute.session.id}/extend` }), 404);
    await assertDead(pub, absolute.token);
    assert.equal((await adminSession(adm, absolute.session.id)).expires_at, absolute.session.expires_at);

    const idle = await signIn(pub, ALICE.email);
    clock.advance(31 * MINUTE);
    assertHerodot(await adm.inject({ method: "PATCH", url: `/admin/sessions/${idle.session.id}/extend` }), 404);
    await assertDead(pub, idle.token);
  });

  it("K-45 / K-46: extend with a malformed id → 400, an unknown id → 404", async (t) => {
    const { adm } = await kratosFor(t);
    assertHerodot(await adm.inject({ method: "PATCH", url: "/admin/sessions/BADUUID/extend" }), 400);
    assertHerodot(await adm.inject({ method: "PATCH", url: `/admin/sessions/${UNKNOWN_ID}/extend` }), 404);
  });
});

describe("Admin listener and the admin key", () => {
  it("as Kratos: the admin listener serves its routes with or without the /admin prefix", async (t) => {
    const { pub, adm } = await kratosFor(t);
    const alice = await createIdentity(adm, ALICE);
    const { session } = await signIn(pub, ALICE.email);
    assert.equal((await adm.inject({ method: "GET", url: `/identities/${alice.id}` })).statusCode, 200);
    assert.equal(json<SessionJson>(await adm.inject({ method: "GET", url: `/sessions/${session.id}` })).id, session.id);
    assert.equal(json<SessionJson[]>(await adm.inject({ method: "GET", url: "/sessions?expand=identity" })).length, 1);
  });

  it("as Kratos: the public listener does not serve the admin API (nothing changes through it)", async (t) => {
    const { pub, adm } = await kratosFor(t);
    const alice = await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    const calls = [
      { method: "GET", url: "/admin/identities" },
      { method: "POST", url: "/admin/identities", payload: { schema_id: "default", traits: { email: "mallory@example.com" } } },
      { method: "DELETE", url: `/admin/identities/${alice.id}` },
      { method: "GET", url: "/admin/sessions" },
      { method: "DELETE", url: `/admin/sessions/${session.id}` },
      { method: "PATCH", url: `/admin/sessions/${session.id}/extend` },
    ] as const;
    for (const call of calls) assertHerodot(await pub.inject(call), 404);
    await assertLive(pub, token);
    assert.equal(json<IdentityJson[]>(await adm.inject({ method: "GET", url: "/admin/identities" })).length, 1);
  });

  it("serve.admin.key: without `Authorization: Bearer <key>` every admin call answers 401 and changes nothing", async (t) => {
    const key = "k".repeat(24) + "-admin-key-0001";
    const { pub, adm } = await kratosFor(t, { config: { "serve.admin.key": key } });
    const auth = { authorization: `Bearer ${key}` };
    const alice = await createIdentity(adm, ALICE, { headers: auth });
    const { token, session } = await signIn(pub, ALICE.email);
    const calls = [
      { method: "POST", url: "/admin/identities", payload: { schema_id: "default", traits: { email: "mallory@example.com" } } },
      { method: "GET", url: "/admin/identities" },
      { method: "GET", url: `/admin/identities/${alice.id}` },
      { method: "DELETE", url: `/admin/identities/${alice.id}` },
      { method: "GET", url: `/admin/identities/${alice.id}/sessions` },
      { method: "DELETE", url: `/admin/identities/${alice.id}/sessions` },
      { method: "GET", url: "/admin/sessions" },
      { method: "GET", url: `/admin/sessions/${session.id}` },
      { method: "DELETE", url: `/admin/sessions/${session.id}` },
      { method: "PATCH", url: `/admin/sessions/${session.id}/extend` },
      { method: "GET", url: "/identities" },
      { method: "DELETE", url: `/sessions/${session.id}` },
    ] as const;
    const wrong: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${key}x` },
      { authorization: `Bearer ${key.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`admin:${key}`).toString("base64")}` },
      { authorization: key },
      { "x-session-token": token },
      { authorization: `Bearer ${token}` },
    ];
    for (const call of calls) {
      for (const headers of wrong) {
        const res = await adm.inject({ ...call, headers });
        assertHerodot(res, 401);
        assert.match(String(res.headers["www-authenticate"]), /^Bearer/);
        assert.ok(!res.body.includes(key), "the key is never echoed");
      }
    }
    await assertLive(pub, token);
    const list = await adm.inject({ method: "GET", url: "/admin/identities", headers: auth });
    assert.deepEqual(json<IdentityJson[]>(list).map((i) => i.id), [alice.id]);
    const row = await adminSession(adm, session.id, { authorization: `bearer ${key}` });
    assert.equal(row.expires_at, session.expires_at, "not extended");
    assert.equal(row.active, true);
  });

  it("serve.admin.key: with the key every admin call works", async (t) => {
    const key = "0123456789abcdef0123456789abcdef";
    const { pub, adm } = await kratosFor(t, { config: { "serve.admin.key": key } });
    const auth = { authorization: `Bearer ${key}` };
    const alice = await createIdentity(adm, ALICE, { headers: auth });
    const { token, session } = await signIn(pub, ALICE.email);
    assert.equal((await adm.inject({ method: "GET", url: "/admin/sessions", headers: auth })).statusCode, 200);
    assert.equal((await adm.inject({ method: "PATCH", url: `/admin/sessions/${session.id}/extend`, headers: auth })).statusCode, 200);
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/sessions/${session.id}`, headers: auth })).statusCode, 204);
    await assertDead(pub, token);
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/identities/${alice.id}`, headers: auth })).statusCode, 204);
  });

  it("serve.admin.key: a key shorter than 32 characters stops start-up", async () => {
    await assert.rejects(startTestServer({ config: { "serve.admin.key": "too-short" } }), /serve\.admin\.key: must be at least 32 characters/);
  });
});
