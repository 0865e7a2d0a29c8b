/**
 * The Kratos browser logout flow, in process (K-5 to K-18 in docs/dialects/kratos.md):
 * `createBrowserLogoutFlow` hands out `{logout_token, logout_url}`; `updateLogoutFlow`
 * needs the session and its own logout token (D4), validates `return_to` *before* it revokes
 * (unlike Kratos, which revokes first), revokes durably (INV-1), clears the cookie
 * with the attributes it was set with (SEC-25), renews the CSRF cookie (SEC-28), sends
 * Clear-Site-Data on https only (SEC-26), and never redirects off the allow-list (SEC-31..35).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HttpApp } from "../../http/app.ts";
import { cookieAttributes, cookieValue, hasSetCookie, setCookie, setCookies } from "../../../test/support/cookies.ts";
import { FailingStore } from "../../../test/support/failing-store.ts";
import {
  ALICE,
  BASE,
  BOB,
  JSON_ACCEPT,
  PASSWORD,
  adminSession,
  assertDead,
  assertHerodot,
  assertLive,
  assertNoStore,
  bySessionToken,
  byBearer,
  byCookie,
  createIdentity,
  csrfName,
  csrfTokenOf,
  flowError,
  json,
  kratosFor,
  signIn,
  updateFlow,
  whoami,
  withAlice,
  type FlowJson,
  type Kratos,
  type Response,
} from "../../../test/support/kratos.ts";

const LOGGED_OUT = `${BASE}/ui/logged-out`;
const ALLOWED = { "selfservice.allowed_return_urls": ["https://app.example.com/"] };

const NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

const E_NOSESS = "No active session was found in this request.";
const E_NOTOKEN = "Please include a token in the URL query.";
const E_MISMATCH = "Unable to log out because the logout token in the URL query does not match the session cookie.";

// ---- cookies --------------------------------------------------------------------------------

/** The attributes that must be identical on the setting and the clearing Set-Cookie (SEC-25). */
function scope(line: string): Record<string, string | undefined> {
  const a = cookieAttributes(line);
  return { path: a.get("path"), domain: a.get("domain"), samesite: a.get("samesite"), httponly: a.get("httponly"), secure: a.get("secure") };
}

// ---- the flow -------------------------------------------------------------------------------

interface LogoutFlow {
  logout_token: string;
  logout_url: string;
}

/** `createBrowserLogoutFlow` with these credentials; asserts 200. */
async function logoutFlow(pub: HttpApp, headers: Record<string, string>, returnTo?: string): Promise<LogoutFlow> {
  const q = returnTo === undefined ? "" : `?return_to=${encodeURIComponent(returnTo)}`;
  const res = await pub.inject({ method: "GET", url: `/self-service/logout/browser${q}`, headers });
  assert.equal(res.statusCode, 200, res.body);
  return json<LogoutFlow>(res);
}

/** Follows a `logout_url` (absolute, on BASE) with these headers. */
function follow(pub: HttpApp, logoutUrl: string, headers: Record<string, string> = {}): Promise<Response> {
  const url = new URL(logoutUrl);
  assert.equal(url.pathname, "/self-service/logout");
  return pub.inject({ method: "GET", url: url.pathname + url.search, headers });
}

/** `updateLogoutFlow` with a raw query string. */
function updateLogout(pub: HttpApp, query: string, headers: Record<string, string> = {}): Promise<Response> {
  return pub.inject({ method: "GET", url: `/self-service/logout${query}`, headers });
}

