/**
 * `GET|POST /logout?logoutSuccessUrl=` ("Logout and redirect" in WoodWing's "Assets Server REST
 * API - logout" article; D15; BAD-R01..R40, SEC-70; INV-1, INV-3).
 *
 * Deviations from the vendor text, tested as such (src/dialects/assets/index.ts header): the
 * target goes through the redirect gate (a relative path or an allow-listed absolute URL, else
 * the landing page), and a GET that may come from another site gets a confirmation page
 * instead of ending the session silently.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HttpApp } from "../../http/app.ts";
import {
  BASE,
  BOB,
  type CookieSession,
  FORM,
  type Response,
  apiLogin,
  assertAssetsError,
  assertCookieCleared,
  assertCookieKept,
  assertCsrfRefused,
  assertEnded,
  assertLive,
  assetsFor,
  assetsWithAlice,
  bearer,
  browserLogin,
  form,
  setCookies,
  user,
} from "../../../test/support/assets.ts";
import { FailingStore } from "../../../test/support/failing-store.ts";
import { ManualClock } from "../../../test/support/clock.ts";

const ALLOW_LIST = { "selfservice.allowed_return_urls": ["https://app.example.com/"] };
const LANDING = `${BASE}/`;

function logoutUrl(successUrl?: string): string {
  return successUrl === undefined ? "/logout" : `/logout?logoutSuccessUrl=${encodeURIComponent(successUrl)}`;
}

function getLogout(pub: HttpApp, successUrl: string | undefined, headers: Record<string, string>): Promise<Response> {
  return pub.inject({ method: "GET", url: logoutUrl(successUrl), headers });
}

function postLogout(pub: HttpApp, fields: Record<string, string>, headers: Record<string, string>, query = ""): Promise<Response> {
  return pub.inject({ method: "POST", url: `/logout${query}`, headers: { ...FORM, ...headers }, payload: form(fields) });
}

/** 302 to exactly `location`; nothing else in the body; no CR/LF smuggled into a header (BAD-R21). */
function assertRedirect(res: Response, location: string): void {
  assert.equal(res.statusCode, 302, `expected 302 to ${location}, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
  assert.equal(res.headers.location, location);
  assert.doesNotMatch(String(res.headers.location), /[\r\n\t\0 ]/);
  for (const line of setCookies(res)) assert.match(line, /^authToken=/, `an unexpected cookie: ${line}`);
}

/** The session ended and the browser was told to drop the cookie (D15). */
async function assertLoggedOut(pub: HttpApp, s: CookieSession, res: Response): Promise<void> {
  assertCookieCleared(res);
  await assertEnded(pub, s.cookie);
}

/** Nothing ended: no cookie change, the session still works. */
async function assertNothingEnded(pub: HttpApp, s: CookieSession, res: Response): Promise<void> {
  assertCookieKept(res);
  await assertLive(pub, s.cookie);
}

/** The hidden fields of the confirmation page's form, decoded as a browser would. */
function formFields(html: string): { action: string; method: string; fields: Record<string, string> } {
  const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const formTag = /<form\b([^>]*)>/i.exec(html);
  assert.ok(formTag, "no form on the page");
  const attr = (tag: string, name: string) => unescape(new RegExp(`\\b${name}="([^"]*)"`, "i").exec(tag)?.[1] ?? "");
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input\b([^>]*)>/gi)) {
    const tag = m[1]!;
    if (attr(tag, "type") === "hidden") fields[attr(tag, "name")] = attr(tag, "value");
  }
  return { action: attr(formTag[1]!, "action"), method: attr(formTag[1]!, "method").toUpperCase(), fields };
}

