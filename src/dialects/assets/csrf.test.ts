/**
 * CSRF at the Assets door (SEC-55, SEC-56, SEC-59, SEC-65; BAD-C01..C15; WoodWing's article
 * "Performing a POST request with a csrf token"): a cookie session's state-changing request
 * needs the session's own csrfToken in `X-CSRF-TOKEN` and must not come from another site.
 * Every refusal is 403 `InvalidCsrfTokenException` in the Assets JSON, never a 500, with the
 * cookie kept and the session still working; the right token, however the header name is
 * spelled, is accepted.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { describe, it } from "node:test";
import type { HttpApp } from "../../http/app.ts";
import {
  ALICE,
  BOB,
  type CookieSession,
  FORM,
  NOT_LOGGED_IN_BODY,
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
  authTokenSet,
  bearer,
  browserLogin,
  liveSessions,
  login,
  profile,
  servicesLogout,
  setCookies,
  user,
} from "../../../test/support/assets.ts";

/** After a refusal: nothing ended, and the right token still logs out (SEC-55 "after each rejected request the session still works"). */
async function assertUntouched(pub: HttpApp, s: CookieSession, res: Response): Promise<void> {
  assertCookieKept(res);
  await assertLive(pub, s.cookie);
}

async function assertRightTokenStillWorks(pub: HttpApp, s: CookieSession): Promise<void> {
  const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.body, '{"logoutSuccess":true}');
  assertCookieCleared(res);
  await assertEnded(pub, s.cookie);
}

/** One change at a position: a different base64url character. */
function flip(token: string, at: number): string {
  const c = token[at]!;
  return token.slice(0, at) + (c === "A" ? "B" : "A") + token.slice(at + 1);
}

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** Sends bytes exactly as given (for what Node's client refuses to send) and reads the answer. */
function rawHttp(port: number, bytes: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [head = "", body = ""] = text.split("\r\n\r\n", 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
    socket.end(bytes);
  });
}

