/**
 * Starts a real Curfew on ephemeral ports with an in-memory SQLite store, a cheap argon2
 * setting and a fixed secret, for tests over sockets (and `app.inject` for in-process ones).
 */
import { type Config, loadConfig } from "../../src/config/load.ts";
import type { Clock, Store } from "../../src/core/ports.ts";
import { SigningKeys } from "../../src/core/signing-keys.ts";
import type { HttpApp } from "../../src/http/app.ts";
import { type CurfewServer, createServer } from "../../src/server.ts";
import { freePort } from "./ports.ts";

export { ManualClock } from "./clock.ts";

export const TEST_SECRET = "test-secret-test-secret-test-secret-0123456789";

/**
 * One private JWKS for every server of the test process, given as configuration: no test server
 * writes a key file, and none spends ~100 ms generating an RSA key.
 */
export const TEST_SIGNING_KEYS = JSON.stringify({ keys: [await SigningKeys.generate()] });

export interface TestServer {
  server: CurfewServer;
  config: Config;
  /** Base URLs of the listeners (only after `listen: true`). */
  publicUrl: string;
  adminUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra configuration, as dotted keys: `{ "session.idle_timeout": "5m" }`. */
  config?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  store?: Store;
  clock?: Clock;
  /** Start real listeners on port 0 (default: in-process only). */
  listen?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const config = loadConfig({
    env: options.env ?? {},
    overrides: {
      "database.url": "sqlite::memory:",
      "secrets.default": TEST_SECRET,
      "oidc.signing_keys": TEST_SIGNING_KEYS,
      "serve.public.host": "127.0.0.1",
      "serve.public.port": 0,
      "serve.admin.port": 0,
      "hashers.argon2.memory_kib": 64,
      "hashers.argon2.iterations": 1,
      "log.level": "silent",
      ...options.config,
    },
  });
  const server = await createServer(config, {
    ...(options.store ? { store: options.store } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let publicUrl = "";
  let adminUrl = "";
  if (options.listen) ({ publicUrl, adminUrl } = await server.listen());
  return { server, config, publicUrl, adminUrl, close: () => server.close() };
}

/** A started server as the in-process tests of every door use it: both listeners' Fastify apps. */
export interface Door {
  t: TestServer;
  /** The public listener's app. */
  pub: HttpApp;
  /** The admin listener's app. */
  adm: HttpApp;
  close(): Promise<void>;
}

export async function startDoor(options: TestServerOptions = {}): Promise<Door> {
  const t = await startTestServer(options);
  return { t, pub: t.server.publicApp, adm: t.server.adminApp, close: () => t.close() };
}

/** Starts a server for one test and closes it when the test ends. */
export async function doorFor(t: { after(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<Door> {
  const door = await startDoor(options);
  t.after(() => door.close());
  return door;
}

/** A real Curfew on real sockets whose public base URL is the address its clients use. */
export interface Curfew {
  t: TestServer;
  /** `http://localhost:<port>`: the configured base URL, the origin a browser sees. */
  base: string;
  close(): Promise<void>;
}

/**
 * A real Curfew whose base URL is the address a browser (or an SDK) uses, so the URLs it builds
 * (form actions, redirects, `logout_url`, the CSP) point at itself.
 */
export async function startCurfew(config: Record<string, unknown> = {}): Promise<Curfew> {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const t = await startTestServer({
    listen: true,
    config: {
      "serve.public.port": port,
      "serve.public.base_url": base,
      // Every sign-in here comes from 127.0.0.1; keep the per-IP limit out of the way.
      "login.rate_limit.per_ip.max": 10_000,
      ...config,
    },
  });
  return { t, base, close: () => t.close() };
}
