/**
 * A person with a real browser and only the built-in pages (D16): sign up, see themselves and
 * their sessions, sign in on a second device, end that device's session, end all other
 * sessions, sign out — and the cookie they had is dead, also after the page has settled and
 * the browser has made its own side requests (such as `/favicon.ico` after the logout, which
 * must not bring a cookie back).
 * Then the edges a browser sees: a wrong password, a keyboard without a mouse, a refused
 * `return_to`, and a single-page app on another origin of the same site using the JSON flows
 * with CORS (`createBrowserLogoutFlow`, then `updateLogoutFlow`).
 *
 * Each test gets fresh browser contexts (a context is a device: its own cookie jar).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  type Curfew,
  PASSWORD,
  SESSION_COOKIE,
  type StaticSite,
  launchChromium,
  navigation,
  person,
  serveStatic,
  sessionCookie,
  signIn,
  signUp,
  startCurfew,
  whoamiWithCookie,
} from "./support.ts";

/** Screenshots for a person to look at; kept after the run, their paths printed as diagnostics. */
const SHOTS = process.env.BROWSER_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), "curfew-browser-"));

let browser: Browser;
let contexts: BrowserContext[] = [];

async function device(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  contexts.push(context);
  return { context, page: await context.newPage() };
}

before(async () => {
  // Throws, with how to install Chromium, when there is none (D18: fail, never skip).
  browser = await launchChromium();
});

afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
});

after(async () => {
  await browser?.close();
});

/** The rows of the sessions table on the home page. */
function sessionRows(page: Page) {
  return page.locator("main table tbody tr");
}

