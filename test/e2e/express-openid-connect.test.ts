/**
 * express-openid-connect (Auth0's Express SDK), unchanged, in the README's example app
 * (examples/sso-app.ts), as the judge of single sign-on and of
 * one logout reaching every app: two apps share the provider session; signing out of one
 * (`idpLogout`, through `end_session_endpoint`) ends the provider session and, by back-channel
 * logout, the other app's session too (INV-4).
 */
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { startSsoApp } from "../../examples/sso-app.ts";
import { freePort } from "../support/ports.ts";
import { APP_SECRET, Browser, type Hop, type Provider, startProvider } from "../support/oidc.ts";

let op: Provider;
const apps: Server[] = [];
let A = "";
let B = "";

before(async () => {
  const [pa, pb] = [await freePort(), await freePort()];
  A = `http://localhost:${pa}`;
  B = `http://localhost:${pb}`;
  const registered = (name: string, origin: string) => ({
    client_id: name,
    client_secret: APP_SECRET,
    redirect_uris: [`${origin}/callback`],
    post_logout_redirect_uris: [origin],
    allowed_logout_urls: [origin],
    backchannel_logout_uri: `${origin}/backchannel-logout`,
    backchannel_logout_session_required: true,
  });
  op = await startProvider([registered("app-a", A), registered("app-b", B)]);
  // The README's example app, as an operator runs it (examples/sso-app.ts).
  for (const [clientId, port] of [["app-a", pa], ["app-b", pb]] as const) {
    apps.push(await startSsoApp({ issuer: op.issuer, clientId, clientSecret: APP_SECRET, port }));
  }
});
after(async () => {
  for (const s of apps) await new Promise((r) => s.close(r));
  await op.close();
});

/** Follows every redirect, whatever its origin, as a browser does; answers the last hop. */
async function follow(browser: Browser, url: string, first?: Hop): Promise<{ hop: Hop; url: string }> {
  let hop = first ?? (await browser.request(url));
  for (let i = 0; i < 15 && hop.location !== null && hop.status >= 300 && hop.status < 400; i++) {
    url = new URL(hop.location, url).href;
    hop = await browser.request(url);
  }
  return { hop, url };
}

async function me(browser: Browser, origin: string): Promise<{ signedIn: boolean; email: string | null }> {
  const hop = await browser.request(`${origin}/me`);
  assert.equal(hop.status, 200, hop.body);
  return JSON.parse(hop.body) as { signedIn: boolean; email: string | null };
}

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("express-openid-connect against the provider", () => {
  it("INV-4: signed in to two apps with one sign-in; out of one is out of both", async () => {
    const person = await op.person("two.apps@example.com");
    const browser = new Browser(op.base);
    // App A: its /login sends the browser to /authorize, the person signs in, A's callback exchanges the code.
    const left = await browser.signInThrough(`${A}/login`, person.email);
    const inA = await follow(browser, op.base, left);
    assert.equal(inA.hop.status, 200, inA.hop.body.slice(0, 300));
    assert.deepEqual(await me(browser, A), { signedIn: true, email: person.email });
    // App B: single sign-on, no second sign-in.
    const inB = await follow(browser, `${B}/login`);
    assert.equal(inB.hop.status, 200, inB.hop.body.slice(0, 300));
    assert.deepEqual(await me(browser, B), { signedIn: true, email: person.email });

    // Out of A: express-openid-connect sends the browser to end_session_endpoint with its ID token.
    const out = await follow(browser, `${A}/logout`);
    assert.equal(new URL(out.url).origin, A, `back at app A: ${out.url}`);
    assert.equal((await me(browser, A)).signedIn, false);
    // B hears it by back-channel: its session ends without the browser visiting it.
    await until(async () => !(await me(browser, B)).signedIn, "app B to be told");
    // And the provider session is gone: B's login now needs a sign-in.
    const again = await browser.request(`${B}/login`);
    const authorize = await browser.request(again.location!);
    assert.match(authorize.location ?? "", /\/self-service\/login\/browser\?/);
  });
});
