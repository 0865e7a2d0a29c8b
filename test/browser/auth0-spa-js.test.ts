/**
 * auth0-spa-js 2, unmodified, as the judge of the Auth0 door in a real browser: a single-page app
 * on another origin of the same site, its Auth0 "domain" pointed at Curfew (`http://localhost:<port>`,
 * which the library takes as is; the issuer it then expects is `<domain>/`, Curfew's issuer).
 *
 * What it proves: `loginWithRedirect` reaches the built-in sign-in page through `/authorize` and
 * comes back with a code the library exchanges (PKCE, nonce, ID token checks of its own);
 * `getTokenSilently` refreshes through `/oauth/token` across origins (a preflight for the
 * `Auth0-Client` header, then a readable answer), also from the library's Web Worker; `logout`
 * through `/v2/logout` ends the Curfew session and its tokens; a session ended on Curfew's own
 * pages leaves the app an `invalid_grant` it can read; and a `returnTo` Curfew refuses ends nothing.
 *
 * Most tests use refresh tokens (`useRefreshTokens`, the library's iframe fallback off, its v2
 * default); one uses the library's default without them, silent sign-in in a hidden frame
 * (`prompt=none`, `response_mode=web_message`).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  type Curfew,
  PASSWORD,
  type StaticSite,
  launchChromium,
  person,
  serveStatic,
  sessionCookie,
  startCurfew,
  whoamiWithCookie,
} from "./support.ts";

const CLIENT_ID = "spa";

/** The library as an app ships it: the UMD build from the package, byte for byte. */
const AUTH0_SPA_JS = readFileSync(createRequire(import.meta.url).resolve("@auth0/auth0-spa-js/dist/auth0-spa-js.production.js"), "utf8");

const APP_FILES = {
  "/": {
    type: "text/html",
    body: '<!doctype html><html lang="en"><meta charset="utf-8"><title>An app</title><h1>An app</h1><script src="/auth0-spa-js.js"></script><script src="/app.js"></script></html>',
  },
  "/auth0-spa-js.js": { type: "text/javascript", body: AUTH0_SPA_JS },
  "/app.js": { type: "text/javascript", body: readFileSync(fileURLToPath(new URL("./auth0-spa-app.js", import.meta.url)), "utf8") },
};

/** The ID token claims the tests read (`getIdTokenClaims()`). */
interface Claims {
  iss: string;
  sub: string;
  aud: string;
  sid: string;
  nonce: string;
  email?: string;
  __raw: string;
}

interface SignedIn {
  isAuthenticated: boolean;
  user: { sub: string; email?: string } | null;
  claims: Claims | null;
}

/** What the page script answers when the library threw. */
interface Failure {
  failed: true;
  name?: string;
  error?: string;
  error_description?: string;
  message: string;
}

/** One `/oauth/token` exchange as the browser made it (from the page or the library's worker). */
interface TokenExchange {
  requestHeaders: Record<string, string>;
  form: URLSearchParams;
  status: number;
  body: { access_token?: string; refresh_token?: string; id_token?: string; error?: string };
  /** The CORS header the page needed to read the answer at all. */
  allowOrigin: string | null;
}

type CacheLocation = "memory" | "localstorage";

let browser: Browser;
let contexts: BrowserContext[] = [];
let site: StaticSite;
let curfew: Curfew;
/** The app's one page: its redirect URI, its Allowed Logout URL. */
let pageUrl: string;

before(async () => {
  // Throws, with how to install Chromium, when there is none (D18: fail, never skip).
  browser = await launchChromium();
  site = await serveStatic(APP_FILES);
  pageUrl = `${site.origin}/`;
  curfew = await startCurfew({
    "oidc.clients": [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "none",
        redirect_uris: [pageUrl],
        web_origins: [site.origin],
        allowed_logout_urls: [pageUrl],
      },
    ],
  });
});

afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
});

after(async () => {
  await browser?.close();
  await curfew?.close();
  await site?.close();
});

