/**
 * The built-in pages as a person meets them, in Chromium (docs/adr/0027-pages-for-people.md):
 * axe-core finds no serious or critical accessibility violation on any page; the sessions list
 * names browsers, systems and doors as people do, with relative times that never wrap at 1280 px;
 * and changing a password on its page signs every other device out before the page says so.
 * Screenshots of each page are kept for a person to look at (their paths printed as diagnostics).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import AxeBuilder from "@axe-core/playwright";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type Curfew, PASSWORD, launchChromium, navigation, person, sessionCookie, signIn, signUp, startCurfew, whoamiWithCookie } from "./support.ts";

const SHOTS = process.env.BROWSER_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), "curfew-pages-"));
const NEW_PASSWORD = "a new passphrase typed in Chromium 3";

let browser: Browser;
let contexts: BrowserContext[] = [];
let curfew: Curfew;

async function device(userAgent?: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US", ...(userAgent ? { userAgent } : {}) });
  contexts.push(context);
  return { context, page: await context.newPage() };
}

/** No serious or critical axe-core violation on the page as it is now; a screenshot of it. */
async function accessible(t: { diagnostic(message: string): void }, page: Page, name: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(bad, [], `${name}: accessibility violations`);
  const shot = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);
}

before(async () => {
  browser = await launchChromium();
  curfew = await startCurfew();
});
afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
});
after(async () => {
  await curfew?.close();
  await browser?.close();
});

describe("the built-in pages, for people", () => {
  it("every page: no serious or critical accessibility violation (axe-core)", async (t) => {
    const { base } = curfew;
    const { page } = await device();
    await page.goto(`${base}/`);
    await accessible(t, page, "home-signed-out");
    await page.goto(`${base}/self-service/registration/browser`);
    await page.waitForURL(`${base}/ui/registration?flow=*`);
    await accessible(t, page, "registration");
    assert.equal(await page.getByLabel("Username (optional)").count(), 1);
    assert.equal(await page.getByLabel("New password").getAttribute("minlength"), "8");
    await page.getByText("At least 8 characters.").waitFor();
    await page.goto(`${base}/self-service/login/browser`);
    await page.waitForURL(`${base}/ui/login?flow=*`);
    await accessible(t, page, "login");
    await page.getByLabel("Email or username").fill("nobody@example.com");
    await page.getByLabel("Password").fill("not the password");
    await navigation(page, () => page.getByRole("button", { name: "Sign in with password" }).click());
    const refused = (await page.locator("main").textContent()) ?? "";
    assert.match(refused, /not right/);
    assert.doesNotMatch(refused, /phone/i);
    await accessible(t, page, "login-refused");
    await page.goto(`${base}/ui/error?id=00000000-0000-4000-8000-000000000000`);
    await accessible(t, page, "error");
    await page.goto(`${base}/ui/logged-out`);
    await accessible(t, page, "logged-out");

    const who = person();
    await signUp(page, base, who);
    await accessible(t, page, "home-sessions");
    await page.goto(`${base}/self-service/settings/browser`);
    await page.waitForURL(`${base}/ui/settings?flow=*`);
    await accessible(t, page, "change-password");
  });

  it("the sessions list: browser on system, programs as API clients, doors by name, times relative, one line each at 1280 px", async (t) => {
    const { base } = curfew;
    const who = person();
    const mac = await device("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
    await signUp(mac.page, base, who);
    // A script signs in too, through the Kratos API with curl's user agent.
    const flow = (await (await fetch(`${base}/self-service/login/api`)).json()) as { id: string };
    const api = await fetch(`${base}/self-service/login?flow=${flow.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "curl/8.1.2" },
      body: JSON.stringify({ method: "password", identifier: who.email, password: PASSWORD }),
    });
    assert.equal(api.status, 200);
    await mac.page.reload();
    const rows = mac.page.locator("main table tbody tr");
    assert.equal(await rows.count(), 2);
    const text = (await mac.page.locator("main table").textContent()) ?? "";
    assert.match(text, /Chrome on macOS/);
    assert.match(text, /API client \(curl 8\.1\)/);
    assert.match(text, /This website/);
    assert.match(text, /App or script \(API\)/);
    assert.match(text, /this minute|minute ago|minutes ago/);
    for (const el of await mac.page.locator("main table time").all()) {
      assert.match((await el.getAttribute("datetime")) ?? "", /^\d{4}-\d{2}-\d{2}T/);
      assert.match((await el.getAttribute("title")) ?? "", /UTC/);
      const lines = await el.evaluate((node) => node.getClientRects().length);
      assert.equal(lines, 1, `a time wraps: ${await el.textContent()}`);
    }
    const shot = join(SHOTS, "sessions-1280.png");
    await mac.page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);
  });

  it("SEC-102: changing the password on its page signs every other device out before the page says so", async (t) => {
    const { base } = curfew;
    const who = person();
    const first = await device();
    await signUp(first.page, base, who);
    const second = await device();
    await signIn(second.page, base, who.email);
    const secondCookie = await sessionCookie(second.context, base);
    assert.ok(secondCookie);

    await navigation(first.page, () => first.page.getByRole("link", { name: "Change password" }).click());
    await first.page.waitForURL(`${base}/ui/settings?flow=*`);
    await first.page.getByText("Changing it signs you out everywhere else").waitFor();
    await first.page.getByLabel("New password").fill(NEW_PASSWORD);
    await navigation(first.page, () => first.page.getByRole("button", { name: "Save" }).click());
    await first.page.getByText("Your password has been changed.").waitFor();
    await first.page.getByText("Every other session of your account has been signed out").waitFor();
    await accessible(t, first.page, "password-changed");

    assert.equal(await whoamiWithCookie(base, secondCookie), 401, "the other device was signed out");
    await second.page.reload();
    await second.page.getByText("You are not signed in.").waitFor();
    const firstCookie = await sessionCookie(first.context, base);
    assert.equal(await whoamiWithCookie(base, firstCookie!), 200, "this device stays signed in");

    const third = await device();
    await signIn(third.page, base, who.email, NEW_PASSWORD);
    assert.equal(third.page.url(), `${base}/`);
  });
});