/** The stored error behind a 303 to the error page (`getFlowError`, as Kratos forwards a browser's error). */
async function errorPageReason(pub: HttpApp, res: Response, base = BASE): Promise<{ code: number; id?: string; reason?: string }> {
  assert.equal(res.statusCode, 303, `a 303 to the error page, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
  return flowError(pub, String(res.headers.location), base);
}

/** A failure changes nothing in the browser: no session cookie cleared, no Clear-Site-Data. */
function assertNothingCleared(res: Response): void {
  assert.equal(hasSetCookie(res, "ory_kratos_session"), false, "the session cookie is kept");
  assert.equal(res.headers["clear-site-data"], undefined, "SEC-26: never on a failure");
}

/** A browser that signed in through the browser login flow: its jar (session + CSRF cookies) and the Set-Cookie line it got. */
async function browserSignIn(pub: HttpApp, email: string): Promise<{ cookies: Record<string, string>; header: Record<string, string>; sessionLine: string; token: string }> {
  const init = await pub.inject({ method: "GET", url: "/self-service/login/browser", headers: JSON_ACCEPT });
  assert.equal(init.statusCode, 200);
  const csrf = cookieValue(setCookie(init, csrfName()));
  const flow = json<FlowJson>(init);
  const payload = { method: "password", identifier: email, password: PASSWORD, csrf_token: csrfTokenOf(flow) };
  const res = await updateFlow(pub, "login", flow.id, payload, { cookie: `${csrfName()}=${csrf}` });
  assert.equal(res.statusCode, 200, res.body);
  const sessionLine = setCookie(res, "ory_kratos_session");
  const cookies = { ory_kratos_session: cookieValue(sessionLine), [csrfName()]: cookieValue(setCookie(res, csrfName())) };
  const header = { cookie: Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join("; ") };
  return { cookies, header, sessionLine, token: cookies.ory_kratos_session };
}

// ---- tests ----------------------------------------------------------------------------------

describe("createBrowserLogoutFlow (K-5, K-12, K-14, K-15)", () => {
  it("K-5: with the session cookie → 200 {logout_token, logout_url}; the URL's path is /self-service/logout and its token is logout_token", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const accept of ["*/*", "application/json", undefined]) {
      const res = await k.pub.inject({ method: "GET", url: "/self-service/logout/browser", headers: { ...byCookie(token), ...(accept ? { accept } : {}) } });
      assert.equal(res.statusCode, 200, `Accept ${accept}: ${res.body}`);
      assertNoStore(res);
      const body = json<LogoutFlow>(res);
      assert.deepEqual(Object.keys(body).sort(), ["logout_token", "logout_url"]);
      assert.match(body.logout_token, /^ory_lo_[A-Za-z0-9_-]{43}$/, "D4: ory_lo_ + base64url(HMAC-SHA256)");
      const url = new URL(body.logout_url);
      assert.equal(url.origin + url.pathname, `${BASE}/self-service/logout`);
      assert.deepEqual([...url.searchParams.keys()], ["token"]);
      assert.equal(url.searchParams.get("token"), body.logout_token);
    }
    await assertLive(k.pub, token);
  });

  it("D4, as Kratos: the logout token is stable for the session, differs between sessions, and never equals the session token", async (t) => {
    const k = await withAlice(t);
    const a = await signIn(k.pub, ALICE.email);
    const b = await signIn(k.pub, ALICE.email);
    const a1 = await logoutFlow(k.pub, byCookie(a.token));
    const a2 = await logoutFlow(k.pub, byCookie(a.token));
    const b1 = await logoutFlow(k.pub, byCookie(b.token));
    assert.equal(a1.logout_token, a2.logout_token);
    assert.notEqual(a1.logout_token, b1.logout_token);
    assert.ok(!a1.logout_token.includes(a.token.split(".")[1]!));
    // Any carrier identifies the session (X-Session-Token, the cookie, Authorization: Bearer).
    assert.equal((await logoutFlow(k.pub, bySessionToken(a.token))).logout_token, a1.logout_token);
    assert.equal((await logoutFlow(k.pub, byBearer(a.token))).logout_token, a1.logout_token);
  });

  it("K-12: without a session → JSON 401 session_inactive; a browser → 303 to the error page with that reason", async (t) => {
    const k = await withAlice(t);
    const ended = await signIn(k.pub, ALICE.email);
    await updateLogout(k.pub, `?token=${(await logoutFlow(k.pub, byCookie(ended.token))).logout_token}`, byCookie(ended.token));
    for (const creds of [{}, byCookie("nonsense"), byCookie(ended.token)]) {
      assertHerodot(await k.pub.inject({ method: "GET", url: "/self-service/logout/browser", headers: { ...JSON_ACCEPT, ...creds } }), 401, {
        id: "session_inactive",
        reason: E_NOSESS,
      });
      const browser = await k.pub.inject({ method: "GET", url: "/self-service/logout/browser", headers: { accept: NAVIGATION, ...creds } });
      const error = await errorPageReason(k.pub, browser);
      assert.equal(error.code, 401);
      assert.equal(error.reason, E_NOSESS);
    }
  });

  it("K-14: an allowed return_to is carried, canonical, in logout_url (keys sorted: return_to, token)", async (t) => {
    const k = await withAlice(t, ALLOWED);
    const { token } = await signIn(k.pub, ALICE.email);
    const flow = await logoutFlow(k.pub, byCookie(token), "HTTPS://APP.EXAMPLE.COM/bye?x=1");
    const url = new URL(flow.logout_url);
    assert.deepEqual([...url.searchParams.keys()], ["return_to", "token"]);
    assert.equal(url.searchParams.get("return_to"), "https://app.example.com/bye?x=1");
    assert.equal(url.searchParams.get("token"), flow.logout_token);
    await assertLive(k.pub, token);
  });

  it("K-15: a return_to off the allow-list → JSON 400 self_service_flow_return_to_forbidden with Kratos's reason; a browser → the error page", async (t) => {
    const k = await withAlice(t, { "selfservice.allowed_return_urls": ["https://www.ory.sh"] });
    const { token } = await signIn(k.pub, ALICE.email);
    const res = await k.pub.inject({ method: "GET", url: "/self-service/logout/browser?return_to=https://www.ory.com", headers: { ...JSON_ACCEPT, ...byCookie(token) } });
    assertHerodot(res, 400, { id: "self_service_flow_return_to_forbidden", reason: 'Requested return_to URL "https://www.ory.com" is not allowed.' });
    assert.ok(!res.body.includes("ory_lo_"), "SEC-35: no logout token next to a refused target");
    const browser = await k.pub.inject({ method: "GET", url: "/self-service/logout/browser?return_to=https://www.ory.com", headers: byCookie(token) });
    assert.equal((await errorPageReason(k.pub, browser)).id, "self_service_flow_return_to_forbidden");
    // The allowed one (K-14, with Kratos's own example).
    const ok = await logoutFlow(k.pub, byCookie(token), "https://www.ory.sh");
    assert.equal(new URL(ok.logout_url).searchParams.get("return_to"), "https://www.ory.sh/");
    await assertLive(k.pub, token);
  });
});

describe("updateLogoutFlow: success (K-6, K-7, K-13, K-14)", () => {
  it("K-6 / K-13: a browser following logout_url → 303 (not 302) to /ui/logged-out; the cookie is cleared; whoami with the old cookie → 401", async (t) => {
    const k = await withAlice(t);
    const browser = await browserSignIn(k.pub, ALICE.email);
    const flow = await logoutFlow(k.pub, browser.header);
    const res = await follow(k.pub, flow.logout_url, { accept: NAVIGATION, ...browser.header });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, LOGGED_OUT);
    assert.equal(res.body, "");
    assertNoStore(res);
    const cleared = setCookie(res, "ory_kratos_session");
    assert.equal(cookieValue(cleared), "");
    const attrs = cookieAttributes(cleared);
    assert.equal(attrs.get("max-age"), "0", "SEC-25: Max-Age=0");
    assert.equal(attrs.get("expires"), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert.deepEqual(scope(cleared), scope(browser.sessionLine), "SEC-25: the same Path, Domain, SameSite, HttpOnly and Secure as when it was set");
    assert.equal(res.headers["clear-site-data"], undefined, "SEC-26: not over http");
    const me = await whoami(k.pub, browser.header);
    assert.equal(me.statusCode, 401);
    await assertDead(k.pub, browser.token);
    assert.equal((await adminSession(k.adm, browser.token.split(".")[0]!)).active, false, "the row is kept, inactive (D6)");
  });

  it("SEC-28 / K-6: logout renews the CSRF cookie; a form token captured before logout is refused afterwards (403)", async (t) => {
    const k = await withAlice(t);
    const browser = await browserSignIn(k.pub, ALICE.email);
    // A flow rendered while signed in (re-authentication), bound to the pre-logout CSRF cookie.
    const init = await k.pub.inject({ method: "GET", url: "/self-service/login/browser?refresh=true", headers: { ...JSON_ACCEPT, ...browser.header } });
    assert.equal(init.statusCode, 200, init.body);
    const before = json<FlowJson>(init);
    const t1 = csrfTokenOf(before);
    const flow = await logoutFlow(k.pub, browser.header);
    const res = await follow(k.pub, flow.logout_url, browser.header);
    assert.equal(res.statusCode, 303);
    const renewed = setCookie(res, csrfName());
    assert.notEqual(cookieValue(renewed), browser.cookies[csrfName()]);
    assert.match(cookieValue(renewed), /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(scope(renewed), { path: "/", domain: undefined, samesite: "Lax", httponly: "", secure: undefined });
    const payload = { method: "password", identifier: ALICE.email, password: PASSWORD, csrf_token: t1 };
    const after = await updateFlow(k.pub, "login", before.id, payload, { cookie: `${csrfName()}=${cookieValue(renewed)}` });
    assertHerodot(after, 403, { id: "security_csrf_violation" });
    assert.equal(hasSetCookie(after, "ory_kratos_session"), false);
  });

  it("K-7: a JSON caller (Accept or Content-Type application/json) → 204 with no body and no redirect; cookie cleared, CSRF cookie renewed", async (t) => {
    const k = await withAlice(t);
    for (const headers of [JSON_ACCEPT, { "content-type": "application/json" }, { accept: "application/json, text/plain, */*" }]) {
      const { token } = await signIn(k.pub, ALICE.email);
      const flow = await logoutFlow(k.pub, byCookie(token));
      const res = await follow(k.pub, flow.logout_url, { ...headers, ...byCookie(token) });
      assert.equal(res.statusCode, 204, JSON.stringify(headers));
      assert.equal(res.body, "");
      assert.equal(res.headers.location, undefined);
      assertNoStore(res);
      assert.equal(cookieAttributes(setCookie(res, "ory_kratos_session")).get("max-age"), "0");
      assert.ok(hasSetCookie(res, csrfName()));
      await assertDead(k.pub, token);
    }
  });

  it("K-14: with an allowed return_to the logout_url ends in a 303 to exactly that URL, in its canonical form", async (t) => {
    const k = await withAlice(t, ALLOWED);
    for (const [given, expected] of [
      ["https://app.example.com/bye", "https://app.example.com/bye"],
      ["HTTPS://APP.EXAMPLE.COM/bye?x=1#f", "https://app.example.com/bye?x=1#f"],
      ["https://app.example.com", "https://app.example.com/"],
      ["/ui/login", `${BASE}/ui/login`],
    ] as const) {
      const { token } = await signIn(k.pub, ALICE.email);
      const flow = await logoutFlow(k.pub, byCookie(token), given);
      const res = await follow(k.pub, flow.logout_url, byCookie(token));
      assert.equal(res.statusCode, 303, given);
      assert.equal(res.headers.location, expected, given);
      assert.equal(res.headers.location, new URL(expected).href, "SEC-32: Location is the canonical href");
      await assertDead(k.pub, token);
    }
    // return_to given on the submit URL only (as in Kratos, each request's return_to is validated on its own).
    const { token } = await signIn(k.pub, ALICE.email);
    const { logout_token } = await logoutFlow(k.pub, byCookie(token));
    const res = await updateLogout(k.pub, `?token=${logout_token}&return_to=${encodeURIComponent("https://App.Example.com/x")}`, byCookie(token));
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, "https://app.example.com/x");
  });

  it("BAD-R38: an empty return_to means the default page", async (t) => {
    const k = await withAlice(t, ALLOWED);
    const { token } = await signIn(k.pub, ALICE.email);
    const { logout_token } = await logoutFlow(k.pub, byCookie(token));
    const res = await updateLogout(k.pub, `?return_to=&token=${logout_token}`, byCookie(token));
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, LOGGED_OUT);
  });

  it("SEC-26 / K-16 to K-18: on an https base URL a successful logout sends Clear-Site-Data \"cookies\", \"storage\" (never \"cache\"), and Secure cookie clears", async (t) => {
    const k = await withAlice(t, { "serve.public.base_url": "https://auth.example.com" });
    for (const headers of [{ accept: NAVIGATION }, JSON_ACCEPT]) {
      const { token } = await signIn(k.pub, ALICE.email);
      const flow = await logoutFlow(k.pub, byCookie(token));
      assert.ok(flow.logout_url.startsWith("https://auth.example.com/self-service/logout?token="));
      const url = new URL(flow.logout_url);
      const res = await k.pub.inject({ method: "GET", url: url.pathname + url.search, headers: { ...headers, ...byCookie(token) } });
      assert.ok(res.statusCode === 303 || res.statusCode === 204, String(res.statusCode));
      assert.equal(res.headers["clear-site-data"], '"cookies", "storage"');
      assert.doesNotMatch(String(res.headers["clear-site-data"]), /cache/, "REG-33: cache stalls Chrome");
      if (res.statusCode === 303) assert.equal(res.headers.location, "https://auth.example.com/ui/logged-out");
      const cleared = cookieAttributes(setCookie(res, "ory_kratos_session"));
      assert.ok(cleared.has("secure"), "D2: Secure on https, on the clear too (SEC-25)");
      assert.ok(cookieAttributes(setCookie(res, csrfName("https://auth.example.com"))).has("secure"));
      await assertDead(k.pub, token);
    }
  });

  it("SEC-26: no Clear-Site-Data on any failure over https (400, 401, 403)", async (t) => {
    const k = await withAlice(t, { "serve.public.base_url": "https://auth.example.com" });
    const a = await signIn(k.pub, ALICE.email);
    const b = await signIn(k.pub, ALICE.email);
    const aToken = (await logoutFlow(k.pub, byCookie(a.token))).logout_token;
    for (const [query, headers] of [
      ["", byCookie(a.token)],
      [`?token=${aToken}`, {}],
      [`?token=${aToken}`, byCookie(b.token)],
      [`?token=${aToken}&return_to=https://evil.example/`, byCookie(a.token)],
    ] as const) {
      for (const accept of [JSON_ACCEPT, { accept: NAVIGATION }]) {
        const res = await updateLogout(k.pub, query, { ...accept, ...headers });
        assert.ok(res.statusCode >= 400 || String(res.headers.location).startsWith("https://auth.example.com/ui/error?id="), `${query} ${res.statusCode}`);
        assertNothingCleared(res);
      }
    }
    await assertLive(k.pub, a.token);
    await assertLive(k.pub, b.token);
  });
});