describe("the built-in pages in Chromium", () => {
  let curfew: Curfew;

  before(async () => {
    curfew = await startCurfew();
  });
  after(async () => {
    await curfew?.close();
  });

  it("signs up, sees themselves and their session, then a second device, and ends that device's session", async (t) => {
    const { base } = curfew;
    const who = person();
    const first = await device();
    await signUp(first.page, base, who);

    // Landed on the home page, signed in, one session: this device.
    assert.equal(first.page.url(), `${base}/`);
    await first.page.getByText(`Signed in as ${who.email} (${who.username})`).waitFor();
    assert.equal(await sessionRows(first.page).count(), 1);
    assert.match((await sessionRows(first.page).first().textContent()) ?? "", /\(this device\)/);
    assert.equal(await first.page.getByRole("button", { name: "End all other sessions" }).count(), 0);
    const firstCookie = await sessionCookie(first.context, base);
    assert.ok(firstCookie, "the first device holds a session cookie");

    // A second device signs in; the first sees two sessions.
    const second = await device();
    await signIn(second.page, base, who.email);
    assert.equal(second.page.url(), `${base}/`);
    const secondCookie = await sessionCookie(second.context, base);
    assert.ok(secondCookie && secondCookie !== firstCookie, "the second device has a session of its own");
    assert.equal(await whoamiWithCookie(base, secondCookie), 200);

    await first.page.reload();
    assert.equal(await sessionRows(first.page).count(), 2);
    assert.match((await sessionRows(first.page).first().textContent()) ?? "", /\(this device\)/);
    assert.doesNotMatch((await sessionRows(first.page).nth(1).textContent()) ?? "", /\(this device\)/);
    const shot = join(SHOTS, "home-two-sessions.png");
    await first.page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // "End" on the other row ends the second device's session, and only that one.
    await navigation(first.page, () => sessionRows(first.page).nth(1).getByRole("button", { name: "End" }).click());
    assert.equal(first.page.url(), `${base}/`);
    assert.equal(await sessionRows(first.page).count(), 1);
    assert.equal((await second.context.request.get(`${base}/sessions/whoami`, { headers: { accept: "application/json" } })).status(), 401);
    assert.equal(await whoamiWithCookie(base, secondCookie), 401);
    assert.equal(await whoamiWithCookie(base, firstCookie), 200);

    // The second device, reloading, is signed out.
    await second.page.goto(`${base}/`);
    await second.page.getByText("You are not signed in.").waitFor();
  });

  it("ends all other sessions with one button", async () => {
    const { base } = curfew;
    const who = person();
    const first = await device();
    await signUp(first.page, base, who);
    const others = [await device(), await device()];
    const otherCookies: string[] = [];
    for (const other of others) {
      await signIn(other.page, base, who.username);
      otherCookies.push((await sessionCookie(other.context, base)) ?? "");
    }
    await first.page.reload();
    assert.equal(await sessionRows(first.page).count(), 3);

    await navigation(first.page, () => first.page.getByRole("button", { name: "End all other sessions" }).click());
    assert.equal(first.page.url(), `${base}/`);
    assert.equal(await sessionRows(first.page).count(), 1);
    assert.match((await sessionRows(first.page).first().textContent()) ?? "", /\(this device\)/);
    for (const [i, other] of others.entries()) {
      assert.equal((await other.context.request.get(`${base}/sessions/whoami`, { headers: { accept: "application/json" } })).status(), 401);
      assert.equal(await whoamiWithCookie(base, otherCookies[i]!), 401);
    }
    assert.equal(await whoamiWithCookie(base, (await sessionCookie(first.context, base))!), 200);
  });

  it("signs out with the Sign out button; the old cookie is dead, also after the page has settled", async () => {
    const { base } = curfew;
    const who = person();
    const { context, page } = await device();
    await signUp(page, base, who);
    const cookie = await sessionCookie(context, base);
    assert.ok(cookie);

    await Promise.all([page.waitForURL(`${base}/ui/logged-out`), page.getByRole("button", { name: "Sign out" }).click()]);
    await page.getByRole("heading", { name: "You are signed out" }).waitFor();

    // A fresh request carrying the saved cookie value: the session is revoked, not just forgotten.
    assert.equal(await whoamiWithCookie(base, cookie), 401);

    // Let the browser finish whatever it does on its own (favicon and the like), then make the
    // side requests ourselves: none of them may bring the cookie back.
    await page.waitForLoadState("networkidle");
    // Through the context, so whatever it answers lands in the same cookie jar (a navigation
    // to a 204 is aborted by Chromium, and the page's CSP allows no fetch).
    const favicon = await context.request.get(`${base}/favicon.ico`);
    assert.ok(favicon.status() < 400);
    await page.goto(`${base}/`);
    await page.getByText("You are not signed in.").waitFor();
    await page.waitForLoadState("networkidle");
    const jar = await context.cookies();
    assert.deepEqual(
      jar.filter((c) => c.name === SESSION_COOKIE),
      [],
      "no ory_kratos_session left in the cookie jar",
    );
    assert.equal((await context.request.get(`${base}/sessions/whoami`, { headers: { accept: "application/json" } })).status(), 401);
    assert.equal(await whoamiWithCookie(base, cookie), 401);

    // Sending the old cookie back by hand does not sign the browser in either.
    await context.addCookies([{ name: SESSION_COOKIE, value: cookie, url: base }]);
    await page.goto(`${base}/`);
    await page.getByText("You are not signed in.").waitFor();
  });

  it("shows the error on the sign-in page after a wrong password, and signs nobody in", async (t) => {
    const { base } = curfew;
    const who = person();
    const setup = await device();
    await signUp(setup.page, base, who);

    const { context, page } = await device();
    await signIn(page, base, who.email, "not the password at all");
    assert.match(page.url(), new RegExp(`^${base}/ui/login\\?flow=`));
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? "", /The email, username or password is not right/);
    // The identifier is kept, the password is not.
    assert.equal(await page.getByLabel("Email or username").inputValue(), who.email);
    assert.equal(await page.getByLabel("Password").inputValue(), "");
    assert.equal(await sessionCookie(context, base), null);
    const shot = join(SHOTS, "sign-in-error.png");
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // The same form, now with the right password, signs in.
    await page.getByLabel("Password").fill(PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Sign in with password" }).click()]);
    await page.getByText(`Signed in as ${who.email}`).waitFor();
  });

  it("signs in and out with the keyboard alone", async () => {
    const { base } = curfew;
    const who = person();
    const setup = await device();
    await signUp(setup.page, base, who);

    const { context, page } = await device();
    await page.goto(`${base}/self-service/login/browser`);
    await page.waitForURL(`${base}/ui/login?flow=*`);
    // What has the keyboard focus: "tag:name" for a field, "tag:text" for a link or button.
    const focused = () =>
      page.evaluate<string>(`(() => {
        const el = document.activeElement;
        if (!el) return "";
        return el.tagName.toLowerCase() + ":" + (el.getAttribute("name") && el.tagName !== "BUTTON" ? el.getAttribute("name") : el.textContent.trim());
      })()`);
    // Tab through the page from the top until the identifier field has focus.
    const order: string[] = [];
    for (let i = 0; i < 10 && !order.includes("input:identifier"); i++) {
      await page.keyboard.press("Tab");
      order.push(await focused());
    }
    assert.deepEqual(order, ["a:Curfew", "input:identifier"], "the brand link, then the first field");
    await page.keyboard.type(who.username);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "input:password");
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press("Enter")]);
    await page.getByText(`Signed in as ${who.email}`).waitFor();
    assert.ok(await sessionCookie(context, base));

    // Sign out by keyboard too: Tab to the Sign out button, press Enter.
    for (let i = 0; i < 30 && (await focused()) !== "button:Sign out"; i++) await page.keyboard.press("Tab");
    assert.equal(await focused(), "button:Sign out");
    await Promise.all([page.waitForURL(`${base}/ui/logged-out`), page.keyboard.press("Enter")]);
    assert.equal(await sessionCookie(context, base), null);
  });

  it("shows the error page for a refused return_to and never leaves the server's origin", async () => {
    const { base } = curfew;
    const { context, page } = await device();
    const requested: string[] = [];
    const navigated: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    page.on("framenavigated", (f) => navigated.push(f.url()));
    // Were the browser ever sent there, it would arrive (and we would see it), not fail on DNS.
    let evilReached = false;
    await context.route("https://evil.example/**", (route) => {
      evilReached = true;
      return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>evil</h1>" });
    });

    await page.goto(`${base}/self-service/login/browser?return_to=${encodeURIComponent("https://evil.example/")}`);
    await page.waitForLoadState("networkidle");
    assert.match(page.url(), new RegExp(`^${base}/ui/error\\?id=`));
    await page.getByRole("heading", { name: "Something went wrong" }).waitFor();
    assert.match((await page.locator(".messages").textContent()) ?? "", /return_to URL "https:\/\/evil\.example\/" is not allowed/);

    // Also when signed in: the return_to is refused before anything else.
    const who = person();
    await signUp(page, base, who);
    await page.goto(`${base}/self-service/login/browser?return_to=${encodeURIComponent("https://evil.example/")}`);
    await page.waitForLoadState("networkidle");
    assert.match(page.url(), new RegExp(`^${base}/ui/error\\?id=`));

    assert.equal(evilReached, false);
    const origin = new URL(base).origin;
    for (const url of [...requested, ...navigated]) {
      assert.equal(new URL(url).origin, origin, `the browser went to ${url}`);
    }
  });
});

