/**
 * Bad input at the Assets door (refused in the door's own error envelope, never with a 500,
 * and changing nothing; D13; SEC-66..SEC-70, SEC-73, SEC-10; WoodWing's login and error-handling
 * articles): unsupported content types are 415,
 * oversized bodies 413, polluted parameters 400, each as the Assets error JSON
 * `{errorcode, errorname?, message}`; the signed-in session still works, no session appears or
 * ends, and no cookie changes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InjectOptions } from "fastify";
import {
  BOB,
  type Assets,
  type CookieSession,
  FORM,
  NOT_LOGGED_IN_BODY,
  type Response,
  assertAssetsError,
  assertCookieKept,
  assertLive,
  assetsFor,
  browserLogin,
  json,
  liveSessions,
  setCookies,
  user,
} from "../../../test/support/assets.ts";
import { PASSWORD } from "../../../test/support/kratos.ts";

interface Fixture extends Assets {
  s: CookieSession;
  aliceId: string;
  /** Every POST endpoint of the door, each with what a legitimate caller would send besides the body. */
  targets: { name: string; url: string; headers: Record<string, string> }[];
}

async function fixture(t: { after(fn: () => unknown): void }, config: Record<string, unknown> = {}): Promise<Fixture> {
  const a = await assetsFor(t, { config });
  const alice = await user(a.adm);
  const s = await browserLogin(a.pub);
  const session = { ...s.cookie, "x-csrf-token": s.csrf };
  return {
    ...a,
    s,
    aliceId: alice.id,
    targets: [
      { name: "login", url: "/services/login", headers: {} },
      { name: "apilogin", url: "/services/apilogin", headers: {} },
      { name: "logout", url: "/services/logout", headers: session },
      { name: "profile", url: "/services/profile", headers: session },
      { name: "redirect logout", url: "/logout", headers: { ...session, "sec-fetch-site": "same-origin" } },
    ],
  };
}

/** Nothing changed: Alice's one session still works, no other session began, no cookie was touched. */
async function assertNothingChanged(f: Fixture, res: Response, label: string): Promise<void> {
  assertCookieKept(res);
  assert.equal(setCookies(res).length, 0, `${label}: ${setCookies(res).join(" | ")}`);
  assert.equal(res.headers.location, undefined, `${label}: redirected`);
  await assertLive(f.pub, f.s.cookie);
  assert.equal(await liveSessions(f.adm, f.aliceId), 1, `${label}: the session count changed`);
}

function send(f: Fixture, target: Fixture["targets"][number], options: Omit<InjectOptions, "method" | "url"> & { query?: string }): Promise<Response> {
  const { query, headers, ...rest } = options;
  return f.pub.inject({ method: "POST", url: target.url + (query ?? ""), headers: { ...target.headers, ...headers }, ...rest } as InjectOptions);
}

const CREDS = `username=alice&password=${encodeURIComponent(PASSWORD)}`;

