/**
 * Front-Channel Logout 1.0 in Chromium: after `/v2/logout`, the page Curfew answers really loads
 * each participating app's `frontchannel_logout_uri` in a frame (its CSP `frame-src` lets it), with
 * `iss` and `sid`, and then really goes on to `returnTo`: by its script once the frames have
 * loaded, and by its meta refresh when scripts are off.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Request } from "playwright-core";
import { type Curfew, PASSWORD, type StaticSite, launchChromium, person, serveStatic, sessionCookie, startCurfew, whoamiWithCookie } from "./support.ts";
import { APP_SECRET } from "../support/oidc.ts";

const PAGE = { type: "text/html", body: '<!doctype html><html lang="en"><meta charset="utf-8"><title>An app</title><h1>An app</h1></html>' };

let browser: Browser;
let site: StaticSite;
let curfew: Curfew;

before(async () => {
  browser = await launchChromium();
  site = await serveStatic({ "/cb": PAGE, "/bye": PAGE, "/front-channel": PAGE });
  curfew = await startCurfew({
    "oidc.clients": [
      {
        client_id: "fc-app",
        client_secret: APP_SECRET,
        redirect_uris: [`${site.origin}/cb`],
        allowed_logout_urls: [`${site.origin}/bye`],
        frontchannel_logout_uri: `${site.origin}/front-channel`,
        frontchannel_logout_session_required: true,
      },
    ],
  });
});

after(async () => {
  await browser?.close();
  await curfew?.close();
  await site?.close();
});

/** Signs a new person in for the app (the app becomes a participant) and returns the session's id. */
async function signedInForTheApp(context: BrowserContext): Promise<string> {
  const who = person();
  await curfew.t.server.core.identities.create({ traits: { email: who.email, username: who.username }, password: PASSWORD }, "test");
  const page = await context.newPage();
  const query = new URLSearchParams({ client_id: "fc-app", redirect_uri: `${site.origin}/cb`, response_type: "code", scope: "openid" });
  await page.goto(`${curfew.base}/authorize?${query}`);
  await page.waitForURL(`${curfew.base}/ui/login?flow=*`);
  await page.getByLabel("Email or username").fill(who.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${site.origin}/cb?*`), page.getByRole("button", { name: "Sign in with password" }).click()]);
  await page.close();
  const auth = await curfew.t.server.core.sessions.findLive((await sessionCookie(context, curfew.base))!, { recordActivity: false });
  assert.ok(auth);
  return auth.session.id;
}

for (const javaScriptEnabled of [true, false]) {
  describe(`Front-Channel Logout in Chromium (scripts ${javaScriptEnabled ? "on" : "off"})`, () => {
    it(`SEC-97: /v2/logout frames the app's front-channel URI with iss and sid, then lands on returnTo${javaScriptEnabled ? "" : " by the meta refresh"}`, async () => {
      const context = await browser.newContext({ javaScriptEnabled });
      try {
        const sessionId = await signedInForTheApp(context);
        const cookie = (await sessionCookie(context, curfew.base))!;
        const page = await context.newPage();
        const notices: Request[] = [];
        page.on("request", (r) => {
          if (r.url().startsWith(`${site.origin}/front-channel`)) notices.push(r);
        });
        // A script or frame the page's CSP refused would say so here (and then only the meta refresh would go on).
        const refused: string[] = [];
        page.on("console", (m) => {
          if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
        });
        const returnTo = `${site.origin}/bye`;
        await page.goto(`${curfew.base}/v2/logout?client_id=fc-app&returnTo=${encodeURIComponent(returnTo)}`);
        await page.waitForURL(returnTo);
        assert.equal(notices.length, 1, "the app's front-channel URI was loaded once");
        const notice = new URL(notices[0]!.url());
        assert.equal(notice.searchParams.get("iss"), `${curfew.base}/`);
        assert.equal(notice.searchParams.get("sid"), curfew.t.server.core.grants.sidOf(sessionId));
        assert.notEqual(notices[0]!.frame(), page.mainFrame(), "in a frame, not as the page itself");
        assert.equal(await whoamiWithCookie(curfew.base, cookie), 401, "the session had ended before the page was shown");
        assert.deepEqual(refused, [], "the page's CSP allowed its own script and the app's frame");
      } finally {
        await context.close();
      }
    });
  });
}
