/**
 * The Kratos door's native self-service flows, in process: login and registration
 * (docs/dialects/kratos.md), native logout (K-1 to K-4), sign-in throttling
 * (D13, SEC-60, SEC-61), and what never leaks (SEC-06, SEC-11).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
  attr,
  byBearer,
  byCookie,
  bySessionToken,
  captureLogs,
  createIdentity,
  json,
  kratosFor,
  loginFlow,
  nativeLogout,
  nodeNamed,
  registrationFlow,
  signIn,
  submitLogin,
  updateFlow,
  whoami,
  withAlice,
  type FlowJson,
  type SessionJson,
  type IdentityJson,
} from "../../../test/support/kratos.ts";
import { ManualClock } from "../../../test/support/server.ts";

const TOKEN_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/;

function nodeNames(flow: FlowJson): unknown[] {
  return flow.ui.nodes.map((n) => attr(n, "name"));
}

describe("Kratos native login flow", () => {
  it("createNativeLoginFlow answers 200 with an api flow the SDK can read, and getLoginFlow returns it", async (t) => {
    const { pub } = await kratosFor(t);
    const res = await pub.inject({ method: "GET", url: "/self-service/login/api" });
    assert.equal(res.statusCode, 200);
    assertNoStore(res);
    const flow = json<FlowJson>(res);
    assert.equal(flow.type, "api");
    assert.equal(flow.state, "choose_method");
    assert.equal(flow.ui.method, "POST");
    assert.equal(flow.ui.action, `http://localhost:4433/self-service/login?flow=${flow.id}`);
    assert.equal(flow.ui.messages, undefined, "ui.messages is omitted when empty");
    assert.deepEqual(
      nodeNames(flow),
      ["identifier", "password", "method"],
      "an api flow has no csrf_token node",
    );
    for (const node of flow.ui.nodes) {
      assert.ok(Array.isArray(node.messages), "every node's messages is an array (the SDK needs it)");
      assert.equal(typeof node.meta, "object");
    }
    assert.ok(Date.parse(flow.expires_at) > Date.parse(flow.issued_at));

    const got = await pub.inject({ method: "GET", url: `/self-service/login/flows?id=${flow.id}` });
    assert.equal(got.statusCode, 200);
    assertNoStore(got);
    assert.deepEqual(json<FlowJson>(got), flow);
  });

  it("the right password answers 200 with a session token and the session, and sets no cookie", async (t) => {
    const { pub, adm } = await kratosFor(t);
    const identity = await createIdentity(adm, ALICE);
    const res = await submitLogin(pub, ALICE.email, PASSWORD);
    assert.equal(res.statusCode, 200, res.body);
    assertNoStore(res);
    assert.equal(res.headers["set-cookie"], undefined, "native flows never set cookies");
    const body = json<{ session_token: string; session: SessionJson; continue_with: unknown }>(res);
    assert.match(body.session_token, TOKEN_SHAPE, "D1: the token is id.secret");
    assert.equal(body.session_token.split(".")[0], body.session.id);
    assert.equal(body.continue_with, null);
    assert.equal(body.session.active, true);
    assert.equal(body.session.door, "kratos");
    assert.equal(body.session.identity?.id, identity.id);
    assert.equal(body.session.identity?.credentials, undefined);
    assert.equal(body.session.identity?.metadata_admin, undefined);
    await assertLive(pub, body.session_token);
  });

  it("D9: the username is an identifier too, and both match case-insensitively", async (t) => {
    const { pub, adm } = await kratosFor(t);
    const identity = await createIdentity(adm, ALICE);
    for (const identifier of ["alice", "ALICE", "Alice@Example.COM"]) {
      const { session } = await signIn(pub, identifier);
      assert.equal(session.identity?.id, identity.id, identifier);
    }
  });

  it("D14/SEC-62: a wrong password and an unknown identifier get the same status and the same flow body", async (t) => {
    const { pub } = await withAlice(t);
    const flow = await loginFlow(pub);
    // Same flow, same shape of identifier: only the identifier itself may differ (it is echoed).
    const wrong = await submitLogin(pub, "alice@example.com", "not the password", { flowId: flow.id });
    const unknown = await submitLogin(pub, "nobody@example.com", "not the password", { flowId: flow.id });
    assert.equal(wrong.statusCode, 400);
    assert.equal(unknown.statusCode, wrong.statusCode);
    assert.equal(wrong.body.replaceAll("alice@example.com", "X"), unknown.body.replaceAll("nobody@example.com", "X"));
    assert.deepEqual(
      { ...wrong.headers, date: null, "content-length": null },
      { ...unknown.headers, date: null, "content-length": null },
      "same headers too",
    );
    const body = json<FlowJson>(wrong);
    assert.deepEqual(body.ui.messages, [
      {
        id: 4000006,
        text: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
        type: "error",
      },
    ]);
    assert.equal(attr(nodeNamed(body, "identifier"), "value"), "alice@example.com", "the identifier is kept");
    assert.ok(!wrong.body.includes("not the password"), "SEC-06: the password is never echoed");
    assertNoStore(wrong);
  });

  it("D14/SEC-62: an identity without a password, and a disabled identity, fail exactly like a wrong password", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, { email: "nopass@example.com" }, { password: null });
    await createIdentity(adm, { email: "off@example.com" }, { state: "inactive" });
    const flow = await loginFlow(pub);
    const norm = (body: string, who: string) => body.replaceAll(who, "X");
    const wrong = await submitLogin(pub, "alice@example.com", "not the password", { flowId: flow.id });
    const noPassword = await submitLogin(pub, "nopass@example.com", "not the password", { flowId: flow.id });
    const disabled = await submitLogin(pub, "off@example.com", PASSWORD, { flowId: flow.id });
    assert.equal(noPassword.statusCode, 400);
    assert.equal(disabled.statusCode, 400);
    assert.equal(norm(noPassword.body, "nopass@example.com"), norm(wrong.body, "alice@example.com"));
    assert.equal(norm(disabled.body, "off@example.com"), norm(wrong.body, "alice@example.com"));
  });

  it("a missing identifier or password puts message 4000002 on that node", async (t) => {
    const { pub } = await withAlice(t);
    const flow = await loginFlow(pub);
    const noPassword = await updateFlow(pub, "login", flow.id, { method: "password", identifier: ALICE.email });
    assert.equal(noPassword.statusCode, 400);
    assertNoStore(noPassword);
    assert.deepEqual(nodeNamed(json<FlowJson>(noPassword), "password").messages, [
      { id: 4000002, text: "Property password is missing.", type: "error", context: { property: "password" } },
    ]);
    const noIdentifier = await updateFlow(pub, "login", flow.id, { method: "password", password: PASSWORD });
    assert.equal(noIdentifier.statusCode, 400);
    assert.deepEqual(nodeNamed(json<FlowJson>(noIdentifier), "identifier").messages, [
      { id: 4000002, text: "Property identifier is missing.", type: "error", context: { property: "identifier" } },
    ]);
  });

  it("the legacy password_identifier field still signs in", async (t) => {
    const { pub } = await withAlice(t);
    const flow = await loginFlow(pub);
    const res = await updateFlow(pub, "login", flow.id, { method: "password", password_identifier: ALICE.email, password: PASSWORD });
    assert.equal(res.statusCode, 200, res.body);
  });

  it("an unknown method answers 400 with the flow and a no-strategy message, and signs nobody in", async (t) => {
    const { pub } = await withAlice(t);
    const flow = await loginFlow(pub);
    const res = await updateFlow(pub, "login", flow.id, { method: "totp", identifier: ALICE.email, password: PASSWORD });
    assert.equal(res.statusCode, 400);
    const body = json<FlowJson>(res);
    assert.equal(body.id, flow.id);
    assert.equal(body.ui.messages?.[0]?.id, 4010002);
    assert.ok(!res.body.includes("session_token"));
  });

  it("an expired flow answers 410 self_service_flow_expired with use_flow_id, and that flow works", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const flow = await loginFlow(pub);
    clock.advance(60 * 60 * 1000 + 1); // the default lifespan is 1h
    const res = await submitLogin(pub, ALICE.email, PASSWORD, { flowId: flow.id });
    const body = assertHerodot(res, 410, { id: "self_service_flow_expired" });
    assert.equal(body.error.message, "self-service flow expired");
    assert.equal(body.expired_at, flow.expires_at);
    assert.equal(typeof body.since, "number");
    assert.ok((body.since as number) > 0, "since is in nanoseconds and positive");
    assert.equal(typeof body.use_flow_id, "string");
    assert.notEqual(body.use_flow_id, flow.id);
    assert.ok(!res.body.includes("session_token"), "no session was created");

    const replacement = await submitLogin(pub, ALICE.email, PASSWORD, { flowId: body.use_flow_id as string });
    assert.equal(replacement.statusCode, 200, replacement.body);

    const getExpired = await pub.inject({ method: "GET", url: `/self-service/login/flows?id=${flow.id}` });
    assertHerodot(getExpired, 410, { id: "self_service_flow_expired" });
  });

  it("?flow= missing or malformed answers 400; an unknown flow 404; at login and at registration", async (t) => {
    const { pub } = await kratosFor(t);
    for (const type of ["login", "registration"] as const) {
      const payload = type === "login" ? { method: "password", identifier: "a@example.com", password: PASSWORD } : { method: "password", traits: { email: "a@example.com" }, password: PASSWORD };
      for (const query of ["", "?flow=", "?flow=not-a-uuid", "?flow=00000000-0000-0000-0000-00000000000g"]) {
        const res = await pub.inject({ method: "POST", url: `/self-service/${type}${query}`, payload });
        assertHerodot(res, 400, { reason: "The flow query parameter is missing or malformed." });
      }
      const unknown = await pub.inject({ method: "POST", url: `/self-service/${type}?flow=${UNKNOWN_ID}`, payload });
      assertHerodot(unknown, 404);
      const get = await pub.inject({ method: "GET", url: `/self-service/${type}/flows?id=${UNKNOWN_ID}` });
      assertHerodot(get, 404);
    }
  });

  it("a registration flow cannot be submitted as a login flow (404), nor the reverse", async (t) => {
    const { pub } = await withAlice(t);
    const reg = await registrationFlow(pub);
    assertHerodot(await submitLogin(pub, ALICE.email, PASSWORD, { flowId: reg.id }), 404);
    const login = await loginFlow(pub);
    const res = await updateFlow(pub, "registration", login.id, { method: "password", traits: { email: "new@example.com" }, password: PASSWORD });
    assertHerodot(res, 404);
    assertHerodot(await pub.inject({ method: "GET", url: `/self-service/login/flows?id=${reg.id}` }), 404);
  });

  it("createNativeLoginFlow with a live session answers 400 session_already_available; refresh=true and dead tokens pass", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    for (const headers of [bySessionToken(token), byBearer(token), byCookie(token)]) {
      const res = await pub.inject({ method: "GET", url: "/self-service/login/api", headers });
      const body = assertHerodot(res, 400, { id: "session_already_available" });
      assert.equal(body.error.reason, "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?");
      assert.equal(body.error.message, "you are already logged in");
    }
    const refresh = await pub.inject({ method: "GET", url: "/self-service/login/api?refresh=true", headers: bySessionToken(token) });
    assert.equal(refresh.statusCode, 200);
    const garbage = await pub.inject({ method: "GET", url: "/self-service/login/api", headers: bySessionToken("garbage") });
    assert.equal(garbage.statusCode, 200, "a token that authenticates nobody is no session");
  });

  it("refresh=true re-authenticates: the same person renews the same session; someone else's credentials are refused (security_identity_mismatch)", async (t) => {
    const { pub, adm } = await kratosFor(t);
    await createIdentity(adm, ALICE);
    await createIdentity(adm, BOB);
    const { token, session } = await signIn(pub, ALICE.email);
    const flowOf = async () => {
      const res = await pub.inject({ method: "GET", url: "/self-service/login/api?refresh=true", headers: bySessionToken(token) });
      assert.equal(res.statusCode, 200, res.body);
      const flow = json<FlowJson & { refresh: boolean }>(res);
      assert.equal(flow.refresh, true);
      return flow;
    };
    const mismatch = await submitLogin(pub, BOB.email, PASSWORD, { headers: bySessionToken(token), flowId: (await flowOf()).id });
    assertHerodot(mismatch, 400, { id: "security_identity_mismatch" });
    const same = await submitLogin(pub, ALICE.email, PASSWORD, { headers: bySessionToken(token), flowId: (await flowOf()).id });
    assert.equal(same.statusCode, 200, same.body);
    const body = json<{ session_token: string; session: SessionJson }>(same);
    assert.equal(body.session.id, session.id, "the same session");
    assert.equal(body.session_token, token, "the token the client holds");
    assert.ok(Date.parse(body.session.authenticated_at) >= Date.parse(session.authenticated_at));
    // Without a session, refresh=true is an ordinary login flow.
    const plain = json<FlowJson & { refresh: boolean }>(await pub.inject({ method: "GET", url: "/self-service/login/api?refresh=true" }));
    assert.equal(plain.refresh, false);
  });

  it("submitting a login while signed in answers the 400 flow with Kratos's 'a valid session was detected' message, and begins no session", async (t) => {
    const { pub, adm, t: server } = await kratosFor(t);
    const identity = await createIdentity(adm, ALICE);
    const { token } = await signIn(pub, ALICE.email);
    const res = await submitLogin(pub, ALICE.email, PASSWORD, { headers: bySessionToken(token) });
    assert.equal(res.statusCode, 400);
    const body = json<FlowJson>(res);
    assert.equal(body.ui.messages?.[0]?.id, 4000001);
    assert.match(body.ui.messages?.[0]?.text ?? "", /A valid session was detected and thus login is not possible/);
    assert.equal(await server.server.core.sessions.count({ identityId: identity.id }), 1);
  });

  it("only aal1 can be requested; anything else is a 400", async (t) => {
    const { pub } = await kratosFor(t);
    assert.equal((await pub.inject({ method: "GET", url: "/self-service/login/api?aal=aal1" })).statusCode, 200);
    const res = await pub.inject({ method: "GET", url: "/self-service/login/api?aal=aal0" });
    assertHerodot(res, 400, { reason: /Unable to parse AuthenticationMethod Assurance Level/ });
  });

  it("SEC-12: every sign-in issues a new token, and an earlier token stays its own session", async (t) => {
    const { pub } = await withAlice(t);
    const tokens = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { token, session } = await signIn(pub, ALICE.email);
      tokens.add(token);
      ids.add(session.id);
    }
    assert.equal(tokens.size, 4);
    assert.equal(ids.size, 4);
    for (const token of tokens) await assertLive(pub, token);
  });

  it("SEC-05: a well-formed token the server never issued is refused, and signing in never adopts it", async (t) => {
    const { pub } = await withAlice(t);
    const forged = `${UNKNOWN_ID}.${"A".repeat(43)}`;
    await assertDead(pub, forged);
    const { token } = await signIn(pub, ALICE.email, PASSWORD, bySessionToken(forged));
    assert.notEqual(token, forged);
    assert.notEqual(token.split(".")[0], UNKNOWN_ID);
    await assertDead(pub, forged);
  });
});

describe("Kratos native registration flow", () => {
  it("registration answers 200 with session_token, session, identity and continue_with, and signs the identity in", async (t) => {
    const { pub } = await kratosFor(t);
    const flow = await registrationFlow(pub);
    assert.equal(flow.type, "api");
    assert.deepEqual(
      nodeNames(flow),
      ["traits.email", "traits.username", "password", "method"],
    );
    const res = await updateFlow(pub, "registration", flow.id, { method: "password", traits: { email: "Bob@Example.com", username: "bob" }, password: PASSWORD });
    assert.equal(res.statusCode, 200, res.body);
    assertNoStore(res);
    assert.equal(res.headers["set-cookie"], undefined);
    const body = json<{ session_token: string; session: SessionJson; identity: IdentityJson; continue_with: unknown[] }>(res);
    assert.match(body.session_token, TOKEN_SHAPE);
    assert.deepEqual(body.identity.traits, { email: "Bob@Example.com", username: "bob" }, "D9: stored as given");
    assert.equal(body.identity.schema_id, "default");
    assert.equal(body.identity.schema_url, "http://localhost:4433/schemas/ZGVmYXVsdA");
    assert.equal(body.identity.credentials, undefined);
    assert.equal(body.session.identity?.id, body.identity.id);
    assert.deepEqual(body.continue_with, [{ action: "set_ory_session_token", ory_session_token: body.session_token }]);
    await assertLive(pub, body.session_token);
    await signIn(pub, "bob@example.com");
  });

  it("SEC-66 / D9: an email the identity schema accepts but JSON Schema's strict 'email' format does not still registers, signs in and shows (never a 500 after the commit)", async (t) => {
    const { pub, adm } = await kratosFor(t);
    for (const email of ["ü@example.com", "a..b@example.com", "x@-example.com"]) {
      const flow = await registrationFlow(pub);
      const res = await updateFlow(pub, "registration", flow.id, { method: "password", traits: { email }, password: PASSWORD });
      assert.equal(res.statusCode, 200, `${email}: ${res.body.slice(0, 200)}`);
      const { session_token } = json<{ session_token: string }>(res);
      assert.equal((await assertLive(pub, session_token)).identity?.traits.email, email);
      const { token } = await signIn(pub, email);
      await assertLive(pub, token);
    }
    const list = await adm.inject({ method: "GET", url: "/admin/sessions?expand=identity" });
    assert.equal(list.statusCode, 200);
    assert.equal(json<SessionJson[]>(list).length, 6);
  });

  it("a duplicate identifier (email or username, any case) answers the 400 flow with 4000007", async (t) => {
    const { pub, adm } = await withAlice(t);
    for (const traits of [{ email: "ALICE@example.com" }, { email: "other@example.com", username: "Alice" }]) {
      const flow = await registrationFlow(pub);
      const res = await updateFlow(pub, "registration", flow.id, { method: "password", traits, password: PASSWORD });
      assert.equal(res.statusCode, 400, res.body);
      const body = json<FlowJson>(res);
      assert.equal(body.ui.messages?.[0]?.id, 4000007);
      assert.equal(attr(nodeNamed(body, "traits.email"), "value"), traits.email, "traits are echoed back");
      assert.ok(!res.body.includes(PASSWORD), "the password is never echoed");
    }
    const list = await adm.inject({ method: "GET", url: "/admin/identities" });
    assert.equal(json<unknown[]>(list).length, 1);
  });

  it("missing or invalid traits and passwords become node messages, and nothing is created", async (t) => {
    const { pub, adm } = await kratosFor(t);
    const cases: { payload: Record<string, unknown>; node: string; id: number }[] = [
      { payload: { method: "password", traits: {}, password: PASSWORD }, node: "traits.email", id: 4000002 },
      { payload: { method: "password", password: PASSWORD }, node: "traits.email", id: 4000002 },
      { payload: { method: "password", traits: { email: "not-an-email" }, password: PASSWORD }, node: "traits.email", id: 4000001 },
      { payload: { method: "password", traits: { email: "a@example.com" } }, node: "password", id: 4000002 },
      { payload: { method: "password", traits: { email: "a@example.com" }, password: "short" }, node: "password", id: 4000005 },
    ];
    for (const { payload, node, id } of cases) {
      const flow = await registrationFlow(pub);
      const res = await pub.inject({ method: "POST", url: `/self-service/registration?flow=${flow.id}`, payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      const messages = nodeNamed(json<FlowJson>(res), node).messages;
      assert.equal(messages[0]?.id, id, `${JSON.stringify(payload)} → ${JSON.stringify(messages)}`);
      assert.equal(messages[0]?.type, "error");
    }
    const unknownMethod = await pub.inject({
      method: "POST",
      url: `/self-service/registration?flow=${(await registrationFlow(pub)).id}`,
      payload: { method: "oidc", traits: { email: "a@example.com" }, password: PASSWORD },
    });
    assert.equal(unknownMethod.statusCode, 400);
    assert.equal(json<FlowJson>(unknownMethod).ui.messages?.[0]?.id, 4010002);
    assert.deepEqual(json(await adm.inject({ method: "GET", url: "/admin/identities" })), []);
  });

  it("registration with a live session answers 400 session_already_available and creates nothing", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    const init = await pub.inject({ method: "GET", url: "/self-service/registration/api", headers: bySessionToken(token) });
    assertHerodot(init, 400, { id: "session_already_available", reason: "A valid session was detected and thus registration is not possible." });
    const flow = await registrationFlow(pub);
    const submit = await updateFlow(pub, "registration", flow.id, { method: "password", traits: { email: "second@example.com" }, password: PASSWORD }, bySessionToken(token));
    assertHerodot(submit, 400, { id: "session_already_available" });
    assert.equal(json<unknown[]>(await adm.inject({ method: "GET", url: "/admin/identities" })).length, 1);
  });

  it("with registration disabled, the flow answers 400 self_service_flow_disabled", async (t) => {
    const { pub } = await kratosFor(t, { config: { "selfservice.flows.registration.enabled": false } });
    const res = await pub.inject({ method: "GET", url: "/self-service/registration/api" });
    assertHerodot(res, 400, { id: "self_service_flow_disabled", reason: "Registration is not allowed because it was disabled." });
  });
});

describe("Kratos native logout (K-1 to K-4)", () => {
  it("K-1: native logout answers 204 with no body; the row stays, active:false in the admin view", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { token, session } = await signIn(pub, ALICE.email);
    const res = await nativeLogout(pub, token);
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, "");
    assertNoStore(res);
    assert.equal(res.headers["set-cookie"], undefined, "as in Kratos, native logout does not touch cookies");
    const row = await adminSession(adm, session.id);
    assert.equal(row.id, session.id);
    assert.equal(row.active, false);
  });

  it("K-2 / SEC-24: repeating the logout with the same token answers 204 again and changes nothing", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { token, session } = await signIn(pub, ALICE.email);
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    for (let i = 0; i < 3; i++) assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    assert.equal((await adminSession(adm, session.id)).active, false);
    await assertDead(pub, token);
  });

  it("K-3: an unknown or invalid token answers 403 with Kratos's reason and ends nothing", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    const [id, secret] = token.split(".") as [string, string];
    const wrongSecret = `${id}.${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;
    for (const candidate of ["not a valid token", `${UNKNOWN_ID}.${secret}`, wrongSecret, id, `ory_st_${"a".repeat(32)}`]) {
      const res = await nativeLogout(pub, candidate);
      assertHerodot(res, 403, {
        id: null,
        reason: "The provided Ory Session Token could not be found, is invalid, or otherwise malformed.",
      });
      assert.ok(!res.body.includes(candidate), "the token is not echoed");
    }
    await assertLive(pub, token);
  });

  it("K-4: an empty body object or an empty token answers 403", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    assertHerodot(await nativeLogout(pub), 403, { id: null });
    assertHerodot(await nativeLogout(pub, ""), 403, { id: null });
    await assertLive(pub, token);
  });

  it("INV-2: after native logout the old token is refused everywhere, in every carrier", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    const other = await signIn(pub, ALICE.email);
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);

    for (const headers of [bySessionToken(token), byCookie(token), byBearer(token)]) {
      for (const method of ["GET", "POST"] as const) {
        assertHerodot(await whoami(pub, headers, method), 401, { id: null });
      }
      assertHerodot(await pub.inject({ method: "GET", url: "/sessions", headers }), 401);
      assertHerodot(await pub.inject({ method: "DELETE", url: "/sessions", headers }), 401);
      assertHerodot(await pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers }), 401);
      const init = await pub.inject({ method: "GET", url: "/self-service/login/api", headers });
      assert.equal(init.statusCode, 200, "a dead token is no session for 'already signed in'");
    }
    // The refused calls changed nothing: the other session is still live.
    await assertLive(pub, other.token);
  });

  it("as Kratos: native logout ends the session named in the body only, whatever credential headers come with it", async (t) => {
    const { pub } = await withAlice(t);
    const first = await signIn(pub, ALICE.email);
    const second = await signIn(pub, ALICE.email);
    const res = await pub.inject({
      method: "DELETE",
      url: "/self-service/logout/api",
      headers: { ...bySessionToken(second.token), cookie: `ory_kratos_session=${second.token}`, authorization: `Bearer ${second.token}` },
      payload: { session_token: first.token },
    });
    assert.equal(res.statusCode, 204);
    await assertDead(pub, first.token);
    await assertLive(pub, second.token);
  });

  it("K-61: after a logout the same identity signs in again with a new token", async (t) => {
    const { pub } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    const again = await signIn(pub, ALICE.email);
    assert.notEqual(again.token, token);
    await assertLive(pub, again.token);
    await assertDead(pub, token);
  });

  it("D6: logging out an idle-expired session answers 204 and it never comes back", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, { clock });
    await createIdentity(adm, ALICE);
    const { token, session } = await signIn(pub, ALICE.email);
    clock.advance(31 * 60 * 1000);
    await assertDead(pub, token);
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    const extend = await adm.inject({ method: "PATCH", url: `/admin/sessions/${session.id}/extend` });
    assertHerodot(extend, 404);
    await assertDead(pub, token);
  });
});

describe("Sign-in throttling (D13, SEC-60, SEC-61)", () => {
  it("SEC-60/D13: after max failures per identifier the next attempt is 429 with Retry-After, even with the right password from another IP", async (t) => {
    const clock = new ManualClock();
    const { pub, adm } = await kratosFor(t, {
      clock,
      config: { "login.rate_limit.per_identifier.max": 3, "login.rate_limit.per_identifier.window": "15m" },
    });
    await createIdentity(adm, ALICE);
    for (let i = 0; i < 3; i++) {
      const res = await submitLogin(pub, ALICE.email, "wrong password", { remoteAddress: `10.0.0.${i + 1}` });
      assert.equal(res.statusCode, 400, `attempt ${i + 1}`);
    }
    for (const identifier of [ALICE.email, "ALICE@EXAMPLE.COM"]) {
      const res = await submitLogin(pub, identifier, PASSWORD, { remoteAddress: "10.0.0.99" });
      const body = assertHerodot(res, 429, { id: "self_service_rate_limited" });
      assert.ok(!res.body.includes(PASSWORD));
      const retryAfter = Number(res.headers["retry-after"]);
      assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${res.headers["retry-after"]}`);
      assert.equal(body.error.status, "Too Many Requests");
    }
    // Another account is not affected.
    await createIdentity(adm, { email: "bob@example.com" });
    await signIn(pub, "bob@example.com");

    clock.advance(15 * 60 * 1000);
    await signIn(pub, ALICE.email);
    // A success resets the count: three more failures are allowed before the next 429.
    for (let i = 0; i < 3; i++) assert.equal((await submitLogin(pub, ALICE.email, "wrong password")).statusCode, 400);
    assert.equal((await submitLogin(pub, ALICE.email, "wrong password")).statusCode, 429);
  });

  it("SEC-60/D14: unknown identifiers are throttled like known ones (no enumeration through 429s)", async (t) => {
    const { pub } = await kratosFor(t, { config: { "login.rate_limit.per_identifier.max": 2 } });
    for (let i = 0; i < 2; i++) assert.equal((await submitLogin(pub, "ghost@example.com", "x-password")).statusCode, 400);
    assertHerodot(await submitLogin(pub, "ghost@example.com", "x-password"), 429, { id: "self_service_rate_limited" });
  });

  it("SEC-61/D13: attempts per client IP beyond max answer 429 with Retry-After; X-Forwarded-For does not help; other IPs are unaffected", async (t) => {
    const { pub } = await withAlice(t, { "login.rate_limit.per_ip.max": 3 });
    const ip = "192.0.2.10";
    for (let i = 0; i < 3; i++) {
      const res = await submitLogin(pub, `user${i}@example.com`, "wrong password", { remoteAddress: ip });
      assert.equal(res.statusCode, 400);
    }
    const spoofed: Record<string, string>[] = [{}, { "x-forwarded-for": "203.0.113.7" }, { "x-real-ip": "203.0.113.8" }];
    for (const headers of spoofed) {
      const res = await submitLogin(pub, ALICE.email, PASSWORD, { remoteAddress: ip, headers });
      assertHerodot(res, 429, { id: "self_service_rate_limited" });
      assert.ok(Number(res.headers["retry-after"]) > 0);
    }
    const elsewhere = await submitLogin(pub, ALICE.email, PASSWORD, { remoteAddress: "192.0.2.11" });
    assert.equal(elsewhere.statusCode, 200, elsewhere.body);
  });

  it("SEC-61: registration counts against the per-IP limit as well", async (t) => {
    const { pub } = await kratosFor(t, { config: { "login.rate_limit.per_ip.max": 2 } });
    const register = async (email: string) => {
      const flow = await registrationFlow(pub);
      return updateFlow(pub, "registration", flow.id, { method: "password", traits: { email }, password: PASSWORD });
    };
    assert.equal((await register("one@example.com")).statusCode, 200);
    assert.equal((await register("two@example.com")).statusCode, 200);
    const third = await register("three@example.com");
    assertHerodot(third, 429, { id: "self_service_rate_limited" });
    assert.ok(Number(third.headers["retry-after"]) > 0);
  });
});

describe("What never leaks (SEC-06, SEC-11)", () => {
  it("SEC-06: with debug logging, no token or password reaches a log line or an error body", async (t) => {
    const { pub, adm } = await kratosFor(t, { config: { "log.level": "debug" } });
    const pubLogs = captureLogs(pub);
    const admLogs = captureLogs(adm);
    t.after(() => {
      pubLogs.restore();
      admLogs.restore();
    });
    await createIdentity(adm, ALICE);
    const wrongPassword = "wrong-password-e7d1";
    const bodies: string[] = [];
    bodies.push((await submitLogin(pub, ALICE.email, wrongPassword)).body);
    const { token } = await signIn(pub, ALICE.email);
    const secret = token.split(".")[1] as string;
    for (const headers of [bySessionToken(token), byCookie(token), byBearer(token)]) bodies.push((await whoami(pub, headers)).body);
    const flow = await loginFlow(pub);
    // Bodies the parser or the validator refuse, each carrying a secret.
    bodies.push(
      (
        await updateFlow(pub, "login", flow.id, `{"method":"password","identifier":"${ALICE.email}","password":"${wrongPassword}",}`, { "content-type": "application/json" })
      ).body,
      (
        await updateFlow(pub, "login", flow.id, { method: "password", identifier: ALICE.email, password: wrongPassword, extra: token })
      ).body,
      (await pub.inject({ method: "DELETE", url: "/self-service/logout/api", payload: { session_token: token, extra: 1 } })).body,
      (await pub.inject({ method: "DELETE", url: `/self-service/logout/api?session_token=${token}`, payload: {} })).body,
      (await pub.inject({ method: "GET", url: `/sessions/whoami?token=${token}` })).body,
    );
    assert.equal((await nativeLogout(pub, token)).statusCode, 204);
    bodies.push((await whoami(pub, bySessionToken(token))).body, (await nativeLogout(pub, `${token}x`)).body);

    const logText = pubLogs.lines.join("") + admLogs.lines.join("");
    assert.ok(pubLogs.lines.length > 0, "debug logging produced lines");
    for (const needle of [token, secret, PASSWORD, wrongPassword]) {
      assert.ok(!logText.includes(needle), `a log line contains ${needle.slice(0, 8)}…`);
      for (const body of bodies) assert.ok(!body.includes(needle), `a response body contains ${needle.slice(0, 8)}…: ${body.slice(0, 200)}`);
    }
  });

  it("SEC-11: every answer of the self-service API carries Cache-Control: no-store", async (t) => {
    const { pub } = await withAlice(t);
    const flow = await loginFlow(pub);
    const responses = [
      await pub.inject({ method: "GET", url: "/self-service/login/api" }),
      await pub.inject({ method: "GET", url: `/self-service/login/flows?id=${flow.id}` }),
      await pub.inject({ method: "GET", url: "/self-service/registration/api" }),
      await submitLogin(pub, ALICE.email, "wrong password"),
      await submitLogin(pub, ALICE.email, PASSWORD),
      await pub.inject({ method: "GET", url: "/nowhere" }),
      await nativeLogout(pub, "nothing"),
      await pub.inject({ method: "GET", url: "/health/alive" }),
      await pub.inject({ method: "GET", url: "/schemas/default" }),
    ];
    for (const res of responses) assertNoStore(res);
  });
});

describe("GET /version (Kratos's metadata API)", () => {
  it("answers package.json's version on both listeners, and the admin one without the /admin prefix", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { version } = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    for (const res of [await pub.inject({ method: "GET", url: "/version" }), await adm.inject({ method: "GET", url: "/version" })]) {
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { version });
    }
  });
});
