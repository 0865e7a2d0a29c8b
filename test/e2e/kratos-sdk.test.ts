/**
 * The end-to-end tier for the Kratos door: Ory's own SDK (`@ory/client-fetch`), unchanged, over
 * real sockets. It is configured the way Ory's UIs configure it (`Accept: application/json`), and
 * once more with its default `Accept: *\/*`, which native apps get when they configure nothing.
 * Each test names the rule it proves; INV-2 is the one most of them end on: once a session is
 * ended through any door of the Kratos API, its token authenticates nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Configuration,
  FrontendApi,
  IdentityApi,
  ListSessionsExpandEnum,
  ResponseError,
  type Session,
  type SuccessfulNativeLogin,
} from "@ory/client-fetch";
import { rejectsWith } from "../support/ory-sdk.ts";
import { type TestServer, startTestServer } from "../support/server.ts";

const PASSWORD = "correct horse battery staple 42";

let server: TestServer;
/** As Ory's UIs configure it: JSON asked for explicitly. */
let frontend: FrontendApi;
/** The SDK's default configuration: `Accept: *\/*` (what a native app gets without headers). */
let bareFrontend: FrontendApi;
let identityApi: IdentityApi;
let serial = 0;

before(async () => {
  server = await startTestServer({
    listen: true,
    // Every sign-in here comes from 127.0.0.1; keep the per-IP limit out of the way.
    config: { "login.rate_limit.per_ip.max": 10_000 },
  });
  frontend = new FrontendApi(new Configuration({ basePath: server.publicUrl, headers: { Accept: "application/json" } }));
  bareFrontend = new FrontendApi(new Configuration({ basePath: server.publicUrl }));
  identityApi = new IdentityApi(new Configuration({ basePath: server.adminUrl, headers: { Accept: "application/json" } }));
});

after(async () => {
  await server?.close();
});

/** A fresh person for each test, so no test depends on another's sessions. */
function person(): { email: string; username: string } {
  serial += 1;
  return { email: `Person${serial}.Example@Example.COM`, username: `Person_${serial}` };
}

/** Native registration: flow, then submit; the new identity comes back signed in. */
async function register(api: FrontendApi, traits: { email: string; username: string }) {
  const flow = await api.createNativeRegistrationFlow();
  assert.equal(flow.type, "api");
  return api.updateRegistrationFlow({
    flow: flow.id,
    updateRegistrationFlowBody: { method: "password", traits, password: PASSWORD },
  });
}

/** Native sign-in: flow, then submit. */
async function signIn(api: FrontendApi, identifier: string, password = PASSWORD): Promise<SuccessfulNativeLogin> {
  const flow = await api.createNativeLoginFlow();
  assert.equal(flow.type, "api");
  return api.updateLoginFlow({
    flow: flow.id,
    updateLoginFlowBody: { method: "password", identifier, password },
  });
}

function tokenOf(result: { session_token?: string }): string {
  assert.ok(result.session_token, "the native flow answers with a session token");
  return result.session_token;
}

/** INV-2 in the SDK's terms: whoami with the token throws a ResponseError with status 401. */
async function assertRefused(token: string, label: string): Promise<void> {
  await rejectsWith(401, frontend.toSession({ xSessionToken: token })).catch((error: unknown) => {
    throw new Error(`${label}: ${(error as Error).message}`);
  });
}

async function assertLive(token: string): Promise<Session> {
  const session = await frontend.toSession({ xSessionToken: token });
  assert.equal(session.active, true);
  return session;
}

