/**
 * The WoodWing Assets door, golden path (WoodWing's Assets Server REST API articles on login,
 * API login, logout and error handling, as docs/dialects/assets.md lists them; D1, D2, D13, D14): the login and logout bodies byte for byte and in the vendor's key order, the
 * `authToken` cookie's attributes, the three ways to pass credentials, the apilogin bearer,
 * /services/profile, POST-only logout (SEC-58), the 200-on-error switch, and logout under store
 * faults (INV-1, INV-3).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALICE,
  BOB,
  NOT_LOGGED_IN_BODY,
  PASSWORD,
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
  json,
  liveSessions,
  login,
  profile,
  servicesLogout,
  setCookies,
  user,
} from "../../../test/support/assets.ts";
import { FailingStore, type FaultMode } from "../../../test/support/failing-store.ts";
import { captureLogs } from "../../../test/support/kratos.ts";

/** D1: every session token is `id.secret`, the id a UUID, the secret ≥ 128 bits of base64url. */
const TOKEN_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{22,}$/;

function assertLoginRefused(res: Response): { loginSuccess: false; serverVersion: string; loginFaultMessage: string } {
  // A refused login is HTTP 200 with loginSuccess false and loginFaultMessage, and sets no cookie.
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  const body = json<{ loginSuccess: false; serverVersion: string; loginFaultMessage: string }>(res);
  assert.deepEqual(Object.keys(body), ["loginSuccess", "serverVersion", "loginFaultMessage"]);
  assert.equal(body.loginSuccess, false);
  assert.equal(body.serverVersion, "6.0.1.8");
  assert.equal(typeof body.loginFaultMessage, "string");
  assert.equal(setCookies(res).length, 0, "a failed login sets no cookie");
  return body;
}

describe("POST /services/logout", () => {
  it('as WoodWing documents: the cookie plus X-CSRF-TOKEN answers {"logoutSuccess":true} byte for byte, clears the cookie and ends the session (INV-1, INV-2)', async (t) => {
    const { pub, adm } = await assetsFor(t);
    const alice = await user(adm);
    const s = await browserLogin(pub);
    await assertLive(pub, s.cookie);

    const res = await servicesLogout(pub, { ...s.cookie, "X-CSRF-TOKEN": s.csrf });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '{"logoutSuccess":true}');
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assert.match(String(res.headers["cache-control"]), /\bno-store\b/);
    assertCookieCleared(res);

    // The server-side session is over, not only the cookie (deviation 7 in docs/dialects/assets.md).
    await assertEnded(pub, s.cookie);
    assert.equal(await liveSessions(adm, alice.id), 0);
    // A repeat is "Not logged in", as the vendor answers unauthenticated calls, never a second success.
    const again = await servicesLogout(pub, { ...s.cookie, "X-CSRF-TOKEN": s.csrf });
    assertAssetsError(again, 401);
    assert.equal(again.body, NOT_LOGGED_IN_BODY);
  });

  it("as WoodWing documents: without a session (no cookie, an unknown token, a malformed cookie) the answer is {errorcode:401,message:Not logged in}", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    const unknown = `00000000-0000-4000-8000-000000000000.${"A".repeat(43)}`;
    const carriers: Record<string, string>[] = [{}, { cookie: `authToken=${unknown}` }, { cookie: "authToken=garbage" }, { cookie: "authToken=" }, { cookie: `other=${s.token}` }];
    for (const headers of carriers) {
      const res = await servicesLogout(pub, { ...headers, "x-csrf-token": s.csrf });
      assertAssetsError(res, 401);
      assert.equal(res.body, NOT_LOGGED_IN_BODY);
    }
    await assertLive(pub, s.cookie);
  });

  it("SEC-58: GET, PUT, PATCH, DELETE and HEAD /services/logout answer 405 with Allow: POST; the session is intact", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const method of ["GET", "PUT", "PATCH", "DELETE", "HEAD"] as const) {
      const res = await pub.inject({ method, url: "/services/logout", headers: { ...s.cookie, "x-csrf-token": s.csrf } });
      assert.equal(res.statusCode, 405, `${method}: ${res.body}`);
      assert.equal(res.headers.allow, "POST", method);
      assertCookieKept(res);
      if (method !== "HEAD") {
        const body = assertAssetsError(res, 405, { errorname: "HttpRequestMethodNotSupportedException" });
        assert.match(body.message, new RegExp(method));
      }
      await assertLive(pub, s.cookie);
    }
    // And the session still ends normally afterwards.
    const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf });
    assert.equal(res.body, '{"logoutSuccess":true}');
  });

  it("as WoodWing documents: a bearer authToken from apilogin logs out without X-CSRF-TOKEN; no cookie is touched; the token is dead after", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const token = await apiLogin(pub);
    await assertLive(pub, bearer(token));
    const res = await servicesLogout(pub, bearer(token));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.body, '{"logoutSuccess":true}');
    assert.equal(setCookies(res).length, 0, "a bearer logout has no cookie to clear");
    await assertEnded(pub, bearer(token));
    assertAssetsError(await servicesLogout(pub, bearer(token)), 401);
  });

  it("D1: a logout ends that session only; the same user's other sessions (cookie and bearer) stay live", async (t) => {
    const { pub, adm } = await assetsFor(t);
    const alice = await user(adm);
    const first = await browserLogin(pub);
    const second = await browserLogin(pub);
    const api = await apiLogin(pub);
    assert.equal(await liveSessions(adm, alice.id), 3);
    const res = await servicesLogout(pub, { ...first.cookie, "x-csrf-token": first.csrf });
    assert.equal(res.body, '{"logoutSuccess":true}');
    await assertEnded(pub, first.cookie);
    await assertLive(pub, second.cookie);
    await assertLive(pub, bearer(api));
    assert.equal(await liveSessions(adm, alice.id), 2);
  });
});

