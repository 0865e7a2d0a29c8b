/**
 * The built-in pages (D16), in process: every page is HTML under a strict CSP and never cached
 * (SEC-71, SEC-11); what users put in (traits, User-Agent, a refused return_to) is escaped;
 * the sign-in pages restart a flow they cannot show; the session-revoking forms pass both
 * same-site layers (house rule 9) or change nothing; the favicon never sets a cookie.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HttpApp } from "../../../http/app.ts";
import { setCookies } from "../../../../test/support/cookies.ts";
import {
  ALICE,
  BASE,
  BOB,
  FORM,
  assertDead,
  assertLive,
  bySessionToken,
  byCookie,
  createIdentity,
  csrfName,
  json,
  kratosFor,
  signIn,
  withAlice,
  type FlowJson,
  type Kratos,
  type Response,
} from "../../../../test/support/kratos.ts";

const CSRF_NAME = csrfName();

/** SEC-71 / SEC-11: what every page carries. */
function assertPageHeaders(res: Response, what: string): void {
  assert.match(String(res.headers["content-type"]), /^text\/html; charset=utf-8$/i, `${what}: text/html`);
  const csp = String(res.headers["content-security-policy"] ?? "");
  const directives = new Map(csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => [d.split(/\s+/)[0]!, d.split(/\s+/).slice(1).join(" ")]));
  assert.equal(directives.get("default-src"), "'none'", `${what}: default-src 'none' (${csp})`);
  assert.equal(directives.get("frame-ancestors"), "'none'", `${what}: frame-ancestors 'none'`);
  assert.equal(directives.get("base-uri"), "'none'", `${what}: base-uri 'none'`);
  assert.equal(directives.has("script-src"), false, `${what}: no scripts allowed at all`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, `${what}: nothing loose in the CSP`);
  assert.match(String(res.headers["cache-control"]), /\bno-store\b/, `${what}: no-store`);
  assert.equal(res.headers["x-content-type-options"], "nosniff", `${what}: nosniff`);
  assert.equal(res.headers["referrer-policy"], "no-referrer", `${what}: no Referer leaves a page`);
  assert.equal(res.headers["x-frame-options"], "DENY", `${what}: no framing (older browsers)`);
}

/** A browser login flow (JSON), with the CSRF cookie that goes with it. */
async function browserFlow(pub: HttpApp, type: "login" | "registration"): Promise<{ flow: FlowJson; cookie: Record<string, string> }> {
  const res = await pub.inject({ method: "GET", url: `/self-service/${type}/browser`, headers: { accept: "application/json" } });
  assert.equal(res.statusCode, 200, res.body);
  const line = setCookies(res).find((c) => c.startsWith(`${CSRF_NAME}=`));
  assert.ok(line, "a CSRF cookie");
  return { flow: json<FlowJson>(res), cookie: { cookie: line.split(";", 1)[0]! } };
}

/** The session-bound csrf_token the home page puts in its forms. */
function formToken(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  assert.ok(match, "a csrf_token field on the page");
  return match[1]!;
}

async function home(pub: HttpApp, token: string): Promise<Response> {
  const res = await pub.inject({ method: "GET", url: "/", headers: byCookie(token) });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Your sessions/);
  return res;
}

function post(pub: HttpApp, url: string, fields: Record<string, string>, headers: Record<string, string>): Promise<Response> {
  return pub.inject({ method: "POST", url, headers: { ...FORM, ...headers }, payload: new URLSearchParams(fields).toString() });
}

