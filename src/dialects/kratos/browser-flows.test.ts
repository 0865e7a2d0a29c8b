/**
 * The Kratos door's browser login and registration flows, in process (as Kratos serves them):
 * Accept negotiation decides between a 303 to the page and the flow as JSON; the CSRF cookie
 * binds the flow to one browser (D12); a submission without the
 * proof creates nothing (SEC-65); a successful one sets `ory_kratos_session` with D2's attributes
 * (SEC-07), rotates the CSRF cookie and always mints a new token (SEC-12).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { csrfTokenMatches } from "../../core/csrf.ts";
import type { HttpApp } from "../../http/app.ts";
import { cookieAttributes, cookieValue, hasSetCookie, setCookie, setCookies } from "../../../test/support/cookies.ts";
import {
  ALICE,
  BASE,
  FORM,
  JSON_ACCEPT,
  PASSWORD,
  UUID,
  assertDead,
  assertHerodot,
  assertLive,
  assertNoStore,
  attr,
  createIdentity,
  csrfName,
  csrfTokenOf,
  flowError,
  json,
  kratosFor,
  nodeNamed,
  updateFlow,
  whoami,
  withAlice,
  type FlowJson,
  type IdentityJson,
  type Kratos,
  type Response,
  type SessionJson,
} from "../../../test/support/kratos.ts";
import { ManualClock } from "../../../test/support/server.ts";

/** What a browser navigation sends (Chromium). */
const NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
/** What an HTML form on a page posts. */
const FORM_POST = { ...FORM, accept: NAVIGATION };

const E_CSRF_REASON =
  "Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.";

// ---- cookies --------------------------------------------------------------------------------

/** A browser's cookie jar, enough for one host. */
class Jar {
  readonly cookies = new Map<string, string>();
  absorb(res: Response): this {
    for (const line of setCookies(res)) {
      const name = line.slice(0, line.indexOf("="));
      const maxAge = cookieAttributes(line).get("max-age");
      if (maxAge === "0" || cookieValue(line) === "") this.cookies.delete(name);
      else this.cookies.set(name, cookieValue(line));
    }
    return this;
  }
  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
  absorbCookie(name: string, value: string): this {
    this.cookies.set(name, value);
    return this;
  }
  header(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
  }
}

// ---- flows ----------------------------------------------------------------------------------

type FlowType = "login" | "registration";

/** `createBrowser{Login,Registration}Flow` as a JSON caller, in this jar; returns the flow. */
async function browserFlow(pub: HttpApp, type: FlowType, jar: Jar, query = ""): Promise<FlowJson> {
  const res = await pub.inject({ method: "GET", url: `/self-service/${type}/browser${query}`, headers: { ...JSON_ACCEPT, ...jar.header() } });
  assert.equal(res.statusCode, 200, res.body);
  jar.absorb(res);
  return json<FlowJson>(res);
}

/** A new browser (an empty jar) and a browser flow it began, as JSON. */
async function newBrowser(pub: HttpApp, type: FlowType = "login", query = ""): Promise<{ jar: Jar; flow: FlowJson }> {
  const jar = new Jar();
  return { jar, flow: await browserFlow(pub, type, jar, query) };
}

/** What the login form of this flow submits for Alice; `fields` replace or add. */
function loginFields(flow: FlowJson, fields: Record<string, string> = {}): Record<string, string> {
  return { method: "password", identifier: ALICE.email, password: PASSWORD, csrf_token: csrfTokenOf(flow), ...fields };
}

