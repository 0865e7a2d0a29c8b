/**
 * "Two commands": `npm install && npm start` gives a working server. This spawns what `npm start`
 * runs — `node bin/curfew.js serve --config curfew.demo.yaml` — as a real process in a fresh, empty working
 * directory, with nothing configured but the two ports, and checks what an operator sees: health,
 * the OpenAPI document, the SQLite file, the generated secret (D3) and a clean SIGTERM. Then the
 * other half of the promise: a wrong setting stops start-up with the key named (D17).
 *
 * bin/curfew.js runs the build in dist/ when it is current, else the sources through tsx, which it
 * resolves from its own directory: the point here is that the working directory holds nothing of ours.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { Sqlite } from "../../src/storage/sql/sqlite-driver.ts";
import { freePort } from "../support/ports.ts";
import { START_DEADLINE_MS, type Running, children, cleanEnv, stop, track, waitUntilServing } from "../support/processes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/curfew.js", import.meta.url));
/** The demo configuration `npm start` passes (package.json). */
const DEMO_CONFIG = fileURLToPath(new URL("../../curfew.demo.yaml", import.meta.url));

const dirs: string[] = [];

/** Servers that npm started, by the pid they log: killed at the end should a test leave one behind. */
const grandchildren = new Set<number>();

after(() => {
  for (const pid of grandchildren) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone, as it should be
    }
  }
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "curfew-start-"));
  dirs.push(dir);
  return dir;
}

function start(cwd: string, env: Record<string, string>, args: string[] = ["serve", "--config", DEMO_CONFIG]): Running {
  return track(spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] }));
}