describe("POST /services/login", () => {
  it('as WoodWing documents: a form login answers {"loginSuccess":true,"serverVersion":"6.0.1.8","csrfToken":…} in that key order and sets authToken; Path=/; HttpOnly; SameSite=Lax, no Domain, no Secure on http (D2)', async (t) => {
    const { pub } = await assetsWithAlice(t);
    const res = await login(pub, ALICE.username);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assert.match(String(res.headers["cache-control"]), /\bno-store\b/);
    const body = json<{ loginSuccess: boolean; serverVersion: string; csrfToken: string }>(res);
    assert.deepEqual(Object.keys(body), ["loginSuccess", "serverVersion", "csrfToken"]);
    assert.match(body.csrfToken, /^[A-Za-z0-9_-]{22,}$/);
    assert.equal(res.body, `{"loginSuccess":true,"serverVersion":"6.0.1.8","csrfToken":"${body.csrfToken}"}`);

    const lines = setCookies(res);
    assert.equal(lines.length, 1, lines.join(" | "));
    const line = lines[0]!;
    const token = authTokenSet(res)!;
    assert.match(token, TOKEN_SHAPE);
    assert.ok(line.startsWith(`authToken=${token}; Path=/; HttpOnly; SameSite=Lax`), line);
    assert.doesNotMatch(line, /Domain=/i);
    assert.doesNotMatch(line, /Secure/i);
    // The cookie lives as long as the session may (D5: 12 h), no longer.
    const maxAge = Number(/Max-Age=(\d+)/.exec(line)?.[1]);
    assert.ok(maxAge > 0 && maxAge <= 12 * 3600, line);
    // The csrfToken is not the session token, nor derivable from what the page can read.
    assert.notEqual(body.csrfToken, token);
    assert.ok(!token.includes(body.csrfToken));
    await assertLive(pub, { cookie: `authToken=${token}` });
  });

  it("the credentials may come in the query string, as in the vendor's examples", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const res = await login(pub, ALICE.username, PASSWORD, { via: "query" });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).loginSuccess, true);
    const token = authTokenSet(res);
    assert.ok(token);
    await assertLive(pub, { cookie: `authToken=${token}` });
  });

  it("as WoodWing documents: cred = base64(username:password) signs in, in the query or the form; a password may itself contain ':'", async (t) => {
    const { pub, adm } = await assetsWithAlice(t);
    for (const via of ["query", "form"] as const) {
      const res = await pub.inject({
        method: "POST",
        url: via === "query" ? `/services/login?cred=${encodeURIComponent(Buffer.from(`alice:${PASSWORD}`).toString("base64"))}` : "/services/login",
        ...(via === "form"
          ? { headers: { "content-type": "application/x-www-form-urlencoded" }, payload: `cred=${encodeURIComponent(Buffer.from(`${ALICE.email}:${PASSWORD}`).toString("base64"))}` }
          : {}),
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).loginSuccess, true, `${via}: ${res.body}`);
      assert.ok(authTokenSet(res));
    }
    // A password with a colon: only the first ':' separates (RFC 7617 §2 does the same).
    const colonPassword = "pa:ss:word with colons";
    const created = await adm.inject({
      method: "POST",
      url: "/admin/identities",
      payload: { schema_id: "default", traits: { email: "carol@example.com", username: "carol" }, credentials: { password: { config: { password: colonPassword } } } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const res = await login(pub, "carol", colonPassword, { via: "cred" });
    assert.equal(json(res).loginSuccess, true, res.body);
  });

  it("D9: the username and the email both sign in, case-insensitively", async (t) => {
    const { pub } = await assetsWithAlice(t);
    for (const identifier of ["alice", "ALICE", ALICE.email, "Alice@Example.COM"]) {
      const res = await login(pub, identifier);
      assert.equal(json(res).loginSuccess, true, `${identifier}: ${res.body}`);
    }
  });

  it("as WoodWing documents: returnProfile=true adds userProfile (username, fullName, email, groups, authorities) after csrfToken", async (t) => {
    const { pub } = await assetsWithAlice(t);
    for (const via of ["form", "query"] as const) {
      const res = await login(pub, ALICE.username, PASSWORD, { via, extra: { returnProfile: "true" } });
      assert.equal(res.statusCode, 200, res.body);
      const body = json<{ userProfile: Record<string, unknown> }>(res);
      assert.deepEqual(Object.keys(body), ["loginSuccess", "serverVersion", "csrfToken", "userProfile"]);
      const keys = Object.keys(body.userProfile);
      const wanted = ["username", "fullName", "email", "groups", "authorities"];
      assert.deepEqual(keys.filter((k) => wanted.includes(k)), wanted, keys.join(","));
      assert.equal(body.userProfile.username, "alice");
      assert.equal(typeof body.userProfile.fullName, "string");
      assert.equal(body.userProfile.email, ALICE.email);
      assert.ok(Array.isArray(body.userProfile.groups));
      assert.ok(Array.isArray(body.userProfile.authorities));
      assert.ok((body.userProfile.authorities as unknown[]).includes("ROLE_USER"));
    }
    // Without it (or with anything but "true"), no profile.
    for (const extra of [{}, { returnProfile: "false" }, { returnProfile: "yes" }] as Record<string, string>[]) {
      const res = await login(pub, ALICE.username, PASSWORD, { extra });
      assert.deepEqual(Object.keys(json(res)), ["loginSuccess", "serverVersion", "csrfToken"]);
    }
  });

  it("D2: behind an https base URL the cookie is also Secure, still without Domain", async (t) => {
    const { pub } = await assetsWithAlice(t, { config: { "serve.public.base_url": "https://auth.example.com" } });
    const res = await login(pub, ALICE.username);
    const line = setCookies(res)[0]!;
    assert.match(line, /^authToken=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure(;|$)/);
    assert.doesNotMatch(line, /Domain=/i);
    // Clearing it repeats the attributes it was set with.
    const csrf = json<{ csrfToken: string }>(res).csrfToken;
    const out = await servicesLogout(pub, { cookie: `authToken=${authTokenSet(res)}`, "x-csrf-token": csrf });
    assert.equal(out.body, '{"logoutSuccess":true}');
    assertCookieCleared(out);
    assert.match(setCookies(out)[0]!, /; Secure(;|$)/);
  });

  it("D14: an unknown user and a wrong password get the same HTTP 200 {loginSuccess:false,…,loginFaultMessage}, byte for byte, and no cookie", async (t) => {
    const { pub, adm } = await assetsFor(t);
    const alice = await user(adm);
    const answers: string[] = [];
    for (const [username, password] of [
      ["alice", "wrong password"],
      ["nobody", "wrong password"],
      [ALICE.email, "wrong password"],
      ["nobody@example.com", PASSWORD],
    ] as const) {
      for (const via of ["form", "query", "cred"] as const) {
        const res = await login(pub, username, password, { via });
        assertLoginRefused(res);
        answers.push(res.body);
      }
    }
    assert.equal(new Set(answers).size, 1, answers.join("\n"));
    assert.equal(answers[0], '{"loginSuccess":false,"serverVersion":"6.0.1.8","loginFaultMessage":"Invalid username or password"}');
    assert.equal(await liveSessions(adm, alice.id), 0);
  });

  it("missing credentials are a failed login too (HTTP 200, loginSuccess false), not an error", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const cases = ["", "username=alice", "password=x", `cred=${Buffer.from("no-colon").toString("base64")}`, "cred=", "username=&password=x"];
    for (const q of cases) {
      const res = await pub.inject({ method: "POST", url: `/services/login${q ? "?" + q : ""}` });
      assertLoginRefused(res);
    }
  });

  it("SEC-12/SEC-28: every login is a new session with a new token and a new csrfToken", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const a = await browserLogin(pub);
    // Logging in again while holding a cookie never reuses it (no session fixation).
    const res = await login(pub, ALICE.username, PASSWORD, { headers: a.cookie });
    const b = { token: authTokenSet(res)!, csrf: json<{ csrfToken: string }>(res).csrfToken };
    assert.notEqual(a.token, b.token);
    assert.notEqual(a.csrf, b.csrf);
    await assertLive(pub, a.cookie);
    await assertLive(pub, { cookie: `authToken=${b.token}` });
  });

  it("SEC-06: a password or cred in the login query string never reaches a log line, even at debug level", async (t) => {
    const { pub, adm } = await assetsFor(t, { config: { "log.level": "debug" } });
    const logs = captureLogs(pub);
    const quiet = captureLogs(adm);
    t.after(() => (logs.restore(), quiet.restore()));
    await user(adm);
    const cred = Buffer.from(`alice:${PASSWORD}`).toString("base64");
    await login(pub, ALICE.username, PASSWORD, { via: "query" });
    await login(pub, ALICE.username, PASSWORD, { via: "cred" });
    await login(pub, ALICE.username, "a wrong one", { via: "query", path: "/services/apilogin" });
    logs.restore();
    const text = logs.lines.join("\n");
    assert.ok(logs.lines.length > 0, "debug logging captured nothing");
    for (const secret of [encodeURIComponent(PASSWORD), "correct+horse", cred, encodeURIComponent(cred), "a+wrong+one"]) {
      assert.ok(!text.includes(secret), `"${secret}" appeared in the log:\n${text.slice(0, 2000)}`);
    }
  });
});