describe("updateLogoutFlow: refusals change nothing (K-8 to K-11; SEC-27)", () => {
  it("K-8 / SEC-27: no token (an <img src> GET from another site) → JSON 400 'Please include a token'; a browser → the error page; the session lives", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const query of ["", "?token=", "?return_to=/ui/login"]) {
      const api = await updateLogout(k.pub, query, { ...JSON_ACCEPT, ...byCookie(token) });
      assertHerodot(api, 400, { id: null, reason: E_NOTOKEN });
      assertNothingCleared(api);
      const browser = await updateLogout(k.pub, query, { accept: "image/avif,image/webp,*/*", "sec-fetch-site": "cross-site", "sec-fetch-dest": "image", ...byCookie(token) });
      assertNothingCleared(browser);
      const error = await errorPageReason(k.pub, browser);
      assert.equal(error.code, 400);
      assert.equal(error.reason, E_NOTOKEN);
    }
    await assertLive(k.pub, token);
  });

  it("K-9: a token but no session → JSON 401 session_inactive; a browser → the error page with that reason; nothing is reported as logged out", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const { logout_token } = await logoutFlow(k.pub, byCookie(token));
    for (const creds of [{}, byCookie("garbage"), byCookie(`${token.split(".")[0]}.${"A".repeat(43)}`)]) {
      const api = await updateLogout(k.pub, `?token=${logout_token}`, { ...JSON_ACCEPT, ...creds });
      assertHerodot(api, 401, { id: "session_inactive", reason: E_NOSESS });
      assertNothingCleared(api);
      const browser = await updateLogout(k.pub, `?token=${logout_token}`, creds);
      assert.notEqual(browser.headers.location, LOGGED_OUT, "INV-1: never the signed-out page without a revocation");
      assert.equal((await errorPageReason(k.pub, browser)).reason, E_NOSESS);
    }
    await assertLive(k.pub, token);
  });

  it("K-10: user A's logout token with user B's cookie → 403; NEITHER session ends", async (t) => {
    const k = await withAlice(t);
    await createIdentity(k.adm, BOB);
    const alice = await signIn(k.pub, ALICE.email);
    const bob = await signIn(k.pub, BOB.email);
    const aliceFlow = await logoutFlow(k.pub, byCookie(alice.token));
    const api = await follow(k.pub, aliceFlow.logout_url, { ...JSON_ACCEPT, ...byCookie(bob.token) });
    assertHerodot(api, 403, { id: null, reason: E_MISMATCH });
    assertNothingCleared(api);
    const browser = await follow(k.pub, aliceFlow.logout_url, byCookie(bob.token));
    assertNothingCleared(browser);
    const error = await errorPageReason(k.pub, browser);
    assert.equal(error.code, 403);
    assert.equal(error.reason, E_MISMATCH);
    // The same person's other session is "another session" too.
    const alice2 = await signIn(k.pub, ALICE.email);
    assertHerodot(await follow(k.pub, aliceFlow.logout_url, { ...JSON_ACCEPT, ...byCookie(alice2.token) }), 403, { reason: E_MISMATCH });
    await assertLive(k.pub, alice.token);
    await assertLive(k.pub, alice2.token);
    await assertLive(k.pub, bob.token);
  });

  it("K-11: its own session but a token with a character changed, cut short, or with 'invalid' appended → 403; the session lives", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const { logout_token } = await logoutFlow(k.pub, byCookie(token));
    const i = logout_token.length - 5;
    const variants = [
      logout_token.slice(0, i) + (logout_token[i] === "a" ? "b" : "a") + logout_token.slice(i + 1),
      logout_token + "invalid",
      logout_token.slice(0, -1),
      logout_token.toUpperCase(),
      logout_token.replace("ory_lo_", "ory_st_"),
      `${logout_token} `,
      token,
    ];
    for (const variant of variants) {
      const api = await updateLogout(k.pub, `?token=${encodeURIComponent(variant)}`, { ...JSON_ACCEPT, ...byCookie(token) });
      assertHerodot(api, 403, { id: null, reason: E_MISMATCH });
      assert.ok(!api.body.includes(logout_token), "the real token is not echoed");
      assertNothingCleared(api);
      const browser = await updateLogout(k.pub, `?token=${encodeURIComponent(variant)}`, byCookie(token));
      assert.equal((await errorPageReason(k.pub, browser)).code, 403);
    }
    await assertLive(k.pub, token);
  });

  it("as Kratos: a logout URL replayed after the logout does nothing: 401 (JSON) or the error page, never the signed-out page", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const flow = await logoutFlow(k.pub, byCookie(token));
    assert.equal((await follow(k.pub, flow.logout_url, byCookie(token))).statusCode, 303);
    const api = await follow(k.pub, flow.logout_url, { ...JSON_ACCEPT, ...byCookie(token) });
    assertHerodot(api, 401, { id: "session_inactive" });
    assertNothingCleared(api);
    const browser = await follow(k.pub, flow.logout_url, byCookie(token));
    assertNothingCleared(browser);
    assert.equal((await errorPageReason(k.pub, browser)).reason, E_NOSESS);
    // After a new sign-in the old URL is someone else's token: 403, as in Kratos, and the new session lives.
    const again = await signIn(k.pub, ALICE.email);
    assertHerodot(await follow(k.pub, flow.logout_url, { ...JSON_ACCEPT, ...byCookie(again.token) }), 403);
    await assertLive(k.pub, again.token);
  });

  it("deviation from Kratos (which revokes the bearer's session, or nothing): exactly the session whose logout token matched is revoked, whichever carrier named it", async (t) => {
    const k = await withAlice(t);
    await createIdentity(k.adm, BOB);
    // X-Session-Token only: Kratos answers success and revokes nothing; Curfew revokes it.
    const header = await signIn(k.pub, ALICE.email);
    const headerToken = (await logoutFlow(k.pub, bySessionToken(header.token))).logout_token;
    const res = await updateLogout(k.pub, `?token=${headerToken}`, { ...JSON_ACCEPT, ...bySessionToken(header.token) });
    assert.equal(res.statusCode, 204);
    await assertDead(k.pub, header.token);
    // Cookie for A and Bearer for B with A's logout token: A ends, B does not (Kratos would revoke B).
    const a = await signIn(k.pub, ALICE.email);
    const b = await signIn(k.pub, BOB.email);
    const aToken = (await logoutFlow(k.pub, byCookie(a.token))).logout_token;
    const mixed = await updateLogout(k.pub, `?token=${aToken}`, { ...byCookie(a.token), ...byBearer(b.token) });
    assert.equal(mixed.statusCode, 303);
    assert.equal(cookieAttributes(setCookie(mixed, "ory_kratos_session")).get("max-age"), "0");
    await assertDead(k.pub, a.token);
    await assertLive(k.pub, b.token);
  });

  it("SEC-70: a duplicated token or return_to parameter → 400 (JSON) or the error page; nothing is revoked", async (t) => {
    const k = await withAlice(t, ALLOWED);
    const { token } = await signIn(k.pub, ALICE.email);
    const { logout_token } = await logoutFlow(k.pub, byCookie(token));
    const queries = [
      `?token=${logout_token}&token=${logout_token}`,
      `?token=x&token=${logout_token}`,
      `?token=${logout_token}&return_to=/a&return_to=${encodeURIComponent("https://evil.com")}`,
      `?return_to=${encodeURIComponent("https://app.example.com/")}&token=${logout_token}&return_to=${encodeURIComponent("https://app.example.com/")}`,
    ];
    for (const query of queries) {
      const api = await updateLogout(k.pub, query, { ...JSON_ACCEPT, ...byCookie(token) });
      assertHerodot(api, 400);
      assertNothingCleared(api);
      const browser = await updateLogout(k.pub, query, byCookie(token));
      assertNothingCleared(browser);
      assert.equal((await errorPageReason(k.pub, browser)).code, 400);
    }
    for (const query of ["?return_to=/a&return_to=https://evil.com", "?return_to=/a&return_to=/a"]) {
      assertHerodot(await k.pub.inject({ method: "GET", url: `/self-service/logout/browser${query}`, headers: { ...JSON_ACCEPT, ...byCookie(token) } }), 400);
      const browser = await k.pub.inject({ method: "GET", url: `/self-service/logout/browser${query}`, headers: byCookie(token) });
      assert.equal((await errorPageReason(k.pub, browser)).code, 400);
    }
    await assertLive(k.pub, token);
  });
});

