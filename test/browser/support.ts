/**
 * The real-browser tier (`npm run test:browser`, D18): Debian's Chromium driven by
 * playwright-core (no browser download), against a real Curfew on real sockets.
 *
 * Chromium is found through `CHROMIUM_PATH` or `command -v chromium`. When it is missing the
 * tests fail, with the command that installs it: a browser tier that silently skips proves
 * nothing (D18).
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { type Server, createServer } from "node:http";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { COOKIE_NAMES } from "../../src/http/cookies.ts";
import { freePort } from "../support/ports.ts";
import { type Curfew, startCurfew } from "../support/server.ts";

export const PASSWORD = "correct horse battery staple 42";
export const SESSION_COOKIE = COOKIE_NAMES.kratosSession;

const INSTALL_HINT =
  "Install Debian's Chromium: `sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium`, " +
  "or point CHROMIUM_PATH at a Chromium binary.";

/** The Chromium binary to drive; throws, saying how to install it, when there is none. */
export function chromiumPath(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    try {
      accessSync(given, constants.X_OK);
    } catch {
      throw new Error(`CHROMIUM_PATH is ${JSON.stringify(given)}, which is not an executable file. ${INSTALL_HINT}`);
    }
    return given;
  }
  let found = "";
  try {
    found = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    // `command -v` exits non-zero when there is no such command.
  }
  if (!found) throw new Error(`Chromium was not found (no CHROMIUM_PATH, and \`command -v chromium\` found nothing). ${INSTALL_HINT}`);
  return found;
}

/** Headless Chromium with its background traffic (updates, sync, first-run) off, plus no QUIC: nothing but our sockets. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] });
}

export { type Curfew, startCurfew };

export interface StaticSite {
  origin: string;
  close(): Promise<void>;
}

/** What a static site serves at one path. */
export interface StaticFile {
  type: string;
  body: string;
}

/**
 * A second origin on localhost (same site, another port), as a single-page app's host would be:
 * serves `files` by path and 404 for anything else. It sets no cookies.
 */
export async function serveStatic(files: Record<string, StaticFile>): Promise<StaticSite> {
  const port = await freePort();
  const server: Server = createServer((request, response) => {
    const file = files[(request.url ?? "/").split("?", 1)[0]!];
    if (!file) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    response.writeHead(200, { "content-type": `${file.type}; charset=utf-8`, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Registers through the built-in page, starting where a link would: the browser flow. */
export async function signUp(page: Page, base: string, who: { email: string; username?: string }, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/self-service/registration/browser`);
  await page.waitForURL(`${base}/ui/registration?flow=*`);
  await page.getByLabel("Email", { exact: true }).fill(who.email);
  if (who.username) await page.getByLabel("Username").fill(who.username);
  await page.getByLabel("Password").fill(password);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole("button", { name: "Sign up" }).click()]);
}

/** Signs in through the built-in sign-in page; resolves when the page after it has loaded. */
export async function signIn(page: Page, base: string, identifier: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/self-service/login/browser`);
  await page.waitForURL(`${base}/ui/login?flow=*`);
  await page.getByLabel("Email or username").fill(identifier);
  await page.getByLabel("Password").fill(password);
  await navigation(page, () => page.getByRole("button", { name: "Sign in with password" }).click());
}

/**
 * Runs `act` and resolves once the main frame has committed a new document and loaded it, even
 * when that document has the URL the page already had (a form that redirects back to `/`, where
 * `waitForURL` would resolve at once).
 */
export async function navigation(page: Page, act: () => Promise<unknown>): Promise<void> {
  const committed = page.waitForEvent("framenavigated", { predicate: (frame) => frame === page.mainFrame() });
  await Promise.all([committed, act()]);
  await page.waitForLoadState("load");
}

/** The session cookie's value in a context's jar, or null. */
export async function sessionCookie(context: BrowserContext, base: string): Promise<string | null> {
  const cookies = await context.cookies(base);
  return cookies.find((c) => c.name === SESSION_COOKIE)?.value ?? null;
}

/** `GET /sessions/whoami` with nothing but this cookie value: a fresh request, outside the browser. */
export async function whoamiWithCookie(base: string, cookieValue: string): Promise<number> {
  const res = await fetch(`${base}/sessions/whoami`, {
    headers: { cookie: `${SESSION_COOKIE}=${cookieValue}`, accept: "application/json" },
  });
  await res.arrayBuffer();
  return res.status;
}

/** A fresh person for each test, so no test depends on another's sessions. */
let serial = 0;
export function person(): { email: string; username: string } {
  serial += 1;
  return { email: `browser.person${serial}.${process.pid}@example.com`, username: `browser_${serial}` };
}