describe("Every page is HTML under a strict CSP, never cached (SEC-71, SEC-11, D16)", () => {
  it("SEC-71: /, /ui/login?flow=, /ui/registration?flow=, /ui/error, /ui/logged-out (and the signed-in home) carry CSP default-src/frame-ancestors/base-uri 'none', no-store, nosniff, text/html", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const login = await browserFlow(k.pub, "login");
    const registration = await browserFlow(k.pub, "registration");
    const refused = await k.pub.inject({ method: "GET", url: "/self-service/login/browser?return_to=https://evil.example/" });
    const errorPath = new URL(String(refused.headers.location));
    const pages: [string, string, Record<string, string>][] = [
      ["home, signed out", "/", {}],
      ["home, signed in", "/", byCookie(token)],
      ["login", `/ui/login?flow=${login.flow.id}`, login.cookie],
      ["registration", `/ui/registration?flow=${registration.flow.id}`, registration.cookie],
      ["error without id", "/ui/error", {}],
      ["error with id", errorPath.pathname + errorPath.search, {}],
      ["error with an unknown id", "/ui/error?id=00000000-0000-4000-8000-000000000000", {}],
      ["signed out", "/ui/logged-out", {}],
    ];
    for (const [what, url, headers] of pages) {
      const res = await k.pub.inject({ method: "GET", url, headers });
      assert.equal(res.statusCode, 200, `${what}: ${res.statusCode}`);
      assertPageHeaders(res, what);
      assert.match(res.body, /^<!doctype html>/, what);
      assert.doesNotMatch(res.body, /<script/i, `${what}: no scripts`);
      assert.equal(setCookies(res).some((c) => c.startsWith("ory_kratos_session=")), false, `${what}: a page never sets the session cookie`);
    }
  });

  it("SEC-71: the sign-in and registration pages render the flow's form: posting to the flow's action, with its csrf_token", async (t) => {
    const k = await withAlice(t);
    for (const type of ["login", "registration"] as const) {
      const { flow, cookie } = await browserFlow(k.pub, type);
      const res = await k.pub.inject({ method: "GET", url: `/ui/${type}?flow=${flow.id}`, headers: cookie });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes(`action="${BASE}/self-service/${type}?flow=${flow.id}"`), "the form posts to the flow");
      assert.match(res.body, /method="post"/);
      assert.match(res.body, /<input type="hidden" name="csrf_token" value="[A-Za-z0-9_-]{86}">/);
      assert.match(res.body, type === "login" ? /name="identifier"/ : /name="traits\.email"/);
    }
  });

  it("SEC-71: the refusal page of a revoke form and the page of a failed request carry the same headers", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const refused = await post(k.pub, "/ui/sessions/revoke-others", {}, byCookie(token));
    assert.equal(refused.statusCode, 403);
    assertPageHeaders(refused, "revoke refused");
    const bad = await post(k.pub, "/ui/sessions/revoke", { csrf_token: "x", unexpected: "field" }, byCookie(token));
    assert.equal(bad.statusCode, 400);
    assertPageHeaders(bad, "bad form");
  });
});

describe("User-supplied values are escaped (SEC-71, XSS)", () => {
  const EVIL_EMAIL = '"><script>alert(1)</script>@x.example';
  const EVIL_UA = '<script>alert(2)</script>"><img src=x onerror=alert(3)>';

  it("the home page escapes an email like \"><script>…@x.example and a User-Agent with <script>, in text and in attributes", async (t) => {
    const k = await kratosFor(t);
    await createIdentity(k.adm, { email: EVIL_EMAIL });
    const other = await signIn(k.pub, EVIL_EMAIL, undefined, { "user-agent": EVIL_UA });
    const current = await signIn(k.pub, EVIL_EMAIL, undefined, { "user-agent": EVIL_UA });
    for (const token of [current.token, other.token]) {
      const res = await home(k.pub, token);
      assert.ok(!res.body.includes("<script"), "no script element");
      assert.ok(!res.body.includes("<img"), "no injected element");
      assert.ok(!res.body.includes(EVIL_EMAIL) && !res.body.includes('"><script') && !res.body.includes("onerror=alert(3)>"), "no attribute break-out");
      assert.ok(res.body.includes("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@x.example"), "the email is shown, escaped");
      assert.ok(res.body.includes("&lt;script&gt;alert(2)&lt;/script&gt;"), "the device is shown, escaped");
      assert.match(res.body, /aria-label="End the session on API client \(&lt;script&gt;alert\(2\)&lt;\/script&gt;&quot;&gt;&lt;img/, "escaped inside an attribute too");
    }
  });

  it("the error page escapes a refused return_to that carries markup", async (t) => {
    const k = await kratosFor(t);
    const target = "https://evil.example/<script>alert(1)</script>";
    const refused = await k.pub.inject({ method: "GET", url: `/self-service/login/browser?return_to=${encodeURIComponent(target)}` });
    assert.equal(refused.statusCode, 303);
    const location = new URL(String(refused.headers.location));
    const res = await k.pub.inject({ method: "GET", url: location.pathname + location.search });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes("<script"));
    assert.ok(res.body.includes("Requested return_to URL &quot;https://evil.example/&lt;script&gt;alert(1)&lt;/script&gt;&quot; is not allowed."));
  });

  it("the sign-in page escapes a typed identifier it echoes back", async (t) => {
    const k = await kratosFor(t);
    const { flow, cookie } = await browserFlow(k.pub, "login");
    const node = flow.ui.nodes.find((n) => (n.attributes as Record<string, unknown>).name === "csrf_token");
    const token = String((node!.attributes as Record<string, unknown>).value);
    const res = await post(k.pub, `/self-service/login?flow=${flow.id}`, { method: "password", identifier: '"><script>alert(1)</script>', password: "x", csrf_token: token }, { ...cookie, accept: "text/html" });
    assert.equal(res.statusCode, 303);
    const page = await k.pub.inject({ method: "GET", url: `/ui/login?flow=${flow.id}`, headers: cookie });
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes("<script"));
    assert.ok(page.body.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
  });
});