/** A POST over a real socket with headers as Node's client sends them (names as given; arrays as repeated lines). */
function socketPost(base: string, path: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: "POST", headers: { connection: "close", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("X-CSRF-TOKEN on POST /services/logout (SEC-55, BAD-C01..C05)", () => {
  it("BAD-C01/C02: no X-CSRF-TOKEN, or an empty one, is 403 InvalidCsrfTokenException; the cookie is kept and the session works", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const headers of [{}, { "x-csrf-token": "" }, { "x-csrf-token": " " }] as Record<string, string>[]) {
      const res = await servicesLogout(pub, { ...s.cookie, ...headers });
      assertCsrfRefused(res);
      await assertUntouched(pub, s, res);
    }
    await assertRightTokenStillWorks(pub, s);
  });

  it("BAD-C03: the token of another live session (another user's, or the same user's other session) is 403", async (t) => {
    const { pub, adm } = await assetsWithAlice(t);
    await user(adm, BOB);
    const alice = await browserLogin(pub, "alice");
    const aliceAgain = await browserLogin(pub, "alice");
    const bob = await browserLogin(pub, "bob");
    for (const other of [bob, aliceAgain]) {
      const res = await servicesLogout(pub, { ...alice.cookie, "x-csrf-token": other.csrf });
      assertCsrfRefused(res);
      await assertUntouched(pub, alice, res);
    }
    await assertLive(pub, bob.cookie);
    await assertLive(pub, aliceAgain.cookie);
    await assertRightTokenStillWorks(pub, alice);
  });

  it("BAD-C04 (SEC-28): the csrfToken from before the last logout and login is 403 with the new session", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const before = await browserLogin(pub);
    await assertRightTokenStillWorks(pub, before);
    const after = await browserLogin(pub);
    assert.notEqual(after.csrf, before.csrf);
    const res = await servicesLogout(pub, { ...after.cookie, "x-csrf-token": before.csrf });
    assertCsrfRefused(res);
    await assertUntouched(pub, after, res);
    // And the old session stays over whatever token comes with it.
    assert.equal((await servicesLogout(pub, { ...before.cookie, "x-csrf-token": before.csrf })).body, NOT_LOGGED_IN_BODY);
    await assertRightTokenStillWorks(pub, after);
  });

  it("BAD-C05 (SEC-59): one character changed, truncated by one, extended by one, or a case change is 403, never a 500", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const tok = s.csrf;
    const variants = [
      flip(tok, 0),
      flip(tok, tok.length - 1),
      flip(tok, tok.length >> 1),
      tok.slice(0, -1),
      tok.slice(1),
      tok + "A",
      "A" + tok,
      tok + "=",
      tok.toUpperCase() === tok ? tok.toLowerCase() : tok.toUpperCase(),
      tok + tok,
      s.token,
      s.sessionId,
    ];
    for (const v of variants) {
      assert.notEqual(v, tok);
      const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": v });
      assertCsrfRefused(res);
      await assertUntouched(pub, s, res);
    }
    await assertRightTokenStillWorks(pub, s);
  });

  it("BAD-C06: a 64 KB X-CSRF-TOKEN is 403 in process and 431 over a socket (Node's header limit), never a 5xx", async (t) => {
    const a = await assetsWithAlice(t, { listen: true });
    const s = await browserLogin(a.pub);
    const huge = "A".repeat(64 * 1024);
    const res = await servicesLogout(a.pub, { ...s.cookie, "x-csrf-token": huge });
    assertCsrfRefused(res);
    await assertUntouched(a.pub, s, res);
    // Node's default --max-http-header-size (16 KB) answers before any route runs.
    const wire = await socketPost(a.t.publicUrl, "/services/logout", { ...s.cookie, "X-CSRF-TOKEN": huge });
    assert.equal(wire.status, 431, wire.body);
    await assertLive(a.pub, s.cookie);
    await assertRightTokenStillWorks(a.pub, s);
  });

  it("BAD-C07: non-ASCII, %00 and raw high bytes are 403; an obs-fold continuation line is refused (400) before any route; never a 5xx", async (t) => {
    const a = await assetsWithAlice(t, { listen: true });
    const s = await browserLogin(a.pub);
    for (const v of [`${s.csrf}é`, `é${s.csrf.slice(1)}`, "\u00ff".repeat(43), `${s.csrf}%00`, "%00", encodeURIComponent(s.csrf + "é")]) {
      const res = await servicesLogout(a.pub, { ...s.cookie, "x-csrf-token": v });
      assertCsrfRefused(res);
      await assertUntouched(a.pub, s, res);
    }
    const port = Number(new URL(a.t.publicUrl).port);
    const head = (csrfLine: Buffer) =>
      Buffer.concat([
        Buffer.from(`POST /services/logout HTTP/1.1\r\nHost: localhost\r\nCookie: authToken=${s.token}\r\nContent-Length: 0\r\nConnection: close\r\n`),
        csrfLine,
        Buffer.from("\r\n"),
      ]);
    // The right token with a raw 0xE9 byte appended: not the token.
    const highByte = await rawHttp(port, head(Buffer.concat([Buffer.from(`X-CSRF-TOKEN: ${s.csrf}`), Buffer.from([0xe9]), Buffer.from("\r\n")])));
    assert.equal(highByte.status, 403, highByte.head);
    // The right token split by an obs-fold (RFC 9112 §5.2): Node refuses the message outright.
    const folded = await rawHttp(port, head(Buffer.from(`X-CSRF-TOKEN: ${s.csrf.slice(0, 10)}\r\n ${s.csrf.slice(10)}\r\n`)));
    assert.ok(folded.status >= 400 && folded.status < 500, folded.head);
    // A NUL byte in the header: refused by the parser.
    const nul = await rawHttp(port, head(Buffer.concat([Buffer.from(`X-CSRF-TOKEN: ${s.csrf}`), Buffer.from([0]), Buffer.from("\r\n")])));
    assert.ok(nul.status >= 400 && nul.status < 500, nul.head);
    await assertLive(a.pub, s.cookie);
    await assertRightTokenStillWorks(a.pub, s);
  });

  it('BAD-C08 (SEC-59): two X-CSRF-TOKEN headers, even both right, arrive joined as "a, b" and are 403', async (t) => {
    const a = await assetsWithAlice(t, { listen: true });
    const s = await browserLogin(a.pub);
    const other = await browserLogin(a.pub);
    for (const pair of [[s.csrf, s.csrf], [s.csrf, other.csrf], [other.csrf, s.csrf], [s.csrf, ""]]) {
      const res = await socketPost(a.t.publicUrl, "/services/logout", { cookie: `authToken=${s.token}`, "X-CSRF-TOKEN": pair });
      assert.equal(res.status, 403, res.body);
      assert.equal(JSON.parse(res.body).errorname, "InvalidCsrfTokenException");
      assert.equal(res.headers["set-cookie"], undefined);
      await assertLive(a.pub, s.cookie);
    }
    // In process the same joined value is refused too.
    assertCsrfRefused(await servicesLogout(a.pub, { ...s.cookie, "x-csrf-token": `${s.csrf}, ${s.csrf}` }));
    await assertRightTokenStillWorks(a.pub, s);
  });

  it("BAD-C09: the token in the query string or the body instead of the header is 403 (a JSON body is not a carrier at all: 415)", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const attempts: Response[] = [
      await pub.inject({ method: "POST", url: `/services/logout?csrfToken=${s.csrf}`, headers: s.cookie }),
      await pub.inject({ method: "POST", url: `/services/logout?X-CSRF-TOKEN=${s.csrf}`, headers: s.cookie }),
      await pub.inject({ method: "POST", url: `/services/logout?_csrf=${s.csrf}`, headers: s.cookie }),
      await pub.inject({ method: "POST", url: "/services/logout", headers: { ...s.cookie, ...FORM }, payload: `csrfToken=${s.csrf}` }),
      await pub.inject({ method: "POST", url: "/services/logout", headers: { ...s.cookie, ...FORM }, payload: `X-CSRF-TOKEN=${s.csrf}` }),
      await pub.inject({ method: "POST", url: "/services/logout", headers: { ...s.cookie, cookie: `authToken=${s.token}; X-CSRF-TOKEN=${s.csrf}` } }),
    ];
    for (const res of attempts) {
      assertCsrfRefused(res);
      await assertUntouched(pub, s, res);
    }
    const asJson = await pub.inject({ method: "POST", url: "/services/logout", headers: s.cookie, payload: { csrfToken: s.csrf } });
    assertAssetsError(asJson, 415);
    await assertUntouched(pub, s, asJson);
    await assertRightTokenStillWorks(pub, s);
  });

  it("BAD-C10: the right token is accepted whatever the header name's case (x-csrf-token, X-Csrf-Token), over a real socket", async (t) => {
    const a = await assetsWithAlice(t, { listen: true });
    for (const name of ["x-csrf-token", "X-Csrf-Token", "X-CSRF-TOKEN", "x-CsRf-ToKeN"]) {
      const s = await browserLogin(a.pub);
      const res = await socketPost(a.t.publicUrl, "/services/logout", { cookie: `authToken=${s.token}`, [name]: s.csrf });
      assert.equal(res.status, 200, `${name}: ${res.body}`);
      assert.equal(res.body, '{"logoutSuccess":true}');
      await assertEnded(a.pub, s.cookie);
    }
  });
});