/** `npm …` in the project, as an operator or a supervisor runs it. */
function startNpm(args: string[], env: Record<string, string>): Running {
  return track(spawn("npm", args, { cwd: ROOT, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] }));
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { ...init, headers: { accept: "application/json", ...(init?.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe("npm start: the server as an operator starts it", () => {
  it("D3, D17: starts in an empty directory with only the ports set, serves, keeps its state under ./data, and stops on SIGTERM", async () => {
    const cwd = freshDir();
    const publicPort = await freePort();
    const adminPort = await freePort();
    const env = { CURFEW_PUBLIC_PORT: String(publicPort), CURFEW_ADMIN_PORT: String(adminPort) };
    const pub = `http://127.0.0.1:${publicPort}`;
    const adm = `http://127.0.0.1:${adminPort}`;

    const first = start(cwd, env);
    await waitUntilServing(first, `${pub}/health/alive`);
    await waitUntilServing(first, `${adm}/health/alive`);

    assert.deepEqual(await json(`${pub}/health/alive`), { status: 200, body: { status: "ok" } });
    assert.deepEqual(await json(`${pub}/health/ready`), { status: 200, body: { status: "ok" } });
    assert.deepEqual(await json(`${adm}/health/ready`), { status: 200, body: { status: "ok" } });

    const openapi = await json(`${pub}/docs/json`);
    assert.equal(openapi.status, 200);
    assert.match(String(openapi.body.openapi), /^3\./);
    assert.ok(openapi.body.paths["/sessions/whoami"], "the public OpenAPI document lists /sessions/whoami");
    assert.ok(openapi.body.paths["/self-service/logout/api"], "and native logout");
    const adminOpenapi = await json(`${adm}/docs/json`);
    assert.ok(adminOpenapi.body.paths["/admin/identities"], "the admin OpenAPI document lists /admin/identities");

    // The default store is SQLite at ./data/curfew.sqlite, relative to the working directory (D17).
    assert.ok(existsSync(join(cwd, "data", "curfew.sqlite")), "the SQLite file was created under <cwd>/data");
    // No CURFEW_SECRET: one was generated, kept with mode 0600, and the log says so (D3).
    const secretFile = join(cwd, "data", "curfew.secret");
    assert.ok(existsSync(secretFile), "a secret file was created under <cwd>/data");
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    const secret = readFileSync(secretFile, "utf8").trim();
    assert.ok(Buffer.byteLength(secret) >= 32, "the generated secret has at least 32 bytes");
    assert.match(first.stderr(), /generated/);
    assert.ok(!first.stderr().includes(secret) && !first.stdout().includes(secret), "the secret itself is never logged");

    // It serves the Kratos API, and the URLs it builds point at the port it listens on.
    const flow = await json(`${pub}/self-service/registration/api`);
    assert.equal(flow.status, 200);
    assert.equal(new URL(flow.body.ui.action).port, String(publicPort), "flow URLs follow CURFEW_PUBLIC_PORT");
    const registered = await json(`${pub}/self-service/registration?flow=${flow.body.id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "password", traits: { email: "operator@example.com" }, password: "a long enough password 1" }),
    });
    assert.equal(registered.status, 200);
    const token = registered.body.session_token as string;
    assert.equal((await json(`${pub}/sessions/whoami`, { headers: { "x-session-token": token } })).status, 200);

    // The demo configuration registers a Firstock vendor, so a Firstock client can sign in too:
    // the same person, with the hex SHA-256 of the password (D11), gets a jKey.
    const digest = createHash("sha256").update("a long enough password 1").digest("hex");
    const firstock = await json(`${pub}/api/V4/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: "operator@example.com", password: digest, TOTP: "", vendorCode: "DEMO_API", apiKey: "demo-api-key-not-for-production" }),
    });
    assert.equal(firstock.status, 200);
    assert.equal(firstock.body.status, "success");
    assert.equal((await json(`${pub}/sessions/whoami`, { headers: { "x-session-token": firstock.body.data.susertoken } })).status, 200);

    assert.deepEqual(await stop(first), { code: 0, signal: null });

    // A second start in the same directory reuses the secret and the database: the session
    // survives the restart, and no new secret is generated.
    const second = start(cwd, env);
    await waitUntilServing(second, `${pub}/health/alive`);
    assert.equal(readFileSync(secretFile, "utf8").trim(), secret);
    assert.doesNotMatch(second.stderr(), /generated/);
    assert.equal((await json(`${pub}/sessions/whoami`, { headers: { "x-session-token": token } })).status, 200);
    const logout = await fetch(`${pub}/self-service/logout/api`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session_token: token }),
    });
    assert.equal(logout.status, 204);
    assert.equal((await json(`${pub}/sessions/whoami`, { headers: { "x-session-token": token } })).status, 401);
    assert.deepEqual(await stop(second), { code: 0, signal: null });
  });

  it("D17: a wrong environment value (CURFEW_PUBLIC_PORT=notaport) stops start-up naming the key", async () => {
    const cwd = freshDir();
    const run = start(cwd, { CURFEW_PUBLIC_PORT: "notaport", CURFEW_ADMIN_PORT: String(await freePort()) });
    const { code } = await run.exited;
    assert.notEqual(code, 0);
    assert.match(run.stderr(), /serve\.public\.port/);
    assert.match(run.stderr(), /CURFEW_PUBLIC_PORT/);
    assert.ok(!existsSync(join(cwd, "data")), "nothing was created before the configuration was checked");
  });

  it("D17: an unknown key in the YAML file given with --config stops start-up naming the key", async () => {
    const cwd = freshDir();
    const file = join(cwd, "curfew.yaml");
    writeFileSync(file, ["serve:", "  public:", "    prot: 4433", "sesion:", "  lifespan: 1h", ""].join("\n"));
    const run = start(cwd, { CURFEW_PUBLIC_PORT: String(await freePort()), CURFEW_ADMIN_PORT: String(await freePort()) }, ["--config", file, "serve"]);
    const { code } = await run.exited;
    assert.notEqual(code, 0);
    assert.match(run.stderr(), /serve\.public\.prot/);
    assert.match(run.stderr(), /\bsesion\b/);
    assert.match(run.stderr(), /unknown key/);
    assert.ok(!existsSync(join(cwd, "data")), "nothing was created before the configuration was checked");
  });

  it("D17: a wrong value in the YAML file names the key", async () => {
    const cwd = freshDir();
    const file = join(cwd, "curfew.yaml");
    writeFileSync(file, ["session:", "  idle_timeout: soon", ""].join("\n"));
    const run = start(cwd, { CURFEW_PUBLIC_PORT: String(await freePort()), CURFEW_ADMIN_PORT: String(await freePort()) }, ["--config", file, "serve"]);
    const { code } = await run.exited;
    assert.notEqual(code, 0);
    assert.match(run.stderr(), /session\.idle_timeout/);
  });

  it("D3: NODE_ENV=production without CURFEW_SECRET refuses to start, naming secrets.default, and generates nothing", async () => {
    const cwd = freshDir();
    const run = start(cwd, { NODE_ENV: "production", CURFEW_PUBLIC_PORT: String(await freePort()), CURFEW_ADMIN_PORT: String(await freePort()) });
    const { code } = await run.exited;
    assert.notEqual(code, 0);
    assert.match(run.stderr(), /secrets\.default/);
    assert.ok(!existsSync(join(cwd, "data", "curfew.secret")), "no secret was generated in production");
  });
});