describe("Unsupported content types (D13: 415)", () => {
  const bodies: { type: string | undefined; payload: string | Buffer }[] = [
    { type: "application/json", payload: JSON.stringify({ username: "alice", password: PASSWORD }) },
    { type: "application/json; charset=utf-8", payload: "{}" },
    { type: "application/json", payload: "{" },
    { type: "application/json", payload: "" },
    { type: "text/plain", payload: CREDS },
    { type: "text/plain; charset=utf-8", payload: "" },
    { type: "application/xml", payload: "<login><username>alice</username></login>" },
    { type: "application/octet-stream", payload: Buffer.from([0, 1, 2, 3]) },
    { type: "text/html", payload: "<b>x</b>" },
    { type: "application/x-www-form-urlencodedx", payload: CREDS },
    { type: undefined, payload: CREDS },
  ];

  it("SEC-68: JSON, text/plain, XML, octet-stream, a near-miss form type or no type at all → 415 Assets JSON at every POST endpoint; nothing signs in, nothing ends", async (t) => {
    const f = await fixture(t);
    for (const target of f.targets) {
      for (const b of bodies) {
        const label = `${target.name} ${b.type ?? "(none)"} ${JSON.stringify(String(b.payload).slice(0, 30))}`;
        const headers: Record<string, string> = b.type === undefined ? {} : { "content-type": b.type };
        const res = await send(f, target, { headers, payload: b.payload });
        const body = assertAssetsError(res, 415, { errorname: "HttpMediaTypeNotSupportedException" });
        assert.match(body.message, /query string or as a form/, label);
        await assertNothingChanged(f, res, label);
      }
    }
  });

  it("BAD-J07: a form body with a Content-Encoding is refused unread → 415 Assets JSON at every POST endpoint; nothing signs in, nothing ends", async (t) => {
    const f = await fixture(t);
    for (const target of f.targets) {
      const res = await send(f, target, { headers: { ...FORM, "content-encoding": "gzip" }, payload: `username=alice&password=${encodeURIComponent(PASSWORD)}` });
      assertAssetsError(res, 415, { errorname: "HttpMediaTypeNotSupportedException" });
      await assertNothingChanged(f, res, target.name);
    }
  });

  it("a multipart/form-data body (the 'formdata' mode of WoodWing's Postman collection) has no parser yet: 415, not a 500 and not a session", async (t) => {
    const f = await fixture(t);
    const payload = `--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--x\r\nContent-Disposition: form-data; name="password"\r\n\r\n${PASSWORD}\r\n--x--\r\n`;
    for (const target of f.targets) {
      const res = await send(f, target, { headers: { "content-type": "multipart/form-data; boundary=x" }, payload });
      assertAssetsError(res, 415);
      await assertNothingChanged(f, res, target.name);
    }
  });

  it("a malformed Content-Type header is 415, never a 500", async (t) => {
    const f = await fixture(t);
    for (const type of ["application/", "/", ";;;", "form", "application/x-www-form-urlencoded\u0000"]) {
      for (const target of f.targets) {
        const res = await send(f, target, { headers: { "content-type": type }, payload: CREDS });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${target.name} ${JSON.stringify(type)}: ${res.statusCode} ${res.body}`);
        assertAssetsError(res, res.statusCode);
        await assertNothingChanged(f, res, `${target.name} ${type}`);
      }
    }
  });

  it("an empty body with no Content-Type is fine where nothing is needed: logout works, login is a plain failed login", async (t) => {
    const f = await fixture(t);
    const login = await f.pub.inject({ method: "POST", url: "/services/login" });
    assert.equal(login.statusCode, 200);
    assert.equal(json(login).loginSuccess, false);
    const out = await f.pub.inject({ method: "POST", url: "/services/logout", headers: { ...f.s.cookie, "x-csrf-token": f.s.csrf } });
    assert.equal(out.body, '{"logoutSuccess":true}');
  });
});

describe("Oversized bodies (SEC-67: 413)", () => {
  it("a body over limits.body_bytes (16 KB) → 413 PayloadTooLargeException at every POST endpoint; nothing changes", async (t) => {
    const f = await fixture(t);
    const big = `${CREDS}&pad=${"a".repeat(20_000)}`;
    for (const target of f.targets) {
      for (const type of ["application/x-www-form-urlencoded", "application/json", "text/plain"]) {
        const res = await send(f, target, { headers: { "content-type": type }, payload: big });
        assert.ok(res.statusCode === 413 || res.statusCode === 415, `${target.name} ${type}: ${res.statusCode}`);
        if (type === "application/x-www-form-urlencoded") assertAssetsError(res, 413, { errorname: "PayloadTooLargeException" });
        else assertAssetsError(res, res.statusCode);
        await assertNothingChanged(f, res, `${target.name} ${type}`);
      }
    }
  });

  it("a configured smaller limit applies; a body just under it is read", async (t) => {
    const f = await fixture(t, { "limits.body_bytes": 2048 });
    const over = await f.pub.inject({ method: "POST", url: "/services/login", headers: FORM, payload: `${CREDS}&pad=${"a".repeat(3000)}` });
    assertAssetsError(over, 413);
    await assertNothingChanged(f, over, "over");
    const under = await f.pub.inject({ method: "POST", url: "/services/login", headers: FORM, payload: `${CREDS}&pad=${"a".repeat(1500)}` });
    assert.equal(json(under).loginSuccess, true, under.body);
  });
});

describe("Polluted and malformed parameters (SEC-70, SEC-73)", () => {
  it("SEC-70: a parameter given twice, or in both the query string and the form, is 400 BadRequestException; nobody signs in", async (t) => {
    const f = await fixture(t);
    const cases: { name: string; query?: string; payload?: string }[] = [
      { name: "username twice (query)", query: `?username=alice&username=bob&password=${encodeURIComponent(PASSWORD)}` },
      { name: "password twice (form)", payload: `username=alice&password=x&password=${encodeURIComponent(PASSWORD)}` },
      { name: "username in query and form", query: "?username=bob", payload: CREDS },
      { name: "same username in query and form", query: "?username=alice", payload: CREDS },
      { name: "cred twice", query: `?cred=${Buffer.from(`alice:${PASSWORD}`).toString("base64")}&cred=x` },
      { name: "returnProfile twice", payload: `${CREDS}&returnProfile=true&returnProfile=false` },
    ];
    for (const path of ["/services/login", "/services/apilogin"]) {
      for (const c of cases) {
        const res = await f.pub.inject({ method: "POST", url: path + (c.query ?? ""), headers: FORM, payload: c.payload ?? "" });
        const body = assertAssetsError(res, 400, { errorname: "BadRequestException" });
        assert.doesNotMatch(body.message, new RegExp(PASSWORD), "the error does not echo a secret");
        await assertNothingChanged(f, res, `${path} ${c.name}`);
      }
    }
  });

  it("SEC-73: __proto__, constructor and prototype as parameter names change nothing and pollute nothing", async (t) => {
    const f = await fixture(t);
    for (const name of ["__proto__", "constructor", "prototype", "__proto__[isAdmin]", "constructor[prototype][x]"]) {
      for (const where of ["query", "form"] as const) {
        const pair = `${encodeURIComponent(name)}=1`;
        const res = await f.pub.inject({
          method: "POST",
          url: where === "query" ? `/services/login?${pair}&username=alice&password=wrong` : "/services/login",
          headers: FORM,
          payload: where === "form" ? `${pair}&username=alice&password=wrong` : "",
        });
        assert.ok(res.statusCode < 500, `${name} ${where}: ${res.statusCode} ${res.body}`);
        if (res.statusCode === 200) assert.equal(json(res).loginSuccess, false);
        else assertAssetsError(res, res.statusCode);
        await assertNothingChanged(f, res, `${name} ${where}`);
      }
    }
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it("odd but well-formed values (10 KB username, invalid percent-escapes, NUL, CR/LF, non-UTF-8 bytes) are failed logins, never 5xx", async (t) => {
    const f = await fixture(t);
    const values = ["a".repeat(10_000), "%", "%E0%A4%A", "%ZZ", "%00", "alice%00", "alice%0d%0aX-Injected:%201", "%FF%FE", "alice%E2%80%8B", "ａｌｉｃｅ"];
    for (const v of values) {
      for (const where of ["query", "form"] as const) {
        const fields = `username=${v}&password=${encodeURIComponent(PASSWORD)}`;
        const res = await f.pub.inject({
          method: "POST",
          url: where === "query" ? `/services/login?${fields}` : "/services/login",
          headers: FORM,
          payload: where === "form" ? fields : "",
        });
        assert.equal(res.statusCode, 200, `${v.slice(0, 20)} ${where}: ${res.body}`);
        assert.equal(json(res).loginSuccess, false, `${v.slice(0, 20)}: a lookalike signed in`);
        assert.equal(res.headers["x-injected"], undefined);
        await assertNothingChanged(f, res, v.slice(0, 20));
      }
    }
  });

  it("cred that is not base64 of user:password is a failed login (200, loginSuccess false), never an error or a 5xx", async (t) => {
    const f = await fixture(t);
    for (const cred of ["!!!", "====", "%", Buffer.from(":password").toString("base64"), Buffer.from("alice").toString("base64"), "a".repeat(5000), Buffer.from([0xff, 0xfe, 0x3a, 0x00]).toString("base64")]) {
      const res = await f.pub.inject({ method: "POST", url: `/services/login?cred=${encodeURIComponent(cred)}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).loginSuccess, false);
      await assertNothingChanged(f, res, cred.slice(0, 20));
    }
  });
});