describe("The sign-in and registration pages without a usable flow (D16)", () => {
  it("D16: /ui/login and /ui/registration without a flow → 303 to the browser init endpoint, keeping return_to", async (t) => {
    const k = await kratosFor(t);
    for (const type of ["login", "registration"] as const) {
      const bare = await k.pub.inject({ method: "GET", url: `/ui/${type}` });
      assert.equal(bare.statusCode, 303);
      assert.equal(bare.headers.location, `${BASE}/self-service/${type}/browser`);
      assert.equal(setCookies(bare).length, 0);
      const withReturn = await k.pub.inject({ method: "GET", url: `/ui/${type}?return_to=${encodeURIComponent("/ui/logged-out?a=1&b=2")}` });
      assert.equal(withReturn.statusCode, 303);
      assert.equal(withReturn.headers.location, `${BASE}/self-service/${type}/browser?return_to=${encodeURIComponent("/ui/logged-out?a=1&b=2")}`);
    }
  });

  it("D16: an unknown flow id, another type's flow, or a native flow → 303 to start afresh", async (t) => {
    const k = await kratosFor(t);
    const registration = await browserFlow(k.pub, "registration");
    const native = json<FlowJson>(await k.pub.inject({ method: "GET", url: "/self-service/login/api" }));
    for (const [id, cookie] of [
      ["00000000-0000-4000-8000-000000000000", {}],
      ["not-a-uuid", {}],
      [registration.flow.id, registration.cookie],
      [native.id, registration.cookie],
    ] as const) {
      const res = await k.pub.inject({ method: "GET", url: `/ui/login?flow=${id}`, headers: cookie });
      assert.equal(res.statusCode, 303, id);
      assert.equal(res.headers.location, `${BASE}/self-service/login/browser`);
    }
  });
});