/** D15: the confirmation page, not a logout: HTML, a CSP, a POST form to /logout with the session's token. */
function assertConfirmationPage(res: Response, s: CookieSession): { action: string; method: string; fields: Record<string, string> } {
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  assert.match(String(res.headers["content-type"]), /^text\/html/);
  const csp = String(res.headers["content-security-policy"] ?? "");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /form-action 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(String(res.headers["cache-control"]), /\bno-store\b/);
  assert.equal(res.headers.location, undefined);
  assert.doesNotMatch(res.body, /<script/i);
  const f = formFields(res.body);
  assert.equal(f.method, "POST");
  assert.equal(f.action, `${BASE}/logout`);
  assert.equal(f.fields.csrfToken, s.csrf, "the form carries the session's csrfToken");
  return f;
}

describe("GET /logout: one step from our own site (D15)", () => {
  for (const site of ["same-origin", "same-site", "none"]) {
    it(`D15: Sec-Fetch-Site: ${site} ends the session and answers 302 to the validated logoutSuccessUrl, clearing the cookie`, async (t) => {
      const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
      const s = await browserLogin(pub);
      const res = await getLogout(pub, "https://app.example.com/signed-out", { ...s.cookie, "sec-fetch-site": site });
      assertRedirect(res, "https://app.example.com/signed-out");
      await assertLoggedOut(pub, s, res);
    });
  }

  it("D15: without logoutSuccessUrl (or with an empty one) the redirect goes to the landing page, the base URL's / by default", async (t) => {
    const { pub } = await assetsWithAlice(t);
    for (const successUrl of [undefined, ""]) {
      const s = await browserLogin(pub);
      const res = await getLogout(pub, successUrl, { ...s.cookie, "sec-fetch-site": "same-origin" });
      assertRedirect(res, LANDING);
      await assertLoggedOut(pub, s, res);
    }
  });

  it("D15: a GET that names no Sec-Fetch-Site but comes with our own Origin is one step too", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const res = await getLogout(pub, "/bye", { ...s.cookie, origin: BASE });
    assertRedirect(res, `${BASE}/bye`);
    await assertLoggedOut(pub, s, res);
  });

  it("a bearer GET /logout ends the bearer session (no cookie to clear)", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const token = await apiLogin(pub);
    const res = await getLogout(pub, "/x", { ...bearer(token), "sec-fetch-site": "none" });
    assertRedirect(res, `${BASE}/x`);
    assert.equal(setCookies(res).length, 0);
    await assertEnded(pub, bearer(token));
  });

  it("SEC-55: a bearer GET /logout that says nothing of its origin is one step too: a bearer token is no ambient credential", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const token = await apiLogin(pub);
    const res = await getLogout(pub, "/x", bearer(token));
    assertRedirect(res, `${BASE}/x`);
    await assertEnded(pub, bearer(token));
  });
});

