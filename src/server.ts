/**
 * The composition root: configuration → storage → core → doors → listeners. The only module
 * that knows every other; nothing imports it but the CLI and the tests.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/load.ts";
import { argon2Hasher } from "./crypto/argon2-hasher.ts";
import { type Core, createCore } from "./core/index.ts";
import { type Clock, type PasswordHasher, type Store, systemClock } from "./core/ports.ts";
import { kratosAdmin, kratosMalformedRequest, kratosPublic, type KratosDoorOptions } from "./dialects/kratos/index.ts";
import { type HttpApp, createHttpApp } from "./http/app.ts";
import { cors } from "./http/cors.ts";
import { type AssetsDoorOptions, SERVICES_PREFIX, assetsRedirectLogout, assetsServices } from "./dialects/assets/index.ts";
import { PREFIX as FIRSTOCK_PREFIX, firstockDoor } from "./dialects/firstock/index.ts";
import { webPages } from "./web/pages.ts";
import { SqlStore } from "./storage/sql/sql-store.ts";

export interface ServerOptions {
  /** Replaces the SQL store (tests inject a failing wrapper, D19). */
  store?: Store;
  clock?: Clock;
  hasher?: PasswordHasher;
  /** Where a generated secret is kept (D3); default ./data. */
  dataDir?: string;
}

export interface CurfewServer {
  config: Config;
  core: Core;
  store: Store;
  publicApp: HttpApp;
  adminApp: HttpApp;
  /** Starts both listeners; returns their base URLs (useful with port 0). */
  listen(): Promise<{ publicUrl: string; adminUrl: string }>;
  close(): Promise<void>;
}

export async function openStore(config: Config): Promise<SqlStore> {
  return SqlStore.open(config.databaseUrl, { migrate: true });
}

export async function createServer(config: Config, options: ServerOptions = {}): Promise<CurfewServer> {
  const clock = options.clock ?? systemClock;
  const secret = config.secret ?? loadOrCreateSecret(options.dataDir ?? "data", (m) => console.error(m));
  const store = options.store ?? (await openStore(config));
  const core = createCore({
    store,
    hasher: options.hasher ?? argon2Hasher(config.argon2),
    clock,
    settings: { ...config.core, secret },
  });
  const baseUrl = config.baseUrl.href.replace(/\/$/, "");
  const door: KratosDoorOptions = {
    core,
    baseUrl,
    redirect: config.redirect,
    ownOrigins: [config.baseUrl.origin, ...config.corsOrigins],
    adminKey: config.adminKey,
    ui: {
      login: config.ui.login.href,
      registration: config.ui.registration.href,
      error: config.ui.error.href,
      loggedOut: config.ui.loggedOut.href,
    },
    secureCookies: config.baseUrl.protocol === "https:",
  };

  const publicApp = await createHttpApp({
    title: "Curfew public API",
    description:
      "Sign-in, sessions and sign-out through four doors over one session core: the Ory Kratos self-service API, the Firstock V4 token API and the WoodWing Assets Server session API, plus the built-in pages.",
    baseUrl: config.baseUrl,
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    core,
    malformedRequest: kratosMalformedRequest,
  });
  cors(publicApp, config.corsOrigins);
  await publicApp.register(kratosPublic, door);
  await publicApp.register(webPages, door);
  await publicApp.register(firstockDoor, {
    prefix: FIRSTOCK_PREFIX,
    core,
    vendors: config.firstock.vendors,
    timeZone: config.raw.session.doors.firstock.timezone,
  });
  const assets: AssetsDoorOptions = {
    core,
    baseUrl,
    redirect: config.redirect,
    landingPage: config.assets.landingPage.href,
    serverVersion: config.assets.serverVersion,
    statusOkOnError: config.assets.statusOkOnError,
    secureCookies: door.secureCookies,
    ownOrigins: door.ownOrigins,
  };
  await publicApp.register(assetsServices, { prefix: SERVICES_PREFIX, ...assets });
  await publicApp.register(assetsRedirectLogout, assets);

  const adminBase = new URL(`http://${formatHost(config.adminListen.host)}:${config.adminListen.port}`);
  const adminApp = await createHttpApp({
    title: "Curfew admin API",
    description: "Identities and sessions, in the Ory Kratos admin dialect. Loopback only unless an admin key is set.",
    baseUrl: adminBase,
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    core,
    malformedRequest: kratosMalformedRequest,
    // Kratos's admin port adds the /admin prefix when it is missing (research/kratos.md §1.1).
    rewriteUrl: (url) => (/^\/(admin|health|docs)(\/|$|\?)/.test(url) ? url : `/admin${url}`),
  });
  await adminApp.register(kratosAdmin, door);

  let purgeTimer: NodeJS.Timeout | null = null;
  return {
    config,
    core,
    store,
    publicApp,
    adminApp,
    async listen() {
      await publicApp.listen({ host: config.publicListen.host, port: config.publicListen.port });
      await adminApp.listen({ host: config.adminListen.host, port: config.adminListen.port });
      let purging = false;
      purgeTimer = setInterval(() => {
        if (purging) return; // a slow purge is not overlapped by the next one
        purging = true;
        core
          .purge()
          .catch((error: unknown) => publicApp.log.warn({ err: error }, "purge failed"))
          .finally(() => {
            purging = false;
          });
      }, config.purgeIntervalMs);
      purgeTimer.unref();
      const port = (app: HttpApp) => (app.server.address() as AddressInfo).port;
      return {
        publicUrl: `http://127.0.0.1:${port(publicApp)}`,
        adminUrl: `http://${formatHost(config.adminListen.host)}:${port(adminApp)}`,
      };
    },
    async close() {
      if (purgeTimer) clearInterval(purgeTimer);
      await publicApp.close();
      await adminApp.close();
      await store.close();
    },
  };
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * D3: without a configured secret, generate one on first start and keep it (mode 0600), so
 * logout tokens stay valid across restarts. Production refuses to start without one (load.ts).
 */
export function loadOrCreateSecret(dataDir: string, say: (message: string) => void): string {
  const file = resolve(dataDir, "curfew.secret");
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    if (Buffer.byteLength(secret) >= 32) return secret;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  say(`curfew: no secrets.default configured; generated one and kept it in ${file} (mode 0600). Set CURFEW_SECRET in production.`);
  return secret;
}