/** A fresh device (its own cookie jar and storage), recording every token exchange it makes. */
async function device(): Promise<{ context: BrowserContext; page: Page; exchanges: Promise<TokenExchange>[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const exchanges: Promise<TokenExchange>[] = [];
  // On the context, so the library's Web Worker (memory cache) is seen as well as the page.
  context.on("response", (response) => {
    const request = response.request();
    if (request.method() !== "POST" || response.url() !== `${curfew.base}/oauth/token`) return;
    // Everything is asked for at once: the body is gone once the page navigates away.
    const exchange = Promise.all([request.allHeaders(), response.json() as Promise<TokenExchange["body"]>, response.allHeaders()]).then(
      ([requestHeaders, body, responseHeaders]): TokenExchange => ({
        requestHeaders,
        form: new URLSearchParams(request.postData() ?? ""),
        status: response.status(),
        body,
        allowOrigin: responseHeaders["access-control-allow-origin"] ?? null,
      }),
    );
    // Awaited by the test, later; until then a failure is not an unhandled rejection.
    exchange.catch(() => {});
    exchanges.push(exchange);
  });
  return { context, page: await context.newPage(), exchanges };
}

/** An identity that signs in with PASSWORD, made the way an operator would (the core, not a page). */
async function identity(): Promise<{ id: string; email: string }> {
  const who = person();
  const created = await curfew.t.server.core.identities.create({ traits: { email: who.email, username: who.username }, password: PASSWORD }, "test");
  return { id: created.id, email: who.email };
}

/** Calls `window.app[name](...args)` in the page (see auth0-spa-app.js). */
function app<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([n, a]) => (globalThis as unknown as { app: Record<string, (...x: unknown[]) => Promise<T>> }).app[n as string]!(...(a as unknown[])), [name, args] as const);
}

/** The app starting up on the page that has just loaded: a new Auth0Client, as its docs configure it. */
async function startApp(page: Page, cacheLocation: CacheLocation, useRefreshTokens = true): Promise<void> {
  await page.waitForFunction("typeof window.app === 'object'");
  await app(page, "start", {
    domain: curfew.base,
    clientId: CLIENT_ID,
    authorizationParams: { redirect_uri: pageUrl },
    useRefreshTokens,
    cacheLocation,
  });
}

/** The app's page with an authorization response in its query. */
function isCallback(url: URL): boolean {
  return `${url.origin}${url.pathname}` === pageUrl && url.searchParams.has("code") && url.searchParams.has("state");
}

/** Back on the page with `?code&state`: the app starts again and lets the library finish. */
async function finishRedirect(page: Page, cacheLocation: CacheLocation, useRefreshTokens = true): Promise<SignedIn> {
  await startApp(page, cacheLocation, useRefreshTokens);
  const done = await app<SignedIn | Failure>(page, "handleRedirectCallback");
  assert.ok(!("failed" in done), `handleRedirectCallback threw: ${JSON.stringify(done)}`);
  return done;
}

/** From the app's page, `loginWithRedirect`, the built-in sign-in page, and back through the callback. */
async function signInWithRedirect(page: Page, cacheLocation: CacheLocation, email: string, useRefreshTokens = true): Promise<SignedIn> {
  await page.goto(pageUrl);
  await startApp(page, cacheLocation, useRefreshTokens);
  await Promise.all([page.waitForURL(`${curfew.base}/ui/login?flow=*`), app(page, "loginWithRedirect")]);
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await Promise.all([page.waitForURL(isCallback), page.getByRole("button", { name: "Sign in with password" }).click()]);
  return finishRedirect(page, cacheLocation, useRefreshTokens);
}