/** A browser page's form submission of this flow: url-encoded, Accept as a navigation, plus `headers`. */
function postForm(pub: HttpApp, type: FlowType, flowId: string, fields: Record<string, string>, headers: Record<string, string>): Promise<Response> {
  return updateFlow(pub, type, flowId, form(fields), { ...FORM_POST, ...headers });
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function sessionCount(k: Kratos): Promise<number> {
  return k.t.server.core.sessions.count({});
}

/**
 * Counts calls into the core operations that create sessions or identities. After a refusal
 * none may even start: a handler that went on after answering would create them in the
 * background, unseen by the response (SEC-65).
 */
function spyCreations(k: Kratos): { calls(): Promise<number> } {
  const core = k.t.server.core;
  let calls = 0;
  const targets: [object, string][] = [
    [core.sessions, "signIn"],
    [core.sessions, "begin"],
    [core.identities, "create"],
  ];
  for (const [target, name] of targets) {
    const holder = target as Record<string, unknown>;
    const original = holder[name] as (...args: unknown[]) => unknown;
    holder[name] = (...args: unknown[]) => {
      calls++;
      return original.apply(target, args);
    };
  }
  return {
    async calls() {
      // Let anything a handler still does after its answer reach the core first.
      await new Promise((resolve) => setImmediate(resolve));
      return calls;
    },
  };
}

async function identityEmails(k: Kratos): Promise<string[]> {
  const res = await k.adm.inject({ method: "GET", url: "/admin/identities" });
  return json<IdentityJson[]>(res).map((i) => (i.traits as { email: string }).email);
}

// ---- tests ----------------------------------------------------------------------------------

describe("Browser flow init: Accept negotiation", () => {
  const browserAccepts: (string | undefined)[] = [undefined, "*/*", NAVIGATION, "text/html", "application/json, text/html", "application/json;q=0.5, text/html"];

  for (const type of ["login", "registration"] as const) {
    it(`as Kratos: a browser ${type} init (no Accept, */*, navigation, JSON and HTML at equal q) → 303 to /ui/${type}?flow=<id>, no body`, async (t) => {
      const { pub } = await kratosFor(t);
      for (const accept of browserAccepts) {
        const res = await pub.inject({ method: "GET", url: `/self-service/${type}/browser`, headers: accept === undefined ? {} : { accept } });
        assert.equal(res.statusCode, 303, `Accept: ${accept} → ${res.statusCode}`);
        assert.match(String(res.headers.location), new RegExp(`^${BASE}/ui/${type}\\?flow=${UUID}$`), `Accept: ${accept}`);
        assert.equal(res.body, "");
        assertNoStore(res);
        // The flow the page will ask for exists and belongs to this browser.
        const jar = new Jar().absorb(res);
        const id = new URL(String(res.headers.location)).searchParams.get("flow");
        const got = await pub.inject({ method: "GET", url: `/self-service/${type}/flows?id=${id}`, headers: jar.header() });
        assert.equal(got.statusCode, 200, got.body);
        assert.equal(json<FlowJson>(got).type, "browser");
      }
    });

    it(`as Kratos: Accept: application/json (and axios's "application/json, text/plain, */*") → 200, the ${type} flow with a csrf_token node`, async (t) => {
      const { pub } = await kratosFor(t);
      for (const accept of ["application/json", "application/json, text/plain, */*", "text/html;q=0.5, application/json"]) {
        const res = await pub.inject({ method: "GET", url: `/self-service/${type}/browser`, headers: { accept } });
        assert.equal(res.statusCode, 200, `Accept: ${accept}: ${res.body}`);
        assert.match(String(res.headers["content-type"]), /^application\/json/);
        assert.equal(res.headers.location, undefined);
        assertNoStore(res);
        const flow = json<FlowJson>(res);
        assert.equal(flow.type, "browser");
        assert.equal(flow.ui.action, `${BASE}/self-service/${type}?flow=${flow.id}`);
        assert.equal(flow.ui.method, "POST");
        const csrf = nodeNamed(flow, "csrf_token");
        assert.equal(attr(csrf, "type"), "hidden");
        assert.equal(attr(csrf, "required"), true);
        assert.match(csrfTokenOf(flow), /^[A-Za-z0-9_-]{86}$/, "a masked 64-byte token");
      }
    });
  }

  it("D12, as Kratos: init sets the CSRF cookie csrf_token_<hex sha256(base url)>: HttpOnly, SameSite=Lax, Path=/, no Domain, no Secure on http, a year", async (t) => {
    const { pub } = await kratosFor(t);
    for (const headers of [JSON_ACCEPT, { accept: NAVIGATION }]) {
      const res = await pub.inject({ method: "GET", url: "/self-service/login/browser", headers });
      const line = setCookie(res, csrfName());
      const attrs = cookieAttributes(line);
      assert.match(cookieValue(line), /^[A-Za-z0-9_-]{43}$/, "32 random bytes");
      assert.equal(attrs.get("path"), "/");
      assert.ok(attrs.has("httponly"));
      assert.equal(attrs.get("samesite"), "Lax");
      assert.equal(attrs.has("domain"), false, "no Domain");
      assert.equal(attrs.has("secure"), false, "http base URL: no Secure");
      assert.equal(attrs.get("max-age"), "31536000");
      assert.equal(hasSetCookie(res, "ory_kratos_session"), false, "no session before sign-in");
    }
  });

  it("D12: the flow's csrf_token unmasks to the cookie's secret; a second init keeps the cookie and masks it afresh (BREACH)", async (t) => {
    const { pub } = await kratosFor(t);
    const jar = new Jar();
    const first = await pub.inject({ method: "GET", url: "/self-service/login/browser", headers: JSON_ACCEPT });
    jar.absorb(first);
    const secret = jar.get(csrfName());
    const one = json<FlowJson>(first);
    assert.ok(csrfTokenMatches(csrfTokenOf(one), secret));
    const second = await pub.inject({ method: "GET", url: "/self-service/registration/browser", headers: { ...JSON_ACCEPT, ...jar.header() } });
    assert.equal(hasSetCookie(second, csrfName()), false, "an existing CSRF cookie is kept");
    const two = json<FlowJson>(second);
    assert.notEqual(csrfTokenOf(two), csrfTokenOf(one), "each render masks the token anew");
    assert.ok(csrfTokenMatches(csrfTokenOf(two), secret));
  });

  it("D2, as Kratos: on an https base URL the CSRF cookie is Secure and named after that URL", async (t) => {
    const { pub } = await kratosFor(t, { config: { "serve.public.base_url": "https://auth.example.com" } });
    const res = await pub.inject({ method: "GET", url: "/self-service/login/browser", headers: JSON_ACCEPT });
    const line = setCookie(res, csrfName("https://auth.example.com"));
    assert.ok(cookieAttributes(line).has("secure"));
    assert.equal(json<FlowJson>(res).ui.action.startsWith("https://auth.example.com/self-service/login?flow="), true);
  });

  it("as Kratos: signed in without refresh, a JSON login init → 400 session_already_available; a browser → 303 onwards", async (t) => {
    const k = await withAlice(t);
    const jar = await signedInBrowser(k.pub, ALICE.email);
    const json400 = await k.pub.inject({ method: "GET", url: "/self-service/login/browser", headers: { ...JSON_ACCEPT, ...jar.header() } });
    assertHerodot(json400, 400, {
      id: "session_already_available",
      reason: "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?",
    });
    assert.equal(json<{ error: { message: string } }>(json400).error.message, "you are already logged in");
    const browser = await k.pub.inject({ method: "GET", url: "/self-service/login/browser", headers: { accept: NAVIGATION, ...jar.header() } });
    assert.equal(browser.statusCode, 303);
    assert.equal(browser.headers.location, `${BASE}/`, "the default browser return URL");
    const onwards = await k.pub.inject({ method: "GET", url: "/self-service/login/browser?return_to=/ui/logged-out", headers: { accept: NAVIGATION, ...jar.header() } });
    assert.equal(onwards.statusCode, 303);
    assert.equal(onwards.headers.location, `${BASE}/ui/logged-out`, "or the validated return_to");
    // refresh=true asks for a new sign-in: a flow.
    const refresh = await k.pub.inject({ method: "GET", url: "/self-service/login/browser?refresh=true", headers: { ...JSON_ACCEPT, ...jar.header() } });
    assert.equal(refresh.statusCode, 200, refresh.body);
    assert.equal(json<FlowJson>(refresh).type, "browser");
  });

  it("as Kratos: signed in, a JSON registration init → 400 session_already_available; a browser → 303 onwards", async (t) => {
    const k = await withAlice(t);
    const jar = await signedInBrowser(k.pub, ALICE.email);
    assertHerodot(await k.pub.inject({ method: "GET", url: "/self-service/registration/browser", headers: { ...JSON_ACCEPT, ...jar.header() } }), 400, {
      id: "session_already_available",
      reason: "A valid session was detected and thus registration is not possible.",
    });
    const browser = await k.pub.inject({ method: "GET", url: "/self-service/registration/browser", headers: jar.header() });
    assert.equal(browser.statusCode, 303);
    assert.equal(browser.headers.location, `${BASE}/`);
  });

  it("as Kratos: a forbidden return_to → JSON 400 self_service_flow_return_to_forbidden; a browser → 303 to /ui/error?id=, and getFlowError shows the reason", async (t) => {
    const { pub } = await kratosFor(t, { config: { "selfservice.allowed_return_urls": ["https://app.example.com/"] } });
    for (const type of ["login", "registration"] as const) {
      for (const target of ["https://evil.example/", "//evil.example", "https://app.example.com.evil.example/", "javascript:alert(1)"]) {
        const url = `/self-service/${type}/browser?return_to=${encodeURIComponent(target)}`;
        const api = await pub.inject({ method: "GET", url, headers: JSON_ACCEPT });
        assertHerodot(api, 400, { id: "self_service_flow_return_to_forbidden", reason: `Requested return_to URL "${target}" is not allowed.` });
        const browser = await pub.inject({ method: "GET", url, headers: { accept: NAVIGATION } });
        assert.equal(browser.statusCode, 303, `${type} ${target}`);
        assert.ok(!String(browser.headers.location).includes("evil"), "never a Location to the target");
        const error = await flowError(pub, browser.headers.location);
        assert.equal(error.code, 400);
        assert.equal(error.id, "self_service_flow_return_to_forbidden");
        assert.equal(error.reason, `Requested return_to URL "${target}" is not allowed.`);
      }
    }
    // The page shows it too.
    const browser = await pub.inject({ method: "GET", url: "/self-service/login/browser?return_to=https://evil.example/", headers: { accept: NAVIGATION } });
    const page = await pub.inject({ method: "GET", url: new URL(String(browser.headers.location)).pathname + new URL(String(browser.headers.location)).search });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Requested return_to URL &quot;https:\/\/evil\.example\/&quot; is not allowed\./);
  });

  it("SEC-32: an allowed return_to is kept on the flow in its canonical form", async (t) => {
    const { pub } = await kratosFor(t, { config: { "selfservice.allowed_return_urls": ["https://app.example.com/"] } });
    const flow = await browserFlow(pub, "login", new Jar(), `?return_to=${encodeURIComponent("HTTPS://APP.EXAMPLE.COM/welcome")}`);
    assert.equal(flow.return_to, "https://app.example.com/welcome");
  });
});

