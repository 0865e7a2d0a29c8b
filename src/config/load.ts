/**
 * Loads the configuration: YAML file, then environment overrides, then defaults; validates it
 * against the schema and resolves it into the values the server needs. Any wrong value stops
 * start-up with a ConfigError that names the key (and the environment variable it came from).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Value } from "typebox/value";
import { parse as parseYaml } from "yaml";
import { type AllowedTarget, type LogoutUrlPattern, type RedirectPolicy, parseAllowedTarget, parseLogoutUrlPattern } from "../core/redirect-gate.ts";
import { type AppDefinition, defineApp } from "../core/relying-apps.ts";
import { DOORS, type Door } from "../core/model.ts";
import type { CoreSettings, SessionPolicy } from "../core/settings.ts";
import { type DailyCutoff, validateCutoffTime, validateCutoffZone } from "../core/daily-cutoff.ts";
import { type ConfigFile, ConfigSchema } from "./schema.ts";
import type { PostgresOptions } from "../storage/sql/connect.ts";

/** The Firstock API key in curfew.demo.yaml (what `npm start` uses): refused in production. */
export const DEMO_FIRSTOCK_API_KEY = "demo-api-key-not-for-production";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Short environment aliases named by the issues, beside the generic CURFEW_A__B form (D17). */
export const ENV_ALIASES: Record<string, string> = {
  CURFEW_PUBLIC_PORT: "serve.public.port",
  CURFEW_ADMIN_PORT: "serve.admin.port",
  CURFEW_BASE_URL: "serve.public.base_url",
  CURFEW_ADMIN_KEY: "serve.admin.key",
  CURFEW_DATABASE_URL: "database.url",
  CURFEW_ALLOWED_RETURN_URLS: "selfservice.allowed_return_urls",
  CURFEW_SECRET: "secrets.default",
  CURFEW_FIRSTOCK_VENDORS: "firstock.vendors",
  CURFEW_OIDC_CLIENTS: "oidc.clients",
  CURFEW_OIDC_SIGNING_KEYS: "oidc.signing_keys",
  CURFEW_OIDC_ALLOW_LOOPBACK: "oidc.backchannel.allow_loopback",
};

export interface Config {
  raw: ConfigFile;
  production: boolean;
  publicListen: { host: string; port: number };
  /** `serve.public.trust_proxy`: Fastify's trustProxy, checked (empty: trust no proxy). */
  trustProxy: string[];
  adminListen: { host: string; port: number };
  adminKey: string | null;
  baseUrl: URL;
  databaseUrl: string;
  /** PostgreSQL's pool and timeouts (unused on SQLite). */
  postgres: PostgresOptions;
  /** `cluster.lease` in ms. */
  leaseMs: number;
  /** `session.cache_max_bytes`. */
  cacheMaxBytes: number;
  /** The configured secret, or null when one is to be generated or loaded (D3). */
  secret: string | null;
  core: Omit<CoreSettings, "secret">;
  redirect: RedirectPolicy;
  /** The built-in pages' URLs, or where configuration points them (D16). */
  ui: { login: URL; registration: URL; settings: URL; error: URL; loggedOut: URL };
  /** Origins allowed to call the public API with credentials (CORS). */
  corsOrigins: string[];
  firstock: { vendors: { vendorCode: string; apiKey: string }[] };
  assets: { landingPage: URL; serverVersion: string; statusOkOnError: boolean };
  oidc: OidcConfig;
  argon2: { memoryKib: number; iterations: number };
  purgeIntervalMs: number;
  bodyLimit: number;
  logLevel: ConfigFile["log"]["level"];
  logFormat: ConfigFile["log"]["format"];
}

