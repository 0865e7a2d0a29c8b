/**
 * The browser half of the Kratos door through Ory's own SDK (`@ory/client-fetch`), unchanged,
 * over real sockets, used the way a server-side app (Next.js, Express) uses it: the app receives
 * the browser's Cookie header, hands it to the SDK's `cookie` parameter, and relays every
 * Set-Cookie back to the browser. Here each `Browser` is that pair (a cookie jar and the app's
 * SDK client whose `fetchApi` relays Set-Cookie into the jar).
 *
 * The public base URL is a real, reachable `http://localhost:<port>`, so every URL the server
 * generates (`logout_url`, redirects) can be called as given. Each test names the rule it proves
 * (the K-nn checklist of docs/dialects/kratos.md, and the security rules INV-2, SEC-12, D12).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Configuration,
  FrontendApi,
  type LoginFlow,
  type RegistrationFlow,
  type Session,
} from "@ory/client-fetch";
import { rejectsWith as rejectsWithBody } from "../support/ory-sdk.ts";
import { type TestServer, startCurfew } from "../support/server.ts";

const PASSWORD = "correct horse battery staple 42";
const SESSION_COOKIE = "ory_kratos_session";
/** What a browser sends when it navigates to a page. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const ALLOWED_RETURN = "https://app.example.com/";

let server: TestServer;
/** The reachable public base URL, also configured as `serve.public.base_url`. */
let base: string;
let serial = 0;

before(async () => {
  ({ t: server, base } = await startCurfew({ "selfservice.allowed_return_urls": [ALLOWED_RETURN] }));
});

after(async () => {
  await server?.close();
});

/**
 * One browser and the server-side app serving it. `api` is configured as Ory's UIs configure
 * the SDK (`Accept: application/json`, as in ory/elements `packages/elements-react/src/util/client.ts`); `bareApi` is the SDK's default
 * configuration (`Accept: *\/*`). Both relay Set-Cookie into this browser's jar.
 */
class Browser {
  readonly jar = new Map<string, string>();
  readonly api: FrontendApi;
  readonly bareApi: FrontendApi;