describe("GET /logout from elsewhere: a confirmation page (D15, a deviation from the vendor)", () => {
  const cases: { name: string; headers: Record<string, string> }[] = [
    { name: "Sec-Fetch-Site: cross-site", headers: { "sec-fetch-site": "cross-site" } },
    { name: "neither Sec-Fetch-Site nor Origin", headers: {} },
    { name: "a foreign Origin and no Sec-Fetch-Site", headers: { origin: "https://evil.example" } },
    { name: "Origin: null", headers: { origin: "null" } },
    { name: "cross-site even with our Origin", headers: { "sec-fetch-site": "cross-site", origin: BASE } },
  ];
  for (const c of cases) {
    it(`D15: a GET with ${c.name} gets a 200 HTML page (with a CSP) whose form POSTs to /logout with the csrfToken; nothing is ended`, async (t) => {
      const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
      const s = await browserLogin(pub);
      const res = await getLogout(pub, "https://app.example.com/after", { ...s.cookie, ...c.headers });
      const f = assertConfirmationPage(res, s);
      assert.equal(f.fields.logoutSuccessUrl, "https://app.example.com/after");
      // Chrome applies form-action to the redirect after the post: the allowed target must be in it.
      assert.match(String(res.headers["content-security-policy"]), /form-action 'self'[^;]* https:\/\/app\.example\.com/);
      await assertNothingEnded(pub, s, res);
    });
  }

  it("D5: the confirmation page, a logout POST refused for its CSRF token and a refused /services/logout are use of the session like any other request", async (t) => {
    const clock = new ManualClock();
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST, clock });
    const s = await browserLogin(pub);
    // The demo's idle timeout is 30 minutes: each step comes 20 minutes after the one before.
    clock.advance(20 * 60_000);
    assertConfirmationPage(await getLogout(pub, "https://app.example.com/after", { ...s.cookie, "sec-fetch-site": "cross-site" }), s);
    clock.advance(20 * 60_000);
    assertCsrfRefused(await postLogout(pub, { csrfToken: "wrong" }, { ...s.cookie, "sec-fetch-site": "same-origin" }));
    clock.advance(20 * 60_000);
    assertCsrfRefused(await pub.inject({ method: "POST", url: "/services/logout", headers: { ...s.cookie, "sec-fetch-site": "same-origin", "x-csrf-token": "wrong" } }));
    clock.advance(20 * 60_000);
    await assertLive(pub, s.cookie);
  });

  it("D15: pressing the page's button (a same-origin form POST of its fields) ends the session and goes to the target", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
    const s = await browserLogin(pub);
    const page = await getLogout(pub, "https://app.example.com/after", { ...s.cookie, "sec-fetch-site": "cross-site" });
    const f = assertConfirmationPage(page, s);
    const path = new URL(f.action).pathname;
    const res = await pub.inject({ method: "POST", url: path, headers: { ...s.cookie, ...FORM, "sec-fetch-site": "same-origin", origin: BASE }, payload: form(f.fields) });
    assertRedirect(res, "https://app.example.com/after");
    await assertLoggedOut(pub, s, res);
  });

  it("D15: without logoutSuccessUrl the page has no such field, and its POST goes to the landing page", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const page = await getLogout(pub, undefined, s.cookie);
    const f = assertConfirmationPage(page, s);
    assert.deepEqual(Object.keys(f.fields), ["csrfToken"]);
    const res = await postLogout(pub, f.fields, { ...s.cookie, "sec-fetch-site": "same-origin" });
    assertRedirect(res, LANDING);
    await assertLoggedOut(pub, s, res);
  });

  it("SEC-34: a hostile logoutSuccessUrl is escaped on the page, and still goes through the gate when the form comes back", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
    const s = await browserLogin(pub);
    const hostile = `"><script>alert(1)</script><input name="x" value="`;
    const page = await getLogout(pub, hostile, { ...s.cookie, "sec-fetch-site": "cross-site" });
    const f = assertConfirmationPage(page, s);
    assert.ok(!page.body.includes("<script>"), "the target was not escaped");
    assert.equal(f.fields.logoutSuccessUrl, hostile);
    const res = await postLogout(pub, f.fields, { ...s.cookie, "sec-fetch-site": "same-origin" });
    assertRedirect(res, LANDING);
    await assertLoggedOut(pub, s, res);
  });
});