describe("POST /services/apilogin", () => {
  it("as WoodWing documents: answers {loginSuccess, serverVersion, authToken} in that order and sets no cookie; the token is a D1 session token", async (t) => {
    const { pub } = await assetsWithAlice(t);
    for (const via of ["form", "query"] as const) {
      const res = await login(pub, ALICE.username, PASSWORD, { via, path: "/services/apilogin" });
      assert.equal(res.statusCode, 200, res.body);
      const body = json<{ authToken: string }>(res);
      assert.deepEqual(Object.keys(body), ["loginSuccess", "serverVersion", "authToken"]);
      assert.equal(res.body, `{"loginSuccess":true,"serverVersion":"6.0.1.8","authToken":"${body.authToken}"}`);
      assert.match(body.authToken, TOKEN_SHAPE);
      assert.equal(setCookies(res).length, 0, "apilogin sets no cookie");
      await assertLive(pub, bearer(body.authToken));
    }
  });

  it("D14: a failed apilogin is the same HTTP 200 refusal for an unknown user and a wrong password", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const wrong = await login(pub, "alice", "nope", { path: "/services/apilogin" });
    const unknown = await login(pub, "nobody", "nope", { path: "/services/apilogin" });
    assertLoginRefused(wrong);
    assertLoginRefused(unknown);
    assert.equal(wrong.body, unknown.body);
  });

  it("as WoodWing documents: the bearer needs no X-CSRF-TOKEN for POST /services/profile either", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const token = await apiLogin(pub);
    const res = await profile(pub, bearer(token), "POST");
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).username, "alice");
  });
});

