/**
 * Findings of a security review of the Kratos door's browser flows, each named after the rule it
 * proves: a browser flow submission passes both CSRF layers (house rule 9), so a sibling
 * sub-domain that tosses its own CSRF cookie (SEC-10) cannot sign a browser in (SEC-65).
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { startTestServer } from "../../../test/support/server.ts";
import { logoutTokenOf } from "./logout.ts";

const EMAIL = "mallory@example.com";
const PASSWORD = "mallory's own password";
const BASE = "http://localhost:4433";

interface Node {
  attributes: { name: string; value?: string };
}

/** The attacker, in their own browser: a CSRF cookie and a browser flow bound to it. */
async function attackerFlow(t: TestContext, type: "login" | "registration") {
  const server = await startTestServer();
  t.after(() => server.close());
  const { core, publicApp: pub } = server.server;
  await core.identities.create({ traits: { email: EMAIL }, password: PASSWORD }, "test");
  const init = await pub.inject({ method: "GET", url: `/self-service/${type}/browser`, headers: { accept: "application/json" } });
  assert.equal(init.statusCode, 200, init.body);
  const csrfCookie = String([init.headers["set-cookie"]].flat()[0]).split(";")[0]!;
  const flow = JSON.parse(init.body) as { id: string; ui: { nodes: Node[] } };
  const csrf = flow.ui.nodes.find((n) => n.attributes.name === "csrf_token")?.attributes.value;
  assert.ok(csrf);
  return { pub, core, csrfCookie, flowId: flow.id, csrf };
}

function sessionCookieSet(res: { headers: Record<string, unknown> }): boolean {
  return [res.headers["set-cookie"]].flat().some((c) => String(c).startsWith("ory_kratos_session="));
}

describe("Kratos browser flow submissions (review)", () => {
  const fields = (type: "login" | "registration", csrf: string, n: number): Record<string, string> =>
    type === "login"
      ? { method: "password", identifier: EMAIL, password: PASSWORD, csrf_token: csrf }
      : { method: "password", "traits.email": `victim.${n}@example.com`, password: PASSWORD, csrf_token: csrf };

  for (const type of ["login", "registration"] as const) {
    it(`house rule 9, SEC-65: a ${type} posted same-site from a sibling origin, with a CSRF cookie it tossed in, is refused; no session cookie`, async (t) => {
      const a = await attackerFlow(t, type);
      let n = 0;
      for (const site of [
        { origin: "http://evil.localhost:4433", "sec-fetch-site": "same-site" },
        { origin: "http://evil.localhost:4433" },
        { origin: "null" },
        { "sec-fetch-site": "cross-site" },
      ] as Record<string, string>[]) {
        const res = await a.pub.inject({
          method: "POST",
          url: `/self-service/${type}?flow=${a.flowId}`,
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", cookie: a.csrfCookie, ...site },
          payload: new URLSearchParams(fields(type, a.csrf, n++)).toString(),
        });
        assert.equal(res.statusCode, 403, `${JSON.stringify(site)}: ${res.body.slice(0, 200)}`);
        assert.equal(JSON.parse(res.body).error.id, "security_csrf_violation");
        assert.equal(sessionCookieSet(res), false);
      }
      assert.equal((await a.core.sessions.list({ limit: 10 })).items.length, 0, "no session was begun");
    });

    it(`D12: the same ${type} from our own page (same-origin, or no Fetch Metadata at all) still works`, async (t) => {
      const a = await attackerFlow(t, type);
      const res = await a.pub.inject({
        method: "POST",
        url: `/self-service/${type}?flow=${a.flowId}`,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", cookie: a.csrfCookie, origin: BASE, "sec-fetch-site": "same-origin" },
        payload: new URLSearchParams(fields(type, a.csrf, 99)).toString(),
      });
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      assert.equal(sessionCookieSet(res), true);
    });
  }
});

describe("Kratos browser logout with credentials of two sessions (review)", () => {
  it("INV-1: session A in X-Session-Token with session B's cookie is refused (400) and ends neither; the cookie is kept", async (t) => {
    const server = await startTestServer();
    t.after(() => server.close());
    const { core, publicApp: pub } = server.server;
    const identity = await core.identities.create({ traits: { email: EMAIL }, password: PASSWORD }, "test");
    const origin = { door: "kratos", ipAddress: "127.0.0.1", userAgent: "test" } as const;
    const a = await core.sessions.begin(identity, origin);
    const b = await core.sessions.begin(identity, origin);
    const res = await pub.inject({
      method: "GET",
      url: `/self-service/logout?token=${logoutTokenOf(core, a.session.id)}`,
      headers: { accept: "application/json", "x-session-token": a.token, cookie: `ory_kratos_session=${b.token}` },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.ok(!sessionCookieSet(res), "the cookie of B is not cleared");
    assert.equal((await core.sessions.findLive(a.token))?.session.id, a.session.id, "A still live");
    assert.equal((await core.sessions.findLive(b.token))?.session.id, b.session.id, "B still live");
    // With the cookie of the same session, the logout goes through.
    const ok = await pub.inject({
      method: "GET",
      url: `/self-service/logout?token=${logoutTokenOf(core, a.session.id)}`,
      headers: { accept: "application/json", "x-session-token": a.token, cookie: `ory_kratos_session=${a.token}` },
    });
    assert.equal(ok.statusCode, 204, ok.body);
    assert.equal(await core.sessions.findLive(a.token), null);
  });
});

describe("Configured page URLs with a query of their own (review)", () => {
  it("D16: a login ui_url that already has a query gets ?flow= added as a parameter, not a second '?'", async (t) => {
    const server = await startTestServer({ config: { "selfservice.flows.login.ui_url": "https://app.example.com/login?theme=dark" } });
    t.after(() => server.close());
    const res = await server.server.publicApp.inject({ method: "GET", url: "/self-service/login/browser", headers: { accept: "text/html" } });
    assert.equal(res.statusCode, 303);
    const location = new URL(String(res.headers.location));
    assert.equal(location.origin + location.pathname, "https://app.example.com/login");
    assert.equal(location.searchParams.get("theme"), "dark");
    assert.match(location.searchParams.get("flow") ?? "", /^[0-9a-f-]{36}$/);
  });
});