describe("Same-site checks on POST /services/logout (SEC-56, BAD-C11..C15)", () => {
  it("BAD-C11: the right token with Origin https://evil.example, null, http://localhost:4433.evil.example or another scheme/port of our host is 403", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const origin of ["https://evil.example", "null", "http://localhost:4433.evil.example", "https://localhost:4433", "http://localhost:4434", "http://localhost", "http://evil.example:4433"]) {
      const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf, origin });
      assertCsrfRefused(res);
      await assertUntouched(pub, s, res);
    }
    // Our own origin passes (and so does no Origin at all: the token carries it).
    const ok = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf, origin: "http://localhost:4433" });
    assert.equal(ok.body, '{"logoutSuccess":true}');
  });

  it("BAD-C12: the right token with Sec-Fetch-Site: cross-site is 403, whatever Origin claims; same-origin passes", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const headers of [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "cross-site", origin: "http://localhost:4433" }] as Record<string, string>[]) {
      const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf, ...headers });
      assertCsrfRefused(res);
      await assertUntouched(pub, s, res);
    }
    const ok = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf, "sec-fetch-site": "same-origin" });
    assert.equal(ok.body, '{"logoutSuccess":true}');
  });

  it("BAD-C13: the right token without the cookie is 401 Not logged in; the session it belongs to stays live", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const res = await servicesLogout(pub, { "x-csrf-token": s.csrf });
    assertAssetsError(res, 401);
    assert.equal(res.body, NOT_LOGGED_IN_BODY);
    assertCookieKept(res);
    await assertLive(pub, s.cookie);
  });

  it("BAD-C14: Alice's token with Bob's cookie is 403; neither session ends", async (t) => {
    const { pub, adm } = await assetsWithAlice(t);
    await user(adm, BOB);
    const alice = await browserLogin(pub, "alice");
    const bob = await browserLogin(pub, "bob");
    const res = await servicesLogout(pub, { ...bob.cookie, "x-csrf-token": alice.csrf });
    assertCsrfRefused(res);
    await assertUntouched(pub, bob, res);
    await assertLive(pub, alice.cookie);
  });

  it("BAD-C15: a cross-site text/plain form POST carrying the token in its body is refused and ends nothing", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const res = await servicesLogout(
        pub,
        { ...s.cookie, "content-type": type, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        { payload: `X-CSRF-TOKEN=${s.csrf}` },
      );
      assert.ok(res.statusCode === 403 || res.statusCode === 415, `${type}: ${res.statusCode} ${res.body}`);
      assertAssetsError(res, res.statusCode);
      await assertUntouched(pub, s, res);
    }
    await assertRightTokenStillWorks(pub, s);
  });

  it("a bearer session needs neither the token (as WoodWing documents) nor a same-site request (it is not ambient)", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const token = await apiLogin(pub);
    const res = await servicesLogout(pub, { ...bearer(token), origin: "https://evil.example" });
    assert.equal(res.body, '{"logoutSuccess":true}');
    await assertEnded(pub, bearer(token));
  });
});

