/**
 * The configuration loader (D17): YAML file, then environment (generic CURFEW_A__B names and
 * the short aliases), then defaults; any wrong value is a ConfigError naming the key, and the
 * environment variable when it came from one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, ENV_ALIASES, type LoadOptions, loadConfig, parseDuration } from "./load.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SECRET = "0123456789abcdef0123456789abcdef";
const ADMIN_KEY = "k".repeat(32);

const dir = mkdtempSync(join(tmpdir(), "curfew-config-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Loads with an explicit environment, so the test process's own variables never leak in. */
function load(env: NodeJS.ProcessEnv = {}, options: Omit<LoadOptions, "env"> = {}) {
  return loadConfig({ env, ...options });
}

/** Expects a ConfigError whose message names every one of `mentions`. */
function refused(fn: () => unknown, ...mentions: string[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const mention of mentions) assert.ok(caught.message.includes(mention), `"${mention}" not named in:\n${caught.message}`);
  return caught;
}

describe("defaults", () => {
  test("D17 with nothing set: ports 4433/4434, SQLite under ./data, loopback admin, no secret", () => {
    const config = load();
    assert.deepEqual(config.publicListen, { host: "0.0.0.0", port: 4433 });
    assert.deepEqual(config.adminListen, { host: "127.0.0.1", port: 4434 });
    assert.equal(config.databaseUrl, "sqlite:./data/curfew.sqlite");
    assert.equal(config.baseUrl.href, "http://localhost:4433/");
    assert.equal(config.adminKey, null);
    assert.equal(config.secret, null, "D3: generated at start when unset");
    assert.equal(config.production, false);
    assert.equal(config.logLevel, "info");
  });

  test("D5 default lifetimes are 12 h absolute and 30 min idle at every door, and Firstock also ends daily at 23:59 IST", () => {
    const config = load();
    for (const door of ["kratos", "oidc", "assets"] as const) {
      assert.deepEqual(config.core.sessions[door], { lifespanMs: 12 * HOUR, idleTimeoutMs: 30 * MINUTE }, door);
    }
    assert.deepEqual(config.core.sessions.firstock, {
      lifespanMs: 12 * HOUR,
      idleTimeoutMs: 30 * MINUTE,
      dailyCutoff: { time: "23:59", timeZone: "Asia/Kolkata" },
    });
  });

  test("house rule 8 the redirect gate defaults to the base URL, which is always allowed", () => {
    const config = load();
    assert.equal(config.redirect.defaultUrl.href, "http://localhost:4433/");
    assert.deepEqual(config.redirect.allowed, [{ protocol: "http:", host: "localhost:4433", path: "/" }]);
  });

  test("parseDuration reads compound durations", () => {
    assert.equal(parseDuration("1h30m"), 90 * MINUTE);
    assert.equal(parseDuration("1d"), 24 * HOUR);
    assert.equal(parseDuration("1500ms"), 1500);
    assert.equal(parseDuration("2m3s"), 123_000);
  });
});