describe("POST /logout needs the csrfToken (D15)", () => {
  it("D15: the right csrfToken as the form field or as X-CSRF-TOKEN → 302 and the session is ended", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
    const a = await browserLogin(pub);
    const byField = await postLogout(pub, { csrfToken: a.csrf, logoutSuccessUrl: "/done" }, a.cookie);
    assertRedirect(byField, `${BASE}/done`);
    await assertLoggedOut(pub, a, byField);

    const b = await browserLogin(pub);
    const byHeader = await pub.inject({ method: "POST", url: logoutUrl("https://app.example.com/x"), headers: { ...b.cookie, "X-CSRF-TOKEN": b.csrf } });
    assertRedirect(byHeader, "https://app.example.com/x");
    await assertLoggedOut(pub, b, byHeader);
  });

  it("D15: without a token, with a wrong, truncated or another session's token, or from another site → 403 Assets JSON, no redirect, nothing ended", async (t) => {
    const { pub, adm } = await assetsWithAlice(t);
    await user(adm, BOB);
    const s = await browserLogin(pub);
    const bob = await browserLogin(pub, "bob");
    const attempts: { name: string; fields: Record<string, string>; headers: Record<string, string> }[] = [
      { name: "no token", fields: {}, headers: {} },
      { name: "empty token", fields: { csrfToken: "" }, headers: {} },
      { name: "wrong token", fields: { csrfToken: "wrong" }, headers: {} },
      { name: "truncated", fields: { csrfToken: s.csrf.slice(0, -1) }, headers: {} },
      { name: "Bob's token", fields: { csrfToken: bob.csrf }, headers: {} },
      { name: "Bob's token in the header", fields: {}, headers: { "x-csrf-token": bob.csrf } },
      { name: "session token as csrf", fields: { csrfToken: s.token }, headers: {} },
      { name: "right token, cross-site", fields: { csrfToken: s.csrf }, headers: { "sec-fetch-site": "cross-site" } },
      { name: "right token, foreign Origin", fields: { csrfToken: s.csrf }, headers: { origin: "https://evil.example" } },
      { name: "right token, Origin null", fields: { csrfToken: s.csrf }, headers: { origin: "null" } },
    ];
    for (const a of attempts) {
      const res = await postLogout(pub, { logoutSuccessUrl: "/x", ...a.fields }, { ...s.cookie, ...a.headers });
      assertCsrfRefused(res);
      assert.equal(res.headers.location, undefined, a.name);
      await assertNothingEnded(pub, s, res);
    }
    await assertLive(pub, bob.cookie);
  });

  it("BAD-C09 (no token in a URL): a csrfToken in the query string of a POST is not accepted", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const res = await pub.inject({ method: "POST", url: `/logout?csrfToken=${s.csrf}`, headers: s.cookie });
    assertCsrfRefused(res);
    await assertNothingEnded(pub, s, res);
    const viaGet = await pub.inject({ method: "GET", url: `/logout?csrfToken=${s.csrf}`, headers: s.cookie });
    assertConfirmationPage(viaGet, s);
    await assertNothingEnded(pub, s, viaGet);
  });

  it("D13: /logout is a browser endpoint, not the services API: its refusals keep their real status even with status_ok_on_error", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: { "assets.status_ok_on_error": true } });
    const s = await browserLogin(pub);
    const res = await postLogout(pub, { csrfToken: "wrong" }, s.cookie);
    assertCsrfRefused(res);
    await assertNothingEnded(pub, s, res);
    assertAssetsError(await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=a&logoutSuccessUrl=b", headers: s.cookie }), 400);
  });
});

describe("/logout with other methods", () => {
  it("SEC-69: PUT, DELETE and PATCH on /logout → 405 with Allow: GET, POST, in the Assets envelope; nothing ended", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const method of ["PUT", "DELETE", "PATCH"] as const) {
      const res = await pub.inject({ method, url: "/logout", headers: { ...s.cookie, "sec-fetch-site": "same-origin" } });
      assertAssetsError(res, 405);
      assert.equal(res.headers.allow, "GET, POST");
    }
    await assertLive(pub, s.cookie);
  });
});

describe("/logout without a session", () => {
  it("no session: 302 to the target, no cookie set, no page and no error: there was nothing to end", async (t) => {
    const { pub } = await assetsFor(t, { config: ALLOW_LIST });
    for (const headers of [{}, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-origin" }] as Record<string, string>[]) {
      const get = await getLogout(pub, "https://app.example.com/x", headers);
      assertRedirect(get, "https://app.example.com/x");
      assert.equal(setCookies(get).length, 0);
      const post = await postLogout(pub, { logoutSuccessUrl: "/y" }, headers);
      assertRedirect(post, `${BASE}/y`);
      assert.equal(setCookies(post).length, 0);
    }
  });

  it("a stale or unknown authToken cookie: 302 to the target and the dead cookie is cleared", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const first = await getLogout(pub, "/a", { ...s.cookie, "sec-fetch-site": "same-origin" });
    await assertLoggedOut(pub, s, first);
    for (const cookie of [s.cookie.cookie, "authToken=garbage", `authToken=00000000-0000-4000-8000-000000000000.${"A".repeat(43)}`]) {
      const res = await getLogout(pub, "/b", { cookie });
      assertRedirect(res, `${BASE}/b`);
      assertCookieCleared(res);
    }
  });
});