/**
 * The BAD-R01..R40 redirect corpus with `allowed_return_urls: ["https://app.example.com/"]`.
 * Every one of these is refused on both logout endpoints. (BAD-R20, R29, R38 and R39 are
 * allowed; they are tested below.)
 */
const BAD_R: [string, string][] = [
  ["R01", "https://evil.com/"],
  ["R02", "//evil.com"],
  ["R03", "///evil.com"],
  ["R04", "\\\\evil.com"],
  ["R05", "/\\evil.com"],
  ["R06", "\\/evil.com"],
  ["R07", "/\t/evil.com"],
  ["R08", "/\n/evil.com"],
  ["R09", "https:evil.com"],
  ["R10", "http:evil.com"],
  ["R11", "https://app.example.com@evil.com"],
  ["R12", "https://app.example.com%2F@evil.com"],
  ["R13", "https://a@b@evil.com"],
  ["R14", "https://evil.com\\@app.example.com"],
  ["R15", "https://evil.com#@app.example.com"],
  ["R16", "https://evil.com?@app.example.com"],
  ["R17", "https://app.example.com.evil.com/"],
  ["R18", "https://evilapp.example.com/"],
  ["R18", "https://app.example.com-evil.com/"],
  ["R19", "javascript:alert(1)"],
  ["R19", "JaVaScRiPt:alert(1)"],
  ["R19", " javascript:alert(1)"],
  ["R19", "java\tscript:alert(1)"],
  ["R19", "\u0000javascript:alert(1)"],
  ["R21", "/\r\nSet-Cookie:x=1"],
  ["R22", "%0d%0aLocation:%20https://evil.com"],
  ["R23", "data:text/html,<script>alert(1)</script>"],
  ["R23", "vbscript:msgbox(1)"],
  ["R23", "file:///etc/passwd"],
  ["R24", "https://ｅｖｉｌ.com/"],
  ["R24", "https://evil。com/"],
  ["R25", "https://app.example.com/app/..;/admin"],
  ["R25", "/app/%2e%2e/admin"],
  ["R25", "https://app.example.com/app/../admin"],
  ["R26", "https://аpp.example.com/"],
  ["R27", "https://app.example.com\u200b/"],
  ["R28", "http://2130706433/"],
  ["R28", "http://0x7f.1/"],
  ["R33", "https://app.example.com./"],
  ["R34", "https://app.example.com:8443/"],
  ["R35", "http://app.example.com/"],
  ["R36", `https://app.example.com/${"a".repeat(8 * 1024)}`],
  ["R36", `https://app.example.com/${"a".repeat(100 * 1024)}`],
  ["R40", "ht\ttps://evil.com"],
];

