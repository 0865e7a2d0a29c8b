/**
 * The authorization, token and userinfo endpoints in process: what each refuses, and how. Before
 * the redirect URI is known to be the app's, a refusal is a page and never a redirect
 * (RFC 6749 §4.1.2.1); after, it is an error at the redirect URI with `state` and `iss`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { ALICE, BASE, byCookie, signIn, withAlice } from "../../../test/support/kratos.ts";
import { FailingStore } from "../../../test/support/failing-store.ts";
import { doorFor } from "../../../test/support/server.ts";
import { APP_SECRET } from "../../../test/support/oidc.ts";
import type { HttpApp } from "../../http/app.ts";

const WEB = { client_id: "web", client_secret: APP_SECRET, redirect_uris: ["https://web.example/cb", "https://web.example/cb?x=1"] };
const SPA = { client_id: "spa", token_endpoint_auth_method: "none", redirect_uris: ["https://spa.example/"], web_origins: ["https://spa.example"] };
const CONFIG = { "oidc.clients": [WEB, SPA] };
const VERIFIER = "a".repeat(43);
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");

const authorize = (pub: HttpApp, query: Record<string, string>, headers: Record<string, string> = {}) =>
  pub.inject({ method: "GET", url: `/authorize?${new URLSearchParams(query)}`, headers });

const base = { client_id: "web", redirect_uri: "https://web.example/cb", response_type: "code", scope: "openid email", state: "st" };

function assertPage(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, text: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers.location, undefined, "no redirect");
  assert.match(String(res.headers["content-type"]), /^text\/html/);
  assert.match(String(res.headers["content-security-policy"]), /default-src 'none'/);
  assert.match(res.body, text);
}

function errorAt(res: { statusCode: number; headers: Record<string, unknown> }, redirect: string): URLSearchParams {
  assert.equal(res.statusCode, 303);
  const location = String(res.headers.location);
  assert.ok(location.startsWith(redirect + (redirect.includes("?") ? "&" : "?")), location);
  return new URL(location).searchParams;
}

describe("GET /authorize", () => {
  it("SEC-90: an unknown client_id, or a redirect_uri that is not exactly registered, is a 400 page and never a redirect", async (t) => {
    const k = await withAlice(t, CONFIG);
    assertPage(await authorize(k.pub, { ...base, client_id: "nobody" }), 400, /invalid_client/);
    assertPage(await authorize(k.pub, { ...base, client_id: "" }), 400, /client_id parameter is missing/);
    for (const uri of [
      "https://web.example/cb/",
      "https://WEB.example/cb",
      "https://web.example:443/cb",
      "https://web.example/cb?x=2",
      "https://user@web.example/cb",
      "https://web.example/%63b",
      "https://evil.example/cb",
      "",
    ]) {
      assertPage(await authorize(k.pub, { ...base, redirect_uri: uri }), 400, /redirect_uri is missing or is not registered/);
    }
    const dup = await k.pub.inject({ method: "GET", url: "/authorize?client_id=web&client_id=spa&redirect_uri=https%3A%2F%2Fweb.example%2Fcb" });
    assertPage(dup, 400, /client_id parameter is repeated/);
  });

  it("RFC 6749 §4.1.2.1: once the redirect URI is known, errors go there with state and iss (RFC 9207); its own query is kept", async (t) => {
    const k = await withAlice(t, CONFIG);
    const cases: [Record<string, string>, string][] = [
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ scope: "email" }, "invalid_scope"],
      [{ response_mode: "fragment" }, "invalid_request"],
      [{ code_challenge: CHALLENGE, code_challenge_method: "plain" }, "invalid_request"],
      [{ code_challenge: CHALLENGE }, "invalid_request"],
      [{ code_challenge: "short", code_challenge_method: "S256" }, "invalid_request"],
      [{ code_challenge_method: "S256" }, "invalid_request"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ max_age: "-1" }, "invalid_request"],
      [{ request: "eyJ" }, "request_not_supported"],
    ];
    for (const [extra, error] of cases) {
      const q = errorAt(await authorize(k.pub, { ...base, ...extra }), "https://web.example/cb");
      assert.equal(q.get("error"), error, JSON.stringify(extra));
      assert.equal(q.get("state"), "st");
      assert.equal(q.get("iss"), `${BASE}/`);
      assert.equal(q.get("code"), null);
    }
    const withQuery = errorAt(await authorize(k.pub, { ...base, redirect_uri: "https://web.example/cb?x=1", response_type: "id_token" }), "https://web.example/cb?x=1");
    assert.equal(withQuery.get("x"), "1");
    const repeated = await k.pub.inject({ method: "GET", url: `/authorize?${new URLSearchParams(base)}&scope=openid` });
    assert.equal(errorAt(repeated, "https://web.example/cb").get("error"), "invalid_request");
  });

  it("SEC-91: a public app must use PKCE S256; a confidential app may omit it", async (t) => {
    const k = await withAlice(t, CONFIG);
    const spa = { ...base, client_id: "spa", redirect_uri: "https://spa.example/" };
    const q = errorAt(await authorize(k.pub, spa), "https://spa.example/");
    assert.equal(q.get("error"), "invalid_request");
    assert.match(q.get("error_description") ?? "", /PKCE/);
    const { token } = await signIn(k.pub, ALICE.email);
    const ok = await authorize(k.pub, { ...spa, code_challenge: CHALLENGE, code_challenge_method: "S256" }, byCookie(token));
    assert.match(String(ok.headers.location), /^https:\/\/spa\.example\/\?code=/);
    const confidential = await authorize(k.pub, base, byCookie(token));
    assert.match(String(confidential.headers.location), /^https:\/\/web\.example\/cb\?code=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}&state=st&iss=/);
  });

  it("without a session the request is held and the browser sent to sign in; prompt=login with one asks for a re-authentication", async (t) => {
    const k = await withAlice(t, CONFIG);
    const res = await authorize(k.pub, base);
    assert.equal(res.statusCode, 303);
    const to = new URL(String(res.headers.location));
    assert.equal(to.origin + to.pathname, `${BASE}/self-service/login/browser`);
    assert.match(to.searchParams.get("return_to") ?? "", new RegExp(`^${BASE}/authorize/resume\\?request=[0-9a-f-]{36}$`));
    assert.equal(to.searchParams.get("refresh"), null);
    const { token } = await signIn(k.pub, ALICE.email);
    const again = new URL(String((await authorize(k.pub, { ...base, prompt: "login" }, byCookie(token))).headers.location));
    assert.equal(again.searchParams.get("refresh"), "true");
    const none = errorAt(await authorize(k.pub, { ...base, prompt: "none" }), "https://web.example/cb");
    assert.equal(none.get("error"), "login_required");
  });

  it("an unknown, used or expired resume request is a page, not a redirect", async (t) => {
    const k = await withAlice(t, CONFIG);
    for (const id of ["", "x", "00000000-0000-4000-8000-000000000000"]) {
      assertPage(await k.pub.inject({ method: "GET", url: `/authorize/resume?request=${id}` }), 400, /expired or was already used/);
    }
  });

  it("response_mode=form_post: a page that posts code, state and iss to the app, under a CSP that allows only that", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    const res = await authorize(k.pub, { ...base, response_mode: "form_post", state: '"><script>' }, byCookie(token));
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<form method="post" action="https:\/\/web\.example\/cb">/);
    assert.match(res.body, /name="code" value="[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}"/);
    assert.match(res.body, /name="state" value="&quot;&gt;&lt;script&gt;"/);
    const csp = String(res.headers["content-security-policy"]);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /form-action https:\/\/web\.example(;|$)/);
  });

  it("SEC-99: response_mode=web_message posts the answer to the redirect URI's origin only, framed by that origin only, and only for prompt=none", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    const silent = { client_id: "spa", redirect_uri: "https://spa.example/", response_type: "code", scope: "openid", code_challenge: CHALLENGE, code_challenge_method: "S256" };
    const res = await authorize(k.pub, { ...silent, response_mode: "web_message", prompt: "none", state: "</script><script>alert(1)</script>" }, byCookie(token));
    assert.equal(res.statusCode, 200, res.body);
    const csp = String(res.headers["content-security-policy"]);
    assert.match(csp, /frame-ancestors https:\/\/spa\.example;/);
    assert.equal(res.headers["x-frame-options"], undefined, "frame-ancestors says who may frame it");
    const [, data, script] = /<script type="application\/json" id="authorization-response">([^<]*)<\/script><script>([^<]*)<\/script>/.exec(res.body) ?? [];
    assert.ok(data && script, res.body);
    assert.ok(csp.includes(`'sha256-${createHash("sha256").update(script).digest("base64")}'`), "the one script is allowed by hash");
    const message = JSON.parse(data) as { origin: string; response: Record<string, string> };
    assert.equal(message.origin, "https://spa.example");
    assert.match(message.response.code!, /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(message.response.state, "</script><script>alert(1)</script>", "the state cannot close the data block (< is escaped)");
    assert.equal(message.response.iss, `${BASE}/`);

    // No session: login_required, by the same message.
    const none = await authorize(k.pub, { ...silent, response_mode: "web_message", prompt: "none" });
    assert.match(none.body, /"error":"login_required"/);
    // Without prompt=none there is no page a frame could show: the request is refused.
    const loud = await authorize(k.pub, { ...silent, response_mode: "web_message" }, byCookie(token));
    assert.match(loud.body, /"error":"invalid_request"/);
    // An app whose redirect URI's origin is not among its web_origins gets no message at all.
    const web = await authorize(k.pub, { ...base, response_mode: "web_message", prompt: "none" }, byCookie(token));
    assertPage(web, 400, /web_origins/);
  });

  it("INV-3: a store that does not answer is a 503 page, and no code is issued", async (t) => {
    const store = await FailingStore.open();
    const k = await doorFor(t, { store, config: CONFIG });
    store.fail("findApp");
    const res = await authorize(k.pub, base);
    assertPage(res, 503, /temporarily_unavailable/);
  });
});

describe("POST /oauth/token", () => {
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}` });
  const token = (pub: HttpApp, body: string, headers: Record<string, string> = {}) =>
    pub.inject({ method: "POST", url: "/oauth/token", headers: { ...form, ...headers }, payload: body });

  it("SEC-94: wrong secrets, unknown apps and mixed methods are invalid_client (401) or invalid_request, in the OAuth envelope", async (t) => {
    const k = await withAlice(t, CONFIG);
    const wrong = await token(k.pub, "grant_type=authorization_code&code=x", basic("web", "not-the-secret"));
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers["www-authenticate"], 'Basic realm="curfew"');
    assert.deepEqual(JSON.parse(wrong.body), { error: "invalid_client", error_description: "Client authentication failed." });
    assert.match(String(wrong.headers["cache-control"]), /no-store/);
    assert.equal((await token(k.pub, "grant_type=authorization_code&client_id=nobody&client_secret=x")).statusCode, 401);
    assert.equal((await token(k.pub, `grant_type=authorization_code&client_id=spa&client_secret=${APP_SECRET}`)).statusCode, 401, "a public app has no secret");
    assert.equal((await token(k.pub, "grant_type=authorization_code")).statusCode, 401, "no client at all");
    const both = await token(k.pub, `grant_type=authorization_code&client_secret=${APP_SECRET}`, basic("web", APP_SECRET));
    assert.equal(JSON.parse(both.body).error, "invalid_request");
  });

  it("RFC 6749 §3.2: bad grants and bad bodies are the OAuth envelope, never a 500", async (t) => {
    const k = await withAlice(t, CONFIG);
    const auth = basic("web", APP_SECRET);
    const cases: [string, Record<string, string>, number, string][] = [
      ["code=x", {}, 400, "invalid_request"],
      ["grant_type=password", {}, 400, "unsupported_grant_type"],
      ["grant_type=authorization_code", {}, 400, "invalid_request"],
      ["grant_type=authorization_code&code=not-a-code&redirect_uri=https%3A%2F%2Fweb.example%2Fcb", {}, 400, "invalid_grant"],
      ["grant_type=refresh_token&refresh_token=00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", {}, 400, "invalid_grant"],
      ["grant_type=authorization_code&grant_type=refresh_token", {}, 400, "invalid_request"],
      ["{not json", { "content-type": "application/json" }, 400, "invalid_request"],
      ["grant_type=authorization_code", { "content-type": "text/plain" }, 415, "invalid_request"],
      [`grant_type=authorization_code&code=${"x".repeat(20_000)}`, {}, 413, "invalid_request"],
    ];
    for (const [body, headers, status, error] of cases) {
      const res = await token(k.pub, body, { ...auth, ...headers });
      assert.equal(res.statusCode, status, `${body.slice(0, 60)}: ${res.body}`);
      assert.equal(JSON.parse(res.body).error, error, body.slice(0, 60));
    }
  });

  it("SEC-92: a code exchange with the wrong redirect_uri or verifier is invalid_grant, and burns the code", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token: session } = await signIn(k.pub, ALICE.email);
    const res = await authorize(k.pub, { ...base, code_challenge: CHALLENGE, code_challenge_method: "S256" }, byCookie(session));
    const code = new URL(String(res.headers.location)).searchParams.get("code")!;
    const exchange = (extra: string) =>
      token(k.pub, `grant_type=authorization_code&code=${encodeURIComponent(code)}${extra}`, basic("web", APP_SECRET));
    const wrongVerifier = await exchange(`&redirect_uri=${encodeURIComponent("https://web.example/cb")}&code_verifier=${"b".repeat(43)}`);
    assert.equal(JSON.parse(wrongVerifier.body).error, "invalid_grant");
    const right = await exchange(`&redirect_uri=${encodeURIComponent("https://web.example/cb")}&code_verifier=${VERIFIER}`);
    assert.equal(JSON.parse(right.body).error, "invalid_grant", "a code is tried once");
  });

  it("CORS: a preflight from an app's web origin is allowed; the answer is readable only by that app's origin", async (t) => {
    const k = await withAlice(t, CONFIG);
    const preflight = await k.pub.inject({
      method: "OPTIONS",
      url: "/oauth/token",
      headers: { origin: "https://spa.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, auth0-client" },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], "https://spa.example");
    assert.match(String(preflight.headers["access-control-allow-headers"]), /Auth0-Client/);
    const stranger = await k.pub.inject({
      method: "OPTIONS",
      url: "/oauth/token",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(stranger.headers["access-control-allow-origin"], undefined);
    const asSpa = await token(k.pub, "grant_type=authorization_code&code=x&client_id=spa", { origin: "https://spa.example" });
    assert.equal(asSpa.headers["access-control-allow-origin"], "https://spa.example");
    const asWebFromSpa = await token(k.pub, "grant_type=authorization_code&code=x", { ...basic("web", APP_SECRET), origin: "https://spa.example" });
    assert.equal(asWebFromSpa.headers["access-control-allow-origin"], undefined, "the web app lists no web origin");
  });
});

describe("GET /userinfo", () => {
  it("RFC 6750 §3: no token or a bad one is 401 with a Bearer challenge", async (t) => {
    const k = await withAlice(t, CONFIG);
    const none = await k.pub.inject({ method: "GET", url: "/userinfo" });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers["www-authenticate"], 'Bearer realm="curfew"');
    const bad = await k.pub.inject({ method: "GET", url: "/userinfo", headers: { authorization: "Bearer nope" } });
    assert.equal(bad.statusCode, 401);
    assert.match(String(bad.headers["www-authenticate"]), /error="invalid_token"/);
    // A Curfew session token is not an access token.
    const { token } = await signIn(k.pub, ALICE.email);
    assert.equal((await k.pub.inject({ method: "GET", url: "/userinfo", headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
  });
});

describe("discovery", () => {
  it("SEC-95: the issuer is the base URL with one trailing slash; the JWKS holds public RS256 keys only", async (t) => {
    const k = await withAlice(t, CONFIG);
    const d = JSON.parse((await k.pub.inject({ method: "GET", url: "/.well-known/openid-configuration" })).body);
    assert.equal(d.issuer, `${BASE}/`);
    assert.equal(d.authorization_endpoint, `${BASE}/authorize`);
    const jwks = JSON.parse((await k.pub.inject({ method: "GET", url: "/.well-known/jwks.json" })).body) as { keys: Record<string, unknown>[] };
    assert.ok(jwks.keys.length >= 1);
    for (const key of jwks.keys) {
      assert.equal(key.kty, "RSA");
      assert.equal(key.alg, "RS256");
      assert.ok(typeof key.kid === "string");
      for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) assert.equal(key[secret], undefined, `no private member ${secret}`);
    }
  });
});
