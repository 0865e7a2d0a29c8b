/**
 * The `curfew` command line, run as an operator runs it (`node bin/curfew.js …`), against a SQLite
 * file that a running server shares. The rule that matters most here is INV-2 across processes:
 * a session the CLI revokes is refused by a server that had it cached a moment before (D8: the
 * server notices another process's commit through `PRAGMA data_version`).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { ConfigSchema } from "../../src/config/schema.ts";
import { freePort } from "../support/ports.ts";
import { cleanEnv } from "../support/processes.ts";
import { TEST_SECRET, TEST_SIGNING_KEYS, type TestServer, startTestServer } from "../support/server.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "curfew.js");
const PASSWORD = "the operator's long password 7";

let dir: string;
let databaseUrl: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/curfew.js …` from the project root with a clean CURFEW_* environment. */
async function curfew(args: string[], extraEnv: Record<string, string> = {}, cwd = ROOT): Promise<Result> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** A fresh shell's environment (test/support/processes.ts) with this file's database, secret and keys. */
function cliEnv(extraEnv: Record<string, string>): NodeJS.ProcessEnv {
  return cleanEnv({
    CURFEW_DATABASE_URL: databaseUrl,
    CURFEW_SECRET: TEST_SECRET,
    CURFEW_OIDC_SIGNING_KEYS: TEST_SIGNING_KEYS,
    CURFEW_HASHERS__ARGON2__MEMORY_KIB: "64",
    CURFEW_HASHERS__ARGON2__ITERATIONS: "1",
    ...extraEnv,
  });
}