describe("a single-page app on another origin of the same site", () => {
  /** The app's page and its script: no inline script, so any CSP the app had would allow it. */
  const APP_FILES = {
    "/": { type: "text/html", body: '<!doctype html><html lang="en"><meta charset="utf-8"><title>An app</title><h1>An app</h1><script src="/app.js"></script></html>' },
    "/app.js": { type: "text/javascript", body: readFileSync(fileURLToPath(new URL("./spa-app.js", import.meta.url)), "utf8") },
  };
  let app: StaticSite;
  let stranger: StaticSite;
  let curfew: Curfew;

  before(async () => {
    app = await serveStatic(APP_FILES);
    stranger = await serveStatic(APP_FILES);
    curfew = await startCurfew({ "serve.public.cors.allowed_origins": [app.origin] });
  });
  after(async () => {
    await curfew?.close();
    await app?.close();
    await stranger?.close();
  });

  /** Calls `window.spa[name](...args)` in the page (see spa-app.js). */
  function spa<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
    return page.evaluate(([n, a]) => (globalThis as unknown as { spa: Record<string, (...x: unknown[]) => Promise<T>> }).spa[n as string]!(...(a as unknown[])), [name, args] as const);
  }

  it("signs in, reads whoami and logs out with fetch and CORS; an unlisted origin gets nothing", async () => {
    const { base } = curfew;
    const who = person();
    const setup = await device();
    await signUp(setup.page, base, who);

    const { context, page } = await device();
    await page.goto(`${app.origin}/`);
    await page.waitForFunction("typeof window.spa === 'object'");

    // What an SPA does with Ory's browser flows (whoami, the login flow, the logout flow), from the page.
    assert.equal((await spa<{ status: number }>(page, "whoami", base)).status, 401);
    const signedIn = await spa<{ status: number; body: { session: { id: string; identity: { traits: { email: string } } } } }>(page, "signIn", base, who.email, PASSWORD);
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.equal(signedIn.body.session.identity.traits.email, who.email);
    const whoami = await spa<{ status: number; body: { id: string; identity: { traits: { email: string } } } }>(page, "whoami", base);
    assert.equal(whoami.status, 200);
    assert.equal(whoami.body.identity.traits.email, who.email);
    assert.equal(whoami.body.id, signedIn.body.session.id);
    const cookie = await sessionCookie(context, base);
    assert.ok(cookie, "the session cookie is Curfew's, set through the CORS response");

    // A page on an origin that is not listed, in the same browser with the same cookie: the
    // browser refuses it the response (no CORS headers for it), with or without credentials.
    const strangerPage = await context.newPage();
    await strangerPage.goto(`${stranger.origin}/`);
    await strangerPage.waitForFunction("typeof window.spa === 'object'");
    assert.deepEqual(
      [await spa<string>(strangerPage, "probe", base, { credentials: "include" }), await spa<string>(strangerPage, "probe", base, {})],
      ["refused: TypeError", "refused: TypeError"],
    );
    const strangerLogout = await spa<{ status?: number }>(strangerPage, "logOut", base).catch((error: Error) => error);
    assert.ok(strangerLogout instanceof Error && /Failed to fetch/.test(strangerLogout.message), "an unlisted origin cannot even start a logout");
    assert.equal(await whoamiWithCookie(base, cookie), 200);
    const direct = await fetch(`${base}/sessions/whoami`, { headers: { origin: stranger.origin, accept: "application/json" } });
    await direct.arrayBuffer();
    assert.equal(direct.headers.get("access-control-allow-origin"), null);
    const preflight = await fetch(`${base}/self-service/login`, {
      method: "OPTIONS",
      headers: { origin: stranger.origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    await preflight.arrayBuffer();
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);

    // Logout from the app: createBrowserLogoutFlow, then updateLogoutFlow as JSON (204).
    const loggedOut = await spa<{ flowStatus: number; flow: { logout_token: string; logout_url: string }; status: number; body: string }>(page, "logOut", base);
    assert.equal(loggedOut.flowStatus, 200);
    assert.match(loggedOut.flow.logout_token, /^ory_lo_/);
    assert.equal(loggedOut.flow.logout_url, `${base}/self-service/logout?token=${loggedOut.flow.logout_token}`);
    assert.equal(loggedOut.status, 204);
    assert.equal(loggedOut.body, "");
    assert.equal((await spa<{ status: number }>(page, "whoami", base)).status, 401);

    await page.waitForLoadState("networkidle");
    assert.equal(await sessionCookie(context, base), null);
    assert.equal(await whoamiWithCookie(base, cookie), 401);
  });
});