describe("X-CSRF-TOKEN on POST /services/profile (SEC-55)", () => {
  it("SEC-55: a cookie POST to /services/profile needs the session's token and a same-site request, like logout", async (t) => {
    const { pub, adm } = await assetsWithAlice(t);
    await user(adm, BOB);
    const s = await browserLogin(pub);
    const bob = await browserLogin(pub, "bob");
    for (const headers of [{}, { "x-csrf-token": "" }, { "x-csrf-token": bob.csrf }, { "x-csrf-token": s.csrf.slice(1) }, { "x-csrf-token": s.csrf, origin: "null" }, { "x-csrf-token": s.csrf, "sec-fetch-site": "cross-site" }] as Record<string, string>[]) {
      const res = await profile(pub, { ...s.cookie, ...headers }, "POST");
      assertCsrfRefused(res);
      await assertUntouched(pub, s, res);
    }
    const ok = await profile(pub, { ...s.cookie, "X-Csrf-Token": s.csrf }, "POST");
    assert.equal(ok.statusCode, 200, ok.body);
  });
});

describe("Login CSRF (SEC-65)", () => {
  it("SEC-65: a login posted from another site's page (Sec-Fetch-Site: cross-site, or a foreign Origin) is 403 and sets no cookie; no session is made", async (t) => {
    const { pub, adm } = await assetsFor(t);
    const alice = await user(adm);
    for (const headers of [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: "http://localhost:4433.evil.example" },
      { "sec-fetch-site": "cross-site", origin: "http://localhost:4433" },
    ] as Record<string, string>[]) {
      for (const via of ["form", "query", "cred"] as const) {
        const res = await login(pub, ALICE.username, undefined, { via, headers });
        assertCsrfRefused(res);
        assert.equal(setCookies(res).length, 0, `${JSON.stringify(headers)} ${via}: a cookie was set`);
        assert.doesNotMatch(res.body, /loginSuccess|csrfToken/);
      }
    }
    assert.equal(await liveSessions(adm, alice.id), 0);
  });

  it("SEC-65: our own page (same-origin), a typed-in request (none) and a non-browser client (neither header) sign in", async (t) => {
    const { pub } = await assetsWithAlice(t);
    for (const headers of [{ "sec-fetch-site": "same-origin" }, { "sec-fetch-site": "none" }, { origin: "http://localhost:4433" }, {}] as Record<string, string>[]) {
      const res = await login(pub, ALICE.username, undefined, { headers });
      assert.equal(res.statusCode, 200, `${JSON.stringify(headers)}: ${res.body}`);
      assert.ok(authTokenSet(res));
    }
  });
});