  constructor() {
    const fetchApi = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      this.absorb(response);
      return response;
    };
    this.api = new FrontendApi(new Configuration({ basePath: base, headers: { Accept: "application/json" }, fetchApi }));
    this.bareApi = new FrontendApi(new Configuration({ basePath: base, fetchApi }));
  }

  /** Stores or deletes cookies as a browser would (name=value; an empty value or Max-Age=0 deletes). */
  absorb(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (value === "" || expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /** The Cookie header the browser sends, or undefined with an empty jar (the SDK then sends none). */
  get cookie(): string | undefined {
    if (this.jar.size === 0) return undefined;
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  get sessionToken(): string | undefined {
    return this.jar.get(SESSION_COOKIE);
  }

  get csrfCookie(): string | undefined {
    for (const [name, value] of this.jar) if (name.startsWith("csrf_token_")) return value;
    return undefined;
  }
}

/** A fresh person for each test, so no test depends on another's sessions. */
function person(): { email: string; username: string } {
  serial += 1;
  return { email: `browser${serial}@example.com`, username: `browser_${serial}` };
}

/** The masked CSRF token of a browser flow's `csrf_token` node. */
function csrfTokenOf(flow: LoginFlow | RegistrationFlow): string {
  for (const node of flow.ui.nodes) {
    const attributes = node.attributes;
    if (attributes.node_type === "input" && attributes.name === "csrf_token" && typeof attributes.value === "string") {
      return attributes.value;
    }
  }
  assert.fail("a browser flow carries a csrf_token node");
}

/** Browser registration as a server-side app runs it; the browser ends up signed in. */
async function registerIn(browser: Browser, traits: { email: string; username: string }) {
  // createBrowserRegistrationFlow has no `cookie` parameter in the SDK: a fresh browser.
  const flow = await browser.api.createBrowserRegistrationFlow();
  const result = await browser.api.updateRegistrationFlow({
    flow: flow.id,
    cookie: browser.cookie,
    updateRegistrationFlowBody: { method: "password", traits, password: PASSWORD, csrf_token: csrfTokenOf(flow) },
  });
  assert.ok(browser.sessionToken, "registration set the session cookie");
  return result;
}

/** Browser sign-in as a server-side app runs it: create, read (as the UI page does), submit. */
async function signInIn(browser: Browser, identifier: string) {
  const created = await browser.api.createBrowserLoginFlow({ cookie: browser.cookie });
  const flow = await browser.api.getLoginFlow({ id: created.id, cookie: browser.cookie });
  const result = await browser.api.updateLoginFlow({
    flow: flow.id,
    cookie: browser.cookie,
    updateLoginFlowBody: { method: "password", identifier, password: PASSWORD, csrf_token: csrfTokenOf(flow) },
  });
  assert.ok(browser.sessionToken, "sign-in set the session cookie");
  return result;
}

/** The SDK's ResponseError with this status; its body is the herodot envelope. */
const rejectsWith = (status: number, call: Promise<unknown>) => rejectsWithBody<{ error: Record<string, unknown> }>(status, call);

/** A live session behind this Cookie header, as the SDK sees it. */
async function assertLive(cookie: string | undefined): Promise<Session> {
  const session = await new Browser().api.toSession({ cookie });
  assert.equal(session.active, true);
  return session;
}

/** INV-2 in the SDK's terms: whoami with this Cookie header throws a ResponseError with status 401. */
async function assertRefused(cookie: string | undefined): Promise<void> {
  await rejectsWith(401, new Browser().api.toSession({ cookie }));
}

/** The Cookie header carrying just this session token (a snapshot that outlives the jar). */
function cookieFor(token: string): string {
  return `${SESSION_COOKIE}=${token}`;
}

describe("Kratos browser flows through @ory/client-fetch, as a server-side app drives them", () => {
  it("as Kratos: browser registration sets the CSRF cookie, then the session cookie; toSession works with the cookie", async () => {
    const laptop = new Browser();
    const traits = person();

    // The *Raw variant shows what the app must relay: the CSRF cookie.
    const created = await laptop.api.createBrowserRegistrationFlowRaw({});
    assert.equal(created.raw.status, 200);
    assert.ok(created.raw.headers.getSetCookie().some((c) => c.startsWith("csrf_token_")), "the flow sets the CSRF cookie");
    const flow = await created.value();
    assert.equal(flow.type, "browser");
    assert.equal(flow.ui.action, `${base}/self-service/registration?flow=${flow.id}`, "URLs are built from serve.public.base_url");
    const csrfBefore = laptop.csrfCookie;
    assert.ok(csrfBefore);
    assert.equal(laptop.sessionToken, undefined);

    const submitted = await laptop.api.updateRegistrationFlowRaw({
      flow: flow.id,
      cookie: laptop.cookie,
      updateRegistrationFlowBody: { method: "password", traits, password: PASSWORD, csrf_token: csrfTokenOf(flow) },
    });
    const names = submitted.raw.headers.getSetCookie().map((c) => c.slice(0, c.indexOf("=")));
    assert.deepEqual([...names].sort(), [...new Set(names)].sort(), "each cookie is set once");
    const result = await submitted.value();
    assert.deepEqual(result.identity.traits, traits);
    assert.ok(result.session, "a browser registration signs the new identity in");
    assert.equal(result.session_token, undefined, "a browser flow never hands the token to the page");
    assert.ok(laptop.sessionToken, "the session cookie arrived");
    assert.notEqual(laptop.csrfCookie, csrfBefore, "a new principal gets a new CSRF secret");

    const session = await laptop.api.toSession({ cookie: laptop.cookie });
    assert.equal(session.id, result.session.id);
    assert.equal(session.identity?.id, result.identity.id);
  });

  it("SEC-12: browser sign-in on a second device issues a new session cookie, never the first one's", async () => {
    const laptop = new Browser();
    const phone = new Browser();
    const traits = person();
    const registered = await registerIn(laptop, traits);

    const created = await phone.api.createBrowserLoginFlow({ cookie: phone.cookie });
    assert.equal(created.type, "browser");
    assert.ok(phone.csrfCookie, "the login flow set the CSRF cookie");
    const flow = await phone.api.getLoginFlow({ id: created.id, cookie: phone.cookie });
    assert.equal(flow.id, created.id);
    assert.equal(csrfTokenOf(flow).length > 0, true);

    const result = await phone.api.updateLoginFlow({
      flow: flow.id,
      cookie: phone.cookie,
      updateLoginFlowBody: { method: "password", identifier: traits.email, password: PASSWORD, csrf_token: csrfTokenOf(flow) },
    });
    assert.equal(result.session.identity?.id, registered.identity.id);
    assert.equal(result.session_token, undefined);
    assert.ok(phone.sessionToken);
    assert.notEqual(phone.sessionToken, laptop.sessionToken, "each sign-in mints its own token (SEC-12)");
    assert.notEqual(result.session.id, registered.session?.id);

    const onPhone = await phone.api.toSession({ cookie: phone.cookie });
    assert.equal(onPhone.id, result.session.id);
    const onLaptop = await laptop.api.toSession({ cookie: laptop.cookie });
    assert.equal(onLaptop.id, registered.session?.id, "the first device keeps its own session");
  });

  it("SEC-12, SEC-05: a planted session cookie is not adopted; sign-in replaces it with a new one", async () => {
    const traits = person();
    await registerIn(new Browser(), traits);
    const victim = new Browser();
    const planted = "ory_st_plantedByAnAttacker0123456789abcd";
    victim.jar.set(SESSION_COOKIE, planted);

    await signInIn(victim, traits.username);
    assert.ok(victim.sessionToken);
    assert.notEqual(victim.sessionToken, planted);
    await assertLive(victim.cookie);
    await assertRefused(cookieFor(planted));
  });

  it("D12, SEC-65: a browser submission whose csrf_token does not match the CSRF cookie is refused (403) and signs nobody in", async () => {
    const laptop = new Browser();
    const traits = person();
    await registerIn(laptop, traits);
    const attacker = new Browser();
    const attackersFlow = await attacker.api.createBrowserLoginFlow({ cookie: attacker.cookie });

    // Sign-in: the victim's browser submits a token minted for the attacker's cookie.
    const victim = new Browser();
    const flow = await victim.api.createBrowserLoginFlow({ cookie: victim.cookie });
    const body = await rejectsWith(
      403,
      victim.api.updateLoginFlow({
        flow: flow.id,
        cookie: victim.cookie,
        updateLoginFlowBody: { method: "password", identifier: traits.email, password: PASSWORD, csrf_token: csrfTokenOf(attackersFlow) },
      }),
    );
    assert.equal(body.error.id, "security_csrf_violation");
    assert.equal(victim.sessionToken, undefined, "no session cookie");
    assert.deepEqual(await laptop.api.listMySessions({ cookie: laptop.cookie }), [], "no session was created");

    // Registration: refused the same way, and no identity is created.
    const newcomer = person();
    const registration = await victim.api.createBrowserRegistrationFlow();
    const refused = await rejectsWith(
      403,
      victim.api.updateRegistrationFlow({
        flow: registration.id,
        cookie: victim.cookie,
        updateRegistrationFlowBody: { method: "password", traits: newcomer, password: PASSWORD, csrf_token: csrfTokenOf(attackersFlow) },
      }),
    );
    assert.equal(refused.error.id, "security_csrf_violation");
    assert.equal(victim.sessionToken, undefined);
    await registerIn(new Browser(), newcomer); // the email is still free
  });

  it("as Kratos: createBrowserLoginFlow with a live session cookie answers 400 session_already_available", async () => {
    const laptop = new Browser();
    await registerIn(laptop, person());
    const body = await rejectsWith(400, laptop.api.createBrowserLoginFlow({ cookie: laptop.cookie }));
    assert.equal(body.error.id, "session_already_available");
  });

  it("D12, INV-2: listMySessions shows the other device; disableMySession with the cookie ends it", async () => {
    const laptop = new Browser();
    const phone = new Browser();
    const traits = person();
    await registerIn(laptop, traits);
    const phoneLogin = await signInIn(phone, traits.username);

    const listed = await laptop.api.listMySessions({ cookie: laptop.cookie });
    assert.deepEqual(listed.map((s) => s.id), [phoneLogin.session.id], "the other device, not the current one");

    // A server-side call sends no Origin and no Sec-Fetch-Site, so D12's same-site check passes.
    await laptop.api.disableMySession({ id: phoneLogin.session.id, cookie: laptop.cookie });

    await assertRefused(phone.cookie);
    await assertLive(laptop.cookie);
    assert.deepEqual(await laptop.api.listMySessions({ cookie: laptop.cookie }), []);
  });

  it("K-5 / K-7, INV-2: createBrowserLogoutFlow then updateLogoutFlow (204 for JSON) ends the session; the old cookie is refused", async () => {
    const laptop = new Browser();
    const phone = new Browser();
    const traits = person();
    await registerIn(laptop, traits);
    await signInIn(phone, traits.email);
    const oldCookie = laptop.cookie;
    const csrfBefore = laptop.csrfCookie;

    const flow = await laptop.api.createBrowserLogoutFlow({ cookie: laptop.cookie });
    assert.match(flow.logout_token, /\S/);
    assert.equal(flow.logout_url, `${base}/self-service/logout?token=${encodeURIComponent(flow.logout_token)}`);
    const again = await laptop.api.createBrowserLogoutFlow({ cookie: laptop.cookie });
    assert.equal(again.logout_token, flow.logout_token, "creating the logout flow changes nothing");
    await assertLive(oldCookie);

    const done = await laptop.api.updateLogoutFlowRaw({ token: flow.logout_token, cookie: laptop.cookie });
    assert.equal(done.raw.status, 204, "Accept: application/json gets 204, not a redirect (K-7)");
    assert.equal(laptop.sessionToken, undefined, "the session cookie was cleared");
    assert.ok(laptop.csrfCookie && laptop.csrfCookie !== csrfBefore, "the CSRF secret was renewed (K-7)");

    await assertRefused(oldCookie);
    await rejectsWith(401, laptop.api.listMySessions({ cookie: oldCookie }));
    await assertLive(phone.cookie); // a logout ends one session, not the person's others
  });

  it("as Kratos: a replayed updateLogoutFlow after logout answers 401 session_inactive, never a second success", async () => {
    const laptop = new Browser();
    await registerIn(laptop, person());
    const oldCookie = laptop.cookie;
    const { logout_token: token } = await laptop.api.createBrowserLogoutFlow({ cookie: oldCookie });
    await laptop.api.updateLogoutFlow({ token, cookie: oldCookie });

    // The replay a back button or a double click makes: the old cookie and the same token.
    const body = await rejectsWith(401, laptop.api.updateLogoutFlow({ token, cookie: oldCookie }));
    assert.equal(body.error.id, "session_inactive");
    await assertRefused(oldCookie);
  });

  it("K-10: a logout token from another session is refused and ends nothing", async () => {
    const alice = new Browser();
    const bob = new Browser();
    await registerIn(alice, person());
    await registerIn(bob, person());
    const bobCookie = bob.cookie;
    const { logout_token: alicesToken } = await alice.api.createBrowserLogoutFlow({ cookie: alice.cookie });

    const body = await rejectsWith(403, bob.api.updateLogoutFlow({ token: alicesToken, cookie: bob.cookie }));
    assert.equal(
      body.error.reason,
      "Unable to log out because the logout token in the URL query does not match the session cookie.",
    );
    assert.equal(bob.cookie, bobCookie, "no cookie was cleared or changed");
    await assertLive(alice.cookie);
    await assertLive(bob.cookie);

    // Alice's own token still works for Alice: the refusal spent nothing.
    await alice.api.updateLogoutFlow({ token: alicesToken, cookie: alice.cookie });
    await assertLive(bob.cookie);
  });

  it("K-15: createBrowserLogoutFlow with a foreign return_to answers 400 self_service_flow_return_to_forbidden and ends nothing", async () => {
    const laptop = new Browser();
    await registerIn(laptop, person());
    const body = await rejectsWith(400, laptop.api.createBrowserLogoutFlow({ cookie: laptop.cookie, returnTo: "https://evil.example/" }));
    assert.equal(body.error.id, "self_service_flow_return_to_forbidden");
    assert.equal(body.error.reason, 'Requested return_to URL "https://evil.example/" is not allowed.');
    await assertLive(laptop.cookie);
  });

  it("K-14: an allowed return_to rides in logout_url; following it answers 303 to exactly that URL and ends the session", async () => {
    const laptop = new Browser();
    await registerIn(laptop, person());
    const oldCookie = laptop.cookie;
    const returnTo = `${ALLOWED_RETURN}signed-out?from=curfew`;

    const flow = await laptop.api.createBrowserLogoutFlow({ cookie: oldCookie, returnTo });
    const url = new URL(flow.logout_url);
    assert.equal(`${url.origin}${url.pathname}`, `${base}/self-service/logout`);
    assert.equal(url.searchParams.get("return_to"), returnTo);
    assert.equal(url.searchParams.get("token"), flow.logout_token);

    // The browser follows the link itself: a navigation, not the SDK.
    const response = await fetch(flow.logout_url, { redirect: "manual", headers: { accept: BROWSER_ACCEPT, cookie: oldCookie ?? "" } });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), returnTo);
    laptop.absorb(response);
    assert.equal(laptop.sessionToken, undefined, "the session cookie was cleared");
    await assertRefused(oldCookie);
  });

  it("as Kratos: with the SDK's default Accept: */*, updateLogoutFlow gets a 303 that fetch follows; the void method resolves and the session IS ended", async () => {
    const laptop = new Browser();
    await registerIn(laptop, person());
    const oldCookie = laptop.cookie;
    // createBrowserLogoutFlow answers JSON whatever Accept says (nothing to redirect to).
    const { logout_token: token } = await laptop.bareApi.createBrowserLogoutFlow({ cookie: oldCookie });

    const done = await laptop.bareApi.updateLogoutFlowRaw({ token, cookie: oldCookie });
    // Accept: */* negotiates as a browser, as in Kratos: 303 to the signed-out page, followed by fetch.
    assert.equal(done.raw.redirected, true);
    assert.equal(done.raw.url, `${base}/ui/logged-out`);
    assert.equal(done.raw.status, 200);
    assert.match(done.raw.headers.get("content-type") ?? "", /^text\/html/);
    // fetch kept the 303's Set-Cookie to itself, so the app cannot relay the clearing; the
    // session is ended on the server all the same, which is what counts (INV-2).
    await assertRefused(oldCookie);

    // The trap of the default configuration: a replay is forwarded (303) to the error page,
    // fetch follows, and the void method resolves too. Only the final URL tells them apart.
    const replay = await laptop.bareApi.updateLogoutFlowRaw({ token, cookie: oldCookie });
    const landed = new URL(replay.raw.url);
    assert.equal(`${landed.origin}${landed.pathname}`, `${base}/ui/error`);
    const flowError = await laptop.api.getFlowError({ id: landed.searchParams.get("id") ?? "" });
    assert.equal((flowError.error as { id?: string }).id, "session_inactive");
  });

  it("as Kratos: createBrowserLoginFlow with Accept: */* is redirected (303) to the login page, so the SDK fails to parse JSON — Kratos's behaviour, kept on purpose", async () => {
    const phone = new Browser();
    // The wire: Accept: */* negotiates as a browser, which is sent to the login page (303, not 302).
    const hop = await fetch(`${base}/self-service/login/browser`, { redirect: "manual", headers: { accept: "*/*" } });
    assert.equal(hop.status, 303);
    assert.match(hop.headers.get("location") ?? "", new RegExp(`^${base}/ui/login\\?flow=[0-9a-f-]{36}$`));

    // Through the SDK: fetch follows to the HTML page, and the typed method's JSON parse throws.
    // Kratos does exactly this; Ory's own UIs configure the fetch SDK with `Accept: application/json`.
    await assert.rejects(phone.bareApi.createBrowserLoginFlow({ cookie: phone.cookie }), (error: unknown) => {
      assert.ok(error instanceof SyntaxError, `expected a JSON SyntaxError, got ${String(error)}`);
      return true;
    });

    // The same call configured as Ory's UIs configure it gets the flow.
    const flow = await phone.api.createBrowserLoginFlow({ cookie: phone.cookie });
    assert.equal(flow.type, "browser");
  });

  it("as Kratos: a client that keeps no cookies lands on a page, not in a redirect loop", async () => {
    // fetch keeps no cookies, like a browser with cookies blocked: the login page can never see
    // the CSRF cookie the flow was bound to. It must stop there rather than restart the flow for ever.
    const response = await fetch(`${base}/self-service/login/browser`, { headers: { accept: BROWSER_ACCEPT } });
    assert.equal(response.status, 200);
    assert.match(response.url, new RegExp(`^${base}/ui/login\\?flow=`));
    assert.match(await response.text(), /cookies/i);
  });
});