/** A Location is acceptable only on our own origin or under the allow-list entry (SEC-31). */
function onAllowList(location: string): boolean {
  const url = new URL(location);
  return url.origin === new URL(BASE).origin || (url.origin === "https://app.example.com" && url.href === location);
}

describe("BAD-R01..R40 on both logout endpoints (SEC-31..35)", () => {
  it("SEC-31..35: every bad return_to on createBrowserLogoutFlow → JSON 400 / the error page, no off-list Location, no token handed out; the session stays live", async (t) => {
    const k = await withAlice(t, ALLOWED);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const [id, target] of BAD_R) {
      const url = `/self-service/logout/browser?return_to=${encodeURIComponent(target)}`;
      const api = await k.pub.inject({ method: "GET", url, headers: { ...JSON_ACCEPT, ...byCookie(token) } });
      const body = assertHerodot(api, 400);
      assert.ok(body.error.id === "self_service_flow_return_to_forbidden" || body.error.id === undefined, `${id}: ${body.error.id}`);
      assert.ok(!api.body.includes("ory_lo_"), `${id}: SEC-35 no logout token`);
      assert.doesNotMatch(api.body, /[\u0000-\u001f]/, `${id}: no raw control characters echoed`);
      assert.equal(api.headers.location, undefined, id);
      const browser = await k.pub.inject({ method: "GET", url, headers: { accept: NAVIGATION, ...byCookie(token) } });
      assert.equal(browser.statusCode, 303, `${id} ${JSON.stringify(target.slice(0, 60))}`);
      assert.ok(String(browser.headers.location).startsWith(`${BASE}/ui/error?id=`), `${id}: ${browser.headers.location}`);
      assertNothingCleared(browser);
    }
    await assertLive(k.pub, token);
  });

  it("SEC-31..35 (deviation from Kratos, which revokes first): every bad return_to on updateLogoutFlow, with the right token → JSON 400 / the error page, and the session stays LIVE (validated before revoking)", async (t) => {
    const k = await withAlice(t, ALLOWED);
    const { token } = await signIn(k.pub, ALICE.email);
    const { logout_token } = await logoutFlow(k.pub, byCookie(token));
    for (const [id, target] of BAD_R) {
      const query = `?return_to=${encodeURIComponent(target)}&token=${logout_token}`;
      const api = await updateLogout(k.pub, query, { ...JSON_ACCEPT, ...byCookie(token) });
      assertHerodot(api, 400);
      assert.equal(api.headers.location, undefined, id);
      assertNothingCleared(api);
      const browser = await updateLogout(k.pub, query, byCookie(token));
      assert.equal(browser.statusCode, 303, `${id} ${JSON.stringify(target.slice(0, 60))}`);
      assert.ok(String(browser.headers.location).startsWith(`${BASE}/ui/error?id=`), `${id}: ${browser.headers.location}`);
      assert.ok(onAllowList(String(browser.headers.location)));
      assertNothingCleared(browser);
      await assertLive(k.pub, token);
    }
    // And the same token still works for a good target afterwards.
    const ok = await updateLogout(k.pub, `?token=${logout_token}`, byCookie(token));
    assert.equal(ok.headers.location, LOGGED_OUT);
    await assertDead(k.pub, token);
  });

  it("BAD-R20 / R29 / R39: a same-origin path (never decoded into a header), an upper-cased allowed URL, and /dashboard are allowed, emitted canonical", async (t) => {
    const k = await withAlice(t, ALLOWED);
    for (const [id, target, expected] of [
      ["R20", "/%0d%0aSet-Cookie:x=1", `${BASE}/%0d%0aSet-Cookie:x=1`],
      ["R29", "HTTPS://APP.EXAMPLE.COM/", "https://app.example.com/"],
      ["R39", "/dashboard", `${BASE}/dashboard`],
    ] as const) {
      const { token } = await signIn(k.pub, ALICE.email);
      const flow = await logoutFlow(k.pub, byCookie(token), target);
      const res = await follow(k.pub, flow.logout_url, byCookie(token));
      assert.equal(res.statusCode, 303, id);
      assert.equal(res.headers.location, expected, id);
      assert.ok(onAllowList(String(res.headers.location)), id);
      assert.ok(!setCookies(res).some((c) => c.startsWith("x=")), `${id}: no injected cookie`);
      await assertDead(k.pub, token);
    }
  });

  it("BAD-R30..R32: for return_to (a prefix allow-list) a port-443, query or fragment variant of an allowed URL is allowed and emitted canonical", async (t) => {
    const k = await withAlice(t, ALLOWED);
    for (const [target, expected] of [
      ["https://app.example.com:443/logout/cb", "https://app.example.com/logout/cb"],
      ["https://app.example.com/logout/cb?foo=bar", "https://app.example.com/logout/cb?foo=bar"],
      ["https://app.example.com/logout/cb#frag", "https://app.example.com/logout/cb#frag"],
    ] as const) {
      const { token } = await signIn(k.pub, ALICE.email);
      const { logout_token } = await logoutFlow(k.pub, byCookie(token));
      const res = await updateLogout(k.pub, `?token=${logout_token}&return_to=${encodeURIComponent(target)}`, byCookie(token));
      assert.equal(res.statusCode, 303, target);
      assert.equal(res.headers.location, expected);
    }
  });
});

