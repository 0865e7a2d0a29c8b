/**
 * The composition root: configuration → store → core (`openCore`, which the CLI shares) → doors
 * → listeners, and the background jobs. The only module that knows every other; nothing imports
 * it but the CLI and the tests.
 */
import type { AddressInfo } from "node:net";
import { BackgroundJobs } from "./background-jobs.ts";
import { DATA_DIR, readSigningKeys } from "./data-dir.ts";
import { Propagation } from "./core/propagation.ts";
import { httpBackchannelTransport } from "./http/backchannel-transport.ts";
import type { Config } from "./config/load.ts";
import type { Actor, Core } from "./core/index.ts";
import type { Store } from "./core/ports.ts";
import { kratosAdmin, kratosMalformedRequest, kratosPublic, type KratosDoorOptions } from "./dialects/kratos/index.ts";
import { webPages } from "./dialects/kratos/ui/pages.ts";
import { type AssetsDoorOptions, SERVICES_PREFIX, assetsRedirectLogout, assetsServices } from "./dialects/assets/index.ts";
import { PREFIX as FIRSTOCK_PREFIX, firstockDoor } from "./dialects/firstock/index.ts";
import { type HttpApp, createHttpApp, forDoor } from "./http/app.ts";
import { Metrics } from "./http/metrics.ts";
import { metricsRoutes } from "./http/metrics-routes.ts";
import { logCoreEvent, logLogout, logoutChannel } from "./http/security-log.ts";
import { appCors, cors } from "./http/cors.ts";
import { APP_CALLED_PATHS, OIDC_ROUTES, oidcAdmin, oidcDoor } from "./dialects/oidc/index.ts";
import { KRATOS_ROUTES } from "./dialects/kratos/index.ts";
import { type CoreOptions, openCore } from "./open-core.ts";

/** The actor of what the server does by itself (the expiry sweep). */
const SYSTEM: Actor = { actor: "system", door: null };

export interface ServerOptions extends Omit<CoreOptions, "secret"> {}

export interface Listening {
  /** URLs to reach each listener from this machine (useful with port 0). */
  publicUrl: string;
  adminUrl: string;
  /** What each listener is bound to, as `host:port` (0.0.0.0 or :: is every interface). */
  publicBound: string;
  adminBound: string;
}

export interface CurfewServer {
  config: Config;
  core: Core;
  store: Store;
  publicApp: HttpApp;
  adminApp: HttpApp;
  /** Starts both listeners and the background jobs. */
  listen(): Promise<Listening>;
  /**
   * SIGHUP: the signing keys again, from where they come from (`fresh`'s oidc.signing_keys, else
   * the data directory, where `curfew signing-keys rotate` writes). A refused set keeps the
   * current keys and throws why. Returns the key ids, the signing one first.
   */
  reloadSigningKeys(fresh: Config): Promise<string[]>;
  /**
   * Stops accepting, lets in-flight requests finish (and with them every pending group commit:
   * no acknowledged logout is lost), stops the jobs, then closes the store.
   */
  close(): Promise<void>;
}

