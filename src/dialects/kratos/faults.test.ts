/**
 * Store faults at the Kratos door (D19; INV-1, INV-3, SEC-78, FLT-01,
 * FLT-03): a store that cannot confirm never produces a success, validation fails closed
 * (503, never 200), the answer is herodot with Retry-After, nothing is half-done, and once the
 * store is back a retry does what the first call could not.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FailingStore, type FaultMode, type StoreMethod } from "../../../test/support/failing-store.ts";
import {
  ALICE,
  PASSWORD,
  adminSession,
  assertDead,
  assertHerodot,
  assertLive,
  byBearer,
  byCookie,
  bySessionToken,
  captureLogs,
  createIdentity,
  json,
  kratosFor,
  loginFlow,
  nativeLogout,
  registrationFlow,
  signIn,
  submitLogin,
  updateFlow,
  whoami,
  type IdentityJson,
  type Kratos,
  type Response,
  type SessionJson,
} from "../../../test/support/kratos.ts";
import { ManualClock } from "../../../test/support/server.ts";

const MINUTE = 60 * 1000;

interface Faulty extends Kratos {
  store: FailingStore;
}

async function faulty(t: { after(fn: () => unknown): void }, options: { clock?: ManualClock; config?: Record<string, unknown> } = {}): Promise<Faulty> {
  const store = await FailingStore.open();
  const k = await kratosFor(t, { ...options, store });
  return { ...k, store };
}

/** INV-3: the store could not confirm, so: 503, herodot, Retry-After, no claim of success, no cookie change. */
function assertUnavailable(res: Response): void {
  const body = assertHerodot(res, 503);
  assert.equal(body.error.status, "Service Unavailable");
  assert.match(body.error.reason ?? "", /Nothing was changed; try again/);
  assert.equal(res.headers["retry-after"], "1");
  assert.equal(res.headers["set-cookie"], undefined, "INV-3: the cookie is kept");
  assert.doesNotMatch(res.body, /injected store fault/, "the cause stays in the log");
}

/** Runs `during` with `methods` failing in `mode`, then heals them. */
async function withFault<T>(store: FailingStore, methods: StoreMethod | StoreMethod[], mode: FaultMode, during: () => Promise<T>): Promise<T> {
  store.fail(methods, mode);
  try {
    return await during();
  } finally {
    store.heal(...(typeof methods === "string" ? [methods] : methods));
  }
}

describe("Logout under store faults (INV-1, INV-3)", () => {
  it("INV-1/INV-3 (FLT-01): native logout with revokeSessions down answers 503 with Retry-After; the session still works; a retry after recovery answers 204", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    await withFault(store, "revokeSessions", "before", async () => {
      for (let i = 0; i < 3; i++) assertUnavailable(await nativeLogout(pub, token));
      // Never reported as logged out, and the session was not half-ended either.
      await assertLive(pub, token);
    });
    assert.equal((await adminSession(adm, session.id)).active, true);
    await assertLive(pub, token);
    const retry = await nativeLogout(pub, token);
    assert.equal(retry.statusCode, 204);
    await assertDead(pub, token);
  });

  it("INV-1 (FLT-03): an ambiguous commit (revoked, answer lost) answers 503, never 204; the retry answers 204 and the token stays dead", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    await withFault(store, "revokeSessions", "after", async () => {
      assertUnavailable(await nativeLogout(pub, token));
    });
    // The revocation did commit: the client was told 503 and may retry safely (SEC-24).
    await assertDead(pub, token);
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    assert.equal((await adminSession(adm, session.id)).active, false);
    await assertDead(pub, token);
  });

  it("INV-3: native logout with the session lookup down answers 503, not 403 'unknown token'", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    await withFault(store, "findSession", "before", async () => {
      assertUnavailable(await nativeLogout(pub, token));
      // A token that is not even of our shape is refused without the store.
      assertHerodot(await nativeLogout(pub, "not-a-token"), 403);
    });
    await assertLive(pub, token);
  });

  it("INV-3: DELETE /sessions/{id} with the store failing answers 503; the other session is still valid; a retry ends it", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const other = await signIn(pub, ALICE.email);
    const current = await signIn(pub, ALICE.email);
    for (const headers of [bySessionToken(current.token), byCookie(current.token)]) {
      await withFault(store, "revokeSessions", "before", async () => {
        assertUnavailable(await pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers }));
      });
      await assertLive(pub, other.token);
      await assertLive(pub, current.token);
    }
    assert.equal((await pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers: bySessionToken(current.token) })).statusCode, 204);
    await assertDead(pub, other.token);
  });

  it("INV-3: DELETE /sessions with the store failing answers 503 and every other session stays valid", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const others = [await signIn(pub, ALICE.email), await signIn(pub, ALICE.email)];
    const current = await signIn(pub, ALICE.email);
    await withFault(store, "revokeSessions", "before", async () => {
      assertUnavailable(await pub.inject({ method: "DELETE", url: "/sessions", headers: bySessionToken(current.token) }));
    });
    for (const o of others) await assertLive(pub, o.token);
    assert.deepEqual(json(await pub.inject({ method: "DELETE", url: "/sessions", headers: bySessionToken(current.token) })), { count: 2 });
  });
});