describe("/services/profile", () => {
  it("GET with the cookie answers the profile; POST needs X-CSRF-TOKEN, as WoodWing documents; both say Not logged in without a live session", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);

    const got = await profile(pub, s.cookie);
    assert.equal(got.statusCode, 200, got.body);
    const body = json<Record<string, unknown>>(got);
    assert.equal(body.username, "alice");
    assert.equal(body.email, ALICE.email);
    assert.ok(Array.isArray(body.groups) && Array.isArray(body.authorities));

    assertCsrfRefused(await profile(pub, s.cookie, "POST"));
    assertCsrfRefused(await profile(pub, { ...s.cookie, "x-csrf-token": "wrong" }, "POST"));
    const posted = await profile(pub, { ...s.cookie, "x-csrf-token": s.csrf }, "POST");
    assert.equal(posted.statusCode, 200, posted.body);
    assert.equal(posted.body, got.body);

    for (const method of ["GET", "POST"] as const) {
      const res = await profile(pub, {}, method);
      assertAssetsError(res, 401);
      assert.equal(res.body, NOT_LOGGED_IN_BODY);
    }
    const out = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf });
    assert.equal(out.body, '{"logoutSuccess":true}');
    for (const method of ["GET", "POST"] as const) {
      const res = await profile(pub, { ...s.cookie, "x-csrf-token": s.csrf }, method);
      assert.equal(res.body, NOT_LOGGED_IN_BODY);
    }
  });

  it("SEC-69: PUT or DELETE /services/profile answer 405 with Allow: GET, POST; an unknown service answers 404, both as Assets JSON", async (t) => {
    const { pub } = await assetsWithAlice(t);
    const s = await browserLogin(pub);
    for (const method of ["PUT", "DELETE"] as const) {
      const res = await pub.inject({ method, url: "/services/profile", headers: s.cookie });
      assertAssetsError(res, 405);
      assert.equal(res.headers.allow, "GET, POST");
    }
    const login405 = await pub.inject({ method: "GET", url: "/services/login?username=alice&password=x" });
    assertAssetsError(login405, 405);
    assert.equal(login405.headers.allow, "POST");
    assertAssetsError(await pub.inject({ method: "GET", url: "/services/nothing-here", headers: s.cookie }), 404);
    await assertLive(pub, s.cookie);
  });
});