/** A browser (jar) that signed in through the browser login flow as JSON. */
async function signedInBrowser(pub: HttpApp, identifier: string, jar = new Jar()): Promise<Jar> {
  const flow = await browserFlow(pub, "login", jar);
  const res = await updateFlow(pub, "login", flow.id, loginFields(flow, { identifier }), jar.header());
  assert.equal(res.statusCode, 200, res.body);
  jar.absorb(res);
  assert.ok(jar.get("ory_kratos_session"));
  return jar;
}

describe("getLoginFlow / getRegistrationFlow for a browser flow", () => {
  for (const type of ["login", "registration"] as const) {
    it(`as Kratos: a browser ${type} flow is shown only with its CSRF cookie: none or another browser's → 403 security_csrf_violation`, async (t) => {
      const { pub } = await kratosFor(t);
      const mine = new Jar();
      const flow = await browserFlow(pub, type, mine);
      const other = new Jar();
      await browserFlow(pub, type, other);
      const url = `/self-service/${type}/flows?id=${flow.id}`;
      for (const headers of [{}, other.header(), { cookie: `${csrfName()}=not-a-secret` }, { cookie: "ory_kratos_session=x" }]) {
        const res = await pub.inject({ method: "GET", url, headers });
        const body = assertHerodot(res, 403, { id: "security_csrf_violation", reason: E_CSRF_REASON });
        assert.equal(body.error.details?.docs, "https://www.ory.com/docs/troubleshooting/csrf");
        assert.ok(!res.body.includes(csrfTokenOf(flow)), "the token is not handed to another browser");
      }
      const ok = await pub.inject({ method: "GET", url, headers: mine.header() });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(json<FlowJson>(ok).id, flow.id);
    });
  }
});