describe("environment (D17)", () => {
  test("D17 CURFEW_PUBLIC_PORT and CURFEW_ADMIN_PORT set the ports", () => {
    const config = load({ CURFEW_PUBLIC_PORT: "8080", CURFEW_ADMIN_PORT: "8081" });
    assert.equal(config.publicListen.port, 8080);
    assert.equal(config.adminListen.port, 8081);
  });

  test("D17 with no base URL set, the base URL follows the public port; a set one is kept", () => {
    assert.equal(load({ CURFEW_PUBLIC_PORT: "8080" }).baseUrl.href, "http://localhost:8080/");
    assert.equal(load({ CURFEW_PUBLIC_PORT: "8080", CURFEW_BASE_URL: "https://id.example.com" }).baseUrl.href, "https://id.example.com/");
  });

  test("D17 CURFEW_BASE_URL sets the base URL, the default return URL and the always-allowed origin", () => {
    const config = load({ CURFEW_BASE_URL: "https://id.example.com/" });
    assert.equal(config.baseUrl.href, "https://id.example.com/");
    assert.equal(config.redirect.defaultUrl.href, "https://id.example.com/");
    assert.deepEqual(config.redirect.allowed.at(-1), { protocol: "https:", host: "id.example.com", path: "/" });
  });

  test("D17 CURFEW_DATABASE_URL sets the database", () => {
    assert.equal(load({ CURFEW_DATABASE_URL: "sqlite::memory:" }).databaseUrl, "sqlite::memory:");
    assert.equal(load({ CURFEW_DATABASE_URL: "postgres://curfew@db/curfew" }).databaseUrl, "postgres://curfew@db/curfew");
  });

  test("D17 CURFEW_ALLOWED_RETURN_URLS is a comma-separated list", () => {
    const config = load({ CURFEW_ALLOWED_RETURN_URLS: " https://app.example.com/ ,, https://*.example.org/cb " });
    assert.deepEqual(config.raw.selfservice.allowed_return_urls, ["https://app.example.com/", "https://*.example.org/cb"]);
    assert.deepEqual(config.redirect.allowed, [
      { protocol: "https:", host: "app.example.com", path: "/" },
      { protocol: "https:", host: "*.example.org", path: "/cb" },
      { protocol: "http:", host: "localhost:4433", path: "/" },
    ]);
  });

  test("D17 CURFEW_ADMIN_KEY sets the admin key and lets the admin API leave loopback", () => {
    const config = load({ CURFEW_ADMIN_KEY: ADMIN_KEY, CURFEW_SERVE__ADMIN__HOST: "0.0.0.0" });
    assert.equal(config.adminKey, ADMIN_KEY);
    assert.equal(config.adminListen.host, "0.0.0.0");
  });

  test("D3 CURFEW_SECRET sets the server secret", () => {
    assert.equal(load({ CURFEW_SECRET: SECRET }).secret, SECRET);
  });

  test("D17 the generic form CURFEW_SESSION__LIFESPAN reaches nested keys, per door too", () => {
    const config = load({
      CURFEW_SESSION__LIFESPAN: "2h",
      CURFEW_SESSION__IDLE_TIMEOUT: "10m",
      CURFEW_SESSION__DOORS__FIRSTOCK__LIFESPAN: "1h",
      CURFEW_LOGIN__RATE_LIMIT__PER_IP__MAX: "7",
      CURFEW_SELFSERVICE__FLOWS__REGISTRATION__ENABLED: "false",
    });
    assert.deepEqual(config.core.sessions.kratos, { lifespanMs: 2 * HOUR, idleTimeoutMs: 10 * MINUTE });
    assert.deepEqual(config.core.sessions.firstock, {
      lifespanMs: HOUR,
      idleTimeoutMs: 10 * MINUTE,
      dailyCutoff: { time: "23:59", timeZone: "Asia/Kolkata" },
    });
    assert.equal(config.core.throttle.perIp.max, 7);
    assert.equal(config.core.flows.registrationEnabled, false);
  });

  test("D17 every alias is also reachable by its generic name", () => {
    // Each alias names a real key, so it can never be the "no configuration key" error.
    for (const alias of Object.keys(ENV_ALIASES)) {
      const error = (() => {
        try {
          load({ [alias]: "x" });
        } catch (e) {
          return e as ConfigError;
        }
        return null;
      })();
      assert.ok(!error?.message.includes("no configuration key"), alias);
    }
    assert.equal(load({ CURFEW_SERVE__PUBLIC__PORT: "9000" }).publicListen.port, 9000);
    assert.equal(load({ CURFEW_SECRETS__DEFAULT: SECRET }).secret, SECRET);
  });

  test("D17 variables that are not Curfew's, or have no __, are ignored", () => {
    const config = load({ PORT: "1", HOME: "/root", CURFEW: "x", CURFEW_SOMETHING: "x" });
    assert.equal(config.publicListen.port, 4433);
  });
});

describe("YAML file", () => {
  test("D17 a YAML file sets nested snake_case keys", () => {
    const file = yamlFile(`
serve:
  public:
    port: 5433
    base_url: https://id.example.com
  admin:
    port: 5434
database:
  url: "sqlite::memory:"
session:
  idle_timeout: 15m
  doors:
    assets:
      idle_timeout: 1h
selfservice:
  allowed_return_urls:
    - https://app.example.com/
`);
    const config = load({}, { file });
    assert.equal(config.publicListen.port, 5433);
    assert.equal(config.adminListen.port, 5434);
    assert.equal(config.baseUrl.href, "https://id.example.com/");
    assert.equal(config.databaseUrl, "sqlite::memory:");
    assert.equal(config.core.sessions.kratos.idleTimeoutMs, 15 * MINUTE);
    assert.equal(config.core.sessions.assets.idleTimeoutMs, HOUR);
    assert.equal(config.redirect.allowed.length, 2);
  });

  test("D17 the environment overrides the file", () => {
    const file = yamlFile("serve:\n  public:\n    port: 5433\n");
    assert.equal(load({ CURFEW_PUBLIC_PORT: "6000" }, { file }).publicListen.port, 6000);
  });

  test("D17 an empty file gives the defaults", () => {
    assert.equal(load({}, { file: yamlFile("") }).publicListen.port, 4433);
  });

  test("D17 an unknown key in the file is refused by name", () => {
    refused(() => load({}, { file: yamlFile("serve:\n  public:\n    prot: 1\n") }), "serve.public.prot", "unknown key");
    refused(() => load({}, { file: yamlFile("sesion:\n  lifespan: 1h\n") }), "sesion", "unknown key");
  });

  test("D17 a wrong type in the file names the key", () => {
    refused(() => load({}, { file: yamlFile("serve:\n  public:\n    port: abc\n") }), "serve.public.port");
    refused(() => load({}, { file: yamlFile("session:\n  lifespan: forever\n") }), "session.lifespan");
  });

  test("D17 a file that is missing, not YAML or not a mapping is a ConfigError", () => {
    refused(() => load({}, { file: join(dir, "missing.yaml") }), "cannot read", "missing.yaml");
    refused(() => load({}, { file: yamlFile("serve: [unclosed\n") }), "not valid YAML");
    refused(() => load({}, { file: yamlFile("- a\n- b\n") }), "top level must be a mapping");
  });
});