describe("updateLogoutFlow under store faults (INV-1, INV-3, D19)", () => {
  async function faulty(t: { after(fn: () => unknown): void }, config: Record<string, unknown> = {}): Promise<Kratos & { store: FailingStore }> {
    const store = await FailingStore.open();
    const k = await kratosFor(t, { store, config });
    await createIdentity(k.adm, ALICE);
    return { ...k, store };
  }

  it("INV-1 / INV-3 / SEC-26: revokeSessions down → a browser gets the error page (503 stored), a JSON caller 503; cookie kept, no Clear-Site-Data even on https, the session still live, and a retry works", async (t) => {
    const HTTPS = "https://auth.example.com";
    const k = await faulty(t, { "serve.public.base_url": HTTPS });
    const { token } = await signIn(k.pub, ALICE.email);
    const flow = await logoutFlow(k.pub, byCookie(token));
    k.store.fail("revokeSessions");
    const browser = await follow(k.pub, flow.logout_url, { accept: NAVIGATION, ...byCookie(token) });
    assertNothingCleared(browser);
    assert.notEqual(browser.headers.location, `${HTTPS}/ui/logged-out`);
    assert.equal(hasSetCookie(browser, csrfName(HTTPS)), false, "no CSRF renewal either: nothing happened");
    const error = await errorPageReason(k.pub, browser, HTTPS);
    assert.equal(error.code, 503);
    const api = await follow(k.pub, flow.logout_url, { ...JSON_ACCEPT, ...byCookie(token) });
    const body = assertHerodot(api, 503);
    assert.match(body.error.reason ?? "", /Nothing was changed/);
    assert.equal(api.headers["retry-after"], "1");
    assertNothingCleared(api);
    assert.ok(!api.body.includes("injected store fault"));
    k.store.heal();
    await assertLive(k.pub, token);
    const retry = await follow(k.pub, flow.logout_url, byCookie(token));
    assert.equal(retry.statusCode, 303);
    assert.equal(retry.headers.location, `${HTTPS}/ui/logged-out`);
    assert.equal(retry.headers["clear-site-data"], '"cookies", "storage"', "only now, after the commit");
    await assertDead(k.pub, token);
  });

  it("INV-3: when the store cannot even keep the error, a browser gets the 503 itself, never a 303 to the signed-out page", async (t) => {
    const k = await faulty(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const flow = await logoutFlow(k.pub, byCookie(token));
    k.store.fail(["revokeSessions", "insertError"]);
    const res = await follow(k.pub, flow.logout_url, { accept: NAVIGATION, ...byCookie(token) });
    assertHerodot(res, 503);
    assertNothingCleared(res);
    k.store.heal();
    await assertLive(k.pub, token);
  });

  it("INV-1 (FLT-03): an ambiguous commit (the revocation ran, its answer was lost) is never reported as a logout", async (t) => {
    const k = await faulty(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const flow = await logoutFlow(k.pub, byCookie(token));
    k.store.fail("revokeSessions", "after");
    const api = await follow(k.pub, flow.logout_url, { ...JSON_ACCEPT, ...byCookie(token) });
    assertHerodot(api, 503);
    assertNothingCleared(api);
    const browser = await follow(k.pub, flow.logout_url, byCookie(token));
    assert.notEqual(browser.headers.location, LOGGED_OUT);
    assertNothingCleared(browser);
  });
});