describe("assets.status_ok_on_error (D13)", () => {
  it("D13: with status_ok_on_error the same error bodies arrive with HTTP 200; successes are unchanged", async (t) => {
    const plain = await assetsFor(t);
    const ok = await assetsFor(t, { config: { "assets.status_ok_on_error": true } });
    await user(plain.adm);
    await user(ok.adm);
    const a = await browserLogin(plain.pub);
    const b = await browserLogin(ok.pub);

    const cases: { name: string; status: number; send: (pub: typeof plain.pub, s: typeof a) => Promise<Response> }[] = [
      { name: "no session", status: 401, send: (pub) => profile(pub) },
      { name: "no CSRF token", status: 403, send: (pub, s) => servicesLogout(pub, s.cookie) },
      { name: "GET logout", status: 405, send: (pub, s) => pub.inject({ method: "GET", url: "/services/logout", headers: s.cookie }) },
      { name: "duplicate parameter", status: 400, send: (pub) => pub.inject({ method: "POST", url: "/services/login?username=a&username=b&password=x" }) },
      { name: "unknown service", status: 404, send: (pub) => pub.inject({ method: "GET", url: "/services/nothing" }) },
      {
        name: "oversized body",
        status: 413,
        send: (pub) => pub.inject({ method: "POST", url: "/services/login", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "username=" + "a".repeat(20_000) }),
      },
    ];
    for (const c of cases) {
      const real = await c.send(plain.pub, a);
      const two = await c.send(ok.pub, b);
      assertAssetsError(real, c.status);
      assertAssetsError(two, c.status, { statusOkOnError: true });
      assert.equal(two.body, real.body, c.name);
    }
    // Success answers do not change.
    const out = await servicesLogout(ok.pub, { ...b.cookie, "x-csrf-token": b.csrf });
    assert.equal(out.statusCode, 200);
    assert.equal(out.body, '{"logoutSuccess":true}');
    await assertEnded(plain.pub, { cookie: "authToken=x" });
    await assertLive(plain.pub, a.cookie);
  });
});

