/**
 * The settings flow's refusals and its configuration (docs/adr/0026-password-change.md): the
 * privileged window, cookie callers (an API flow has no CSRF protection, so only a session token
 * opens one), malformed and hostile input, and revoke_other_sessions_on_password_change off.
 * The happy path and Ory's SDK's view of it are in test/e2e/kratos-sdk.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALICE, PASSWORD, assertHerodot, byCookie, bySessionToken, json, signIn, whoami, withAlice } from "../../../test/support/kratos.ts";
import { ManualClock } from "../../../test/support/server.ts";
import type { HttpApp } from "../../http/app.ts";

const NEW_PASSWORD = "another long passphrase, 9 words";

async function settingsFlow(pub: HttpApp, token: string): Promise<{ id: string }> {
  const res = await pub.inject({ method: "GET", url: "/self-service/settings/api", headers: bySessionToken(token) });
  assert.equal(res.statusCode, 200, res.body);
  return json<{ id: string }>(res);
}

function save(pub: HttpApp, flowId: string, headers: Record<string, string>, payload: unknown = { method: "password", password: NEW_PASSWORD }) {
  return pub.inject({ method: "POST", url: `/self-service/settings?flow=${encodeURIComponent(flowId)}`, headers: { "content-type": "application/json", ...headers }, payload: JSON.stringify(payload) });
}

describe("the settings flow's refusals", () => {
  it("past selfservice.flows.settings.privileged_session_max_age: 403 session_refresh_required with the refresh login to go to; nothing changes", async (t) => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    const { pub } = await withAlice(t, {}, { clock });
    const current = await signIn(pub, ALICE.email);
    const other = await signIn(pub, ALICE.email);
    const flow = await settingsFlow(pub, current.token);
    clock.advance(15 * 60_000 + 1);
    const res = await save(pub, flow.id, bySessionToken(current.token));
    const body = assertHerodot(res, 403, { id: "session_refresh_required" }) as unknown as { redirect_browser_to: string };
    const redirect = new URL(body.redirect_browser_to);
    assert.equal(redirect.pathname, "/self-service/login/browser");
    assert.equal(redirect.searchParams.get("refresh"), "true");
    assert.equal(new URL(redirect.searchParams.get("return_to")!).pathname, "/self-service/settings");
    assert.equal((await whoami(pub, bySessionToken(other.token))).statusCode, 200);
    await signIn(pub, ALICE.email, PASSWORD);
  });

  it("a cookie opens no API settings flow and saves none (a browser's request could be forged)", async (t) => {
    const { pub } = await withAlice(t);
    const current = await signIn(pub, ALICE.email);
    assertHerodot(await pub.inject({ method: "GET", url: "/self-service/settings/api", headers: byCookie(current.token) }), 401, { id: "session_inactive" });
    const flow = await settingsFlow(pub, current.token);
    assertHerodot(await save(pub, flow.id, byCookie(current.token)), 401, { id: "session_inactive" });
    await signIn(pub, ALICE.email, PASSWORD);
  });

  for (const [what, flowId, payload, status] of [
    ["a malformed flow id", "not-a-uuid", undefined, 404],
    ["an unknown flow id", "0190b1a0-0000-7000-8000-000000000000", undefined, 404],
    ["another method", null, { method: "profile", traits: { email: "mallory@example.com" } }, 400],
    ["an extra field", null, { method: "password", password: NEW_PASSWORD, identity_id: "x" }, 400],
    ["a password that is not a string", null, { method: "password", password: 12345678 }, 400],
    ["no password", null, { method: "password" }, 400],
  ] as const) {
    it(`${what}: ${status}, and the password stays as it was`, async (t) => {
      const { pub } = await withAlice(t);
      const current = await signIn(pub, ALICE.email);
      const flow = await settingsFlow(pub, current.token);
      const res = await save(pub, flowId ?? flow.id, bySessionToken(current.token), payload ?? { method: "password", password: NEW_PASSWORD });
      assert.equal(res.statusCode, status, res.body);
      await signIn(pub, ALICE.email, PASSWORD);
    });
  }

  it("SEC-61: a save hashes the password twice, so it counts against the client's per-IP limit", async (t) => {
    const { pub } = await withAlice(t, { "login.rate_limit.per_ip.max": 3 });
    const current = await signIn(pub, ALICE.email); // one attempt
    const flow = await settingsFlow(pub, current.token);
    assert.equal((await save(pub, flow.id, bySessionToken(current.token))).statusCode, 200);
    assert.equal((await save(pub, flow.id, bySessionToken(current.token), { method: "password", password: `${NEW_PASSWORD}!` })).statusCode, 200);
    assertHerodot(await save(pub, flow.id, bySessionToken(current.token), { method: "password", password: `${NEW_PASSWORD}?` }), 429);
  });

  it("revoke_other_sessions_on_password_change: false keeps the other sessions", async (t) => {
    const { pub } = await withAlice(t, { "selfservice.flows.settings.revoke_other_sessions_on_password_change": false });
    const current = await signIn(pub, ALICE.email);
    const other = await signIn(pub, ALICE.email);
    const flow = await settingsFlow(pub, current.token);
    assert.equal((await save(pub, flow.id, bySessionToken(current.token))).statusCode, 200);
    assert.equal((await whoami(pub, bySessionToken(other.token))).statusCode, 200);
    await signIn(pub, ALICE.email, NEW_PASSWORD);
  });
});

describe("the settings flow in a browser, and the change-password page", () => {
  /** A browser signed in with the session cookie and holding the CSRF cookie a browser flow sets. */
  async function browser(pub: HttpApp) {
    const current = await signIn(pub, ALICE.email);
    const started = await pub.inject({ method: "GET", url: "/self-service/settings/browser", headers: byCookie(current.token) });
    assert.equal(started.statusCode, 303, started.body);
    const location = new URL(String(started.headers.location));
    assert.equal(location.pathname, "/ui/settings");
    const csrfCookie = String(started.headers["set-cookie"]).split(";")[0]!;
    const cookie = `${byCookie(current.token).cookie}; ${csrfCookie}`;
    const page = await pub.inject({ method: "GET", url: `${location.pathname}${location.search}`, headers: { cookie } });
    assert.equal(page.statusCode, 200, page.body);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, page.body);
    return { current, flowId: location.searchParams.get("flow")!, cookie, csrf, page: page.body };
  }

  const post = (pub: HttpApp, flowId: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    pub.inject({
      method: "POST",
      url: `/self-service/settings?flow=${flowId}`,
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin", ...headers },
      payload: new URLSearchParams(fields).toString(),
    });

  it("SEC-102: the page's form changes the password, signs out every other session, and the page says so", async (t) => {
    const { pub } = await withAlice(t);
    const other = await signIn(pub, ALICE.email);
    const b = await browser(pub);
    assert.match(b.page, /<h1[^>]*>Change password<\/h1>/);
    assert.match(b.page, /signs you out everywhere else/);
    const saved = await post(pub, b.flowId, b.cookie, { csrf_token: b.csrf, method: "password", password: NEW_PASSWORD });
    assert.equal(saved.statusCode, 303, saved.body);
    assert.equal(new URL(String(saved.headers.location)).pathname, "/ui/settings");
    assert.equal((await whoami(pub, bySessionToken(other.token))).statusCode, 401, "the other session ended before the redirect");
    assert.equal((await whoami(pub, byCookie(b.current.token))).statusCode, 200, "this one stays");
    const done = await pub.inject({ method: "GET", url: `/ui/settings?flow=${b.flowId}`, headers: { cookie: b.cookie } });
    assert.match(done.body, /Your password has been changed/);
    assert.match(done.body, /Every other session of your account has been signed out/);
    await signIn(pub, ALICE.email, NEW_PASSWORD);
  });

  it("house rule 9: without the flow's CSRF token, or from another site, nothing changes and the browser goes to the error page", async (t) => {
    const { pub } = await withAlice(t);
    const other = await signIn(pub, ALICE.email);
    const b = await browser(pub);
    for (const [fields, headers] of [
      [{ method: "password", password: NEW_PASSWORD }, {}],
      [{ csrf_token: "forged", method: "password", password: NEW_PASSWORD }, {}],
      [{ csrf_token: b.csrf, method: "password", password: NEW_PASSWORD }, { "sec-fetch-site": "cross-site" }],
    ] as const) {
      const res = await post(pub, b.flowId, b.cookie, fields, headers);
      assert.equal(res.statusCode, 303);
      assert.equal(new URL(String(res.headers.location)).pathname, "/ui/error");
    }
    assert.equal((await whoami(pub, bySessionToken(other.token))).statusCode, 200);
    await signIn(pub, ALICE.email, PASSWORD);
  });

  it("a refused password goes back to the page, which shows why", async (t) => {
    const { pub } = await withAlice(t);
    const b = await browser(pub);
    const res = await post(pub, b.flowId, b.cookie, { csrf_token: b.csrf, method: "password", password: "x".repeat(5000) });
    assert.equal(res.statusCode, 303);
    const again = await pub.inject({ method: "GET", url: String(new URL(String(res.headers.location)).pathname + new URL(String(res.headers.location)).search), headers: { cookie: b.cookie } });
    assert.match(again.body, /aria-invalid="true"/);
    assert.match(again.body, /The password can not be used because/);
  });

  it("past the privileged window, a browser is sent to sign in again (refresh), and comes back to the page", async (t) => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 9));
    const { pub } = await withAlice(t, {}, { clock });
    const b = await browser(pub);
    clock.advance(16 * 60_000);
    const res = await post(pub, b.flowId, b.cookie, { csrf_token: b.csrf, method: "password", password: NEW_PASSWORD });
    assert.equal(res.statusCode, 303);
    const to = new URL(String(res.headers.location));
    assert.equal(to.pathname, "/self-service/login/browser");
    assert.equal(to.searchParams.get("refresh"), "true");
    assert.equal(new URL(to.searchParams.get("return_to")!).pathname, "/ui/settings");
  });

  it("without a session, the browser is sent to sign in first and then back here; the page itself restarts the flow", async (t) => {
    const { pub } = await withAlice(t);
    const res = await pub.inject({ method: "GET", url: "/self-service/settings/browser" });
    assert.equal(res.statusCode, 303);
    const to = new URL(String(res.headers.location));
    assert.equal(to.pathname, "/self-service/login/browser");
    assert.equal(new URL(to.searchParams.get("return_to")!).pathname, "/self-service/settings/browser");
    const page = await pub.inject({ method: "GET", url: "/ui/settings?flow=0190b1a0-0000-7000-8000-000000000000" });
    assert.equal(page.statusCode, 303);
    assertHerodot(await pub.inject({ method: "GET", url: "/self-service/settings/browser", headers: { accept: "application/json" } }), 401, { id: "session_inactive" });
  });

  it("a browser flow answers no session token, and an API flow no cookie", async (t) => {
    const { pub } = await withAlice(t);
    const b = await browser(pub);
    const res = await save(pub, b.flowId, bySessionToken(b.current.token));
    assertHerodot(res, 401, { id: "session_inactive" });
  });
});