describe("Kratos door through @ory/client-fetch over real sockets", () => {
  it("registration (native) creates the identity and signs it in; whoami shows the session", async () => {
    const traits = person();
    const result = await register(frontend, traits);
    const token = tokenOf(result);
    assert.ok(result.session, "registration with a session answers with it");
    assert.deepEqual(result.identity.traits, traits, "traits are stored as given (D9)");
    assert.equal(result.identity.schema_id, "default");

    const session = await assertLive(token);
    assert.equal(session.id, result.session.id);
    assert.equal(session.identity?.id, result.identity.id);
    assert.deepEqual(session.identity?.traits, traits);
  });

  it("D9: sign-in works by email and by username, both matched case-insensitively", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const identityId = registered.identity.id;

    for (const identifier of [traits.email, traits.email.toLowerCase(), traits.email.toUpperCase(), traits.username, traits.username.toLowerCase(), traits.username.toUpperCase()]) {
      const login = await signIn(frontend, identifier);
      const token = tokenOf(login);
      assert.equal(login.session.identity?.id, identityId, `signed in as ${identifier}`);
      const session = await assertLive(token);
      assert.equal(session.id, login.session.id);
    }
  });

  it("D14: a wrong password and an unknown identifier get the same 400 flow answer", async () => {
    const traits = person();
    await register(frontend, traits);
    const wrong = await rejectsWith(400, signIn(frontend, traits.email, "not the password at all"));
    const unknown = await rejectsWith(400, signIn(frontend, `nobody-${serial}@example.com`, "not the password at all"));
    const messages = (body: Record<string, unknown>) => (body.ui as { messages?: unknown[] }).messages;
    assert.deepEqual(messages(wrong), messages(unknown));
  });

  it("listMySessions lists the caller's other live sessions, not the current one", async () => {
    const traits = person();
    const first = tokenOf(await register(frontend, traits));
    const second = await signIn(frontend, traits.username);
    const third = await signIn(frontend, traits.email);

    const listed = await frontend.listMySessions({ xSessionToken: first });
    const ids = listed.map((s) => s.id).sort();
    assert.deepEqual(ids, [second.session.id, third.session.id].sort());
    for (const s of listed) assert.equal(s.active, true);
  });

  it("INV-2: a session ended with disableMySession is refused by whoami; the caller's own stays live", async () => {
    const traits = person();
    const mine = tokenOf(await register(frontend, traits));
    const other = await signIn(frontend, traits.email);
    await assertLive(tokenOf(other));

    await frontend.disableMySession({ id: other.session.id, xSessionToken: mine });

    await assertRefused(tokenOf(other), "the other session");
    await assertLive(mine);
    const listed = await frontend.listMySessions({ xSessionToken: mine });
    assert.deepEqual(listed.map((s) => s.id), []);
  });

  it("disableMySession refuses to end the current session (400: use logout)", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const token = tokenOf(registered);
    await rejectsWith(400, frontend.disableMySession({ id: registered.session!.id, xSessionToken: token }));
    await assertLive(token);
  });

  it("INV-2: sessions ended with disableMyOtherSessions are all refused; the current one stays live", async () => {
    const traits = person();
    const mine = tokenOf(await register(frontend, traits));
    const others = [await signIn(frontend, traits.email), await signIn(frontend, traits.username), await signIn(frontend, traits.email)];
    for (const o of others) await assertLive(tokenOf(o));

    const { count } = await frontend.disableMyOtherSessions({ xSessionToken: mine });
    assert.equal(count, others.length);

    for (const [i, o] of others.entries()) await assertRefused(tokenOf(o), `other session ${i}`);
    await assertLive(mine);
  });

  it("INV-2: a token ended by performNativeLogout is refused by whoami, listMySessions and logout again", async () => {
    const traits = person();
    const token = tokenOf(await register(frontend, traits));
    const bystander = tokenOf(await signIn(frontend, traits.username));
    await assertLive(token);

    await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });

    await assertRefused(token, "the logged-out token");
    await rejectsWith(401, frontend.listMySessions({ xSessionToken: token }));
    await rejectsWith(401, frontend.disableMyOtherSessions({ xSessionToken: token }));
    // A logout ends one session, not the person's others.
    await assertLive(bystander);
    // Logging out again with the dead token does not pretend it was live (K-2).
    const again = await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } }).then(
      () => 204,
      (error: unknown) => (error instanceof ResponseError ? error.response.status : -1),
    );
    assert.equal(again, 204, "a repeated logout is idempotent (Kratos: 204), and reports nothing new");
    await assertRefused(token, "the logged-out token, after a repeat");
  });

  it("performNativeLogout with an unknown token answers 403 and ends nothing", async () => {
    const traits = person();
    const token = tokenOf(await register(frontend, traits));
    const [id] = token.split(".");
    await rejectsWith(403, frontend.performNativeLogout({ performNativeLogoutBody: { session_token: `${id}.not-the-secret` } }));
    await assertLive(token);
  });

  it("INV-2: a token ended through the admin API (disableSession) is refused by whoami", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const token = tokenOf(registered);
    const sessionId = registered.session!.id;
    // Warm whatever the server caches: the revocation must reach past it (D8).
    await assertLive(token);
    await assertLive(token);

    await identityApi.disableSession({ id: sessionId });

    await assertRefused(token, "the admin-revoked token");
    const seen = await identityApi.getSession({ id: sessionId });
    assert.equal(seen.active, false, "the row is kept and shows as ended (D6)");
    // Idempotent: disabling it again is still 204.
    await identityApi.disableSession({ id: sessionId });
    await rejectsWith(404, identityApi.disableSession({ id: "00000000-0000-4000-8000-000000000000" }));
  });

  it("INV-2: every token of an identity ended with deleteIdentitySessions is refused", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const tokens = [tokenOf(registered), tokenOf(await signIn(frontend, traits.email)), tokenOf(await signIn(frontend, traits.username))];
    for (const token of tokens) await assertLive(token);

    await identityApi.deleteIdentitySessions({ id: registered.identity.id });

    for (const [i, token] of tokens.entries()) await assertRefused(token, `token ${i}`);
    const listed = await identityApi.listIdentitySessions({ id: registered.identity.id, active: true });
    assert.deepEqual(listed, []);
  });

  it("admin listSessions and getSession show live sessions with the identity expanded on request", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const token = tokenOf(registered);
    const sessionId = registered.session!.id;

    const listed = await identityApi.listSessions({ active: true, expand: [ListSessionsExpandEnum.Identity, ListSessionsExpandEnum.Devices] });
    const mine = listed.find((s) => s.id === sessionId);
    assert.ok(mine, "the new session is listed");
    assert.equal(mine.active, true);
    assert.equal(mine.identity?.id, registered.identity.id);

    const got = await identityApi.getSession({ id: sessionId, expand: ["identity"] });
    assert.equal(got.id, sessionId);
    assert.equal(got.active, true);
    assert.equal(got.identity?.id, registered.identity.id);

    await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });
    const ended = await identityApi.listSessions({ active: false });
    assert.ok(ended.some((s) => s.id === sessionId && s.active === false), "an ended session lists with active=false");
    const stillLive = await identityApi.listSessions({ active: true });
    assert.ok(!stillLive.some((s) => s.id === sessionId), "and no longer with active=true");
  });

  it("D6: extendSession extends a live session; a revoked one answers 404 and stays refused", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const token = tokenOf(registered);
    const sessionId = registered.session!.id;
    const before = await assertLive(token);

    const extended = await identityApi.extendSession({ id: sessionId });
    assert.ok(extended, "200 with the session");
    assert.equal(extended.id, sessionId);
    assert.equal(extended.active, true);
    assert.ok(extended.expires_at && before.expires_at && extended.expires_at.getTime() >= before.expires_at.getTime());
    await assertLive(token);

    await identityApi.disableSession({ id: sessionId });
    await rejectsWith(404, identityApi.extendSession({ id: sessionId }));
    await assertRefused(token, "the revoked, then 'extended', token");
  });

  it("D10: createIdentity, listIdentities and sign-in with the admin-set password", async () => {
    const traits = person();
    const created = await identityApi.createIdentity({
      createIdentityBody: { schema_id: "default", traits, credentials: { password: { config: { password: PASSWORD } } } },
    });
    assert.equal(created.schema_id, "default");
    assert.deepEqual(created.traits, traits);

    const byEmail = await identityApi.listIdentities({ credentialsIdentifier: traits.email.toLowerCase() });
    assert.deepEqual(byEmail.map((i) => i.id), [created.id]);
    const byUsername = await identityApi.listIdentities({ credentialsIdentifier: traits.username.toUpperCase() });
    assert.deepEqual(byUsername.map((i) => i.id), [created.id]);
    const all = await identityApi.listIdentities({ pageSize: 1000 });
    assert.ok(all.some((i) => i.id === created.id));

    const login = await signIn(frontend, traits.username);
    assert.equal(login.session.identity?.id, created.id);
    await assertLive(tokenOf(login));

    await rejectsWith(
      409,
      identityApi.createIdentity({ createIdentityBody: { schema_id: "default", traits: { email: traits.email.toLowerCase() } } }),
    );
  });

  it("INV-2, D6: deleteIdentity revokes every session first; its tokens are refused and it cannot sign in", async () => {
    const traits = person();
    const registered = await register(frontend, traits);
    const tokens = [tokenOf(registered), tokenOf(await signIn(frontend, traits.email))];
    for (const token of tokens) await assertLive(token);

    await identityApi.deleteIdentity({ id: registered.identity.id });

    for (const [i, token] of tokens.entries()) await assertRefused(token, `token ${i}`);
    await rejectsWith(404, identityApi.getIdentity({ id: registered.identity.id }));
    assert.deepEqual(await identityApi.listIdentities({ credentialsIdentifier: traits.email }), []);
    await rejectsWith(400, signIn(frontend, traits.email));
  });

  it("the SDK's default configuration (Accept: */*) works for every JSON endpoint a native app uses", async () => {
    const traits = person();
    const registered = await register(bareFrontend, traits);
    const token = tokenOf(registered);
    const login = await signIn(bareFrontend, traits.username.toLowerCase());
    const second = tokenOf(login);

    const session = await bareFrontend.toSession({ xSessionToken: token });
    assert.equal(session.identity?.id, registered.identity.id);
    const listed = await bareFrontend.listMySessions({ xSessionToken: token });
    assert.deepEqual(listed.map((s) => s.id), [login.session.id]);

    await bareFrontend.performNativeLogout({ performNativeLogoutBody: { session_token: second } });
    await assertRefused(second, "logged out with Accept: */*");
    const { count } = await bareFrontend.disableMyOtherSessions({ xSessionToken: token });
    assert.equal(count, 0);
    await bareFrontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });
    await assertRefused(token, "the last session, logged out with Accept: */*");
  });

  it("D1: the session token also works as Authorization: Bearer, and is refused there after logout", async () => {
    const traits = person();
    const token = tokenOf(await register(frontend, traits));
    const whoami = (t: string) => fetch(`${server.publicUrl}/sessions/whoami`, { headers: { authorization: `Bearer ${t}`, accept: "application/json" } });
    assert.equal((await whoami(token)).status, 200);
    await frontend.performNativeLogout({ performNativeLogoutBody: { session_token: token } });
    const refused = await whoami(token);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: { code: number } }).error.code, 401);
  });
});