/** Whether anything still answers at `url`: polled until it stops, or the deadline passes. */
async function stillServingAfterDeadline(url: string): Promise<boolean> {
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    try {
      await (await fetch(url)).arrayBuffer();
    } catch {
      return false; // refused: nobody listens any more
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Whether process `pid` still exists: polled until it is gone, or the deadline passes. */
async function aliveAfterDeadline(pid: number): Promise<boolean> {
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

describe("stopping: SIGTERM to the process a supervisor started", () => {
  const runs: [string, string[]][] = [
    ["npm start", ["start"]],
    ["npx curfew serve", ["exec", "--", "curfew", "serve", "--config", DEMO_CONFIG]],
  ];
  for (const [name, args] of runs) {
    it(`${name}: SIGTERM to npm stops the server behind it; nothing is left listening on either port`, async () => {
      const dir = freshDir();
      const publicPort = await freePort();
      const adminPort = await freePort();
      const running = startNpm(args, {
        CURFEW_PUBLIC_PORT: String(publicPort),
        CURFEW_ADMIN_PORT: String(adminPort),
        CURFEW_DATABASE_URL: `sqlite:${join(dir, "curfew.sqlite")}`,
        CURFEW_SECRET: "a-secret-for-the-stop-test-0123456789",
      });
      await waitUntilServing(running, `http://127.0.0.1:${publicPort}/health/alive`);
      const pid = /"pid":(\d+)/.exec(running.stdout())?.[1];
      assert.ok(pid, `the server logs its pid\n${running.stdout()}`);
      grandchildren.add(Number(pid));
      running.child.kill("SIGTERM");
      await running.exited;
      assert.equal(await stillServingAfterDeadline(`http://127.0.0.1:${publicPort}/health/alive`), false, "the public port is free");
      assert.equal(await stillServingAfterDeadline(`http://127.0.0.1:${adminPort}/health/alive`), false, "the admin port is free");
      assert.equal(await aliveAfterDeadline(Number(pid)), false, "the server process is gone, not orphaned");
      grandchildren.delete(Number(pid));
    });
  }

  it("INV-1: SIGTERM in the middle of a burst of logouts: in-flight requests finish, it exits 0, and every acknowledged logout is on disk", async () => {
    const dir = freshDir();
    const publicPort = await freePort();
    const adminPort = await freePort();
    const file = join(dir, "curfew.sqlite");
    const running = start(dir, {
      CURFEW_PUBLIC_PORT: String(publicPort),
      CURFEW_ADMIN_PORT: String(adminPort),
      CURFEW_DATABASE_URL: `sqlite:${file}`,
      CURFEW_HASHERS__ARGON2__MEMORY_KIB: "64",
      CURFEW_HASHERS__ARGON2__ITERATIONS: "1",
      CURFEW_LOGIN__RATE_LIMIT__PER_IP__MAX: "100000",
    });
    const pub = `http://127.0.0.1:${publicPort}`;
    await waitUntilServing(running, `${pub}/health/alive`);
    const password = "a long enough password 2";
    const created = await json(`http://127.0.0.1:${adminPort}/admin/identities`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ schema_id: "default", traits: { email: "burst@example.com" }, credentials: { password: { config: { password } } } }),
    });
    assert.equal(created.status, 201);
    const sessions: { token: string; id: string }[] = [];
    for (let i = 0; i < 150; i++) {
      const flow = await json(`${pub}/self-service/login/api`);
      const login = await json(`${pub}/self-service/login?flow=${flow.body.id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ method: "password", identifier: "burst@example.com", password }),
      });
      assert.equal(login.status, 200);
      sessions.push({ token: login.body.session_token, id: login.body.session.id });
    }

    let signalled = false;
    const answers = await Promise.all(
      sessions.map((s) =>
        fetch(`${pub}/self-service/logout/api`, {
          method: "DELETE",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ session_token: s.token }),
        }).then(
          async (res) => {
            await res.arrayBuffer();
            // The first answer is the middle of the burst: the others are in flight or queued.
            if (!signalled) {
              signalled = true;
              running.child.kill("SIGTERM");
            }
            return res.status;
          },
          () => 0, // refused or cut: no answer, so no claim
        ),
      ),
    );
    assert.deepEqual(await running.exited, { code: 0, signal: null }, running.stderr());
    const acknowledged = sessions.filter((_, i) => answers[i] === 204);
    assert.ok(acknowledged.length > 0, "some logouts were answered");
    assert.ok(answers.every((status) => status === 204 || status === 503 || status === 0), `only 204, 503 or no answer: ${answers.join(",")}`);
    const db = new Sqlite(file, { readonly: true });
    try {
      const revokedAt = db.prepare("SELECT revoked_at FROM sessions WHERE id = ?").pluck();
      const lost = acknowledged.filter((s) => revokedAt.get(s.id) === null);
      assert.deepEqual(lost, [], "every logout answered 204 is revoked on disk");
    } finally {
      db.close();
    }
  });
});