/** The BAD-R corpus of bad redirect targets, with the allow-list `https://app.example.com/`. */
const REFUSED: [id: string, raw: string][] = [
  ["BAD-R01", "https://evil.com/"],
  ["BAD-R02", "//evil.com"],
  ["BAD-R03", "///evil.com"],
  ["BAD-R04", "\\\\evil.com"],
  ["BAD-R05", "/\\evil.com"],
  ["BAD-R06", "\\/evil.com"],
  ["BAD-R07", "/\t/evil.com"],
  ["BAD-R08", "/\n/evil.com"],
  ["BAD-R09", "https:evil.com"],
  ["BAD-R10", "http:evil.com"],
  ["BAD-R11", "https://app.example.com@evil.com"],
  ["BAD-R12", "https://app.example.com%2F@evil.com"],
  ["BAD-R13", "https://a@b@evil.com"],
  ["BAD-R14", "https://evil.com\\@app.example.com"],
  ["BAD-R15", "https://evil.com#@app.example.com"],
  ["BAD-R16", "https://evil.com?@app.example.com"],
  ["BAD-R17", "https://app.example.com.evil.com/"],
  ["BAD-R18", "https://evilapp.example.com/"],
  ["BAD-R18", "https://app.example.com-evil.com/"],
  ["BAD-R19", "javascript:alert(1)"],
  ["BAD-R19", "JaVaScRiPt:alert(1)"],
  ["BAD-R19", " javascript:alert(1)"],
  ["BAD-R19", "java\tscript:alert(1)"],
  ["BAD-R19", "\u0000javascript:alert(1)"],
  ["BAD-R21", "/\r\nSet-Cookie:x=1"],
  ["BAD-R22", "%0d%0aLocation:%20https://evil.com"],
  ["BAD-R23", "data:text/html,<script>alert(1)</script>"],
  ["BAD-R23", "vbscript:msgbox(1)"],
  ["BAD-R23", "file:///etc/passwd"],
  ["BAD-R24", "https://ｅｖｉｌ.com/"],
  ["BAD-R24", "https://evil。com/"],
  ["BAD-R25", "https://app.example.com/app/..;/admin"],
  ["BAD-R25", "/app/%2e%2e/admin"],
  ["BAD-R25", "https://app.example.com/app/../admin"],
  ["BAD-R26", "https://аpp.example.com/"],
  ["BAD-R27", "https://app.example.com\u200b/"],
  ["BAD-R28", "http://2130706433/"],
  ["BAD-R28", "http://0x7f.1/"],
  ["BAD-R33", "https://app.example.com./"],
  ["BAD-R34", "https://app.example.com:8443/"],
  ["BAD-R35", "http://app.example.com/"],
  ["BAD-R36", `https://app.example.com/${"a".repeat(8 * 1024)}`],
  ["BAD-R36", `/${"a".repeat(100 * 1024)}`],
  ["BAD-R40", "ht\ttps://evil.com"],
  // Not in the table, same family: a bare word, a scheme-relative path with a port, a tab-led path.
  ["bare word", "evil.com"],
  ["relative-scheme", "//evil.com:443/x"],
  ["backslash path", "/\\/evil.com"],
];

