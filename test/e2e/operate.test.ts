/**
 * What an operator sees (docs/adr/0024-metrics-and-logs.md): `curfew serve` as a process at the
 * default log level, a scripted run through it (a sign-in, a failed one, a lockout, a throttled
 * one, whoami, a logout, refusals), then its `/metrics` and its stdout.
 *
 * OBS-01: each counter moved by exactly what the script did.
 * OBS-02: one log line per request and per security event, with the identity id.
 * OBS-03 (SEC-06): no password, token, cookie, CSRF value, secret or typed identifier of the run
 * appears anywhere in the server's output.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/ports.ts";
import { type Running, children, cleanEnv, stop, track, waitUntilServing } from "../support/processes.ts";

const BIN = fileURLToPath(new URL("../../bin/curfew.js", import.meta.url));
const EMAIL = "operator-test-ada@example.com";
const PASSWORD = "a-password-only-this-test-knows-7f3a";
const WRONG_PASSWORD = "a-wrong-password-only-this-test-knows-91c2";
const SECRET = "a-server-secret-only-this-test-knows-0123456789";
const LOCKOUT_AFTER = 3;

/** One sample of a Prometheus text exposition: its value, or 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  const prefix = want === "" ? `${name} ` : `${name}{${want}} `;
  for (const line of text.split("\n")) {
    if (line.startsWith(prefix)) return Number(line.slice(prefix.length));
  }
  return 0;
}

/** An HTTP GET with a Host header of our choosing (fetch does not let one set Host). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("operating a server: metrics, logs and no secrets in them", () => {
  let dir: string;
  let running: Running;
  let pub: string;
  let admin: string;
  let identityId: string;
  const tokens: string[] = [];
  let before_: string;
  let after_: string;

  const env = () => ({
    CURFEW_DATABASE_URL: `sqlite:${join(dir, "curfew.sqlite")}`,
    CURFEW_SECRET: SECRET,
    CURFEW_HASHERS__ARGON2__MEMORY_KIB: "64",
    CURFEW_HASHERS__ARGON2__ITERATIONS: "1",
    CURFEW_LOGIN__RATE_LIMIT__PER_IDENTIFIER__MAX: String(LOCKOUT_AFTER),
  });

  const login = async (password: string) => {
    const flow = (await (await fetch(`${pub}/self-service/login/api`)).json()) as { id: string };
    return fetch(`${pub}/self-service/login?flow=${flow.id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "password", identifier: EMAIL, password }),
    });
  };
  const scrape = async () => {
    const res = await fetch(`${admin}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    return res.text();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "curfew-operate-"));
    // A new file gets its schema first, as an operator runs it.
    const migrated = spawnSync(process.execPath, [BIN, "migrate"], { env: cleanEnv(env()), encoding: "utf8" });
    assert.equal(migrated.status, 0, migrated.stderr);
    const created = spawnSync(process.execPath, [BIN, "identities", "create", "--email", EMAIL], {
      env: cleanEnv({ ...env(), CURFEW_PASSWORD: PASSWORD }),
      encoding: "utf8",
    });
    assert.equal(created.status, 0, created.stderr);
    identityId = (JSON.parse(created.stdout) as { id: string }).id;

    const [publicPort, adminPort] = [await freePort(), await freePort()];
    pub = `http://127.0.0.1:${publicPort}`;
    admin = `http://127.0.0.1:${adminPort}`;
    running = track(
      spawn(process.execPath, [BIN, "serve"], {
        env: cleanEnv({ ...env(), CURFEW_PUBLIC_PORT: String(publicPort), CURFEW_ADMIN_PORT: String(adminPort) }),
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    await waitUntilServing(running, `${pub}/health/alive`);
    before_ = await scrape();

    // The script.
    const ok = await login(PASSWORD);
    assert.equal(ok.status, 200);
    const { session_token: token } = (await ok.json()) as { session_token: string };
    tokens.push(token);
    assert.equal((await fetch(`${pub}/sessions/whoami`, { headers: { "x-session-token": token } })).status, 200);
    for (let i = 0; i < LOCKOUT_AFTER; i++) assert.equal((await login(WRONG_PASSWORD)).status, 400);
    assert.equal((await login(PASSWORD)).status, 429, "locked: even the right password is refused");
    const logout = await fetch(`${pub}/self-service/logout/api`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session_token: token }),
    });
    assert.equal(logout.status, 204);
    assert.equal((await fetch(`${pub}/sessions/whoami`, { headers: { "x-session-token": token } })).status, 401);
    // Refusals: a redirect off the allow-list, a cross-site sign-in, an admin call by another name.
    const flow = await fetch(`${pub}/self-service/login/browser?return_to=https://evil.example/`, { redirect: "manual", headers: { accept: "application/json" } });
    assert.equal(flow.status, 400);
    const crossSite = await fetch(`${pub}/services/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site" },
      body: new URLSearchParams({ username: EMAIL, password: PASSWORD }).toString(),
    });
    assert.notEqual(crossSite.status, 200);
    assert.equal(await getWithHost(`${admin}/admin/identities`, "attacker.example"), 403);
    after_ = await scrape();
  });

  after(async () => {
    if (running) await stop(running);
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("OBS-01: sign-ins, lockouts, logouts, validations and requests moved by exactly what was done", () => {
    const delta = (name: string, labels: Record<string, string>) => sample(after_, name, labels) - sample(before_, name, labels);
    assert.equal(delta("curfew_signins_total", { door: "kratos", outcome: "ok" }), 1);
    assert.equal(delta("curfew_signins_total", { door: "kratos", outcome: "bad_credentials" }), LOCKOUT_AFTER);
    assert.equal(delta("curfew_signins_total", { door: "kratos", outcome: "throttled" }), 1);
    assert.equal(delta("curfew_lockouts_total", { door: "kratos" }), 1);
    assert.equal(delta("curfew_logouts_total", { channel: "kratos", reason: "logout" }), 1);
    assert.equal(delta("curfew_sessions_ended_total", { door: "kratos", reason: "logout" }), 1);
    assert.equal(delta("curfew_validations_total", { outcome: "ok", cache: "miss" }), 1);
    assert.equal(delta("curfew_validations_total", { outcome: "refused", cache: "miss" }), 1);
    assert.equal(delta("curfew_http_requests_total", { door: "kratos", route: "/sessions/whoami", method: "GET", status: "200" }), 1);
    assert.equal(delta("curfew_http_requests_total", { door: "kratos", route: "/sessions/whoami", method: "GET", status: "401" }), 1);
    assert.equal(delta("curfew_http_requests_total", { door: "kratos", route: "/self-service/logout/api", method: "DELETE", status: "204" }), 1);
    assert.equal(delta("curfew_http_requests_total", { door: "admin", route: "/admin/identities", method: "GET", status: "403" }), 1);
    assert.equal(delta("curfew_http_request_duration_seconds_count", { door: "kratos", route: "/sessions/whoami", method: "GET" }), 2);
    // Durable writes went through the group commit: the sign-in's session, the logout.
    assert.ok(sample(after_, "curfew_group_commit_batch_size_count", {}) >= 2);
    assert.equal(sample(after_, "curfew_store_errors_total", { operation: "findSession" }), 0);
    // Node's own process metrics are there too.
    assert.match(after_, /^process_resident_memory_bytes \d+/m);
    assert.match(after_, /^curfew_live_sessions \d+/m);
  });

  it("OBS-01: label values come from closed sets: no id, token or address in any series", () => {
    for (const line of after_.split("\n").filter((l) => l.startsWith("curfew_"))) {
      assert.doesNotMatch(line, /[0-9a-f]{8}-[0-9a-f]{4}-/, line);
      assert.doesNotMatch(line, /127\.0\.0\.1|evil\.example|@/, line);
    }
  });

  it("GET /metrics/prometheus (Kratos's path) answers the same exposition", async () => {
    const res = await fetch(`${admin}/metrics/prometheus`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# HELP curfew_signins_total /m);
  });

  it("OBS-02: one line per request with its id, method, route pattern, status, duration and door", () => {
    const lines = running
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const whoami = lines.filter((l) => l.msg === "request" && l.route === "/sessions/whoami");
    assert.equal(whoami.length, 2);
    for (const line of whoami) {
      assert.equal(line.level, 30);
      assert.equal(line.method, "GET");
      assert.equal(line.door, "kratos");
      assert.equal(typeof line.reqId, "string");
      assert.equal(typeof line.ms, "number");
    }
    assert.deepEqual(
      whoami.map((l) => l.status),
      [200, 401],
    );
  });

  it("OBS-02: one line per security event, with the identity id and never the identifier", () => {
    const events = running
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => typeof l.event === "string");
    const of = (event: string) => events.filter((l) => l.event === event);
    assert.equal(of("signin.succeeded").length, 1);
    assert.equal(of("signin.succeeded")[0]!.identity_id, identityId);
    assert.equal(of("signin.failed").length, LOCKOUT_AFTER);
    assert.ok(of("signin.failed").every((l) => l.identity_id === identityId && l.level === 40));
    assert.equal(of("signin.locked").length, 1);
    assert.equal(of("signin.throttled").length, 1);
    assert.equal(of("logout").length, 1);
    assert.deepEqual(of("logout")[0]!.identity_ids, [identityId]);
    assert.equal(of("logout")[0]!.channel, "kratos");
    assert.equal(of("redirect.refused").length, 1);
    assert.equal(of("csrf.refused").length, 1);
    assert.equal(of("csrf.refused")[0]!.door, "assets");
    assert.equal(of("admin.refused").length, 1);
  });

  it("OBS-03 (SEC-06): no password, token, secret or typed identifier anywhere in the server's output", () => {
    const output = running.stdout() + running.stderr();
    const secrets = [PASSWORD, WRONG_PASSWORD, SECRET, EMAIL, "operator-test-ada", ...tokens, ...tokens.map((t) => t.split(".")[1]!)];
    for (const secret of secrets) assert.equal(output.includes(secret), false, `the output holds ${secret.slice(0, 12)}…`);
  });
});

describe("log.format: pretty", () => {
  it("writes lines for people (pino-pretty), not JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "curfew-pretty-"));
    try {
      const env = cleanEnv({
        CURFEW_DATABASE_URL: `sqlite:${join(dir, "curfew.sqlite")}`,
        CURFEW_SECRET: SECRET,
        CURFEW_LOG__FORMAT: "pretty",
        CURFEW_PUBLIC_PORT: String(await freePort()),
        CURFEW_ADMIN_PORT: String(await freePort()),
      });
      const running = track(spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] }));
      await waitUntilServing(running, `http://127.0.0.1:${env.CURFEW_PUBLIC_PORT}/health/alive`);
      await (await fetch(`http://127.0.0.1:${env.CURFEW_PUBLIC_PORT}/sessions/whoami`)).arrayBuffer();
      await stop(running);
      const out = running.stdout();
      assert.match(out, /INFO.*request/, out.slice(0, 500));
      assert.equal(out.split("\n").some((line) => line.startsWith("{")), false, "no JSON line");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
