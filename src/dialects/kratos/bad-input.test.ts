/**
 * Bad input at the Kratos door (SEC-66..SEC-73, the BAD-J bodies and the BAD-H protocol cases):
 * every answer is the herodot envelope with the right 4xx status, never a 500, never an echo
 * of a secret, and nothing changes: the session still works, no identity or session appears.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ALICE,
  PASSWORD,
  assertHerodot,
  assertLive,
  bySessionToken,
  createIdentity,
  json,
  kratosFor,
  loginFlow,
  registrationFlow,
  signIn,
  submitLogin,
  whoami,
  type FlowJson,
  type IdentityJson,
  type Kratos,
  type Response,
} from "../../../test/support/kratos.ts";

const JSON_TYPE = { "content-type": "application/json" };

interface Fixture {
  k: Kratos;
  token: string;
  identityId: string;
  /** The four JSON endpoints, with a valid flow where one is needed. */
  targets: { name: string; method: "POST" | "DELETE"; url: string; app: "pub" | "adm" }[];
}

async function fixture(t: { after(fn: () => unknown): void }, config: Record<string, unknown> = {}): Promise<Fixture> {
  const k = await kratosFor(t, { config });
  const identity = await createIdentity(k.adm, ALICE);
  const { token } = await signIn(k.pub, ALICE.email);
  const login = await loginFlow(k.pub);
  const registration = await registrationFlow(k.pub);
  return {
    k,
    token,
    identityId: identity.id,
    targets: [
      { name: "updateLoginFlow", method: "POST", url: `/self-service/login?flow=${login.id}`, app: "pub" },
      { name: "updateRegistrationFlow", method: "POST", url: `/self-service/registration?flow=${registration.id}`, app: "pub" },
      { name: "performNativeLogout", method: "DELETE", url: "/self-service/logout/api", app: "pub" },
      { name: "createIdentity", method: "POST", url: "/admin/identities", app: "adm" },
    ],
  };
}

/** Nothing changed: the session works, Alice is the only identity and has exactly one session. */
async function assertNothingChanged(f: Fixture): Promise<void> {
  await assertLive(f.k.pub, f.token);
  const identities = json<IdentityJson[]>(await f.k.adm.inject({ method: "GET", url: "/admin/identities" }));
  assert.deepEqual(identities.map((i) => i.id), [f.identityId]);
  assert.equal(await f.k.t.server.core.sessions.count({}), 1);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "SEC-73: Object.prototype untouched");
  assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
}

function send(f: Fixture, target: Fixture["targets"][number], payload: string | Buffer, headers: Record<string, string> = JSON_TYPE): Promise<Response> {
  const app = target.app === "pub" ? f.k.pub : f.k.adm;
  return app.inject({ method: target.method, url: target.url, payload, headers });
}

const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