describe("Validation under store faults (INV-3, SEC-78)", () => {
  it("INV-3/SEC-78: whoami with findSessionWithIdentity failing answers 503, never 200, in every carrier; after recovery 200", async (t) => {
    const { pub, adm, store } = await faulty(t);
    const identity = await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    await assertLive(pub, token); // warm whatever the store caches: the fault must still win
    await withFault(store, "findSessionWithIdentity", "before", async () => {
      for (const headers of [bySessionToken(token), byCookie(token), byBearer(token)]) {
        for (const method of ["GET", "POST", "DELETE"] as const) {
          const res = await whoami(pub, headers, method);
          assertUnavailable(res);
          assert.equal(res.headers["x-kratos-authenticated-identity-id"], undefined);
        }
      }
      // Without any credential there is nothing to check: still the plain 401.
      assertHerodot(await whoami(pub), 401);
    });
    const res = await whoami(pub, bySessionToken(token));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["x-kratos-authenticated-identity-id"], identity.id);
  });

  it("INV-3: whoami answers 503 when the activity write fails, rather than passing an unrecorded use", async (t) => {
    const clock = new ManualClock();
    const { pub, adm, store } = await faulty(t, { clock });
    await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    clock.advance(2 * MINUTE); // past the last-seen granularity: this whoami must write
    await withFault(store, "touchSession", "before", async () => {
      assertUnavailable(await whoami(pub, bySessionToken(token)));
    });
    await assertLive(pub, token);
  });

  it("INV-3: every self-service session endpoint fails closed while sessions cannot be read", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const other = await signIn(pub, ALICE.email);
    const { token } = await signIn(pub, ALICE.email);
    await withFault(store, "findSessionWithIdentity", "before", async () => {
      const headers = bySessionToken(token);
      assertUnavailable(await pub.inject({ method: "GET", url: "/sessions", headers }));
      assertUnavailable(await pub.inject({ method: "DELETE", url: "/sessions", headers }));
      assertUnavailable(await pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers }));
      // "Already signed in?" cannot be answered either: no flow is handed out as if signed out.
      assertUnavailable(await pub.inject({ method: "GET", url: "/self-service/login/api", headers }));
    });
    await assertLive(pub, other.token);
    await assertLive(pub, token);
  });

  it("INV-3: GET /sessions with the list query failing answers 503", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    for (const method of ["listSessions", "countSessions"] as const) {
      await withFault(store, method, "before", async () => {
        assertUnavailable(await pub.inject({ method: "GET", url: "/sessions", headers: bySessionToken(token) }));
      });
    }
  });
});

