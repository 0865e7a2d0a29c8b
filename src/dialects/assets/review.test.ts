/**
 * Findings of a security review of the Assets door's `GET|POST /logout?logoutSuccessUrl=` (D15),
 * each named after the rule it proves: the success page is reached only when no session this
 * request carries is still live (INV-1), whatever else the request carries (SEC-10).
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { startTestServer } from "../../../test/support/server.ts";

const PASSWORD = "correct horse battery staple";
const SAME_ORIGIN = { "sec-fetch-site": "same-origin" };

async function signedIn(t: TestContext) {
  const server = await startTestServer();
  t.after(() => server.close());
  const { core, publicApp: pub } = server.server;
  await core.identities.create({ traits: { email: "alice@example.com", username: "alice" }, password: PASSWORD }, "test");
  const login = await pub.inject({
    method: "POST",
    url: "/services/login",
    headers: { "content-type": "application/x-www-form-urlencoded", ...SAME_ORIGIN },
    payload: new URLSearchParams({ username: "alice", password: PASSWORD }).toString(),
  });
  assert.equal(login.statusCode, 200, login.body);
  const token = /authToken=([^;]+)/.exec(String(login.headers["set-cookie"]))?.[1];
  assert.ok(token);
  const live = async () => (await core.sessions.findLive(token)) !== null;
  assert.equal(await live(), true);
  return { pub, token, live };
}

function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const v = res.headers["set-cookie"];
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

describe("Assets GET /logout (review)", () => {
  it("INV-1: a dead bearer beside a live authToken cookie is no proof of being signed out: 401, no redirect, the cookie's session and the cookie stay", async (t) => {
    const { pub, token, live } = await signedIn(t);
    const res = await pub.inject({
      method: "GET",
      url: "/logout?logoutSuccessUrl=/bye",
      headers: { cookie: `authToken=${token}`, authorization: "Bearer 00000000-0000-4000-8000-000000000000.not-a-live-session", ...SAME_ORIGIN },
    });
    // The bearer takes precedence over the cookie (as at /services/logout), and it is signed in nowhere.
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(res.headers.location, undefined);
    assert.equal(JSON.parse(res.body).errorcode, 401);
    assert.deepEqual(setCookies(res), [], "the cookie is kept");
    assert.equal(await live(), true);
  });

  it("INV-1, SEC-10: two authToken cookies (one tossed in by a sibling domain) are no proof of being signed out: 400, no redirect, the session and its cookie stay", async (t) => {
    const { pub, token, live } = await signedIn(t);
    for (const cookie of [`authToken=junk; authToken=${token}`, `authToken=${token}; authToken=junk`]) {
      const res = await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=/bye", headers: { cookie, ...SAME_ORIGIN } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.headers.location, undefined);
      assert.equal(JSON.parse(res.body).errorcode, 400);
      assert.deepEqual(setCookies(res), [], "the cookie is kept");
      assert.equal(await live(), true, "nothing was said to have ended, and nothing did");
    }
  });

  it("INV-1: with no session cookie at all, or only a dead one, GET /logout still goes to the success page", async (t) => {
    const { pub, token } = await signedIn(t);
    const none = await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=/bye", headers: SAME_ORIGIN });
    assert.equal(none.statusCode, 302);
    const first = await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=/bye", headers: { cookie: `authToken=${token}`, ...SAME_ORIGIN } });
    assert.equal(first.statusCode, 302);
    const again = await pub.inject({ method: "GET", url: "/logout?logoutSuccessUrl=/bye", headers: { cookie: `authToken=${token}`, ...SAME_ORIGIN } });
    assert.equal(again.statusCode, 302);
    assert.equal(again.headers.location, "http://localhost:4433/bye");
  });
});

describe("Assets /logout with a bearer and another session's cookie (review)", () => {
  it("INV-1: a live bearer beside the cookie of another live session is refused (400): neither session ends, the cookie stays, no redirect", async (t) => {
    const { pub, token: cookieToken, live } = await signedIn(t);
    const api = await pub.inject({ method: "POST", url: `/services/apilogin?username=alice&password=${encodeURIComponent(PASSWORD)}` });
    const bearer = JSON.parse(api.body).authToken as string;
    const res = await pub.inject({
      method: "GET",
      url: "/logout?logoutSuccessUrl=/bye",
      headers: { authorization: `Bearer ${bearer}`, cookie: `authToken=${cookieToken}`, ...SAME_ORIGIN },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.headers.location, undefined);
    assert.equal(setCookies(res).length, 0);
    assert.equal(await live(), true);
    const profile = await pub.inject({ method: "GET", url: "/services/profile", headers: { authorization: `Bearer ${bearer}` } });
    assert.equal(profile.statusCode, 200, "the bearer session lives too");
  });
});