describe("Submitting a browser flow without the CSRF proof (D12, SEC-65)", () => {
  /** Ways a submission can lack the proof, given the victim's real jar and flow. */
  function attacks(jar: Jar, flow: FlowJson, other: { jar: Jar; flow: FlowJson }): { name: string; cookie: Record<string, string>; csrf: string | undefined }[] {
    return [
      { name: "no csrf_token", cookie: jar.header(), csrf: undefined },
      { name: "empty csrf_token", cookie: jar.header(), csrf: "" },
      { name: "another browser's csrf_token", cookie: jar.header(), csrf: csrfTokenOf(other.flow) },
      { name: "a token with a character changed", cookie: jar.header(), csrf: flipChar(csrfTokenOf(flow)) },
      { name: "the raw cookie secret as token", cookie: jar.header(), csrf: jar.get(csrfName()) },
      { name: "no CSRF cookie", cookie: {}, csrf: csrfTokenOf(flow) },
      { name: "another browser's CSRF cookie", cookie: other.jar.header(), csrf: csrfTokenOf(flow) },
    ];
  }

  /** Alice's server, a victim browser with a `type` flow, the ways to submit it without the proof; creations spied on from here. */
  async function withoutProof(t: { after(fn: () => unknown): void }, type: FlowType) {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub, type);
    const other = await newBrowser(k.pub, type);
    const spy = spyCreations(k);
    return { k, flow, spy, attempts: attacks(jar, flow, other) };
  }

  async function assertNothingCreated(k: Kratos, spy: { calls(): Promise<number> }): Promise<void> {
    assert.equal(await spy.calls(), 0, "no sign-in or registration was even attempted");
    assert.equal(await sessionCount(k), 0, "no session was created");
    assert.deepEqual(await identityEmails(k), [ALICE.email], "no identity was created");
  }

  for (const type of ["login", "registration"] as const) {
    it(`SEC-65: a JSON ${type} submission without the proof → 403 security_csrf_violation; nothing created, no session cookie`, async (t) => {
      const { k, flow, spy, attempts } = await withoutProof(t, type);
      for (const attack of attempts) {
        const res = await updateFlow(k.pub, type, flow.id, submission(type, attack.csrf, `mallory-${type}@example.com`), attack.cookie);
        assertHerodot(res, 403, { id: "security_csrf_violation", reason: E_CSRF_REASON });
        assert.equal(hasSetCookie(res, "ory_kratos_session"), false, attack.name);
      }
      await assertNothingCreated(k, spy);
    });

    it(`SEC-65: a form ${type} submission without the proof → 303 to the error page with the CSRF reason; nothing created, no session cookie`, async (t) => {
      const { k, flow, spy, attempts } = await withoutProof(t, type);
      for (const attack of attempts) {
        const fields = submission(type, attack.csrf, `mallory-${type}@example.com`);
        const res = await postForm(k.pub, type, flow.id, flatten(fields), attack.cookie);
        assert.equal(res.statusCode, 303, `${attack.name}: ${res.statusCode} ${res.body}`);
        assert.equal(hasSetCookie(res, "ory_kratos_session"), false, attack.name);
        const error = await flowError(k.pub, res.headers.location);
        assert.equal(error.code, 403);
        assert.equal(error.id, "security_csrf_violation");
        assert.equal(error.reason, E_CSRF_REASON);
      }
      await assertNothingCreated(k, spy);
    });
  }

  it("SEC-65: a cross-site auto-submitting login form with the attacker's credentials and no token leaves the victim signed out", async (t) => {
    const k = await kratosFor(t);
    await createIdentity(k.adm, { email: "mallory@example.com" });
    // The attacker made a flow of their own; the victim's browser has a CSRF cookie of its own.
    const attacker = new Jar();
    const flow = await browserFlow(k.pub, "login", attacker);
    const victim = new Jar();
    await browserFlow(k.pub, "login", victim);
    const spy = spyCreations(k);
    const res = await postForm(k.pub, "login", flow.id, loginFields(flow, { identifier: "mallory@example.com" }), {
      origin: "https://evil.example",
      "sec-fetch-site": "cross-site",
      ...victim.header(),
    });
    assert.equal(res.statusCode, 303);
    assert.equal(hasSetCookie(res, "ory_kratos_session"), false);
    assert.equal((await flowError(k.pub, res.headers.location)).id, "security_csrf_violation");
    assert.equal(await spy.calls(), 0);
    assert.equal(await sessionCount(k), 0);
  });
});