describe("Sign-in and registration under store faults (INV-3)", () => {
  it("INV-3: a sign-in whose identity lookup fails answers 503, not the 400 of wrong credentials, and does not count as a failure", async (t) => {
    const { pub, adm, store } = await faulty(t, { config: { "login.rate_limit.per_identifier.max": 2 } });
    await createIdentity(adm, ALICE);
    await withFault(store, "findIdentityByIdentifier", "before", async () => {
      for (let i = 0; i < 3; i++) assertUnavailable(await submitLogin(pub, ALICE.email, PASSWORD));
    });
    await signIn(pub, ALICE.email);
  });

  it("SEC-60/D13: a throttled sign-in is refused after at most the account lookup, so before any password is hashed or session stored", async (t) => {
    const { pub, adm, store } = await faulty(t, { config: { "login.rate_limit.per_identifier.max": 2 } });
    await createIdentity(adm, ALICE);
    for (let i = 0; i < 2; i++) assert.equal((await submitLogin(pub, ALICE.email, "wrong password")).statusCode, 400);
    const lookups = store.callCount("findIdentityByIdentifier");
    const inserts = store.callCount("insertSession");
    // Failures count per account (SEC-60), so the account is looked up first; nothing else happens.
    assertHerodot(await submitLogin(pub, ALICE.email, PASSWORD), 429);
    assert.ok(store.callCount("findIdentityByIdentifier") <= lookups + 1);
    assert.equal(store.callCount("insertSession"), inserts);
  });

  it("INV-1: a sign-in whose session cannot be stored answers 503 and hands out no token", async (t) => {
    const { pub, adm, store, t: server } = await faulty(t);
    await createIdentity(adm, ALICE);
    const flow = await loginFlow(pub);
    await withFault(store, "insertSession", "before", async () => {
      const res = await submitLogin(pub, ALICE.email, PASSWORD, { flowId: flow.id });
      assertUnavailable(res);
      assert.ok(!res.body.includes("session_token"));
    });
    assert.equal(await server.server.core.sessions.count({}), 0);
    assert.equal((await submitLogin(pub, ALICE.email, PASSWORD, { flowId: flow.id })).statusCode, 200);
  });

  it("INV-3: flows that cannot be stored or read answer 503", async (t) => {
    const { pub, store } = await faulty(t);
    await withFault(store, "insertFlow", "before", async () => {
      assertUnavailable(await pub.inject({ method: "GET", url: "/self-service/login/api" }));
      assertUnavailable(await pub.inject({ method: "GET", url: "/self-service/registration/api" }));
    });
    const flow = await loginFlow(pub);
    await withFault(store, "findFlow", "before", async () => {
      assertUnavailable(await pub.inject({ method: "GET", url: `/self-service/login/flows?id=${flow.id}` }));
      assertUnavailable(await submitLogin(pub, ALICE.email, PASSWORD, { flowId: flow.id }));
    });
  });

  it("INV-3: a registration whose identity cannot be stored answers 503, not 'identifier taken', and creates nothing", async (t) => {
    const { pub, adm, store } = await faulty(t);
    const flow = await registrationFlow(pub);
    const payload = { method: "password", traits: { email: "new@example.com" }, password: PASSWORD };
    await withFault(store, "insertIdentity", "before", async () => {
      assertUnavailable(await updateFlow(pub, "registration", flow.id, payload));
    });
    assert.deepEqual(json(await adm.inject({ method: "GET", url: "/admin/identities" })), []);
    assert.equal((await updateFlow(pub, "registration", flow.id, payload)).statusCode, 200);
  });
});