describe("Logout under store faults (INV-1, INV-3)", () => {
  async function faulty(t: { after(fn: () => unknown): void }, config: Record<string, unknown> = {}) {
    const store = await FailingStore.open();
    const a = await assetsFor(t, { store, config });
    return { ...a, store };
  }

  for (const mode of ["before", "after"] as const satisfies readonly FaultMode[]) {
    it(`INV-1/INV-3: POST /services/logout with revokeSessions failing (${mode} the commit) answers 503 Assets JSON, never logoutSuccess, and keeps the cookie`, async (t) => {
      const { pub, adm, store } = await faulty(t);
      await user(adm);
      const s = await browserLogin(pub);
      store.fail("revokeSessions", mode);
      const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf });
      const body = assertAssetsError(res, 503, { errorname: "ServiceUnavailableException" });
      assert.match(body.message, /Nothing was changed; try again/);
      assert.equal(res.headers["retry-after"], "1");
      assert.doesNotMatch(res.body, /logoutSuccess/);
      assertCookieKept(res);
      store.heal();
      if (mode === "before") {
        // Nothing was committed: the session is still live, and a retry ends it.
        await assertLive(pub, s.cookie);
        const retry = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf });
        assert.equal(retry.body, '{"logoutSuccess":true}');
        assertCookieCleared(retry);
      } else {
        // The commit happened but its answer was lost: no false success was sent, and the
        // session is over all the same (INV-2); a retry says so harmlessly.
        await assertEnded(pub, s.cookie);
        assertAssetsError(await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf }), 401);
      }
    });
  }

  it("INV-3: with the session lookup failing, logout and profile answer 503, never 401 (which clients read as logged out) and never 200", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await user(adm);
    const s = await browserLogin(pub);
    store.fail("findSessionWithIdentity");
    for (const res of [await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf }), await profile(pub, s.cookie)]) {
      assertAssetsError(res, 503);
      assertCookieKept(res);
    }
    store.heal();
    await assertLive(pub, s.cookie);
  });

  it("INV-3: a login whose session cannot be stored answers 503 and sets no cookie", async (t) => {
    const { pub, adm, store } = await faulty(t);
    await user(adm);
    store.fail("insertSession");
    const res = await login(pub, ALICE.username);
    assertAssetsError(res, 503);
    assert.equal(setCookies(res).length, 0);
    assert.doesNotMatch(res.body, /loginSuccess/);
  });

  it("D13 + INV-1: with status_ok_on_error the failed logout is HTTP 200 but errorcode 503, never logoutSuccess", async (t) => {
    const { pub, adm, store } = await faulty(t, { "assets.status_ok_on_error": true });
    await user(adm);
    const s = await browserLogin(pub);
    store.fail("revokeSessions");
    const res = await servicesLogout(pub, { ...s.cookie, "x-csrf-token": s.csrf });
    assertAssetsError(res, 503, { statusOkOnError: true });
    assertCookieKept(res);
    store.heal();
    await assertLive(pub, s.cookie);
  });
});

describe("One session, one token (D1)", () => {
  it("D1: two users' sessions are independent; Bob's logout leaves Alice signed in", async (t) => {
    const { pub, adm } = await assetsWithAlice(t);
    await user(adm, BOB);
    const a = await browserLogin(pub, "alice");
    const b = await browserLogin(pub, "bob");
    assert.equal(json(await profile(pub, b.cookie)).username, "bob");
    const res = await servicesLogout(pub, { ...b.cookie, "x-csrf-token": b.csrf });
    assert.equal(res.body, '{"logoutSuccess":true}');
    await assertEnded(pub, b.cookie);
    await assertLive(pub, a.cookie);
  });
});