function flipChar(token: string): string {
  const i = Math.floor(token.length / 2);
  return token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
}

function submission(type: FlowType, csrf: string | undefined, email: string): Record<string, unknown> {
  const base = type === "login" ? { method: "password", identifier: ALICE.email, password: PASSWORD } : { method: "password", traits: { email }, password: PASSWORD };
  return csrf === undefined ? base : { ...base, csrf_token: csrf };
}

/** `traits: {email}` → `traits.email`, as an HTML form posts it. */
function flatten(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== null && typeof v === "object") for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = String(v2);
    else out[k] = String(v);
  }
  return out;
}

describe("A successful browser sign-in (D2, SEC-07, SEC-12)", () => {
  it("as Kratos: JSON success → 200 {session, continue_with:[redirect_browser_to]} with no session_token; the cookie authenticates that session", async (t) => {
    const k = await kratosFor(t);
    const identity = await createIdentity(k.adm, ALICE);
    const { jar, flow } = await newBrowser(k.pub);
    const res = await updateFlow(k.pub, "login", flow.id, loginFields(flow), jar.header());
    assert.equal(res.statusCode, 200, res.body);
    assertNoStore(res);
    const body = json<{ session: SessionJson; continue_with: unknown[]; session_token?: string }>(res);
    assert.deepEqual(Object.keys(body).sort(), ["continue_with", "session"]);
    assert.equal("session_token" in body, false, "a browser never gets the token in the body");
    assert.deepEqual(body.continue_with, [{ action: "redirect_browser_to", redirect_browser_to: `${BASE}/` }]);
    assert.equal(body.session.active, true);
    assert.equal(body.session.identity?.id, identity.id);
    const token = cookieValue(setCookie(res, "ory_kratos_session"));
    assert.ok(!res.body.includes(token), "the token is only in the cookie");
    const me = await whoami(k.pub, { cookie: `ory_kratos_session=${token}` });
    assert.equal(me.statusCode, 200);
    assert.equal(json<SessionJson>(me).id, body.session.id);
  });

  it("SEC-07 / D2: the session cookie is HttpOnly; SameSite=Lax; Path=/; no Domain; no Secure on http; Max-Age = seconds until expires_at", async (t) => {
    const clock = new ManualClock();
    const k = await kratosFor(t, { clock });
    await createIdentity(k.adm, ALICE);
    const { jar, flow } = await newBrowser(k.pub);
    const res = await updateFlow(k.pub, "login", flow.id, loginFields(flow), jar.header());
    assert.equal(res.statusCode, 200, res.body);
    const line = setCookie(res, "ory_kratos_session");
    const attrs = cookieAttributes(line);
    assert.equal(attrs.get("path"), "/");
    assert.ok(attrs.has("httponly"));
    assert.equal(attrs.get("samesite"), "Lax");
    assert.equal(attrs.has("domain"), false);
    assert.equal(attrs.has("secure"), false);
    const session = json<{ session: SessionJson }>(res).session;
    const untilExpiry = (Date.parse(session.expires_at) - clock.now().getTime()) / 1000;
    assert.equal(attrs.get("max-age"), String(untilExpiry));
    assert.equal(untilExpiry, 12 * 3600, "D5: the absolute lifetime, 12 h");
    assert.match(cookieValue(line), new RegExp(`^${session.id}\\.[A-Za-z0-9_-]{43}$`), "D1: the cookie value is the id.secret token");
  });

  it("D2 / SEC-07: on an https base URL the session cookie is also Secure", async (t) => {
    const k = await withAlice(t, { "serve.public.base_url": "https://auth.example.com" });
    const { jar, flow } = await newBrowser(k.pub);
    const res = await updateFlow(k.pub, "login", flow.id, form(loginFields(flow)), { ...FORM, ...jar.header() });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, "https://auth.example.com/");
    const attrs = cookieAttributes(setCookie(res, "ory_kratos_session"));
    assert.ok(attrs.has("secure"));
    assert.equal(attrs.get("samesite"), "Lax");
    assert.ok(cookieAttributes(setCookie(res, csrfName("https://auth.example.com"))).has("secure"));
  });

  it("SEC-28: sign-in rotates the CSRF cookie; the old flow token no longer matches it", async (t) => {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub);
    const before = jar.get(csrfName());
    const res = await updateFlow(k.pub, "login", flow.id, loginFields(flow), jar.header());
    assert.equal(res.statusCode, 200, res.body);
    const line = setCookie(res, csrfName());
    const after = cookieValue(line);
    assert.match(after, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(after, before);
    assert.equal(cookieAttributes(line).get("max-age"), "31536000");
    assert.equal(csrfTokenMatches(csrfTokenOf(flow), after), false, "a token captured before sign-in is useless after it");
  });

  it("as Kratos: form success → 303 to the default return URL, or to the flow's return_to", async (t) => {
    const k = await withAlice(t, { "selfservice.allowed_return_urls": ["https://app.example.com/"] });
    for (const [query, expected] of [
      ["", `${BASE}/`],
      [`?return_to=${encodeURIComponent("https://app.example.com/after?x=1")}`, "https://app.example.com/after?x=1"],
      ["?return_to=/ui/logged-out", `${BASE}/ui/logged-out`],
    ] as const) {
      const jar = new Jar();
      const init = await k.pub.inject({ method: "GET", url: `/self-service/login/browser${query}`, headers: { accept: NAVIGATION } });
      assert.equal(init.statusCode, 303);
      jar.absorb(init);
      const id = new URL(String(init.headers.location)).searchParams.get("flow")!;
      const flow = json<FlowJson>(await k.pub.inject({ method: "GET", url: `/self-service/login/flows?id=${id}`, headers: jar.header() }));
      const res = await postForm(k.pub, "login", id, loginFields(flow), jar.header());
      assert.equal(res.statusCode, 303, res.body);
      assert.equal(res.headers.location, expected, query);
      assert.equal(res.body, "");
      assertNoStore(res);
      jar.absorb(res);
      await assertLive(k.pub, jar.get("ory_kratos_session")!);
    }
  });

  it("as Kratos: a JSON success with a return_to names it in continue_with", async (t) => {
    const k = await withAlice(t, { "selfservice.allowed_return_urls": ["https://app.example.com/"] });
    const { jar, flow } = await newBrowser(k.pub, "login", "?return_to=https://app.example.com/home");
    const res = await updateFlow(k.pub, "login", flow.id, JSON.stringify(loginFields(flow)), { ...jar.header(), "content-type": "application/json", accept: NAVIGATION });
    assert.equal(res.statusCode, 200, "Content-Type: application/json makes it a JSON request whatever Accept says");
    assert.deepEqual(json<{ continue_with: unknown }>(res).continue_with, [{ action: "redirect_browser_to", redirect_browser_to: "https://app.example.com/home" }]);
  });

  it("SEC-12: every sign-in gets a new token, even for the same person in the same browser; a planted session cookie is never promoted", async (t) => {
    const k = await withAlice(t);
    const tokens = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const jar = await signedInBrowser(k.pub, ALICE.email);
      const token = jar.get("ory_kratos_session")!;
      tokens.add(token);
      ids.add(token.split(".")[0]!);
    }
    // A re-authentication (refresh=true) in a browser that already holds a session cookie.
    const jar = await signedInBrowser(k.pub, ALICE.email);
    const first = jar.get("ory_kratos_session")!;
    const flow = await browserFlow(k.pub, "login", jar, "?refresh=true");
    const res = await updateFlow(k.pub, "login", flow.id, loginFields(flow), { ...jar.header(), cookie: `${csrfName()}=${jar.get(csrfName())}` });
    assert.equal(res.statusCode, 200, res.body);
    const second = cookieValue(setCookie(res, "ory_kratos_session"));
    tokens.add(first).add(second);
    assert.equal(tokens.size, 5, "five sign-ins, five tokens");
    assert.notEqual(second.split(".")[0], first.split(".")[0], "a new session id too");

    // A pre-login cookie an attacker planted (a made-up token) is replaced, not adopted.
    const planted = `${first.split(".")[0]}.${"A".repeat(43)}`;
    const victim = new Jar();
    victim.cookies.set("ory_kratos_session", planted);
    const vflow = await browserFlow(k.pub, "login", victim);
    const vres = await updateFlow(k.pub, "login", vflow.id, loginFields(vflow), victim.header());
    assert.equal(vres.statusCode, 200, vres.body);
    const issued = cookieValue(setCookie(vres, "ory_kratos_session"));
    assert.notEqual(issued, planted);
    await assertDead(k.pub, planted);
    await assertLive(k.pub, issued);
  });

  it("as Kratos: a browser already signed in that submits a login form → 303 onwards, no new session", async (t) => {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub);
    const signed = await signedInBrowser(k.pub, ALICE.email);
    const before = await sessionCount(k);
    // The old flow, submitted by a browser that has since signed in (its CSRF cookie rotated with the sign-in).
    const cookie = { cookie: `${csrfName()}=${jar.get(csrfName())}; ory_kratos_session=${signed.get("ory_kratos_session")}` };
    const res = await postForm(k.pub, "login", flow.id, loginFields(flow), cookie);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${BASE}/`);
    assert.equal(hasSetCookie(res, "ory_kratos_session"), false);
    assert.equal(await sessionCount(k), before);
  });

  it("as Kratos: a signed-in browser submitting a registration → JSON 400 session_already_available, form 302 onwards; no identity is even attempted", async (t) => {
    const k = await withAlice(t);
    const signed = await signedInBrowser(k.pub, ALICE.email);
    const flow = await browserFlow(k.pub, "registration", new Jar().absorbCookie(csrfName(), signed.get(csrfName())!));
    const spy = spyCreations(k);
    const api = await updateFlow(k.pub, "registration", flow.id, { method: "password", traits: { email: "bob@example.com" }, password: PASSWORD, csrf_token: csrfTokenOf(flow) }, signed.header());
    assertHerodot(api, 400, { id: "session_already_available", reason: "A valid session was detected and thus registration is not possible." });
    const browser = await postForm(k.pub, "registration", flow.id, { method: "password", "traits.email": "carol@example.com", password: PASSWORD, csrf_token: csrfTokenOf(flow) }, signed.header());
    assert.equal(browser.statusCode, 302, "Kratos answers 302 here, unlike its other 303s");
    assert.equal(browser.headers.location, `${BASE}/`);
    assert.equal(hasSetCookie(browser, "ory_kratos_session"), false);
    assert.equal(await spy.calls(), 0);
    assert.deepEqual(await identityEmails(k), [ALICE.email]);
  });

  it("as Kratos: an unknown method on a browser flow → 400 flow with message 4010002 (JSON) or 303 back to the page (form); nothing attempted", async (t) => {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub);
    const spy = spyCreations(k);
    const api = await updateFlow(k.pub, "login", flow.id, loginFields(flow, { method: "totp" }), jar.header());
    assert.equal(api.statusCode, 400);
    assert.equal(json<FlowJson>(api).ui.messages?.[0]?.id, 4010002);
    const browser = await postForm(k.pub, "login", flow.id, loginFields(flow, { method: "totp" }), jar.header());
    assert.equal(browser.statusCode, 303);
    assert.equal(browser.headers.location, `${BASE}/ui/login?flow=${flow.id}`);
    assert.equal(await spy.calls(), 0);
    assert.equal(await sessionCount(k), 0);
  });
});

describe("Browser flow validation failures", () => {
  it("as Kratos: a wrong password as JSON → 400 with the flow and message 4000006; no cookie", async (t) => {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub);
    const res = await updateFlow(k.pub, "login", flow.id, loginFields(flow, { password: "not the password" }), jar.header());
    assert.equal(res.statusCode, 400);
    assertNoStore(res);
    const body = json<FlowJson>(res);
    assert.equal(body.id, flow.id);
    assert.equal(body.type, "browser");
    assert.equal(body.ui.messages?.[0]?.id, 4000006);
    assert.equal(attr(nodeNamed(body, "identifier"), "value"), ALICE.email);
    assert.ok(nodeNamed(body, "csrf_token"), "the form can be submitted again");
    assert.ok(!res.body.includes("not the password"));
    assert.deepEqual(setCookies(res), []);
    assert.equal(await sessionCount(k), 0);
  });

  it("as Kratos: a wrong password as a form → 303 back to /ui/login?flow=<same id>, and that page then shows the message", async (t) => {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub);
    const res = await postForm(k.pub, "login", flow.id, loginFields(flow, { password: "not the password" }), jar.header());
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${BASE}/ui/login?flow=${flow.id}`);
    assert.deepEqual(setCookies(res), []);
    const page = await k.pub.inject({ method: "GET", url: `/ui/login?flow=${flow.id}`, headers: jar.header() });
    assert.equal(page.statusCode, 200);
    // The page says it plainly (the flow JSON keeps Kratos's text, which names phone numbers).
    assert.match(page.body, /The email, username or password is not right/);
    assert.match(page.body, /name="identifier"[^>]*value="alice@example\.com"/, "the identifier is kept");
    assert.ok(!page.body.includes("not the password"), "the password is never echoed");
    assert.equal(await sessionCount(k), 0);

    // A missing password: the node's message, on the page.
    const missing = await postForm(k.pub, "login", flow.id, { method: "password", identifier: ALICE.email, csrf_token: csrfTokenOf(flow) }, jar.header());
    assert.equal(missing.statusCode, 303);
    const again = await k.pub.inject({ method: "GET", url: `/ui/login?flow=${flow.id}`, headers: jar.header() });
    assert.match(again.body, /Property password is missing\./);
    assert.match(again.body, /aria-invalid="true"/);
  });

  it("as Kratos: registration via form (traits.email=…) → 303 onwards with a session cookie; the identity and session exist", async (t) => {
    const k = await kratosFor(t);
    const { jar, flow } = await newBrowser(k.pub, "registration");
    const fields = { csrf_token: csrfTokenOf(flow), "traits.email": "bob@example.com", "traits.username": "bob", password: PASSWORD, method: "password" };
    const res = await postForm(k.pub, "registration", flow.id, fields, jar.header());
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, `${BASE}/`);
    const line = setCookie(res, "ory_kratos_session");
    assert.equal(cookieAttributes(line).get("samesite"), "Lax");
    assert.notEqual(cookieValue(setCookie(res, csrfName())), jar.get(csrfName()), "the CSRF cookie is rotated");
    jar.absorb(res);
    const me = await whoami(k.pub, jar.header());
    assert.equal(me.statusCode, 200);
    assert.deepEqual(json<SessionJson>(me).identity?.traits, { email: "bob@example.com", username: "bob" });
    assert.deepEqual(await identityEmails(k), ["bob@example.com"]);
  });

  it("as Kratos: a registration form with a taken email → 303 back to the page, which shows message 4000007; no session", async (t) => {
    const k = await withAlice(t);
    const { jar, flow } = await newBrowser(k.pub, "registration");
    const res = await postForm(k.pub, "registration", flow.id, { csrf_token: csrfTokenOf(flow), "traits.email": "ALICE@example.com", password: PASSWORD, method: "password" }, jar.header());
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `${BASE}/ui/registration?flow=${flow.id}`);
    assert.deepEqual(setCookies(res), []);
    const page = await k.pub.inject({ method: "GET", url: `/ui/registration?flow=${flow.id}`, headers: jar.header() });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /An account with the same identifier \(email, phone, username, \.\.\.\) exists already\./);
    assert.match(page.body, /value="ALICE@example\.com"/, "what was typed is kept");
    assert.equal(await sessionCount(k), 0);
    assert.deepEqual(await identityEmails(k), [ALICE.email]);
  });

  it("as Kratos: a JSON registration with an invalid email → 400 flow with the message on traits.email; no identity", async (t) => {
    const k = await kratosFor(t);
    const { jar, flow } = await newBrowser(k.pub, "registration");
    const res = await updateFlow(k.pub, "registration", flow.id, { method: "password", traits: { email: "not an email" }, password: PASSWORD, csrf_token: csrfTokenOf(flow) }, jar.header());
    assert.equal(res.statusCode, 400, res.body);
    const body = json<FlowJson>(res);
    assert.equal(body.type, "browser");
    assert.ok(nodeNamed(body, "traits.email").messages.length > 0);
    assert.deepEqual(setCookies(res), []);
    assert.deepEqual(await identityEmails(k), []);
  });
});