describe("Malformed JSON bodies (SEC-66, BAD-J01..J05, BAD-J08)", () => {
  const cases: { rule: string; label: string; body: string | Buffer; status: number; reason?: RegExp }[] = [
    { rule: "BAD-J01", label: "an empty body", body: "", status: 400, reason: /Content-Length" is zero/ },
    { rule: "BAD-J01", label: "whitespace only", body: "  \n", status: 400, reason: /Content-Length" is zero/ },
    { rule: "BAD-J02", label: "truncated JSON", body: '{"method":', status: 400, reason: /not valid JSON/ },
    { rule: "BAD-J02", label: "a trailing comma", body: '{"method":"password",}', status: 400, reason: /not valid JSON/ },
    { rule: "BAD-J02", label: "NaN", body: "NaN", status: 400, reason: /not valid JSON/ },
    { rule: "BAD-J02", label: "single quotes", body: "{'method':'password'}", status: 400, reason: /not valid JSON/ },
    { rule: "BAD-J02", label: "a byte-order mark before the JSON", body: '\uFEFF{"method":"password"}', status: 400, reason: /not valid JSON/ },
    { rule: "BAD-J02", label: "two JSON documents", body: '{"method":"password"}{"method":"password"}', status: 400, reason: /not valid JSON/ },
    { rule: "BAD-J03", label: "a top-level array", body: "[]", status: 400 },
    { rule: "BAD-J03", label: "a top-level string", body: '"password"', status: 400 },
    { rule: "BAD-J03", label: "top-level null", body: "null", status: 400 },
    { rule: "BAD-J03", label: "a top-level number", body: "1", status: 400 },
    { rule: "BAD-J03", label: "top-level true", body: "true", status: 400 },
    { rule: "BAD-J05", label: "objects nested 40 deep", body: deep(40), status: 400, reason: /nested too deeply/ },
    { rule: "BAD-J05", label: "arrays nested 4,000 deep", body: "[".repeat(4000) + "]".repeat(4000), status: 400, reason: /nested too deeply/ },
  ];

  for (const c of cases) {
    it(`${c.rule} / SEC-66: ${c.label} → ${c.status} herodot at every JSON endpoint, nothing changed`, async (t) => {
      const f = await fixture(t);
      for (const target of f.targets) {
        const res = await send(f, target, c.body);
        assertHerodot(res, c.status, c.reason ? { reason: c.reason } : {});
        assert.ok(!res.body.includes("Unexpected token"), `${target.name}: the parser's own message is not echoed`);
      }
      await assertNothingChanged(f);
    });
  }
});

describe("Invalid UTF-8 (BAD-J08)", () => {
  it("BAD-J08: invalid UTF-8 inside a string → 400 herodot at every JSON endpoint; nothing is created or signed in", async (t) => {
    const f = await fixture(t);
    const mangled = (json: string, at: string) => {
      const [before, after] = json.split(at) as [string, string];
      return Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(after)]);
    };
    const bodies: Record<string, Buffer> = {
      updateLoginFlow: mangled(JSON.stringify({ method: "password", identifier: `${ALICE.email}@@`, password: PASSWORD }), "@@"),
      updateRegistrationFlow: mangled(JSON.stringify({ method: "password", traits: { email: "n@@@example.com" }, password: PASSWORD }), "@@"),
      performNativeLogout: mangled(JSON.stringify({ session_token: `${f.token}@@` }), "@@"),
      createIdentity: mangled(JSON.stringify({ schema_id: "default@@", traits: { email: "n@example.com" } }), "@@"),
    };
    for (const target of f.targets) {
      // Refused by the body parser, not decoded with U+FFFD replacements (which would make
      // different byte strings the same identifier).
      const res = await send(f, target, bodies[target.name]!);
      assertHerodot(res, 400, { reason: "Unable to decode JSON payload: the request body is not valid JSON." });
    }
    await assertNothingChanged(f);
  });
});