/** Prefix-list matches (BAD-R29..R32 are refusals only under OIDC's exact match) and same-origin paths: the canonical form. */
const ALLOWED: [id: string, raw: string, location: string][] = [
  ["BAD-R20", "/%0d%0aSet-Cookie:x=1", `${BASE}/%0d%0aSet-Cookie:x=1`],
  ["BAD-R29", "HTTPS://APP.EXAMPLE.COM/", "https://app.example.com/"],
  ["BAD-R30", "https://app.example.com:443/logout/cb", "https://app.example.com/logout/cb"],
  ["BAD-R31", "https://app.example.com/logout/cb?foo=bar", "https://app.example.com/logout/cb?foo=bar"],
  ["BAD-R39", "/dashboard", `${BASE}/dashboard`],
  ["relative path", "/somewhere", `${BASE}/somewhere`],
  ["relative path with query", "/somewhere?a=1&b=2", `${BASE}/somewhere?a=1&b=2`],
  ["allowed absolute", "https://app.example.com/", "https://app.example.com/"],
  ["allowed absolute, deeper", "https://app.example.com/app/page?x=1", "https://app.example.com/app/page?x=1"],
  ["our own origin", `${BASE}/account`, `${BASE}/account`],
];

/** Whatever happens, the Location is on the allow-list: our origin or https://app.example.com. */
function assertOnList(location: unknown): void {
  const url = new URL(String(location));
  assert.ok(url.origin === BASE || url.origin === "https://app.example.com", `off the allow-list: ${String(location)}`);
  assert.equal(url.username + url.password, "");
}

