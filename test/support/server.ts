/**
 * Starts a real Curfew on ephemeral ports with an in-memory SQLite store, a cheap argon2
 * setting and a fixed secret, for tests over sockets (and `app.inject` for in-process ones).
 */
import { type Config, loadConfig } from "../../src/config/load.ts";
import type { Clock, Store } from "../../src/core/ports.ts";
import { type CurfewServer, createServer } from "../../src/server.ts";

export const TEST_SECRET = "test-secret-test-secret-test-secret-0123456789";

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

/** A clock the test moves by hand (house rule 11: time is injected). */
export class ManualClock implements Clock {
  constructor(private t: number = Date.parse("2026-11-21T08:00:00Z")) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