/** Runs a command that must succeed, and returns its stdout. */
async function ok(args: string[], extraEnv: Record<string, string> = {}, cwd = ROOT): Promise<string> {
  const r = await curfew(args, extraEnv, cwd);
  assert.equal(r.code, 0, `curfew ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

interface CliIdentity {
  id: string;
  traits: { email: string; username?: string };
}
/** A session as the CLI prints it: the admin API's JSON (`GET /admin/sessions?expand=identity`). */
interface CliSession {
  id: string;
  active: boolean;
  door: string;
  identity: { id: string } | null;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "curfew-cli-"));
  databaseUrl = `sqlite:${join(dir, "x.sqlite")}`;
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("curfew CLI", () => {
  let server: TestServer;
  let identity: CliIdentity;

  /** A native sign-in through the running server: the session the CLI will then end. */
  async function signIn(identifier: string, password = PASSWORD): Promise<{ status: number; token: string; sessionId: string }> {
    const flow = (await (await fetch(`${server.publicUrl}/self-service/login/api`, { headers: { accept: "application/json" } })).json()) as { id: string };
    const res = await fetch(`${server.publicUrl}/self-service/login?flow=${flow.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ method: "password", identifier, password }),
    });
    const body = (await res.json()) as { session_token?: string; session?: { id: string } };
    return { status: res.status, token: body.session_token ?? "", sessionId: body.session?.id ?? "" };
  }

  async function whoami(token: string): Promise<number> {
    const res = await fetch(`${server.publicUrl}/sessions/whoami`, { headers: { "x-session-token": token, accept: "application/json" } });
    await res.arrayBuffer();
    return res.status;
  }

  after(async () => {
    await server?.close();
  });

  it("D17: a command other than migrate refuses to work on a database that does not exist, and creates nothing", async () => {
    const r = await curfew(["sessions", "list"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no database at .*x\.sqlite/);
    assert.match(r.stderr, /curfew migrate/);
    assert.ok(!existsSync(join(dir, "x.sqlite")), "no empty database was created");
  });

  it("migrate creates the database, names what it applied, and says where", async () => {
    const r = await curfew(["migrate"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied 9 migration\(s\): 0001_initial, 0002_flow_views_and_errors, 0003_flow_csrf_token_text, 0004_oidc, 0005_nodes, 0006_node_leases, 0007_partial_revoked_index, 0008_audit_sign_in_attempts, 0009_settings_flows/);
    assert.match(r.stderr, new RegExp(`database .*x\\.sqlite \\(new\\)`), "it says which file it created");
    assert.ok(existsSync(join(dir, "x.sqlite")));
    // Idempotent, and it says so.
    const again = await curfew(["migrate"]);
    assert.match(again.stdout, /up to date; nothing to apply/);
    assert.match(again.stderr, /database .*x\.sqlite\n/, "it says which file it opened");
  });

  it("identities create takes the password from CURFEW_PASSWORD and never prints it", async () => {
    const r = await curfew(["identities", "create", "--email", "Ada@Example.COM", "--username", "Ada"], { CURFEW_PASSWORD: PASSWORD });
    assert.equal(r.code, 0, r.stderr);
    identity = JSON.parse(r.stdout) as CliIdentity;
    assert.match(identity.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(identity.traits, { email: "Ada@Example.COM", username: "Ada" });
    assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD), "the password is not echoed");
    assert.ok(!/argon2/.test(r.stdout), "no password verifier is printed");
  });

  it("identities create without a password is a usage error (exit 2), unless --no-password says so", async () => {
    const refused = await curfew(["identities", "create", "--email", "nopass@example.com"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /a password is needed: set CURFEW_PASSWORD/);
    assert.match(refused.stderr, /--no-password/);
    assert.deepEqual(JSON.parse(await ok(["identities", "list", "--identifier", "nopass@example.com"])), [], "nothing was created");
    const created = JSON.parse(await ok(["identities", "create", "--email", "nopass@example.com", "--no-password"])) as CliIdentity;
    assert.deepEqual(created.traits, { email: "nopass@example.com" });
    await ok(["identities", "delete", created.id]);
  });

  it("D9: identities create refuses a duplicate identifier, matched case-insensitively", async () => {
    const r = await curfew(["identities", "create", "--email", "ada@example.com"], { CURFEW_PASSWORD: PASSWORD });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exists already/);
  });

  it("D9: identities list --identifier finds the identity by email or username, case-insensitively", async () => {
    for (const identifier of ["ada@example.com", "ADA@EXAMPLE.COM", "ada", "Ada"]) {
      const listed = JSON.parse(await ok(["identities", "list", "--identifier", identifier])) as CliIdentity[];
      assert.deepEqual(listed.map((i) => i.id), [identity.id], `found by ${identifier}`);
    }
    assert.deepEqual(JSON.parse(await ok(["identities", "list", "--identifier", "nobody@example.com"])), []);
    const all = JSON.parse(await ok(["identities", "list"])) as CliIdentity[];
    assert.deepEqual(all.map((i) => i.id), [identity.id]);
  });

  it("INV-2 across processes: a session revoked with `sessions revoke <id>` is refused by the running server that had it cached", async () => {
    server = await startTestServer({ listen: true, config: { "database.url": databaseUrl } });
    const a = await signIn("ada@example.com");
    const b = await signIn("ADA");
    const c = await signIn("Ada@Example.COM");
    for (const s of [a, b, c]) assert.equal(s.status, 200);
    // Warm the server's session cache (D8): each token validated more than once.
    for (const s of [a, b, c]) {
      assert.equal(await whoami(s.token), 200);
      assert.equal(await whoami(s.token), 200);
    }

    const listed = JSON.parse(await ok(["sessions", "list"])) as CliSession[];
    assert.deepEqual(listed.map((s) => s.id).sort(), [a.sessionId, b.sessionId, c.sessionId].sort());
    for (const s of listed) {
      assert.equal(s.active, true);
      assert.equal(s.identity?.id, identity.id);
      assert.equal(s.door, "kratos");
      assert.ok(!JSON.stringify(s).includes("secret"), "the stored hash is not printed");
    }
    for (const s of [a, b, c]) assert.ok(!JSON.stringify(listed).includes(s.token.split(".")[1]!), "no token secret is printed");

    const out = await ok(["sessions", "revoke", a.sessionId]);
    assert.match(out, new RegExp(`revoked 1 session\\(s\\): ${a.sessionId}`));

    assert.equal(await whoami(a.token), 401, "the server refuses the session the CLI revoked");
    assert.equal(await whoami(b.token), 200, "and only that one");
    assert.equal(await whoami(c.token), 200);

    const after = JSON.parse(await ok(["sessions", "list", "--identity", identity.id])) as CliSession[];
    const revoked = after.find((s) => s.id === a.sessionId);
    assert.equal(revoked?.active, false, "the row is kept, ended (D6)");
    assert.equal((await server.server.store.findSession(a.sessionId))?.revokedReason, "revoked_by_admin");
    const live = JSON.parse(await ok(["sessions", "list", "--active"])) as CliSession[];
    assert.deepEqual(live.map((s) => s.id).sort(), [b.sessionId, c.sessionId].sort());

    // Revoking it again ends nothing new, and says so.
    assert.match(await ok(["sessions", "revoke", a.sessionId]), new RegExp(`revoked 0 session\\(s\\): ${a.sessionId} had already ended`));
  });

  it("INV-2 across processes: `sessions revoke --identity` ends every live session, and the server refuses them all", async () => {
    const d = await signIn("ada");
    const e = await signIn("ada@example.com");
    for (const s of [d, e]) {
      assert.equal(await whoami(s.token), 200);
      assert.equal(await whoami(s.token), 200);
    }
    const live = JSON.parse(await ok(["sessions", "list", "--active", "--identity", identity.id])) as CliSession[];
    assert.ok(live.length >= 2);

    const out = await ok(["sessions", "revoke", "--identity", identity.id]);
    assert.match(out, new RegExp(`revoked ${live.length} session\\(s\\)`));
    for (const s of [d, e]) assert.equal(await whoami(s.token), 401);
    assert.deepEqual(JSON.parse(await ok(["sessions", "list", "--active"])), []);

    // The identity itself is untouched: it can sign in again.
    const again = await signIn("ada");
    assert.equal(again.status, 200);
    assert.equal(await whoami(again.token), 200);
  });

  it("sessions revoke: a malformed id is a usage error (exit 2), an unknown one is refused (exit 1) as the admin API's 404", async () => {
    const malformed = await curfew(["sessions", "revoke", "not-a-uuid"]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /not a session id/);
    const unknown = await curfew(["sessions", "revoke", "00000000-0000-4000-8000-000000000000"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no session with that id/);
    const unknownIdentity = await curfew(["sessions", "revoke", "--identity", "00000000-0000-4000-8000-000000000000"]);
    assert.equal(unknownIdentity.code, 1);
    assert.match(unknownIdentity.stderr, /no identity with that id/);
  });

  it("deliveries list prints the outbox as JSON; retry of a malformed id exits 2, of an unknown one 1; a bad --status is a usage error", async () => {
    assert.deepEqual(JSON.parse(await ok(["deliveries", "list"])), []);
    assert.equal((await curfew(["deliveries", "list", "--status", "lost"])).code, 2);
    const malformed = await curfew(["deliveries", "retry", "nope"]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /not a delivery id/);
    const unknown = await curfew(["deliveries", "retry", "00000000-0000-4000-8000-000000000000"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no undelivered notice with that id/);
  });

  it("clients create prints the app with its secret once; the running server takes it at once; get, list and delete; bad metadata is a usage error", async () => {
    const created = JSON.parse(
      await ok(["clients", "create", "--client-id", "cli-app", "--redirect-uri", "https://cli.example/cb", "--redirect-uri", "https://cli.example/cb2", "--backchannel-logout-uri", "https://cli.example/bc"]),
    ) as { client_id: string; client_secret: string; redirect_uris: string[]; source: string };
    assert.equal(created.client_id, "cli-app");
    assert.deepEqual(created.redirect_uris, ["https://cli.example/cb", "https://cli.example/cb2"]);
    assert.equal(created.source, "admin");
    assert.ok(await server.server.core.apps.authenticate({ clientId: "cli-app", secret: created.client_secret }), "the server's store has it, secret and all");
    const got = JSON.parse(await ok(["clients", "get", "cli-app"]));
    assert.equal(got.client_secret, undefined, "the secret is shown once");
    assert.ok((JSON.parse(await ok(["clients", "list"])) as { client_id: string }[]).some((a) => a.client_id === "cli-app"));
    const taken = await curfew(["clients", "create", "--client-id", "cli-app", "--redirect-uri", "https://cli.example/cb"]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /exists already/);
    const bad = await curfew(["clients", "create", "--redirect-uri", "https://user@cli.example/cb"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /redirect_uris/);
    assert.equal((await curfew(["clients", "create"])).code, 2, "--redirect-uri is required");
    const badId = await curfew(["clients", "create", "--client-id", "a b", "--redirect-uri", "https://cli.example/cb"]);
    assert.equal(badId.code, 2, "a client_id the admin API would refuse is refused here too");
    assert.match(badId.stderr, /client_id/);
    assert.match(await ok(["clients", "delete", "cli-app"]), /deleted: cli-app/);
    assert.equal((await curfew(["clients", "get", "cli-app"])).code, 1);
    assert.equal((await curfew(["clients", "delete", "cli-app"])).code, 1);
  });

  it("signing-keys rotate: a new key signs after SIGHUP, the old one stays in the JWKS; keys of configuration are rotated there", async (t) => {
    const configured = await curfew(["signing-keys", "rotate"]);
    assert.equal(configured.code, 1);
    assert.match(configured.stderr, /oidc\.signing_keys/);
    // A server keeping its keys in its own data directory (its working directory's data/).
    const home = mkdtempSync(join(tmpdir(), "curfew-keys-"));
    t.after(() => rmSync(home, { recursive: true, force: true }));
    const kept = { CURFEW_OIDC_SIGNING_KEYS: "" };
    assert.equal((await curfew(["signing-keys", "rotate"], kept, home)).code, 1, "nothing kept yet: nothing to rotate");
    const [port, adminPort] = [await freePort(), await freePort()];
    const serve = spawn(process.execPath, [BIN, "serve"], {
      cwd: home,
      env: cliEnv({ ...kept, CURFEW_PUBLIC_PORT: String(port), CURFEW_ADMIN_PORT: String(adminPort), CURFEW_LOG__LEVEL: "warn" }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let serveErr = "";
    serve.stderr.setEncoding("utf8").on("data", (s: string) => (serveErr += s));
    t.after(() => serve.kill("SIGKILL"));
    const jwks = async (): Promise<string[] | null> => {
      try {
        const body = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
        return body.keys.map((k) => k.kid);
      } catch {
        return null;
      }
    };
    const until = async (check: (kids: string[] | null) => boolean): Promise<string[]> => {
      for (let i = 0; i < 200; i++) {
        const kids = await jwks();
        if (check(kids)) return kids!;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the server never got there:\n${serveErr}`);
    };
    const [first] = await until((kids) => kids !== null);
    const rotated = await ok(["signing-keys", "rotate"], kept, home);
    const fresh = /new signing key (\S+);/.exec(rotated)?.[1];
    assert.ok(fresh && fresh !== first, rotated);
    assert.deepEqual(await jwks(), [first], "nothing changes before SIGHUP");
    serve.kill("SIGHUP");
    assert.deepEqual(await until((kids) => kids?.length === 2), [fresh, first]);
  });

  it("identities set-password reads the password from standard input, never argv, and ends every session; update --state inactive refuses sign-in", async () => {
    server ??= await startTestServer({ listen: true, config: { "database.url": databaseUrl } });
    const reset = JSON.parse(await ok(["identities", "create", "--email", "reset@example.com"], { CURFEW_PASSWORD: PASSWORD })) as { id: string };
    const before = await signIn("reset@example.com");
    assert.equal(before.status, 200);
    const fresh = "a fresh passphrase from stdin 5";
    const child = spawn(process.execPath, [BIN, "identities", "set-password", reset.id], { cwd: ROOT, env: cliEnv({}), stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.stdin.end(`${fresh}\n`);
    assert.equal(await new Promise((r) => child.once("close", r)), 0, err);
    assert.match(out, new RegExp(`password reset for ${reset.id}; ended 1 session\\(s\\)`));
    assert.ok(!out.includes(fresh) && !err.includes(fresh), "the password is never printed");
    assert.equal(await whoami(before.token), 401, "the running server refuses the session the reset ended");
    assert.equal((await signIn("reset@example.com")).status, 400);
    assert.equal((await signIn("reset@example.com", fresh)).status, 200);
    assert.equal((await curfew(["identities", "set-password", reset.id, "--password", "in-argv"])).code, 2, "no way to give it in argv");

    const deactivated = JSON.parse(await ok(["identities", "update", reset.id, "--state", "inactive"])) as { state: string };
    assert.equal(deactivated.state, "inactive");
    assert.equal((await signIn("reset@example.com", fresh)).status, 400);
    await ok(["identities", "update", reset.id, "--state", "active"]);
    assert.equal((await signIn("reset@example.com", fresh)).status, 200);
    assert.equal((await curfew(["identities", "update", reset.id])).code, 2, "nothing to change is a usage error");
  });

  it("audit list prints the trail as GET /admin/audit answers; its filters are checked; --follow prints each new event as it is written", async () => {
    const audited = JSON.parse(await ok(["identities", "create", "--email", "audited@example.com", "--no-password"])) as { id: string };
    const created = JSON.parse(await ok(["audit", "list", "--type", "identity.created"])) as { type: string; identity_id: string; actor: string }[];
    assert.ok(created.every((e) => e.type === "identity.created"));
    assert.deepEqual(created[0], { ...created[0], identity_id: audited.id, actor: "cli" }, "newest first");
    assert.equal((await curfew(["audit", "list", "--since", "yesterday"])).code, 2);
    assert.equal((await curfew(["audit", "list", "--type", "session.stolen"])).code, 2);
    assert.equal((await curfew(["audit", "list", "--identity", "ada"])).code, 2);

    const follow = spawn(process.execPath, [BIN, "audit", "list", "--follow", "--type", "identity.created", "--limit", "1"], {
      cwd: ROOT,
      env: cliEnv({}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    follow.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    const lines = () => out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { type: string; identity_id: string });
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 20_000; !done(); ) {
        assert.ok(Date.now() < deadline, `no such output from audit list --follow:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until(() => lines().length === 1);
      const fresh = JSON.parse(await ok(["identities", "create", "--email", "followed@example.com", "--no-password"])) as { id: string };
      await until(() => lines().length === 2);
      assert.equal(lines()[1]!.identity_id, fresh.id, "the new event, once, after the old one");
    } finally {
      follow.kill("SIGINT");
    }
    assert.equal(await new Promise((r) => follow.once("close", r)), 0, "an interrupted --follow exits 0");
  });

  it("--limit takes a whole number from 1 to 1000; anything else is a usage error, not a store failure", async () => {
    for (const limit of ["abc", "0", "1001", "1.5"]) {
      const r = await curfew(["sessions", "list", "--limit", limit]);
      assert.equal(r.code, 2, `--limit ${limit}`);
      assert.match(r.stderr, /--limit/);
      assert.doesNotMatch(r.stderr, /store/);
    }
  });

  it("sessions revoke needs exactly one of a session id and --identity", async () => {
    const neither = await curfew(["sessions", "revoke"]);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give a session id or --identity/);
    assert.doesNotMatch(neither.stderr, /not both/);
    const both = await curfew(["sessions", "revoke", "00000000-0000-4000-8000-000000000000", "--identity", identity.id]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either a session id or --identity .*not both/);
  });

  it("INV-2, D6 across processes: `identities delete` revokes every session first; the server refuses them and the identity cannot sign in", async () => {
    const f = await signIn("ada");
    assert.equal(await whoami(f.token), 200);
    assert.equal(await whoami(f.token), 200);

    const out = await ok(["identities", "delete", identity.id]);
    assert.match(out, new RegExp(`deleted identity ${identity.id}`));

    assert.equal(await whoami(f.token), 401);
    assert.equal((await signIn("ada")).status, 400, "sign-in fails as for any unknown identifier (D14)");
    assert.deepEqual(JSON.parse(await ok(["identities", "list", "--identifier", "ada"])), []);
    const sessions = JSON.parse(await ok(["sessions", "list", "--identity", identity.id])) as CliSession[];
    assert.ok(sessions.length > 0 && sessions.every((s) => !s.active), "its session rows are kept, all ended");

    const again = await curfew(["identities", "delete", identity.id]);
    assert.equal(again.code, 1, "deleting an unknown identity fails");
    assert.match(again.stderr, /no identity with that id/);
  });

  it("config reference prints a Markdown table with every configuration key", async () => {
    const out = await ok(["config", "reference"]);
    assert.match(out, /^# Configuration reference/m);
    assert.match(out, /^\| Key \| Type \| Default \| Environment \| Meaning \|$/m);
    const keys: string[] = [];
    const walk = (node: { type?: string; properties?: Record<string, unknown> }, path: string[]) => {
      if (node.type === "object" && node.properties && Object.keys(node.properties).length > 0) {
        for (const [k, child] of Object.entries(node.properties)) walk(child as typeof node, [...path, k]);
      } else keys.push(path.join("."));
    };
    walk(ConfigSchema as unknown as { type?: string; properties?: Record<string, unknown> }, []);
    assert.ok(keys.length > 20, "the schema has its keys");
    for (const key of keys) {
      const row = out.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
      assert.ok(row, `the reference has a row for ${key}`);
      assert.ok(row.includes(`CURFEW_${key.toUpperCase().split(".").join("__")}`), `the row for ${key} names its environment variable`);
    }
    for (const alias of ["CURFEW_PUBLIC_PORT", "CURFEW_DATABASE_URL", "CURFEW_SECRET"]) assert.ok(out.includes(alias), `names ${alias}`);
  });

  it("a wrong setting stops any command with the key named", async () => {
    const r = await curfew(["identities", "list"], { CURFEW_DATABASE_URL: "mysql://nope" });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /database\.url/);
  });
});
