/**
 * INV-2 for several nodes (docs/adr/0021-cache-across-nodes.md), with real processes: three
 * `curfew serve` nodes on one PostgreSQL database, each answering from its own session cache. A
 * logout answered by one node is refused by every other node on the first request sent after the
 * answer, including while they are hammered during it, while one of them is frozen (SIGSTOP), and
 * after one of them has lost its listening connection; the CLI's and the admin API's revocations
 * the same. Runs only when TEST_POSTGRES_URL is set (house rule 7).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { freePort } from "../support/ports.ts";
import { postgresSchema } from "../support/postgres.ts";
import { type Running, children, cleanEnv, stop, track, waitUntilServing } from "../support/processes.ts";

const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
const BIN = fileURLToPath(new URL("../../bin/curfew.js", import.meta.url));
const PASSWORD = "correct horse battery staple";
const EMAIL = "grace@example.com";
/** Short, so the frozen-node case waits one second, not two. */
const LEASE = "1s";

interface Node {
  name: string;
  port: number;
  adminPort: number;
  running: Running;
}

if (POSTGRES_URL) {
  describe("INV-2 across nodes: three processes on one PostgreSQL, each with its cache (ADR 0021)", () => {
    let schema: Awaited<ReturnType<typeof postgresSchema>>;
    let dir: string;
    const nodes: Node[] = [];

    /** `curfew …` in the shared directory, with the shared database, named `name` in pg_stat_activity. */
    function curfew(args: string[], name: string, env: Record<string, string> = {}): Running {
      const url = new URL(schema.url);
      url.searchParams.set("application_name", `${schema.name}_${name}`);
      return track(
        spawn(process.execPath, [BIN, ...args], {
          cwd: dir,
          env: cleanEnv({ CURFEW_DATABASE_URL: url.href, CURFEW_CLUSTER__LEASE: LEASE, ...env }),
          stdio: ["ignore", "pipe", "pipe"],
        }),
      );
    }

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL, "curfew_xnode");
      dir = mkdtempSync(join(tmpdir(), "curfew-xnode-"));
      // One after the other: the first keeps the secret and the signing keys the others read.
      for (const name of ["a", "b", "c"]) {
        const [port, adminPort] = [await freePort(), await freePort()];
        const running = curfew(["serve"], name, { CURFEW_PUBLIC_PORT: String(port), CURFEW_ADMIN_PORT: String(adminPort) });
        await waitUntilServing(running, `http://127.0.0.1:${port}/health/ready`);
        nodes.push({ name, port, adminPort, running });
      }
      const create = curfew(["identities", "create", "--email", EMAIL], "cli", { CURFEW_PASSWORD: PASSWORD });
      assert.equal((await create.exited).code, 0, create.stderr());
    });

    after(async () => {
      for (const node of nodes) {
        node.running.child.kill("SIGCONT");
        await stop(node.running);
      }
      for (const child of children) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      await schema?.drop();
    });

    const a = () => nodes[0]!;
    const b = () => nodes[1]!;
    const c = () => nodes[2]!;

    async function signIn(node: Node): Promise<{ token: string; id: string }> {
      const flow = (await (await fetch(`http://127.0.0.1:${node.port}/self-service/login/api`)).json()) as { id: string };
      const res = await fetch(`http://127.0.0.1:${node.port}/self-service/login?flow=${flow.id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ method: "password", identifier: EMAIL, password: PASSWORD }),
      });
      assert.equal(res.status, 200);
      const { session_token: token } = (await res.json()) as { session_token: string };
      return { token, id: token.split(".")[0]! };
    }

    async function whoami(node: Node, token: string): Promise<number> {
      const res = await fetch(`http://127.0.0.1:${node.port}/sessions/whoami`, { headers: { "x-session-token": token } });
      await res.arrayBuffer();
      return res.status;
    }

    async function logout(node: Node, token: string): Promise<void> {
      const res = await fetch(`http://127.0.0.1:${node.port}/self-service/logout/api`, {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session_token: token }),
      });
      assert.equal(res.status, 204);
    }

    /** Signs in on A and has `others` accept the session once, so it is in their caches. */
    async function warmSession(others: Node[]): Promise<{ token: string; id: string }> {
      const session = await signIn(a());
      for (const node of others) assert.equal(await whoami(node, session.token), 200, `${node.name} accepts it before the logout`);
      return session;
    }

    it("INV-2: after A answers a logout, B and C refuse the token on every request sent after the answer, hammered throughout (0 stale accepts)", async () => {
      const ROUNDS = 15;
      let tries = 0;
      let afterAnswer = 0;
      const stale: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { token } = await warmSession([b(), c()]);
        let answeredAt = Number.POSITIVE_INFINITY;
        let stopping = false;
        const loop = async (node: Node) => {
          while (!stopping) {
            const sentAt = performance.now();
            const status = await whoami(node, token);
            tries++;
            if (sentAt > answeredAt) {
              afterAnswer++;
              if (status !== 401) stale.push(`round ${round}: ${node.name} answered ${status}`);
            }
          }
        };
        const loops = [b(), c(), b(), c(), b(), c()].map(loop);
        await new Promise((r) => setTimeout(r, 10));
        await logout(a(), token);
        answeredAt = performance.now();
        await new Promise((r) => setTimeout(r, 40));
        stopping = true;
        await Promise.all(loops);
      }
      assert.deepEqual(stale, [], `stale accepts out of ${afterAnswer} requests sent after the answers`);
      assert.ok(afterAnswer >= ROUNDS * 6, `requests after each answer (${afterAnswer} of ${tries})`);
    });

    it("INV-2: with B frozen (SIGSTOP), A's logout still answers, and B, resumed, refuses the token on its first request", async () => {
      const { token } = await warmSession([b(), c()]);
      const db = new pg.Client({ connectionString: schema.url.replace(/\?.*$/, "") });
      await db.connect();
      const leases = async () => {
        const { rows } = await db.query<{ id: string; lease_until: string; now: string }>(
          `select id, lease_until, (extract(epoch from clock_timestamp()) * 1000)::bigint as now from ${schema.name}.nodes where lease_until is not null`,
        );
        return rows;
      };
      b().running.child.kill("SIGSTOP");
      try {
        await new Promise((r) => setTimeout(r, 100)); // a renewal B sent just before has landed
        const frozen = await leases();
        // B cannot acknowledge: A answers once B's lease has run out (the test's own timeout bounds the wait).
        await logout(a(), token);
        const answered = await leases();
        const stillB = answered.filter((row) => frozen.some((f) => f.id === row.id && f.lease_until === row.lease_until));
        assert.equal(stillB.length, 1, "B's lease, the one not renewed since B froze");
        assert.ok(Number(stillB[0]!.now) >= Number(stillB[0]!.lease_until), "A answered only after B's lease ran out");
        assert.equal(await whoami(c(), token), 401);
      } finally {
        await db.end();
        b().running.child.kill("SIGCONT");
      }
      assert.equal(await whoami(b(), token), 401, "B's first answer after resuming");
      // And B still serves: a new session is accepted there.
      const fresh = await signIn(a());
      assert.equal(await whoami(b(), fresh.token), 200);
    });

    it("INV-2: B's listening connection killed: B answers from the database until it holds a lease again, never stale", async () => {
      const { token } = await warmSession([b()]);
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        const killed = await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [`${schema.name}_b:listener`]);
        assert.equal(killed.rowCount, 1, "B's listening connection");
        // At once, whether or not B has noticed yet: either B has fenced itself, or it has not
        // renewed past the notice it missed, and A waits for its lease.
        await logout(a(), token);
        assert.equal(await whoami(b(), token), 401);
        // B listens again and holds a new lease (its application name reappears), and serves.
        for (let i = 0; ; i++) {
          const again = await admin.query("select 1 from pg_stat_activity where application_name = $1", [`${schema.name}_b:listener`]);
          if (again.rowCount === 1) break;
          assert.ok(i < 200, "B reconnects its listening connection");
          await new Promise((r) => setTimeout(r, 50));
        }
        const second = await warmSession([b()]);
        await logout(a(), second.token);
        assert.equal(await whoami(b(), second.token), 401);
      } finally {
        await admin.end();
      }
    });

    it("INV-2: a revocation by the CLI, and one through A's admin API, are refused by every node as soon as they are answered", async () => {
      const viaCli = await warmSession([a(), b(), c()]);
      const revoke = curfew(["sessions", "revoke", viaCli.id], "cli");
      const exited = await revoke.exited;
      assert.equal(exited.code, 0, revoke.stderr());
      for (const node of nodes) assert.equal(await whoami(node, viaCli.token), 401, `${node.name} after the CLI`);

      const viaAdmin = await warmSession([a(), b(), c()]);
      const res = await fetch(`http://127.0.0.1:${a().adminPort}/admin/sessions/${viaAdmin.id}`, { method: "DELETE" });
      assert.equal(res.status, 204);
      for (const node of nodes) assert.equal(await whoami(node, viaAdmin.token), 401, `${node.name} after the admin API`);
    });
  });
}