export async function createServer(config: Config, options: ServerOptions = {}): Promise<CurfewServer> {
  const dataDir = options.dataDir ?? DATA_DIR;
  const metrics = new Metrics();
  const { core, store } = await openCore(config, { ...options, secret: "create", serving: true, observe: metrics });
  await core.apps.syncConfig(config.oidc.apps);
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
      settings: config.ui.settings.href,
      error: config.ui.error.href,
      loggedOut: config.ui.loggedOut.href,
    },
    secureCookies: config.baseUrl.protocol === "https:",
    // A sign-in that finishes an authorization request ends, after two redirects, at an app.
    appOriginsFor: (returnTo) => heldRequestOrigins(core, `${baseUrl}${OIDC_ROUTES.resumeAuthorization}`, returnTo),
  };

  const publicApp = await createHttpApp({
    title: "Curfew public API",
    description:
      "Sign-in, sessions and sign-out through four doors over one session core: the Ory Kratos self-service API, the Firstock V4 token API and the WoodWing Assets Server session API, plus the built-in pages.",
    baseUrl: config.baseUrl,
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    metrics,
    door: "none",
    trustProxy: config.trustProxy,
    core,
    malformedRequest: kratosMalformedRequest,
  });
  // The Kratos door's CORS (credentials, listed origins); the endpoints apps call have their own policy.
  cors(publicApp, config.corsOrigins, APP_CALLED_PATHS);
  appCors(publicApp, APP_CALLED_PATHS, async () => new Set((await core.apps.list()).flatMap((a) => a.webOrigins)));
  await publicApp.register(forDoor("kratos", kratosPublic), door);
  await publicApp.register(forDoor("kratos", webPages), door);
  await publicApp.register(forDoor("firstock", firstockDoor), {
    prefix: FIRSTOCK_PREFIX,
    core,
    vendors: config.firstock.vendors,
    timeZone: config.raw.session.doors.firstock.timezone,
  });
  await publicApp.register(forDoor("oidc", oidcDoor), {
    core,
    issuer: `${baseUrl}/`,
    signInUrl: baseUrl + KRATOS_ROUTES.createBrowserLoginFlow,
    loggedOutUrl: config.ui.loggedOut.href,
    allowedLogoutUrls: config.oidc.allowedLogoutUrls,
    secureCookies: door.secureCookies,
    ownOrigins: door.ownOrigins,
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
  await publicApp.register(forDoor("assets", assetsServices), { prefix: SERVICES_PREFIX, ...assets });
  await publicApp.register(forDoor("assets", assetsRedirectLogout), assets);

  const adminBase = new URL(`http://${formatHost(config.adminListen.host)}:${config.adminListen.port}`);
  const adminApp = await createHttpApp({
    title: "Curfew admin API",
    description: "Identities and sessions, in the Ory Kratos admin dialect. Loopback only unless an admin key is set.",
    baseUrl: adminBase,
    bodyLimit: config.bodyLimit,
    logLevel: config.logLevel,
    logFormat: config.logFormat,
    metrics,
    door: "admin",
    core,
    malformedRequest: kratosMalformedRequest,
    // Kratos's admin port adds the /admin prefix when it is missing.
    rewriteUrl: (url) => (/^\/(admin|health|docs|metrics|version)(\/|$|\?)/.test(url) ? url : `/admin${url}`),
  });
  await adminApp.register(kratosAdmin, door);
  await adminApp.register(oidcAdmin, { core, adminKey: config.adminKey });
  await adminApp.register(metricsRoutes, { metrics, adminKey: config.adminKey });

  // What the core did, counted and logged (docs/adr/0024-metrics-and-logs.md).
  core.onEvent((event) => {
    metrics.coreEvent(event);
    logCoreEvent(publicApp.log, event);
  });
  core.afterLogout((outcome, reason, by) => {
    metrics.logout(logoutChannel(by), reason, outcome.ended);
    logLogout(publicApp.log, outcome, reason, by);
  });

  const jobs = new BackgroundJobs((job, error) => publicApp.log.warn({ err: error, job }, "background job failed"));
  jobs.add({ name: "purge", everyMs: config.purgeIntervalMs, run: () => core.purge() });
  // Back-channel logout (INV-4): woken after each logout that queued notices, and polling each
  // second for rows the CLI, another node or a restart left.
  const propagation = new Propagation(
    store,
    core.clock,
    core.signingKeys,
    httpBackchannelTransport(config.oidc.backchannel),
    `${baseUrl}/`,
    (error) => publicApp.log.warn({ err: error, job: "backchannel" }, "background job failed"),
    (status) => metrics.delivery(status),
  );
  core.afterLogout((_outcome, _reason, _by, queued) => {
    if (queued > 0) propagation.wake();
  });
  jobs.add({ name: "backchannel", everyMs: 1_000, run: () => propagation.poll() });
  // Sessions that end by time, not by a request, are told to their apps too (reason `expired`).
  jobs.add({ name: "expiry-sweep", everyMs: 60_000, run: () => core.logout({ kind: "expired", limit: 500 }, "expired", SYSTEM) });
  // The live-session gauge: a count every minute, not per scrape (a scrape must stay cheap).
  const countLive = async () => metrics.liveSessions(await core.sessions.count({ active: true }));
  jobs.add({ name: "live-sessions", everyMs: 60_000, run: countLive });

  return {
    config,
    core,
    store,
    publicApp,
    adminApp,
    async listen() {
      await publicApp.listen({ host: config.publicListen.host, port: config.publicListen.port });
      await adminApp.listen({ host: config.adminListen.host, port: config.adminListen.port });
      jobs.start();
      await countLive().catch((error: unknown) => publicApp.log.warn({ err: error, job: "live-sessions" }, "background job failed"));
      const address = (app: HttpApp) => app.server.address() as AddressInfo;
      const bound = (a: AddressInfo) => `${formatHost(a.address)}:${a.port}`;
      return {
        publicUrl: `http://127.0.0.1:${address(publicApp).port}`,
        adminUrl: `http://${formatHost(config.adminListen.host)}:${address(adminApp).port}`,
        publicBound: bound(address(publicApp)),
        adminBound: bound(address(adminApp)),
      };
    },
    async reloadSigningKeys(fresh: Config) {
      const jwks = fresh.oidc.signingKeys ?? readSigningKeys(dataDir);
      if (jwks === null) throw new Error(`no signing keys: oidc.signing_keys is unset and ${dataDir} keeps none`);
      await core.signingKeys.reload(jwks);
      return core.signingKeys.kids();
    },
    async close() {
      await Promise.all([publicApp.close(), adminApp.close()]);
      await jobs.stop();
      await propagation.stop();
      await store.close();
    },
  };
}

/**
 * The origins a sign-in page's form may end at beyond the redirect gate's: those of the app whose
 * held authorization request the page resumes (`return_to` = `/authorize/resume?request=<id>`);
 * none for any other sign-in.
 */
async function heldRequestOrigins(core: Core, resumeUrl: string, returnTo: string | null): Promise<readonly string[]> {
  if (returnTo === null || !returnTo.startsWith(`${resumeUrl}?`)) return [];
  const id = new URL(returnTo).searchParams.get("request");
  const clientId = id ? await core.grants.appOfRequest(id) : null;
  const app = clientId ? await core.apps.find(clientId) : null;
  return app ? [...new Set(app.redirectUris.map((uri) => new URL(uri).origin))] : [];
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