describe("Bad session carriers (SEC-10)", () => {
  it("SEC-10: two authToken cookies with different values authenticate nobody (401), and end neither session", async (t) => {
    const f = await fixture(t);
    await user(f.adm, BOB);
    const bob = await browserLogin(f.pub, "bob");
    for (const cookie of [`authToken=${f.s.token}; authToken=${bob.token}`, `authToken=${bob.token}; authToken=${f.s.token}`]) {
      for (const csrf of [f.s.csrf, bob.csrf]) {
        const res = await f.pub.inject({ method: "POST", url: "/services/logout", headers: { cookie, "x-csrf-token": csrf } });
        assertAssetsError(res, 401);
        assert.equal(res.body, NOT_LOGGED_IN_BODY);
        await assertNothingChanged(f, res, cookie);
        await assertLive(f.pub, bob.cookie);
      }
    }
  });

  it("malformed Authorization headers and cookie values are 401 Not logged in, never 5xx", async (t) => {
    const f = await fixture(t);
    const carriers: Record<string, string>[] = [
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: "Bearer ." },
      { authorization: `Bearer ${"a".repeat(8000)}` },
      { authorization: `Bearer ${f.s.token}x` },
      { authorization: `Bearer ${f.s.sessionId}` },
      { authorization: "Bearer \u00e9\u00e9" },
      { cookie: "authToken=%00" },
      { cookie: 'authToken="' },
      { cookie: `authToken=${f.s.token.split(".")[0]}.` },
      { cookie: `authToken=.${f.s.token.split(".")[1]}` },
      { cookie: "authToken=;;;;" },
    ];
    for (const headers of carriers) {
      for (const method of ["GET", "POST"] as const) {
        const res = await f.pub.inject({ method, url: "/services/profile", headers: { ...headers, "x-csrf-token": f.s.csrf } });
        assertAssetsError(res, 401);
        await assertNothingChanged(f, res, JSON.stringify(headers).slice(0, 60));
      }
      const out = await f.pub.inject({ method: "POST", url: "/services/logout", headers: { ...headers, "x-csrf-token": f.s.csrf } });
      assertAssetsError(out, 401);
      await assertNothingChanged(f, out, JSON.stringify(headers).slice(0, 60));
    }
  });

  it("a bearer header takes precedence over the cookie: a dead bearer with a live cookie is 401 and the cookie session is not ended", async (t) => {
    const f = await fixture(t);
    const res = await f.pub.inject({
      method: "POST",
      url: "/services/logout",
      headers: { ...f.s.cookie, authorization: "Bearer 00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x-csrf-token": f.s.csrf },
    });
    assertAssetsError(res, 401);
    await assertNothingChanged(f, res, "dead bearer");
  });
});

describe("Unknown paths and methods", () => {
  it("unknown services are 404 Assets JSON; PUT/DELETE/PATCH /logout are refused with 405 (no 5xx) and end nothing", async (t) => {
    const f = await fixture(t);
    for (const url of ["/services/", "/services/login/extra", "/services/LOGOUT", "/services/logout.json"]) {
      const res = await f.pub.inject({ method: "POST", url, headers: { ...f.s.cookie, "x-csrf-token": f.s.csrf } });
      assertAssetsError(res, 404);
      await assertNothingChanged(f, res, url);
    }
    for (const method of ["PUT", "DELETE", "PATCH"] as const) {
      const res = await f.pub.inject({ method, url: "/logout", headers: { ...f.s.cookie, "x-csrf-token": f.s.csrf, "sec-fetch-site": "same-origin" } });
      assert.equal(res.statusCode, 405, `${method}: ${res.body}`);
      assert.match(String(res.headers.allow), /GET/);
      assert.match(String(res.headers.allow), /POST/);
      await assertNothingChanged(f, res, method);
    }
  });
});