export interface OidcConfig {
  /** The relying apps configuration defines; secrets already hashed (D1). */
  apps: AppDefinition[];
  /** The tenant's Allowed Logout URLs (`/v2/logout` without `client_id`). */
  allowedLogoutUrls: LogoutUrlPattern[];
  /** The private JWKS from configuration, parsed; null: kept in the data directory (D3). */
  signingKeys: unknown;
  backchannel: { allowLoopback: boolean; allowPrivateNetworks: boolean };
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra values applied after the file and before the environment (tests use this). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const input: Record<string, unknown> = options.file ? readYaml(options.file) : {};
  const origin = new Map<string, string>();
  for (const [path, value] of Object.entries(options.overrides ?? {})) setPath(input, path, value);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith("CURFEW_")) continue;
    const path = ENV_ALIASES[name] ?? (name.includes("__") ? name.slice(7).toLowerCase().split("__").join(".") : null);
    if (!path) continue;
    const node = schemaAt(path);
    if (!node) {
      problems.push(`${name}: no configuration key "${path}"`);
      continue;
    }
    // Value.Convert reads "" as 0 and "0x10" as 16: an empty CURFEW_PUBLIC_PORT would listen on
    // a random port. From the environment a whole number is written in decimal.
    if (node.type === "integer" && !/^\s*-?[0-9]+\s*$/.test(value)) {
      problems.push(`${path} (from ${name}): "${value}" is not a whole number`);
      continue;
    }
    origin.set(path, name);
    if (path === "oidc.clients") {
      try {
        setPath(input, path, JSON.parse(value));
      } catch {
        problems.push(`${path} (from ${name}): not valid JSON (a JSON array of client objects)`);
      }
      continue;
    }
    setPath(input, path, path === "firstock.vendors" ? splitVendors(value) : node.type === "array" ? splitList(value) : value);
  }
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, Value.Clone(input))) as ConfigFile;
  for (const error of Value.Errors(ConfigSchema, value)) {
    const key = error.instancePath.slice(1).split("/").join(".");
    // An unknown key is reported twice: once as "additionalProperties" on its parent (kept: it names
    // the key) and once as "schema is false" on the key itself (dropped: it says nothing more).
    if (error.keyword === "boolean" && error.schemaPath.endsWith("/additionalProperties")) continue;
    const extra = (error.params as { additionalProperties?: string[] }).additionalProperties;
    const named = extra ? extra.map((k) => (key ? `${key}.${k}` : k)).join(", ") : key;
    const from = origin.get(key);
    problems.push(`${named || "(root)"}${from ? ` (from ${from})` : ""}: ${extra ? "unknown key" : error.message}`);
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  // Unset, the base URL follows the public port (as Kratos derives it), so `CURFEW_PUBLIC_PORT=8080
  // npm start` builds URLs that point at 8080, not at the default 4433. Port 0 (tests) keeps the default.
  const publicInput = ((input.serve as Record<string, unknown> | undefined)?.public ?? {}) as Record<string, unknown>;
  if (publicInput.base_url === undefined && value.serve.public.port !== 0) {
    value.serve.public.base_url = `http://localhost:${value.serve.public.port}`;
  }
  return resolve(value, env, origin);
}