describe("wrong values stop start-up, naming the key", () => {
  test("D17 a port that is not a number names the key and the variable", () => {
    refused(() => load({ CURFEW_PUBLIC_PORT: "abc" }), "serve.public.port", "CURFEW_PUBLIC_PORT");
    refused(() => load({ CURFEW_ADMIN_PORT: "70000" }), "serve.admin.port", "CURFEW_ADMIN_PORT");
  });

  test("D17 an empty or non-decimal port from the environment is refused, not read as port 0 or 16", () => {
    for (const value of ["", " ", "0x10", "1e3", "80.5"]) {
      refused(() => load({ CURFEW_PUBLIC_PORT: value }), "serve.public.port", "CURFEW_PUBLIC_PORT");
    }
  });

  test("D17 an unknown CURFEW_X__Y variable is refused by name", () => {
    refused(() => load({ CURFEW_X__Y: "1" }), "CURFEW_X__Y", "x.y");
    refused(() => load({ CURFEW_SESSION__LIFE_SPAN: "1h" }), "CURFEW_SESSION__LIFE_SPAN", "session.life_span");
  });

  test("D3 a secret shorter than 32 bytes is refused", () => {
    refused(() => load({ CURFEW_SECRET: "too-short" }), "secrets.default", "CURFEW_SECRET", "32 bytes");
    refused(() => load({}, { file: yamlFile("secrets:\n  default: too-short\n") }), "secrets.default", "32 bytes");
  });

  test("D3, SEC-96: in production an unset secret, or unset signing keys, stop start-up", () => {
    refused(() => load({ NODE_ENV: "production" }), "secrets.default", "CURFEW_SECRET", "NODE_ENV=production");
    refused(() => load({ NODE_ENV: "production", CURFEW_SECRET: SECRET }), "oidc.signing_keys", "CURFEW_OIDC_SIGNING_KEYS", "NODE_ENV=production");
    const config = load({ NODE_ENV: "production", CURFEW_SECRET: SECRET, CURFEW_OIDC_SIGNING_KEYS: '{"keys":[]}' });
    assert.equal(config.production, true);
    assert.equal(config.secret, SECRET);
  });

  test("SEC admin API: an admin key shorter than 32 characters is refused", () => {
    refused(() => load({ CURFEW_ADMIN_KEY: "short" }), "serve.admin.key", "CURFEW_ADMIN_KEY", "32");
  });

  test("SEC admin API: a non-loopback admin host without a key is refused", () => {
    refused(() => load({ CURFEW_SERVE__ADMIN__HOST: "0.0.0.0" }), "serve.admin.host", "CURFEW_SERVE__ADMIN__HOST", "serve.admin.key");
    refused(() => load({}, { file: yamlFile("serve:\n  admin:\n    host: 10.0.0.5\n") }), "serve.admin.host");
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) {
      assert.equal(load({ CURFEW_SERVE__ADMIN__HOST: host }).adminListen.host, host);
    }
  });

  test("D5 a bad duration names the key and the variable", () => {
    refused(() => load({ CURFEW_SESSION__LIFESPAN: "ten minutes" }), "session.lifespan", "CURFEW_SESSION__LIFESPAN");
    refused(() => load({ CURFEW_SESSION__IDLE_TIMEOUT: "30" }), "session.idle_timeout", "CURFEW_SESSION__IDLE_TIMEOUT");
    refused(() => load({ CURFEW_SESSION__LIFESPAN: "0s" }), "session.lifespan", "CURFEW_SESSION__LIFESPAN", "longer than zero");
    refused(() => load({ CURFEW_SESSION__DOORS__OIDC__LIFESPAN: "1 h" }), "session.doors.oidc.lifespan");
  });

  test("SEC-72 a bad base URL names the key and the variable", () => {
    for (const value of ["not a url", "ftp://id.example.com", "localhost:4433", ""]) {
      refused(() => load({ CURFEW_BASE_URL: value }), "serve.public.base_url", "CURFEW_BASE_URL");
    }
  });

  test("SEC-31 a bad allowed_return_urls entry names the key and the variable", () => {
    for (const value of ["https://*.com", "javascript:alert(1)", "/relative", "https://user@app.example.com/", "https://*foo.com"]) {
      refused(() => load({ CURFEW_ALLOWED_RETURN_URLS: value }), "selfservice.allowed_return_urls", "CURFEW_ALLOWED_RETURN_URLS");
    }
    refused(
      () => load({}, { file: yamlFile("selfservice:\n  allowed_return_urls:\n    - ftp://x.example.com/\n") }),
      "selfservice.allowed_return_urls",
    );
  });

  test("D17 a database URL of another kind names the key", () => {
    refused(() => load({ CURFEW_DATABASE_URL: "mysql://db/curfew" }), "database.url", "CURFEW_DATABASE_URL");
  });

  test("D17 every problem is reported at once", () => {
    const error = refused(
      () => load({ CURFEW_SECRET: "short", CURFEW_ADMIN_KEY: "short", CURFEW_BASE_URL: "nope" }),
      "secrets.default",
      "serve.admin.key",
      "serve.public.base_url",
    );
    assert.equal(error.problems.length, 3);
  });
  test("single sign-on apps: CURFEW_OIDC_CLIENTS (JSON) replaces the file's list; secrets are kept hashed (D1)", () => {
    const app = { client_id: "web", client_secret: "s".repeat(32), redirect_uris: ["https://web.example/cb"] };
    const fromFile = load({}, { file: yamlFile("oidc:\n  clients:\n    - client_id: file\n      token_endpoint_auth_method: none\n      redirect_uris: [https://f.example/]\n") });
    assert.deepEqual(fromFile.oidc.apps.map((a) => a.clientId), ["file"]);
    assert.equal(fromFile.oidc.apps[0]!.secretHash, null);
    const fromEnv = load({ CURFEW_OIDC_CLIENTS: JSON.stringify([app]), CURFEW_OIDC_ALLOW_LOOPBACK: "true" }, { file: yamlFile("oidc:\n  clients: []\n") });
    assert.deepEqual(fromEnv.oidc.apps.map((a) => a.clientId), ["web"]);
    assert.equal(fromEnv.oidc.apps[0]!.authMethod, "client_secret_basic");
    assert.match(fromEnv.oidc.apps[0]!.secretHash ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!JSON.stringify(fromEnv.oidc).includes(app.client_secret), "the secret itself is not kept");
    assert.equal(fromEnv.oidc.backchannel.allowLoopback, true);
    refused(() => load({ CURFEW_OIDC_CLIENTS: "[not json" }), "oidc.clients", "CURFEW_OIDC_CLIENTS", "JSON");
  });

  test("single sign-on apps: a bad URI, a short or missing secret, or a bad Allowed Logout URL stops start-up, naming the app", () => {
    const bad = (entry: Record<string, unknown>, ...mentions: string[]) =>
      refused(() => load({ CURFEW_OIDC_CLIENTS: JSON.stringify([{ client_id: "web", client_secret: "s".repeat(32), redirect_uris: ["https://web.example/cb"], ...entry }]) }), "oidc.clients", ...mentions);
    bad({ redirect_uris: ["https://web.example/cb#frag"] }, "web", "fragment");
    bad({ redirect_uris: ["https://user:pw@web.example/cb"] }, "user information");
    bad({ redirect_uris: ["/relative"] }, "absolute");
    bad({ redirect_uris: ["javascript:alert(1)"] }, "http or https");
    bad({ post_logout_redirect_uris: ["https://web.example/a b"] }, "space");
    bad({ backchannel_logout_uri: "ftp://web.example/bc" }, "backchannel_logout_uri");
    bad({ client_secret: "short" }, "client_secret");
    bad({ client_secret: undefined }, "client_secret", "required");
    bad({ token_endpoint_auth_method: "none" }, "public app");
    bad({ allowed_logout_urls: ["web.example/bye"] }, "scheme");
    bad({ allowed_logout_urls: ["https://a.*.web.example/"] }, "leftmost");
    bad({ allowed_logout_urls: ["https://*.com/"] }, "top-level");
    bad({ web_origins: ["https://web.example/path"] }, "origin");
    refused(() => load({ CURFEW_OIDC_CLIENTS: JSON.stringify([{ client_id: "a", token_endpoint_auth_method: "none", redirect_uris: ["https://a.example/"] }, { client_id: "a", token_endpoint_auth_method: "none", redirect_uris: ["https://a.example/"] }]) }), "twice");
    refused(() => load({}, { file: yamlFile("oidc:\n  allowed_logout_urls: [nope]\n") }), "oidc.allowed_logout_urls");
  });
});