/** A refresh as any other client of the app would send it, outside the browser. */
async function refreshFromNode(refreshToken: string): Promise<{ status: number; body: { error?: string; access_token?: string } }> {
  const res = await fetch(`${curfew.base}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "refresh_token", client_id: CLIENT_ID, refresh_token: refreshToken }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; access_token?: string } };
}

async function userinfoFromNode(accessToken: string): Promise<number> {
  const res = await fetch(`${curfew.base}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

/** The last token exchange that issued a refresh token: the one the library now holds. */
async function latestRefreshToken(exchanges: Promise<TokenExchange>[]): Promise<string> {
  const all = await Promise.all(exchanges);
  const token = all.filter((e) => e.body.refresh_token).at(-1)?.body.refresh_token;
  assert.ok(token, "a token exchange issued a refresh token");
  return token;
}

describe("auth0-spa-js 2 in Chromium, its domain pointed at Curfew", () => {
  it("auth0-spa-js: loginWithRedirect signs in through the built-in pages and handleRedirectCallback gets an ID token with iss and sid", async () => {
    const who = await identity();
    const { context, page, exchanges } = await device();
    const signedIn = await signInWithRedirect(page, "localstorage", who.email);

    assert.equal(signedIn.isAuthenticated, true);
    assert.equal(signedIn.user?.sub, who.id);
    assert.equal(signedIn.user?.email, who.email, "the default scope asks for email");
    const claims = signedIn.claims!;
    // The library has already checked these against what it expects; the test says what they are.
    assert.equal(claims.iss, `${curfew.base}/`);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.sub, who.id);
    assert.match(claims.sid, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(claims.nonce, "the library's nonce came back");

    // The code exchange: a public client (client_id, no secret), PKCE, read across origins.
    const [exchange, ...more] = await Promise.all(exchanges);
    assert.equal(more.length, 0);
    assert.equal(exchange!.status, 200);
    assert.equal(exchange!.form.get("grant_type"), "authorization_code");
    assert.equal(exchange!.form.get("client_id"), CLIENT_ID);
    assert.equal(exchange!.form.get("client_secret"), null);
    assert.ok(exchange!.form.get("code_verifier"));
    assert.equal(exchange!.allowOrigin, site.origin);
    assert.ok(exchange!.body.refresh_token, "offline_access (useRefreshTokens) gives a refresh token");

    // Signed in on Curfew too: the sign-in page set the session cookie of Curfew's origin.
    const cookie = await sessionCookie(context, curfew.base);
    assert.ok(cookie);
    assert.equal(await whoamiWithCookie(curfew.base, cookie), 200);
  });

  for (const cacheLocation of ["localstorage", "memory"] as const) {
    it(`auth0-spa-js: getTokenSilently({ cacheMode: 'off' }) refreshes through /oauth/token with CORS and the Auth0-Client header (cacheLocation ${cacheLocation}), and the new access token works at /userinfo`, async () => {
      const who = await identity();
      const { page, exchanges } = await device();
      await signInWithRedirect(page, cacheLocation, who.email);
      const first = (await Promise.all(exchanges))[0]!;

      const got = await app<{ token: string } | Failure>(page, "getTokenSilently", { cacheMode: "off" });
      assert.ok(!("failed" in got), `getTokenSilently threw: ${JSON.stringify(got)}`);
      assert.notEqual(got.token, first.body.access_token, "a new access token, not the cached one");

      // The refresh as the browser sent it (from the page, or from the library's worker with the
      // memory cache): the telemetry header that makes it a preflighted request, and an answer the
      // page was allowed to read.
      const all = await Promise.all(exchanges);
      assert.equal(all.length, 2);
      const refresh = all[1]!;
      assert.equal(refresh.form.get("grant_type"), "refresh_token");
      assert.equal(refresh.form.get("refresh_token"), first.body.refresh_token);
      assert.ok(refresh.requestHeaders["auth0-client"], "auth0-spa-js sends its Auth0-Client header");
      assert.equal(refresh.status, 200);
      assert.equal(refresh.allowOrigin, site.origin);
      assert.equal(refresh.body.access_token, got.token);
      assert.ok(refresh.body.refresh_token && refresh.body.refresh_token !== first.body.refresh_token, "the refresh token is rotated");

      // The new access token, used as an app's page uses it: a bearer token across origins.
      const info = await app<{ status: number; body: { sub: string; email?: string } } | Failure>(page, "userinfo", curfew.base, got.token);
      assert.ok(!("failed" in info), `fetch /userinfo threw: ${JSON.stringify(info)}`);
      assert.equal(info.status, 200);
      assert.equal(info.body.sub, who.id);
      assert.equal(info.body.email, who.email);
    });
  }

  it("auth0-spa-js without refresh tokens: getTokenSilently signs in again in a hidden frame (response_mode=web_message), and after a logout gets login_required", async () => {
    const who = await identity();
    const { context, page, exchanges } = await device();
    const silentRequests: URL[] = [];
    context.on("request", (r) => {
      if (r.url().startsWith(`${curfew.base}/authorize?`)) silentRequests.push(new URL(r.url()));
    });
    await signInWithRedirect(page, "memory", who.email, false);
    // A reload forgets the memory cache: the library has only the frame to get a token with.
    await page.goto(pageUrl);
    await startApp(page, "memory", false);
    const got = await app<{ token: string } | Failure>(page, "getTokenSilently");
    assert.ok(!("failed" in got), `getTokenSilently threw: ${JSON.stringify(got)}`);
    const silent = silentRequests.at(-1)!;
    assert.equal(silent.searchParams.get("response_mode"), "web_message");
    assert.equal(silent.searchParams.get("prompt"), "none");
    const all = await Promise.all(exchanges);
    assert.equal(all.length, 2, "the sign-in's exchange and the silent one");
    assert.equal(all[1]!.form.get("grant_type"), "authorization_code");
    assert.equal(all[1]!.status, 200);
    assert.equal(all[1]!.body.refresh_token, undefined, "no offline_access asked for, none given");
    assert.equal(await userinfoFromNode(got.token), 200);

    // Signed out at Curfew: the frame now answers login_required, which the library hands on.
    await page.goto(`${curfew.base}/v2/logout?client_id=${CLIENT_ID}&returnTo=${encodeURIComponent(pageUrl)}`);
    await page.waitForURL(pageUrl);
    await startApp(page, "memory", false);
    const refused = await app<{ token: string } | Failure>(page, "getTokenSilently", { cacheMode: "off" });
    assert.ok("failed" in refused, JSON.stringify(refused));
    assert.equal(refused.error, "login_required");
  });

  it("auth0-spa-js: logout goes through /v2/logout, ends the Curfew session and its tokens, and lands back on the page", async () => {
    const who = await identity();
    const { context, page, exchanges } = await device();
    await signInWithRedirect(page, "localstorage", who.email);
    const got = await app<{ token: string } | Failure>(page, "getTokenSilently", { cacheMode: "off" });
    assert.ok(!("failed" in got), JSON.stringify(got));
    const refreshToken = await latestRefreshToken(exchanges);
    const cookie = await sessionCookie(context, curfew.base);
    assert.ok(cookie);

    const [logout] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && r.url().startsWith(`${curfew.base}/v2/logout?`)),
      page.waitForURL(pageUrl),
      app(page, "logout", { logoutParams: { returnTo: pageUrl } }),
    ]);

    // The way there: Auth0's logout URL, with the app and the returnTo it asked for, and
    // Curfew's redirect back to it.
    const logoutUrl = new URL(logout.url());
    assert.equal(logoutUrl.searchParams.get("client_id"), CLIENT_ID);
    assert.equal(logoutUrl.searchParams.get("returnTo"), pageUrl);
    assert.equal(logout.status(), 302);
    assert.equal(await logout.headerValue("location"), pageUrl);

    // The session is revoked, not only forgotten by the browser; its tokens went with it.
    assert.equal(await sessionCookie(context, curfew.base), null);
    assert.equal(await whoamiWithCookie(curfew.base, cookie), 401);
    const refused = await refreshFromNode(refreshToken);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, "invalid_grant");
    assert.equal(await userinfoFromNode(got.token), 401);

    // The app knows it too, and signing in again shows the sign-in page: no session to reuse.
    await startApp(page, "localstorage");
    assert.equal((await app<SignedIn>(page, "signedIn")).isAuthenticated, false);
    await Promise.all([page.waitForURL(`${curfew.base}/ui/login?flow=*`), app(page, "loginWithRedirect")]);
  });

  it("auth0-spa-js: after signing out on Curfew's own page, getTokenSilently rejects with an invalid_grant the page can read", async () => {
    const who = await identity();
    const { context, page, exchanges } = await device();
    await signInWithRedirect(page, "localstorage", who.email);

    // Another door ends the session: the built-in home page's Sign out button (the Kratos door).
    await page.goto(`${curfew.base}/`);
    await Promise.all([page.waitForURL(`${curfew.base}/ui/logged-out`), page.getByRole("button", { name: "Sign out" }).click()]);
    assert.equal(await sessionCookie(context, curfew.base), null);

    // The app still has its cached tokens; the refresh it now makes is refused, and the refusal is
    // readable across origins (a CORS-less 400 would reach the library as a network failure).
    await page.goto(pageUrl);
    await startApp(page, "localstorage");
    assert.equal((await app<SignedIn>(page, "signedIn")).isAuthenticated, true);
    const got = await app<{ token: string } | Failure>(page, "getTokenSilently", { cacheMode: "off" });
    assert.ok("failed" in got, `getTokenSilently answered a token: ${JSON.stringify(got)}`);
    assert.equal(got.error, "invalid_grant", JSON.stringify(got));
    const refresh = (await Promise.all(exchanges)).at(-1)!;
    assert.equal(refresh.form.get("grant_type"), "refresh_token");
    assert.equal(refresh.status, 400);
    assert.equal(refresh.allowOrigin, site.origin);
  });

  it("auth0-spa-js: logout with a returnTo Curfew does not allow ends on its 400 page, and the session stays alive", async () => {
    const who = await identity();
    const { context, page, exchanges } = await device();
    const before = await signInWithRedirect(page, "localstorage", who.email);
    const refreshToken = await latestRefreshToken(exchanges);
    const cookie = await sessionCookie(context, curfew.base);
    assert.ok(cookie);
    // Were the browser ever sent there, it would arrive (and we would see it), not fail on DNS.
    let evilReached = false;
    await context.route("http://evil.example/**", (route) => {
      evilReached = true;
      return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>evil</h1>" });
    });

    const isLogout = (url: URL) => `${url.origin}${url.pathname}` === `${curfew.base}/v2/logout`;
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && isLogout(new URL(r.url()))),
      page.waitForURL(isLogout),
      app(page, "logout", { logoutParams: { returnTo: "http://evil.example/" } }),
    ]);
    assert.equal(answer.status(), 400);
    assert.equal(new URL(page.url()).searchParams.get("client_id"), CLIENT_ID);
    assert.equal(new URL(page.url()).searchParams.get("returnTo"), "http://evil.example/");
    await page.getByRole("heading", { name: "This request cannot be completed" }).waitFor();
    assert.match((await page.locator(".messages").textContent()) ?? "", /invalid_request: The "returnTo" querystring parameter "http:\/\/evil\.example\/" is not defined/);
    assert.equal(evilReached, false);

    // Nothing changed on Curfew: the cookie, the session and its refresh token are alive.
    assert.equal(await sessionCookie(context, curfew.base), cookie);
    assert.equal(await whoamiWithCookie(curfew.base, cookie), 200);
    assert.equal((await refreshFromNode(refreshToken)).status, 200);

    // The library forgot its tokens before it left, but single sign-on still holds: a new
    // loginWithRedirect comes straight back with a code, no sign-in page, for the same session.
    const visited: string[] = [];
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) visited.push(f.url());
    });
    await page.goto(pageUrl);
    await startApp(page, "localstorage");
    assert.equal((await app<SignedIn>(page, "signedIn")).isAuthenticated, false);
    await Promise.all([page.waitForURL(isCallback), app(page, "loginWithRedirect")]);
    const again = await finishRedirect(page, "localstorage");
    assert.equal(again.isAuthenticated, true);
    assert.equal(again.claims?.sub, who.id);
    assert.equal(again.claims?.sid, before.claims?.sid, "the same Curfew session");
    assert.ok(!visited.some((u) => u.startsWith(`${curfew.base}/ui/login`)), `visited: ${visited.join(", ")}`);
  });
});