function resolve(raw: ConfigFile, env: NodeJS.ProcessEnv, origin: Map<string, string>): Config {
  const problems: string[] = [];
  const key = (path: string) => (origin.has(path) ? `${path} (from ${origin.get(path)})` : path);
  const url = (path: string, value: string): URL => {
    try {
      const u = new URL(value);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
      return u;
    } catch {
      problems.push(`${key(path)}: "${value}" is not an absolute http(s) URL`);
      return new URL("http://invalid.invalid/");
    }
  };
  const cutoff = (path: string, time: string, timeZone: string): DailyCutoff => {
    // Each half names its own key: a wrong zone is session.doors.firstock.timezone, not daily_cutoff.
    const checks = [["daily_cutoff", () => validateCutoffTime(time)], ["timezone", () => validateCutoffZone(timeZone)]] as const;
    for (const [name, check] of checks) {
      try {
        check();
      } catch (error) {
        problems.push(`${key(`${path}.${name}`)}: ${(error as Error).message}`);
      }
    }
    return { time, timeZone };
  };
  const duration = (path: string, value: string): number => {
    const ms = parseDuration(value);
    if (ms <= 0) problems.push(`${key(path)}: must be longer than zero`);
    return ms;
  };

  const page = (path: string, value: string, fallback: string): URL => {
    if (value === "" || value.startsWith("/")) return new URL(baseUrl.href.replace(/\/$/, "") + (value || fallback));
    return url(path, value);
  };
  const originOf = (path: string, value: string): string => {
    const u = url(path, value);
    if (u.origin !== value.replace(/\/$/, "")) problems.push(`${key(path)}: "${value}" is not an origin (scheme://host[:port], no path)`);
    return u.origin;
  };
  const baseUrl = url("serve.public.base_url", raw.serve.public.base_url.replace(/\/+$/, ""));
  const defaultReturn = raw.selfservice.default_browser_return_url
    ? url("selfservice.default_browser_return_url", raw.selfservice.default_browser_return_url)
    : new URL(baseUrl.href.endsWith("/") ? baseUrl.href : baseUrl.href + "/");
  const allowed: AllowedTarget[] = [];
  for (const entry of raw.selfservice.allowed_return_urls) {
    try {
      allowed.push(parseAllowedTarget(entry.trim()));
    } catch (error) {
      problems.push(`${key("selfservice.allowed_return_urls")}: ${(error as Error).message}`);
    }
  }
  allowed.push(parseAllowedTarget(baseUrl.href));

  const adminKey = raw.serve.admin.key === "" ? null : raw.serve.admin.key;
  if (adminKey !== null && adminKey.length < 32) problems.push(`${key("serve.admin.key")}: must be at least 32 characters`);
  if (adminKey === null && !isLoopback(raw.serve.admin.host)) {
    problems.push(`${key("serve.admin.host")}: "${raw.serve.admin.host}" is not loopback; set serve.admin.key to expose the admin API`);
  }
  const secret = raw.secrets.default === "" ? null : raw.secrets.default;
  if (secret !== null && Buffer.byteLength(secret) < 32) problems.push(`${key("secrets.default")}: must be at least 32 bytes`);
  const production = env.NODE_ENV === "production";
  if (production && raw.firstock.vendors.some((v) => v.api_key === DEMO_FIRSTOCK_API_KEY)) {
    problems.push(`${key("firstock.vendors")}: the demo API key of curfew.demo.yaml must not be used when NODE_ENV=production`);
  }
  if (secret === null && production) problems.push(`secrets.default (CURFEW_SECRET): must be set when NODE_ENV=production (D3)`);
  // The signing keys are kept like the secret (D3): several nodes must sign with the same keys.
  if (raw.oidc.signing_keys === "" && production) {
    problems.push(`oidc.signing_keys (CURFEW_OIDC_SIGNING_KEYS): must be set when NODE_ENV=production (D3)`);
  }
  // Checked now, so a typo stops start-up with the key named rather than at the first query.
  if (!/^(sqlite:.+|postgres:\/\/|postgresql:\/\/)/.test(raw.database.url)) {
    problems.push(`${key("database.url")}: use sqlite:PATH or postgres://…`);
  }

  const base: SessionPolicy = {
    lifespanMs: duration("session.lifespan", raw.session.lifespan),
    idleTimeoutMs: duration("session.idle_timeout", raw.session.idle_timeout),
  };
  const sessions = Object.fromEntries(
    DOORS.map((door: Door) => {
      const o = raw.session.doors[door];
      return [
        door,
        {
          lifespanMs: o.lifespan ? duration(`session.doors.${door}.lifespan`, o.lifespan) : base.lifespanMs,
          idleTimeoutMs: o.idle_timeout ? duration(`session.doors.${door}.idle_timeout`, o.idle_timeout) : base.idleTimeoutMs,
          ...("daily_cutoff" in o && o.daily_cutoff ? { dailyCutoff: cutoff(`session.doors.${door}`, o.daily_cutoff, o.timezone) } : {}),
        },
      ];
    }),
  ) as Record<Door, SessionPolicy>;

  const config: Config = {
    raw,
    production,
    publicListen: { host: raw.serve.public.host, port: raw.serve.public.port },
    trustProxy: raw.serve.public.trust_proxy.filter((entry) => {
      if (isProxyEntry(entry)) return true;
      problems.push(`${key("serve.public.trust_proxy")}: "${entry}" is not an IP address, a CIDR range, or loopback, linklocal, uniquelocal`);
      return false;
    }),
    adminListen: { host: raw.serve.admin.host, port: raw.serve.admin.port },
    adminKey,
    baseUrl,
    databaseUrl: raw.database.url,
    postgres: {
      poolSize: raw.database.postgres.pool_size,
      connectTimeoutMs: duration("database.postgres.connect_timeout", raw.database.postgres.connect_timeout),
      statementTimeoutMs: duration("database.postgres.statement_timeout", raw.database.postgres.statement_timeout),
    },
    leaseMs: duration("cluster.lease", raw.cluster.lease),
    cacheMaxBytes: raw.session.cache_max_bytes,
    secret,
    core: {
      sessions,
      purgeAfterMs: duration("session.purge_after", raw.session.purge_after),
      auditRetentionMs: duration("audit.retention", raw.audit.retention),
      flows: {
        lifespanMs: {
          login: duration("selfservice.flows.login.lifespan", raw.selfservice.flows.login.lifespan),
          registration: duration("selfservice.flows.registration.lifespan", raw.selfservice.flows.registration.lifespan),
          settings: duration("selfservice.flows.settings.lifespan", raw.selfservice.flows.settings.lifespan),
        },
        registrationEnabled: raw.selfservice.flows.registration.enabled,
        privilegedSessionMaxAgeMs: duration("selfservice.flows.settings.privileged_session_max_age", raw.selfservice.flows.settings.privileged_session_max_age),
        revokeOtherSessionsOnPasswordChange: raw.selfservice.flows.settings.revoke_other_sessions_on_password_change,
      },
      requestLimits: {
        flow: { max: raw.limits.per_ip.flows.max, windowMs: duration("limits.per_ip.flows.window", raw.limits.per_ip.flows.window) },
        "stored-error": { max: raw.limits.per_ip.stored_errors.max, windowMs: duration("limits.per_ip.stored_errors.window", raw.limits.per_ip.stored_errors.window) },
        "bad-token": { max: raw.limits.per_ip.bad_tokens.max, windowMs: duration("limits.per_ip.bad_tokens.window", raw.limits.per_ip.bad_tokens.window) },
      },
      throttle: {
        perIdentifier: {
          max: raw.login.rate_limit.per_identifier.max,
          windowMs: duration("login.rate_limit.per_identifier.window", raw.login.rate_limit.per_identifier.window),
        },
        perIp: {
          max: raw.login.rate_limit.per_ip.max,
          windowMs: duration("login.rate_limit.per_ip.window", raw.login.rate_limit.per_ip.window),
        },
      },
    },
    redirect: { allowed, defaultUrl: defaultReturn },
    ui: {
      login: page("selfservice.flows.login.ui_url", raw.selfservice.flows.login.ui_url, "/ui/login"),
      registration: page("selfservice.flows.registration.ui_url", raw.selfservice.flows.registration.ui_url, "/ui/registration"),
      settings: page("selfservice.flows.settings.ui_url", raw.selfservice.flows.settings.ui_url, "/ui/settings"),
      error: page("selfservice.flows.error.ui_url", raw.selfservice.flows.error.ui_url, "/ui/error"),
      loggedOut: page(
        "selfservice.flows.logout.after.default_browser_return_url",
        raw.selfservice.flows.logout.after.default_browser_return_url,
        "/ui/logged-out",
      ),
    },
    firstock: { vendors: raw.firstock.vendors.map((v) => ({ vendorCode: v.vendor_code, apiKey: v.api_key })) },
    assets: {
      landingPage: page("assets.landing_page", raw.assets.landing_page, "/"),
      serverVersion: raw.assets.server_version,
      statusOkOnError: raw.assets.status_ok_on_error,
    },
    oidc: resolveOidc(raw.oidc, key, problems),
    corsOrigins: raw.serve.public.cors.allowed_origins.map((o) => originOf("serve.public.cors.allowed_origins", o)),
    argon2: { memoryKib: raw.hashers.argon2.memory_kib, iterations: raw.hashers.argon2.iterations },
    purgeIntervalMs: duration("session.purge_interval", raw.session.purge_interval),
    bodyLimit: raw.limits.body_bytes,
    logLevel: raw.log.level,
    logFormat: raw.log.format,
  };
  // A renewal every third of a lease must fit in it with room to spare; past a minute a frozen
  // node would hold every logout too long.
  if (config.leaseMs < 300 || config.leaseMs > 60_000) problems.push(`${key("cluster.lease")}: must be between 300ms and 1m`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function resolveOidc(raw: ConfigFile["oidc"], key: (path: string) => string, problems: string[]): OidcConfig {
  const apps: AppDefinition[] = [];
  const seen = new Set<string>();
  raw.clients.forEach((c, i) => {
    const at = `${key("oidc.clients")}[${i}]`;
    if (seen.has(c.client_id)) problems.push(`${at} (${c.client_id}): client_id is listed twice`);
    seen.add(c.client_id);
    const { app, problems: found } = defineApp(c);
    for (const problem of found) problems.push(`${at} (${c.client_id}): ${problem}`);
    apps.push(app);
  });
  const allowedLogoutUrls: LogoutUrlPattern[] = [];
  for (const u of raw.allowed_logout_urls) {
    try {
      allowedLogoutUrls.push(parseLogoutUrlPattern(u));
    } catch (error) {
      problems.push(`${key("oidc.allowed_logout_urls")}: ${(error as Error).message}`);
    }
  }
  let signingKeys: unknown = null;
  if (raw.signing_keys !== "") {
    try {
      signingKeys = JSON.parse(raw.signing_keys);
    } catch {
      problems.push(`${key("oidc.signing_keys")}: not valid JSON (a private JWKS)`);
    }
  }
  return {
    apps,
    allowedLogoutUrls,
    signingKeys,
    backchannel: { allowLoopback: raw.backchannel.allow_loopback, allowPrivateNetworks: raw.backchannel.allow_private_networks },
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h30m" → 5 400 000. The schema's pattern has already refused anything else. */
export function parseDuration(value: string): number {
  let total = 0;
  for (const [, n, unit] of value.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) total += Number(n) * (UNIT_MS[unit as string] ?? 0);
  return total;
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || /^127\./.test(host);
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([`--config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`${file}: not valid YAML: ${(error as Error).message.split("\n")[0]}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError([`${file}: the top level must be a mapping`]);
  return doc as Record<string, unknown>;
}

/** The schema node at a dotted path, or undefined when there is no such key. */
function schemaAt(path: string): { type?: string } | undefined {
  let node: unknown = ConfigSchema;
  for (const part of path.split(".")) {
    const props = (node as { properties?: Record<string, unknown> }).properties;
    if (!props || !Object.hasOwn(props, part)) return undefined;
    node = props[part];
  }
  return node as { type?: string };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
}

/** `CODE:KEY,CODE:KEY` → vendor entries; an entry without a colon is left for the schema to refuse. */
function splitVendors(value: string): unknown[] {
  return splitList(value).map((entry) => {
    const colon = entry.indexOf(":");
    return colon < 0 ? entry : { vendor_code: entry.slice(0, colon), api_key: entry.slice(colon + 1) };
  });
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

/** An entry of serve.public.trust_proxy: an address, a CIDR range, or one of proxy-addr's named ranges. */
function isProxyEntry(entry: string): boolean {
  if (entry === "loopback" || entry === "linklocal" || entry === "uniquelocal") return true;
  const [address, prefix, ...rest] = entry.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  // A /0 trusts every peer, which is no proxy at all: X-Forwarded-For would be anyone's to set.
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}