describe("Ory's SDK: the settings flow, method password (docs/adr/0026-password-change.md)", () => {
  const NEW_PASSWORD = "a brand new passphrase for the SDK 7";

  it("createNativeSettingsFlow → updateSettingsFlow: the new password works, the old does not, every other session ended before the answer", async () => {
    const who = person();
    const current = tokenOf(await register(frontend, who));
    const others = [tokenOf(await signIn(frontend, who.email)), tokenOf(await signIn(bareFrontend, who.username))];
    const flow = await frontend.createNativeSettingsFlow({ xSessionToken: current });
    assert.equal(flow.type, "api");
    assert.equal(flow.state, "show_form");
    assert.equal(flow.identity.traits.email, who.email);
    assert.ok(flow.ui.nodes.some((n) => "name" in n.attributes && n.attributes.name === "password"));
    const fetched = await frontend.getSettingsFlow({ id: flow.id, xSessionToken: current });
    assert.equal(fetched.id, flow.id);

    const saved = await frontend.updateSettingsFlow({ flow: flow.id, xSessionToken: current, updateSettingsFlowBody: { method: "password", password: NEW_PASSWORD } });
    assert.equal(saved.state, "success");
    assert.equal(saved.ui.messages?.[0]?.id, 1050001);
    for (const [i, token] of others.entries()) await assertRefused(token, `other session ${i}`);
    await assertLive(current);
    await rejectsWith(400, signIn(frontend, who.email));
    tokenOf(await signIn(frontend, who.email, NEW_PASSWORD));
  });

  it("a password the rules refuse: 400 with the flow and the message on the password node; nothing ends", async () => {
    const who = person();
    const current = tokenOf(await register(frontend, who));
    const other = tokenOf(await signIn(frontend, who.email));
    const flow = await frontend.createNativeSettingsFlow({ xSessionToken: current });
    const body = await rejectsWith<{ id: string; ui: { nodes: { attributes: { name?: string }; messages: { id: number }[] }[] } }>(
      400,
      frontend.updateSettingsFlow({ flow: flow.id, xSessionToken: current, updateSettingsFlowBody: { method: "password", password: "x".repeat(5000) } }),
    );
    assert.equal(body.id, flow.id);
    assert.equal(body.ui.nodes.find((n) => n.attributes.name === "password")?.messages[0]?.id, 4000005);
    await assertLive(other);
  });

  it("another identity's flow is refused (403 security_identity_mismatch); no session is refused (401); nothing changes", async () => {
    const a = person();
    const b = person();
    const tokenA = tokenOf(await register(frontend, a));
    const tokenB = tokenOf(await register(frontend, b));
    const flowA = await frontend.createNativeSettingsFlow({ xSessionToken: tokenA });
    const mismatch = await rejectsWith<{ error: { id: string } }>(
      403,
      frontend.updateSettingsFlow({ flow: flowA.id, xSessionToken: tokenB, updateSettingsFlowBody: { method: "password", password: NEW_PASSWORD } }),
    );
    assert.equal(mismatch.error.id, "security_identity_mismatch");
    await rejectsWith(403, frontend.getSettingsFlow({ id: flowA.id, xSessionToken: tokenB }));
    await rejectsWith(401, frontend.createNativeSettingsFlow({}));
    await rejectsWith(401, frontend.updateSettingsFlow({ flow: flowA.id, updateSettingsFlowBody: { method: "password", password: NEW_PASSWORD } }));
    tokenOf(await signIn(frontend, a.email));
    tokenOf(await signIn(frontend, b.email));
  });
});