describe("Content types and sizes (SEC-67, SEC-68, BAD-J04, BAD-J06, D13)", () => {
  it("SEC-68 / D13: text/plain, multipart, a +json suffix type or no Content-Type → 400 with Kratos's content-type reason; the valid JSON inside is not used", async (t) => {
    const f = await fixture(t);
    for (const type of ["text/plain", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x", "application/vnd.api+json", undefined]) {
      // The body would log the session out, or sign in, if it were read.
      for (const target of f.targets) {
        const body = target.name === "performNativeLogout" ? JSON.stringify({ session_token: f.token }) : JSON.stringify({ method: "password", identifier: ALICE.email, password: PASSWORD });
        // Asking for JSON: a browser-style caller of the submit routes is sent to the error page instead (below).
        const res = await send(f, target, body, { accept: "application/json", ...(type === undefined ? {} : { "content-type": type }) });
        const err = assertHerodot(res, 400, { reason: /^HTTP (POST|DELETE) Request used unknown HTTP Header "Content-Type: [^"]*", only \[application\/json/ });
        assert.ok(!JSON.stringify(err).includes(f.token));
      }
    }
    await assertNothingChanged(f);
  });

  it("BAD-J01: Content-Type: application/json with no body on an operation that takes none is no body, as in Kratos: the call goes through", async (t) => {
    const f = await fixture(t);
    const other = await signIn(f.k.pub, ALICE.email);
    const third = await signIn(f.k.pub, ALICE.email);
    const caller = { ...JSON_TYPE, "x-session-token": f.token };
    const one = await f.k.pub.inject({ method: "DELETE", url: `/sessions/${other.session.id}`, headers: caller });
    assert.equal(one.statusCode, 204, one.body);
    const rest = await f.k.pub.inject({ method: "DELETE", url: "/sessions", headers: caller });
    assert.equal(rest.statusCode, 200, rest.body);
    assert.deepEqual(JSON.parse(rest.body), { count: 1 });
    await assertLive(f.k.pub, f.token);
    for (const s of [other, third]) assert.equal((await whoami(f.k.pub, bySessionToken(s.token))).statusCode, 401);
    const admin = await f.k.adm.inject({ method: "DELETE", url: `/admin/identities/${f.identityId}/sessions`, headers: JSON_TYPE });
    assert.equal(admin.statusCode, 204, admin.body);
    assert.equal((await whoami(f.k.pub, bySessionToken(f.token))).statusCode, 401);
    // Where the operation has a body, an empty one is still refused.
    assertHerodot(await f.k.pub.inject({ method: "DELETE", url: "/self-service/logout/api", headers: JSON_TYPE, payload: "" }), 400);
  });

  it("BAD-J07: a body with a Content-Encoding (gzip, or plain JSON that claims to be gzip) → 415 herodot, never read", async (t) => {
    const f = await fixture(t);
    for (const target of f.targets) {
      const body = target.name === "performNativeLogout" ? JSON.stringify({ session_token: f.token }) : JSON.stringify({ method: "password", identifier: ALICE.email, password: PASSWORD });
      for (const coding of ["gzip", "deflate", "br"]) {
        const res = await send(f, target, body, { ...JSON_TYPE, "content-encoding": coding });
        assertHerodot(res, 415, { reason: /Content-Encoding/ });
      }
    }
    await assertNothingChanged(f);
  });

  it("BAD-J06: a charset other than UTF-8 (utf-7, latin1, utf-16) → 415 herodot", async (t) => {
    const f = await fixture(t);
    for (const charset of ["utf-7", "latin1", "UTF-16", '"utf-7"']) {
      for (const target of f.targets) {
        const res = await send(f, target, "{}", { "content-type": `application/json; charset=${charset}` });
        assertHerodot(res, 415, { reason: /only UTF-8/ });
      }
    }
    // UTF-8 in any spelling is fine.
    const ok = await send(f, f.targets[2]!, JSON.stringify({ session_token: "x" }), { "content-type": "application/json; charset=UTF-8" });
    assertHerodot(ok, 403);
    await assertNothingChanged(f);
  });

  it("SEC-67 / BAD-J04: a body over limits.body_bytes → 413 herodot, before anything is read from it", async (t) => {
    const f = await fixture(t, { "limits.body_bytes": 4096 });
    const big = JSON.stringify({ method: "password", identifier: ALICE.email, password: "p".repeat(5000), session_token: f.token });
    for (const target of f.targets) {
      const res = await send(f, target, big);
      assertHerodot(res, 413);
      assert.ok(!res.body.includes("ppppp"));
    }
    // Nesting so deep that it exceeds the limit is refused by size first.
    assertHerodot(await send(f, f.targets[0]!, deep(2000)), 413);
    await assertNothingChanged(f);
  });

  it("SEC-64: a 1,025-byte password is refused (400), never hashed or truncated", async (t) => {
    const f = await fixture(t);
    const long = "p".repeat(1025);
    const admin = await send(f, f.targets[3]!, JSON.stringify({ schema_id: "default", traits: { email: "long@example.com" }, credentials: { password: { config: { password: long } } } }));
    assertHerodot(admin, 400);
    const reg = await send(f, f.targets[1]!, JSON.stringify({ method: "password", traits: { email: "long@example.com" }, password: long }));
    assert.equal(reg.statusCode, 400);
    assert.ok(!reg.body.includes(long));
    const tooLong = await send(f, f.targets[0]!, JSON.stringify({ method: "password", identifier: ALICE.email, password: "p".repeat(4097) }));
    assertHerodot(tooLong, 400);
    await assertNothingChanged(f);
  });
});

describe("Keys, types and parameters (SEC-70, SEC-73, BAD-J09..J17)", () => {
  it("SEC-70 / BAD-J12: a duplicated JSON key → 400, even when one of the values would succeed", async (t) => {
    const f = await fixture(t);
    const bodies: Record<string, string> = {
      updateLoginFlow: `{"method":"password","identifier":"nobody@example.com","identifier":"${ALICE.email}","password":"${PASSWORD}"}`,
      updateRegistrationFlow: `{"method":"password","traits":{"email":"x@example.com","email":"y@example.com"},"password":"${PASSWORD}"}`,
      performNativeLogout: `{"session_token":"x","session_token":"${f.token}"}`,
      createIdentity: '{"schema_id":"default","schema_id":"default","traits":{"email":"dup@example.com"}}',
    };
    for (const target of f.targets) {
      const res = await send(f, target, bodies[target.name]!);
      assertHerodot(res, 400, { reason: /a key appears more than once/ });
      assert.ok(!res.body.includes(f.token) && !res.body.includes(PASSWORD));
    }
    await assertNothingChanged(f);
  });

  it("SEC-73 / BAD-J15: __proto__ and constructor keys, at any depth → 400; the prototype is not polluted", async (t) => {
    const f = await fixture(t);
    const bodies = [
      '{"__proto__":{"polluted":true,"isAdmin":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"method":"password","traits":{"email":"p@example.com","__proto__":{"polluted":true}}}',
      '{"schema_id":"default","traits":{"email":"p@example.com"},"metadata_public":{"a":[{"__proto__":{"polluted":true}}]}}',
    ];
    for (const target of f.targets) {
      for (const body of bodies) assertHerodot(await send(f, target, body), 400, { reason: /forbidden key/ });
    }
    const health = await f.k.pub.inject({ method: "GET", url: "/health/alive" });
    assert.deepEqual(json(health), { status: "ok" }, "pollution canary");
    await assertNothingChanged(f);
  });

  it("SEC-73 / BAD-J13 / BAD-J14: non-string fields (numbers, arrays, objects, booleans, null, operators) → 400; nothing revoked", async (t) => {
    const f = await fixture(t);
    const odd: unknown[] = [42, ["a"], { $ne: null }, { $gt: "" }, true, null];
    const [login, registration, logout, admin] = f.targets as [Fixture["targets"][number], Fixture["targets"][number], Fixture["targets"][number], Fixture["targets"][number]];
    for (const v of odd) {
      assertHerodot(await send(f, logout, JSON.stringify({ session_token: v })), 400);
      assertHerodot(await send(f, logout, JSON.stringify({ session_token: [f.token] })), 400);
      assertHerodot(await send(f, login, JSON.stringify({ method: "password", identifier: v, password: PASSWORD })), 400);
      assertHerodot(await send(f, login, JSON.stringify({ method: "password", identifier: ALICE.email, password: v })), 400);
      assertHerodot(await send(f, login, JSON.stringify({ method: v, identifier: ALICE.email, password: PASSWORD })), 400);
      assertHerodot(await send(f, registration, JSON.stringify({ method: "password", traits: { email: "n@example.com" }, password: v })), 400);
      if (v !== null && typeof v === "object" && !Array.isArray(v)) continue; // an object is a valid traits value
      assertHerodot(await send(f, registration, JSON.stringify({ method: "password", traits: v, password: PASSWORD })), 400);
      assertHerodot(await send(f, admin, JSON.stringify({ schema_id: "default", traits: { email: v } })), 400);
      assertHerodot(await send(f, admin, JSON.stringify({ schema_id: v, traits: { email: "n@example.com" } })), 400);
    }
    await assertNothingChanged(f);
  });

  it("BAD-J11: unknown fields are refused (strict schemas), not ignored", async (t) => {
    const f = await fixture(t);
    const bodies: Record<string, unknown> = {
      updateLoginFlow: { method: "password", identifier: ALICE.email, password: PASSWORD, remember: true },
      updateRegistrationFlow: { method: "password", traits: { email: "n@example.com" }, password: PASSWORD, role: "admin" },
      performNativeLogout: { session_token: f.token, all: true },
      createIdentity: { schema_id: "default", traits: { email: "n@example.com" }, is_admin: true },
    };
    for (const target of f.targets) assertHerodot(await send(f, target, JSON.stringify(bodies[target.name])), 400);
    await assertNothingChanged(f);
  });

  it("BAD-J09 / BAD-J10: an over-long session token → 400; NUL, CR/LF or padding in it → 403; nothing revoked", async (t) => {
    const f = await fixture(t);
    const logout = f.targets[2]!;
    assertHerodot(await send(f, logout, JSON.stringify({ session_token: "a".repeat(10_000) })), 400);
    for (const token of [`${f.token}\u0000`, `${f.token}\r\n`, ` ${f.token}`, `${f.token} `, f.token.toUpperCase(), "\u0000"]) {
      const res = await send(f, logout, JSON.stringify({ session_token: token }));
      assertHerodot(res, 403, { id: null });
    }
    await assertNothingChanged(f);
  });

  it("BAD-J16 / BAD-J17: look-alike and SQL-laden identifiers are unknown users (400 flow), never a 5xx or a sign-in", async (t) => {
    const f = await fixture(t);
    for (const identifier of ["ａｌｉｃｅ@example.com", "alice@example.com\u200b", "alice\u0000@example.com", "' OR 1=1 --", `${ALICE.email}' --`, '"; DROP TABLE sessions; --', "%", "_"]) {
      const res = await submitLogin(f.k.pub, identifier, PASSWORD);
      assert.equal(res.statusCode, 400, identifier);
      assert.equal(json<FlowJson>(res).ui.messages?.[0]?.id, 4000006, identifier);
    }
    const sqlPassword = await submitLogin(f.k.pub, ALICE.email, "' OR '1'='1");
    assert.equal(sqlPassword.statusCode, 400);
    const listed = await f.k.adm.inject({ method: "GET", url: `/admin/identities?credentials_identifier=${encodeURIComponent("%")}` });
    assert.deepEqual(json(listed), [], "LIKE wildcards are not wildcards");
    await assertNothingChanged(f);
  });

  it("SEC-70: duplicated query parameters (?flow=a&flow=b, ?id=a&id=b, ?credentials_identifier twice) → 400", async (t) => {
    const f = await fixture(t);
    const flow = await loginFlow(f.k.pub);
    const calls = [
      { app: f.k.pub, method: "POST", url: `/self-service/login?flow=${flow.id}&flow=${flow.id}`, payload: { method: "password", identifier: ALICE.email, password: PASSWORD } },
      { app: f.k.pub, method: "POST", url: `/self-service/registration?flow=${flow.id}&flow=x`, payload: { method: "password", traits: { email: "n@example.com" }, password: PASSWORD } },
      { app: f.k.pub, method: "GET", url: `/self-service/login/flows?id=${flow.id}&id=${flow.id}` },
      { app: f.k.pub, method: "GET", url: "/self-service/login/api?return_to=/a&return_to=https://evil.example" },
      { app: f.k.pub, method: "GET", url: "/sessions?page_size=1&page_size=2", headers: bySessionToken(f.token) },
      { app: f.k.adm, method: "GET", url: `/admin/identities?credentials_identifier=${ALICE.email}&credentials_identifier=bob@example.com` },
      { app: f.k.adm, method: "GET", url: "/admin/sessions?active=true&active=false" },
    ] as const;
    for (const { app, ...call } of calls) assertHerodot(await app.inject(call), 400);
    await assertNothingChanged(f);
  });

  it("SEC-66: URLs the router cannot read (bad percent-encoding, over-long path parameters) → 4xx, never 500", async (t) => {
    const f = await fixture(t);
    const calls = [
      { app: f.k.pub, method: "DELETE", url: "/sessions/%E0%A4%A", headers: bySessionToken(f.token) },
      { app: f.k.pub, method: "DELETE", url: `/sessions/${"a".repeat(5000)}`, headers: bySessionToken(f.token) },
      { app: f.k.adm, method: "GET", url: "/admin/sessions/%zz" },
    ] as const;
    for (const { app, ...call } of calls) {
      const res = await app.inject(call);
      // Fastify's router refuses these before any hook runs; http/app.ts answers them in the door's envelope.
      assert.ok(res.statusCode === 400 || res.statusCode === 404 || res.statusCode === 414, `${call.url.slice(0, 60)} → ${res.statusCode}`);
      assertHerodot(res, res.statusCode);
      assert.ok(!res.body.includes(f.token));
    }
    await assertNothingChanged(f);
  });

  it("SEC-66: malformed path and query values → 400 herodot, never 500", async (t) => {
    const f = await fixture(t);
    const calls = [
      { app: f.k.pub, method: "DELETE", url: `/sessions/${"a".repeat(90)}`, headers: bySessionToken(f.token) },
      { app: f.k.pub, method: "GET", url: "/self-service/login/flows" },
      { app: f.k.pub, method: "GET", url: "/sessions?page_size=99999999", headers: bySessionToken(f.token) },
      { app: f.k.adm, method: "GET", url: "/admin/sessions?expand=a&expand=b&expand=c&expand=d&expand=e" },
      { app: f.k.adm, method: "GET", url: `/admin/sessions?expand=${"x".repeat(100)}` },
      { app: f.k.adm, method: "GET", url: `/admin/identities?page_token=${"x".repeat(600)}` },
      { app: f.k.adm, method: "GET", url: "/admin/identities/%00" },
    ] as const;
    for (const { app, ...call } of calls) {
      const res = await app.inject(call);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${call.url.slice(0, 60)} → ${res.statusCode}`);
      assertHerodot(res, res.statusCode);
    }
    await assertNothingChanged(f);
  });
});

describe("Credential carriers and HTTP-level input (BAD-K, BAD-H, SEC-69, SEC-72)", () => {
  it("BAD-K01 / BAD-K02: random, truncated, extended and bit-flipped tokens in every carrier → 401, never a 5xx", async (t) => {
    const f = await fixture(t);
    const tok = f.token;
    const flipped = tok.slice(0, 40) + (tok[40] === "A" ? "B" : "A") + tok.slice(41);
    const variants = [tok.slice(0, -1), `${tok}A`, flipped, tok.replace(".", ":"), `${tok}.${tok}`, "a".repeat(9000), "é", "null", "undefined", "[object Object]"];
    for (const v of variants) {
      const carriers: Record<string, string>[] = [{ "x-session-token": v }, { cookie: `ory_kratos_session=${v}` }, { authorization: `Bearer ${v}` }];
      for (const headers of carriers) {
        assertHerodot(await whoami(f.k.pub, headers), 401, { id: null });
      }
    }
    await assertNothingChanged(f);
  });

  it("SEC-04: a token in the query string or a form field authenticates nobody", async (t) => {
    const f = await fixture(t);
    for (const q of ["session_token", "token", "x-session-token", "ory_kratos_session"]) {
      assertHerodot(await f.k.pub.inject({ method: "GET", url: `/sessions/whoami?${q}=${f.token}` }), 401);
    }
    const form = await f.k.pub.inject({
      method: "POST",
      url: "/sessions/whoami",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `session_token=${f.token}`,
    });
    assertHerodot(form, 401);
    await assertNothingChanged(f);
  });

  it("BAD-H05 / SEC-72: Host, X-Forwarded-Host and X-Forwarded-Proto do not change the URLs Curfew builds", async (t) => {
    const f = await fixture(t);
    const headers = { host: "evil.example", "x-forwarded-host": "evil2.example", "x-forwarded-proto": "https", forwarded: "host=evil3.example" };
    const res = await f.k.pub.inject({ method: "GET", url: "/self-service/login/api", headers });
    assert.equal(res.statusCode, 200);
    const flow = json<FlowJson>(res);
    assert.ok(flow.ui.action.startsWith("http://localhost:4433/self-service/login?flow="), flow.ui.action);
    assert.equal(flow.request_url, "http://localhost:4433/self-service/login/api");
    // The keyless admin listener refuses a foreign Host outright (SEC-100); the forwarding headers change nothing there either.
    assert.equal((await f.k.adm.inject({ method: "GET", url: "/admin/sessions/whoami", headers })).statusCode, 403);
    const adminHeaders = { ...headers, host: "127.0.0.1:4434" };
    const redirect = await f.k.adm.inject({ method: "GET", url: "/admin/sessions/whoami", headers: adminHeaders });
    assert.equal(redirect.headers.location, "http://localhost:4433/sessions/whoami");
    const identity = await f.k.adm.inject({ method: "GET", url: `/admin/identities/${f.identityId}`, headers: adminHeaders });
    assert.equal(json<IdentityJson>(identity).schema_url, "http://localhost:4433/schemas/ZGVmYXVsdA");
    assert.ok(!res.body.includes("evil"));
  });

  it("SEC-69: a known path asked with an unlisted method (or TRACE) → 405 with Allow, herodot, nothing changed", async (t) => {
    const f = await fixture(t);
    const calls = [
      { method: "PUT", url: "/self-service/logout/api", payload: { session_token: f.token } },
      { method: "POST", url: "/self-service/logout/api", payload: { session_token: f.token } },
      { method: "GET", url: "/self-service/logout/api" },
      { method: "PUT", url: "/sessions", headers: bySessionToken(f.token) },
      { method: "POST", url: "/sessions", headers: bySessionToken(f.token) },
      { method: "TRACE", url: "/sessions/whoami", headers: bySessionToken(f.token) },
      { method: "GET", url: "/self-service/login" },
    ] as const;
    for (const call of calls) {
      const res = await f.k.pub.inject(call);
      assert.equal(res.statusCode, 405, `${call.method} ${call.url} → ${res.statusCode}`);
      assert.ok(String(res.headers.allow).length > 0, "Allow names the methods that work");
      assert.ok(!String(res.headers.allow).includes(call.method), "and not the one that was refused");
      assertHerodot(res, 405);
    }
    await assertNothingChanged(f);
  });
});

describe("SEC-101: per-IP limits on what anyone may write without a credential", () => {
  it("SEC-101: past limits.per_ip.flows, creating a login or registration flow is 429 self_service_rate_limited for that address only", async (t) => {
    const k = await kratosFor(t, { config: { "limits.per_ip.flows.max": 3 } });
    for (const url of ["/self-service/login/api", "/self-service/registration/api", "/self-service/login/api"]) {
      assert.equal((await k.pub.inject({ method: "GET", url })).statusCode, 200, url);
    }
    const refused = await k.pub.inject({ method: "GET", url: "/self-service/registration/api" });
    assertHerodot(refused, 429, { id: "self_service_rate_limited" });
    assert.ok(Number(refused.headers["retry-after"]) >= 1);
    assert.equal((await k.pub.inject({ method: "GET", url: "/self-service/login/api", remoteAddress: "192.0.2.9" })).statusCode, 200, "another address");
  });

  it("SEC-101: past limits.per_ip.stored_errors, a browser's error is answered as JSON and not kept", async (t) => {
    const k = await kratosFor(t, { config: { "limits.per_ip.stored_errors.max": 2 } });
    // A refused return_to sends a browser to the error page with a kept error.
    const refusedReturn = () => k.pub.inject({ method: "GET", url: `/self-service/login/browser?return_to=${encodeURIComponent("https://evil.example/")}` });
    for (let i = 0; i < 2; i++) {
      const res = await refusedReturn();
      assert.equal(res.statusCode, 303);
      assert.match(String(res.headers.location), /\/ui\/error\?id=/);
    }
    const unkept = await refusedReturn();
    assert.equal(unkept.headers.location, undefined, "no third row: the error itself instead");
    assertHerodot(unkept, 400, {});
  });
});
