/**
 * Findings of a security review of what every listener shares, each named after the rule it
 * proves: a body the listener refuses is a 4xx on every route, including those no door owns
 * (SEC-66), and cookie ambiguity is visible to the code that must not read it as "no cookie" (SEC-10).
 */
import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import { startTestServer } from "../../test/support/server.ts";
import { cookieValues, readCookie } from "./cookies.ts";

describe("bad bodies on routes without a door's error handler (review)", () => {
  it("SEC-66: Content-Encoding, malformed or duplicate-key JSON and a foreign charset are 400/415 on health, /docs and the pages, never 500", async (t) => {
    const server = await startTestServer();
    t.after(() => server.close());
    const { publicApp: pub, adminApp: adm } = server.server;
    const cases: { name: string; method: "GET" | "POST"; headers: Record<string, string>; payload?: string; status: number }[] = [
      { name: "gzip", method: "GET", headers: { "content-encoding": "gzip" }, status: 415 },
      { name: "gzip form", method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip" }, payload: "csrf_token=x", status: 415 },
      { name: "malformed JSON", method: "POST", headers: { "content-type": "application/json" }, payload: "{", status: 400 },
      { name: "duplicate key", method: "POST", headers: { "content-type": "application/json" }, payload: '{"csrf_token":"a","csrf_token":"b"}', status: 400 },
      { name: "charset", method: "POST", headers: { "content-type": "application/json; charset=utf-16" }, payload: "{}", status: 415 },
    ];
    const targets: [typeof pub, string, "GET" | "POST"][] = [
      [pub, "/health/alive", "GET"],
      [pub, "/health/ready", "GET"],
      [pub, "/docs/json", "GET"],
      [pub, "/ui/style.css", "GET"],
      [pub, "/", "GET"],
      [pub, "/ui/sessions/revoke", "POST"],
      [pub, "/ui/sessions/revoke-others", "POST"],
      [adm, "/health/alive", "GET"],
    ];
    for (const [app, url, method] of targets) {
      for (const c of cases.filter((c) => c.method === method)) {
        const res = await app.inject({ method, url, headers: c.headers, ...(c.payload !== undefined ? { payload: c.payload } : {}) });
        assert.equal(res.statusCode, c.status, `${method} ${url} with ${c.name}: ${res.body.slice(0, 200)}`);
      }
    }
  });
});

describe("cookieValues (review)", () => {
  test("SEC-10: every distinct value of the cookie, so a logout can tell 'ambiguous' from 'absent'", () => {
    assert.deepEqual(cookieValues(undefined, "authToken"), []);
    assert.deepEqual(cookieValues("a=1", "authToken"), []);
    assert.deepEqual(cookieValues("authToken=x", "authToken"), ["x"]);
    assert.deepEqual(cookieValues('authToken=x; authToken="x"', "authToken"), ["x"]);
    assert.deepEqual(cookieValues("authToken=junk; a=1; authToken=x", "authToken"), ["junk", "x"]);
    assert.deepEqual(cookieValues("authToken=; authToken=x", "authToken"), ["", "x"]);
    // readCookie reads exactly one non-empty value, as before.
    assert.equal(readCookie("authToken=junk; authToken=x", "authToken"), null);
    assert.equal(readCookie("authToken=; authToken=x", "authToken"), null);
    assert.equal(readCookie("authToken=x; authToken=x", "authToken"), "x");
    assert.equal(readCookie("authToken=", "authToken"), null);
  });
});