describe("Admin API under store faults (INV-1, INV-3)", () => {
  it("INV-1/INV-3: DELETE /admin/sessions/{id} with the store failing answers 503 (not 404, not 204); the session is still valid", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    for (const method of ["findSession", "revokeSessions"] as const) {
      await withFault(store, method, "before", async () => {
        assertUnavailable(await adm.inject({ method: "DELETE", url: `/admin/sessions/${session.id}` }));
      });
      await assertLive(pub, token);
    }
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/sessions/${session.id}` })).statusCode, 204);
    await assertDead(pub, token);
  });

  it("INV-1/SEC-17: deleting an identity with the store failing answers 503; the identity and its sessions are intact", async (t) => {
    const { pub, adm, store } = await faulty(t);
    const identity = await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    await withFault(store, "revokeSessions", "before", async () => {
      assertUnavailable(await adm.inject({ method: "DELETE", url: `/admin/identities/${identity.id}` }));
    });
    await assertLive(pub, token);
    assert.equal(json<IdentityJson>(await adm.inject({ method: "GET", url: `/admin/identities/${identity.id}` })).id, identity.id);
    await withFault(store, ["findIdentity", "revokeSessions"], "before", async () => {
      assertUnavailable(await adm.inject({ method: "DELETE", url: `/admin/identities/${identity.id}/sessions` }));
    });
    await assertLive(pub, token);
    assert.equal((await adm.inject({ method: "DELETE", url: `/admin/identities/${identity.id}` })).statusCode, 204);
    await assertDead(pub, token);
  });

  it("INV-3 / D6: extend with the store failing answers 503 and the expiry is unchanged", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await createIdentity(adm, ALICE);
    const { session } = await signIn(pub, ALICE.email);
    for (const method of ["findSession", "extendSession"] as const) {
      await withFault(store, method, "before", async () => {
        assertUnavailable(await adm.inject({ method: "PATCH", url: `/admin/sessions/${session.id}/extend` }));
      });
    }
    assert.equal((await adminSession(adm, session.id)).expires_at, session.expires_at);
  });

  it("INV-3: admin reads with the store failing answer 503, never an empty list or a 404", async (t) => {
    const { pub, adm, store } = await faulty(t);
    const identity = await createIdentity(adm, ALICE);
    const { session } = await signIn(pub, ALICE.email);
    await withFault(store, ["listSessions", "listIdentities", "findIdentity", "findSession", "countSessions"], "before", async () => {
      for (const url of [
        "/admin/sessions",
        "/admin/identities",
        `/admin/identities/${identity.id}`,
        `/admin/identities/${identity.id}/sessions`,
        `/admin/sessions/${session.id}`,
      ]) {
        assertUnavailable(await adm.inject({ method: "GET", url }));
      }
    });
    await withFault(store, "findIdentity", "before", async () => {
      // The identity of an expanded session cannot be loaded: that is a failure, not "deleted".
      assertUnavailable(await adm.inject({ method: "GET", url: `/admin/sessions/${session.id}?expand=identity` }));
      assertUnavailable(await adm.inject({ method: "GET", url: "/admin/sessions?expand=identity" }));
    });
    assert.equal(json<SessionJson[]>(await adm.inject({ method: "GET", url: "/admin/sessions" })).length, 1);
  });
});

describe("Readiness and logging under store faults", () => {
  it("INV-3: /health/ready answers 503 on both listeners while the store does not commit, /health/alive stays 200", async (t) => {
    const clock = new ManualClock();
    const { pub, adm, store } = await faulty(t, { clock });
    for (const app of [pub, adm]) assert.deepEqual(json(await app.inject({ method: "GET", url: "/health/ready" })), { status: "ok" });
    await withFault(store, "ping", "before", async () => {
      // One probe a second: within the second, the last answer stands.
      assert.equal((await pub.inject({ method: "GET", url: "/health/ready" })).statusCode, 200);
      clock.advance(1_000);
      for (const app of [pub, adm]) {
        const ready = await app.inject({ method: "GET", url: "/health/ready" });
        assert.equal(ready.statusCode, 503);
        assert.equal(json<{ status: string }>(ready).status, "unavailable");
        assert.doesNotMatch(ready.body, /injected store fault/);
        assert.equal((await app.inject({ method: "GET", url: "/health/alive" })).statusCode, 200);
      }
    });
    clock.advance(1_000);
    for (const app of [pub, adm]) assert.equal((await app.inject({ method: "GET", url: "/health/ready" })).statusCode, 200);
  });

  it("SEC-06: a store failure is logged with its cause, and without the token", async (t) => {
    const { pub, adm, store } = await faulty(t, { config: { "log.level": "error" } });
    await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    const logs = captureLogs(pub);
    t.after(() => logs.restore());
    await withFault(store, "revokeSessions", "before", async () => {
      assertUnavailable(await nativeLogout(pub, token));
    });
    await withFault(store, "findSessionWithIdentity", "before", async () => {
      assertUnavailable(await whoami(pub, bySessionToken(token)));
    });
    const text = logs.lines.join("");
    assert.match(text, /store unavailable/);
    assert.match(text, /injected store fault in revokeSessions/);
    assert.ok(!text.includes(token) && !text.includes(token.split(".")[1] as string), "no token in the log");
    assert.ok(!text.includes(PASSWORD));
  });
});