describe("logoutSuccessUrl through the redirect gate (D15, BAD-R01..R40)", () => {
  it("BAD-R01..R40: every refused target goes to the landing page, with or without a session, by GET or by POST; never off the allow-list", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
    for (const [id, raw] of REFUSED) {
      const label = `${id} ${JSON.stringify(raw.slice(0, 60))}`;
      const anonymous = await getLogout(pub, raw, {});
      assertRedirect(anonymous, LANDING);

      const s = await browserLogin(pub);
      const res = await getLogout(pub, raw, { ...s.cookie, "sec-fetch-site": "same-origin" });
      assert.equal(res.statusCode, 302, `${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      assertOnList(res.headers.location);
      assert.equal(res.headers.location, LANDING, label);
      await assertLoggedOut(pub, s, res);

      if (raw.length < 10_000) {
        const p = await browserLogin(pub);
        const posted = await postLogout(pub, { csrfToken: p.csrf, logoutSuccessUrl: raw }, p.cookie);
        assert.equal(posted.headers.location, LANDING, `POST ${label}`);
        await assertLoggedOut(pub, p, posted);
      }
    }
  });

  it("BAD-R20, R29..R31, R39: a relative path or an allow-listed absolute URL goes exactly there, in canonical form", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
    for (const [id, raw, location] of ALLOWED) {
      const s = await browserLogin(pub);
      const res = await getLogout(pub, raw, { ...s.cookie, "sec-fetch-site": "same-origin" });
      assertRedirect(res, location);
      assertOnList(res.headers.location);
      assert.equal(setCookies(res).filter((l) => /x=1/.test(l)).length, 0, `${id}: a smuggled cookie`);
      await assertLoggedOut(pub, s, res);
    }
  });

  it("BAD-R37 (SEC-70): logoutSuccessUrl given twice, in the query or in query and form, is 400 and ends nothing", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: ALLOW_LIST });
    const s = await browserLogin(pub);
    const get = await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=a&logoutSuccessUrl=b", headers: { ...s.cookie, "sec-fetch-site": "same-origin" } });
    const same = await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=/a&logoutSuccessUrl=/a", headers: { ...s.cookie, "sec-fetch-site": "same-origin" } });
    const mixed = await pub.inject({
      method: "POST",
      url: "/logout?logoutSuccessUrl=/a",
      headers: { ...s.cookie, ...FORM },
      payload: form({ csrfToken: s.csrf, logoutSuccessUrl: "https://evil.com/" }),
    });
    const twoTokens = await pub.inject({ method: "POST", url: "/logout", headers: { ...s.cookie, ...FORM }, payload: `csrfToken=${s.csrf}&csrfToken=${s.csrf}` });
    for (const res of [get, same, mixed, twoTokens]) {
      assertAssetsError(res, 400);
      assert.equal(res.headers.location, undefined);
      await assertNothingEnded(pub, s, res);
    }
  });

  it("assets.landing_page: a configured path or absolute URL replaces the default landing page", async (t) => {
    for (const [landing, expected] of [
      ["/goodbye", `${BASE}/goodbye`],
      ["https://app.example.com/bye", "https://app.example.com/bye"],
    ] as const) {
      const { pub } = await assetsWithAlice(t, { config: { ...ALLOW_LIST, "assets.landing_page": landing } });
      for (const raw of [undefined, "https://evil.com/", "//evil.com"]) {
        const s = await browserLogin(pub);
        const res = await getLogout(pub, raw, { ...s.cookie, "sec-fetch-site": "same-origin" });
        assertRedirect(res, expected);
        await assertLoggedOut(pub, s, res);
      }
      // An acceptable target still wins over the landing page.
      assertRedirect(await getLogout(pub, "/else", {}), `${BASE}/else`);
    }
  });
});

describe("/logout under store faults (INV-1, INV-3)", () => {
  it("INV-1/INV-3: with revokeSessions failing, a one-step GET and a POST with the token answer 503 Assets JSON, never a redirect; the cookie is kept and the session lives", async (t) => {
    const store = await FailingStore.open();
    const { pub } = await assetsWithAlice(t, { store, config: ALLOW_LIST });
    const s = await browserLogin(pub);
    store.fail("revokeSessions");
    const attempts = [
      await getLogout(pub, "https://app.example.com/x", { ...s.cookie, "sec-fetch-site": "same-origin" }),
      await postLogout(pub, { csrfToken: s.csrf, logoutSuccessUrl: "/x" }, s.cookie),
      await pub.inject({ method: "POST", url: "/logout", headers: { ...s.cookie, "x-csrf-token": s.csrf } }),
    ];
    for (const res of attempts) {
      assertAssetsError(res, 503, { errorname: "ServiceUnavailableException" });
      assert.equal(res.headers.location, undefined, "INV-1: no redirect to the success URL");
      assert.equal(res.headers["retry-after"], "1");
      assertCookieKept(res);
    }
    store.heal();
    await assertLive(pub, s.cookie);
    const retry = await getLogout(pub, "https://app.example.com/x", { ...s.cookie, "sec-fetch-site": "same-origin" });
    assertRedirect(retry, "https://app.example.com/x");
    await assertLoggedOut(pub, s, retry);
  });

  it("INV-1 + D13: even with status_ok_on_error, a /logout that could not commit is 503, never a 2xx", async (t) => {
    const store = await FailingStore.open();
    const { pub } = await assetsWithAlice(t, { store, config: { "assets.status_ok_on_error": true } });
    const s = await browserLogin(pub);
    store.fail("revokeSessions");
    const res = await getLogout(pub, "/x", { ...s.cookie, "sec-fetch-site": "same-origin" });
    assertAssetsError(res, 503);
    assertCookieKept(res);
    store.heal();
    await assertLive(pub, s.cookie);
  });

  it("INV-3: with the session lookup failing, /logout answers 503, not the no-session redirect", async (t) => {
    const store = await FailingStore.open();
    const { pub } = await assetsWithAlice(t, { store });
    const s = await browserLogin(pub);
    store.fail("findSessionWithIdentity");
    const res = await getLogout(pub, "/x", { ...s.cookie, "sec-fetch-site": "same-origin" });
    assertAssetsError(res, 503);
    assert.equal(res.headers.location, undefined);
    assertCookieKept(res);
    store.heal();
    await assertLive(pub, s.cookie);
  });
});
