/**
 * CORS for single-page apps on listed origins (`serve.public.cors.allowed_origins`; SEC-57) and
 * what a listed origin may do with the session cookie (D12, SEC-56): only listed origins get
 * CORS headers, exactly echoed with credentials; a preflight is answered before routing; a
 * cookie-authenticated session revocation from a listed sibling origin passes the same-site
 * layer, and one from anywhere else does not.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCrossSite } from "./same-site.ts";
import {
  ALICE,
  assertDead,
  assertHerodot,
  assertLive,
  byCookie,
  json,
  signIn,
  withAlice,
  type Kratos,
  type Response,
} from "../../test/support/kratos.ts";

const BASE = "https://auth.example.com";
const SPA = "https://app.example.com";
const CONFIG = { "serve.public.base_url": BASE, "serve.public.cors.allowed_origins": [SPA, "http://localhost:3000"] };

function assertNoCors(res: Response, what: string): void {
  for (const header of ["access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods", "access-control-allow-headers", "access-control-expose-headers"]) {
    assert.equal(res.headers[header], undefined, `${what}: no ${header}`);
  }
}

function listOf(header: unknown): string[] {
  return String(header ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

describe("CORS for listed origins (SEC-57)", () => {
  it("SEC-57: a listed origin gets Access-Control-Allow-Origin = that origin (never *), Allow-Credentials true, Vary: Origin, on success and on error", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const origin of [SPA, "http://localhost:3000"]) {
      const ok = await k.pub.inject({ method: "GET", url: "/sessions/whoami", headers: { origin, ...byCookie(token) } });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers["access-control-allow-origin"], origin);
      assert.equal(ok.headers["access-control-allow-credentials"], "true");
      assert.ok(listOf(ok.headers.vary).includes("origin"), "Vary: Origin, so a cache never serves one origin's answer to another");
      assert.ok(listOf(ok.headers["access-control-expose-headers"]).includes("ory-error-id"));
      // An error must be readable by the SPA too (the SDK reads its JSON body).
      const denied = await k.pub.inject({ method: "GET", url: "/sessions/whoami", headers: { origin } });
      assertHerodot(denied, 401);
      assert.equal(denied.headers["access-control-allow-origin"], origin);
      assert.equal(denied.headers["access-control-allow-credentials"], "true");
    }
  });

  it("SEC-57: a preflight from a listed origin → 204 with the allowed methods and headers, answered before routing (any path)", async (t) => {
    const k = await withAlice(t, CONFIG);
    for (const url of ["/sessions/whoami", "/sessions/00000000-0000-4000-8000-000000000000", "/self-service/logout/browser", "/self-service/login?flow=x"]) {
      const res = await k.pub.inject({
        method: "OPTIONS",
        url,
        headers: { origin: SPA, "access-control-request-method": "DELETE", "access-control-request-headers": "content-type, x-session-token, x-csrf-token" },
      });
      assert.equal(res.statusCode, 204, url);
      assert.equal(res.body, "");
      assert.equal(res.headers["access-control-allow-origin"], SPA);
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      const methods = listOf(res.headers["access-control-allow-methods"]);
      for (const m of ["get", "post", "put", "patch", "delete"]) assert.ok(methods.includes(m), `${url}: ${m} allowed`);
      const headers = listOf(res.headers["access-control-allow-headers"]);
      for (const h of ["authorization", "content-type", "x-session-token", "x-csrf-token", "accept"]) assert.ok(headers.includes(h), `${url}: ${h} allowed`);
      assert.ok(Number(res.headers["access-control-max-age"]) > 0);
      assert.deepEqual(res.headers["set-cookie"], undefined, "a preflight sets no cookie");
    }
  });

  it("SEC-57: an unlisted origin (look-alikes, another scheme or port, null, a sub-domain) gets no CORS headers, on requests and preflights", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    const unlisted = [
      "https://evil.example",
      "https://app.example.com.evil.example",
      "https://evilapp.example.com",
      "http://app.example.com",
      "https://app.example.com:8443",
      "https://sub.app.example.com",
      "https://APP.EXAMPLE.COM",
      "https://app.example.com/",
      "null",
      "*",
      BASE,
    ];
    for (const origin of unlisted) {
      const res = await k.pub.inject({ method: "GET", url: "/sessions/whoami", headers: { origin, ...byCookie(token) } });
      assertNoCors(res, origin);
      const preflight = await k.pub.inject({
        method: "OPTIONS",
        url: "/sessions/whoami",
        headers: { origin, "access-control-request-method": "DELETE", "access-control-request-headers": "x-csrf-token" },
      });
      assertNoCors(preflight, `preflight ${origin}`);
      assert.notEqual(preflight.statusCode, 204, `${origin}: a preflight it may not pass is not approved`);
    }
  });

  it("SEC-57: without configured origins nobody gets CORS headers, not even the would-be SPA", async (t) => {
    const k = await withAlice(t, { "serve.public.base_url": BASE });
    const { token } = await signIn(k.pub, ALICE.email);
    assertNoCors(await k.pub.inject({ method: "GET", url: "/sessions/whoami", headers: { origin: SPA, ...byCookie(token) } }), SPA);
    assertNoCors(
      await k.pub.inject({ method: "OPTIONS", url: "/sessions/whoami", headers: { origin: SPA, "access-control-request-method": "GET" } }),
      `preflight ${SPA}`,
    );
  });
});

describe("Cookie-authenticated session changes from a listed origin (D12, SEC-56)", () => {
  /** Two sessions of Alice's: the SPA's (by cookie) and another device's. */
  async function sessions(k: Kratos): Promise<{ current: string; other: { token: string; id: string } }> {
    const other = await signIn(k.pub, ALICE.email);
    const current = await signIn(k.pub, ALICE.email);
    return { current: current.token, other: { token: other.token, id: other.session.id } };
  }

  it("D12: DELETE /sessions/{id} with the cookie from a listed sibling origin (Origin listed, Sec-Fetch-Site: same-site) → 204; the other session is dead", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { current, other } = await sessions(k);
    const res = await k.pub.inject({
      method: "DELETE",
      url: `/sessions/${other.id}`,
      headers: { ...byCookie(current), origin: SPA, "sec-fetch-site": "same-site", "sec-fetch-mode": "cors" },
    });
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.headers["access-control-allow-origin"], SPA);
    await assertDead(k.pub, other.token);
    await assertLive(k.pub, current);
  });

  it("D12: DELETE /sessions (all others) with the cookie from a listed sibling origin → 200 {count}", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { current, other } = await sessions(k);
    const res = await k.pub.inject({ method: "DELETE", url: "/sessions", headers: { ...byCookie(current), origin: SPA, "sec-fetch-site": "same-site" } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(json(res), { count: 1 });
    await assertDead(k.pub, other.token);
    await assertLive(k.pub, current);
  });

  it("D12 / SEC-56: the same call from an unlisted origin, a same-site page without Origin, or Origin: null → 403 security_csrf_violation; nothing revoked", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { current, other } = await sessions(k);
    const refused: Record<string, string>[] = [
      { origin: "https://evil.example.com", "sec-fetch-site": "same-site" },
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      { origin: "https://app.example.com.evil.example", "sec-fetch-site": "cross-site" },
      { origin: "http://app.example.com", "sec-fetch-site": "same-site" },
      { origin: "null", "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site" },
      { origin: "https://evil.example" },
    ];
    for (const headers of refused) {
      for (const [method, url] of [["DELETE", `/sessions/${other.id}`], ["DELETE", "/sessions"]] as const) {
        const res = await k.pub.inject({ method, url, headers: { ...byCookie(current), ...headers } });
        assertHerodot(res, 403, { id: "security_csrf_violation" });
        assert.equal(res.headers["access-control-allow-origin"], undefined, JSON.stringify(headers));
      }
    }
    await assertLive(k.pub, other.token);
    await assertLive(k.pub, current);
  });

  it("SEC-56: a listed origin that the browser calls cross-site is refused too (its Lax cookie would not even travel there)", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { current, other } = await sessions(k);
    const res = await k.pub.inject({
      method: "DELETE",
      url: `/sessions/${other.id}`,
      headers: { ...byCookie(current), origin: "http://localhost:3000", "sec-fetch-site": "cross-site" },
    });
    assertHerodot(res, 403, { id: "security_csrf_violation" });
    await assertLive(k.pub, other.token);
  });

  it("D12: a listed origin without Sec-Fetch-Site (an older browser) passes on its Origin alone", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { current, other } = await sessions(k);
    const res = await k.pub.inject({ method: "DELETE", url: `/sessions/${other.id}`, headers: { ...byCookie(current), origin: SPA } });
    assert.equal(res.statusCode, 204, res.body);
    await assertDead(k.pub, other.token);
  });
});

describe("isCrossSite with listed origins (D12, SEC-56)", () => {
  const OWN = [BASE, SPA];

  it("D12: Sec-Fetch-Site same-site with a listed Origin is not cross-site; without Origin, with an unlisted one, or cross-site, it is", () => {
    assert.equal(isCrossSite({ "sec-fetch-site": "same-site", origin: SPA }, OWN), false);
    assert.equal(isCrossSite({ "sec-fetch-site": "same-site" }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "same-site", origin: "https://evil.example.com" }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "same-site", origin: "null" }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "cross-site", origin: SPA }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "garbage", origin: SPA }, OWN), true);
  });
});