describe("The revoke forms prove they are same-site, in two layers (house rule 9, D12, SEC-56)", () => {
  async function twoSessions(k: Kratos): Promise<{ current: { token: string; id: string }; other: { token: string; id: string }; csrf: string }> {
    const other = await signIn(k.pub, ALICE.email);
    const current = await signIn(k.pub, ALICE.email);
    const page = await home(k.pub, current.token);
    assert.ok(page.body.includes(`name="session_id" value="${other.session.id}"`), "the other session is listed with an End button");
    return { current: { token: current.token, id: current.session.id }, other: { token: other.token, id: other.session.id }, csrf: formToken(page.body) };
  }

  it("house rule 9: POST /ui/sessions/revoke without the csrf_token, with another session's, with a forged one, or cross-site → 403 and nothing revoked", async (t) => {
    const k = await withAlice(t, { "serve.public.cors.allowed_origins": ["https://spa.example.com"] });
    const { current, other, csrf } = await twoSessions(k);
    const otherCsrf = formToken((await home(k.pub, other.token)).body);
    assert.notEqual(otherCsrf, csrf, "the token is bound to the session");
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ["no csrf_token", { session_id: other.id }, {}],
      ["empty csrf_token", { session_id: other.id, csrf_token: "" }, {}],
      ["another session's csrf_token", { session_id: other.id, csrf_token: otherCsrf }, {}],
      ["a forged csrf_token", { session_id: other.id, csrf_token: csrf.slice(0, -1) + (csrf.endsWith("A") ? "B" : "A") }, {}],
      ["Sec-Fetch-Site: cross-site", { session_id: other.id, csrf_token: csrf }, { "sec-fetch-site": "cross-site" }],
      ["Sec-Fetch-Site: same-site", { session_id: other.id, csrf_token: csrf }, { "sec-fetch-site": "same-site" }],
      ["a foreign Origin", { session_id: other.id, csrf_token: csrf }, { origin: "https://evil.example" }],
      ["Origin: null", { session_id: other.id, csrf_token: csrf }, { origin: "null" }],
    ];
    for (const [what, fields, headers] of attempts) {
      const res = await post(k.pub, "/ui/sessions/revoke", fields, { ...byCookie(current.token), ...headers });
      assert.equal(res.statusCode, 403, `${what}: ${res.statusCode}`);
      assert.match(res.body, /nothing was changed/);
      assert.equal(setCookies(res).length, 0, what);
    }
    await assertLive(k.pub, other.token);
    await assertLive(k.pub, current.token);
  });

  it("house rule 9: POST /ui/sessions/revoke with the session's csrf_token from our own page → 303 home; that session is dead, this one lives", async (t) => {
    const k = await withAlice(t);
    for (const headers of [{ "sec-fetch-site": "same-origin", origin: BASE }, { origin: BASE }, {}] as Record<string, string>[]) {
      const { current, other, csrf } = await twoSessions(k);
      const res = await post(k.pub, "/ui/sessions/revoke", { session_id: other.id, csrf_token: csrf }, { ...byCookie(current.token), ...headers });
      assert.equal(res.statusCode, 303, JSON.stringify(headers));
      assert.equal(res.headers.location, `${BASE}/`);
      await assertDead(k.pub, other.token);
      await assertLive(k.pub, current.token);
    }
  });

  it("house rule 9: POST /ui/sessions/revoke-others refuses without the proof, and with it ends every other session but this one", async (t) => {
    const k = await withAlice(t);
    const { current, other, csrf } = await twoSessions(k);
    const third = await signIn(k.pub, ALICE.email);
    const otherCsrf = formToken((await home(k.pub, other.token)).body);
    for (const [fields, headers] of [
      [{}, {}],
      [{ csrf_token: otherCsrf }, {}],
      [{ csrf_token: csrf }, { "sec-fetch-site": "cross-site" }],
      [{ csrf_token: csrf }, { origin: "https://evil.example" }],
    ] as const) {
      const res = await post(k.pub, "/ui/sessions/revoke-others", fields, { ...byCookie(current.token), ...headers });
      assert.equal(res.statusCode, 403, JSON.stringify({ fields, headers }));
    }
    await assertLive(k.pub, other.token);
    await assertLive(k.pub, third.token);
    const ok = await post(k.pub, "/ui/sessions/revoke-others", { csrf_token: csrf }, { ...byCookie(current.token), "sec-fetch-site": "same-origin" });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, `${BASE}/`);
    await assertDead(k.pub, other.token);
    await assertDead(k.pub, third.token);
    await assertLive(k.pub, current.token);
  });

  it("house rule 9: the forms need the session cookie itself: a token header or no credentials → 303 to sign in, nothing revoked", async (t) => {
    const k = await withAlice(t);
    const { current, other, csrf } = await twoSessions(k);
    for (const headers of [{}, bySessionToken(current.token)]) {
      const res = await post(k.pub, "/ui/sessions/revoke", { session_id: other.id, csrf_token: csrf }, headers);
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, `${BASE}/self-service/login/browser`);
    }
    await assertLive(k.pub, other.token);
  });

  it("a valid form naming another person's session ends nothing of theirs", async (t) => {
    const k = await withAlice(t);
    await createIdentity(k.adm, BOB);
    const bob = await signIn(k.pub, BOB.email);
    const { current, csrf } = await twoSessions(k);
    const res = await post(k.pub, "/ui/sessions/revoke", { session_id: bob.session.id, csrf_token: csrf }, byCookie(current.token));
    assert.ok(res.statusCode < 500, String(res.statusCode));
    await assertLive(k.pub, bob.token);
    await assertLive(k.pub, current.token);
  });

  it("the home page's Sign out button carries this session's logout token and signs out", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    const page = await home(k.pub, token);
    const match = /<form method="get" action="([^"]+)"><input type="hidden" name="token" value="([^"]+)">/.exec(page.body);
    assert.ok(match, "a Sign out form");
    assert.equal(match[1], `${BASE}/self-service/logout`);
    const flow = json<{ logout_token: string }>(await k.pub.inject({ method: "GET", url: "/self-service/logout/browser", headers: byCookie(token) }));
    assert.equal(match[2], flow.logout_token);
    const res = await k.pub.inject({ method: "GET", url: `/self-service/logout?token=${match[2]}`, headers: byCookie(token) });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${BASE}/ui/logged-out`);
    await assertDead(k.pub, token);
  });
});

describe("Static assets set no cookie", () => {
  it("/favicon.ico (asked for by browsers on their own, also right after logout) → no body, no Set-Cookie, with or without cookies", async (t) => {
    const k = await withAlice(t);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const headers of [{}, byCookie(token), { cookie: `${CSRF_NAME}=x` }]) {
      const res = await k.pub.inject({ method: "GET", url: "/favicon.ico", headers });
      assert.ok(res.statusCode === 204 || res.statusCode === 200, String(res.statusCode));
      assert.deepEqual(setCookies(res), []);
      const css = await k.pub.inject({ method: "GET", url: "/ui/style.css", headers });
      assert.equal(css.statusCode, 200);
      assert.match(String(css.headers["content-type"]), /^text\/css/);
      assert.deepEqual(setCookies(css), []);
    }
    await assertLive(k.pub, token);
  });
});
