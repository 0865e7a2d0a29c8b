/**
 * FLT-01 and readiness against a real PostgreSQL that stops answering rather than hanging up: a
 * lock another transaction holds on Curfew's tables (what a long migration or a stuck job does),
 * and Curfew's own backends frozen by SIGSTOP (what a host that stalls does). Curfew runs over
 * sockets on a schema of its own, with one-second timeouts. Every request must get an answer,
 * 503 when the store could not confirm, never a success it did not commit (INV-1, INV-3);
 * `/health/ready` must say not-ready while nothing commits; and Curfew must recover by itself.
 * Runs only when TEST_POSTGRES_URL is set (house rule 7). Waits are bounded so a hang fails the
 * test instead of stalling it; no duration is asserted.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { postgresSchema } from "../support/postgres.ts";
import { type TestServer, startTestServer } from "../support/server.ts";

const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
const PASSWORD = "stalled store correct horse 42";
/** Far above Curfew's timeouts (1 s, 1 s + the client's grace): an answer later than this is a hang. */
const NO_ANSWER_MS = 20_000;

if (POSTGRES_URL) {
  describe("FLT-01: a PostgreSQL that stops answering", () => {
    let schema: Awaited<ReturnType<typeof postgresSchema>>;
    let server: TestServer;
    let outside: pg.Client;

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL, "curfew_flt01");
      outside = new pg.Client({ connectionString: POSTGRES_URL });
      await outside.connect();
      server = await startTestServer({
        listen: true,
        config: {
          "database.url": schema.url,
          "database.postgres.statement_timeout": "1s",
          "database.postgres.connect_timeout": "1s",
          "login.rate_limit.per_ip.max": 100_000,
        },
      });
      await server.server.core.identities.create({ traits: { email: "stalls@example.com" }, password: PASSWORD }, "test");
    });

    after(async () => {
      await server?.close();
      await outside?.end();
      await schema?.drop();
    });

    /** A request's status, or the error fetch gave; aborted (a failure) if no answer comes at all. */
    async function call(path: string, init: RequestInit = {}): Promise<number | string> {
      try {
        const res = await fetch(`${server.publicUrl}${path}`, { ...init, signal: AbortSignal.timeout(NO_ANSWER_MS) });
        await res.arrayBuffer();
        return res.status;
      } catch (error) {
        return (error as Error).name;
      }
    }
    const whoami = (token: string) => call("/sessions/whoami", { headers: { accept: "application/json", "x-session-token": token } });
    const logout = (token: string) =>
      call("/self-service/logout/api", { method: "DELETE", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ session_token: token }) });
    const ready = () => call("/health/ready");

    async function signIn(): Promise<string> {
      const flow = (await (await fetch(`${server.publicUrl}/self-service/login/api`, { headers: { accept: "application/json" } })).json()) as { id: string };
      const res = await fetch(`${server.publicUrl}/self-service/login?flow=${flow.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ method: "password", identifier: "stalls@example.com", password: PASSWORD }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { session_token: string }).session_token;
    }

    /** Until `check` holds (a bounded wait: Curfew recovers by itself, the test only waits for it). */
    async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
      for (let i = 0; i < 200; i++) {
        if (await check()) return;
        await sleep(100);
      }
      assert.fail(`never: ${what}`);
    }

    it("FLT-01: with Curfew's tables locked by another transaction, whoami, logout and readiness answer 503, nothing ends, and all recovers when the lock goes", async () => {
      const cached = await signIn();
      assert.equal(await whoami(cached), 200, "now in the node's cache");
      const token = await signIn();
      assert.equal(await ready(), 200);
      await sleep(1_100); // readiness probes once a second; the next check is a new probe
      await outside.query("BEGIN");
      await outside.query(`LOCK TABLE ${schema.name}.sessions, ${schema.name}.nodes IN ACCESS EXCLUSIVE MODE`);
      try {
        assert.equal(await whoami(token), 503, "a session not in the cache needs the database");
        assert.equal(await logout(token), 503, "INV-1: the logout could not commit, so it is not a success");
        assert.equal(await ready(), 503, "not ready while nothing commits");
        assert.equal(await call("/health/alive"), 200);
        // The node cannot renew its lease (its row is locked), so it stops answering from its
        // cache too once the lease has run out (ADR 0021).
        await eventually(async () => (await whoami(cached)) === 503, "the cached session needs the database once the lease has lapsed");
      } finally {
        await outside.query("ROLLBACK");
      }
      await eventually(async () => (await ready()) === 200, "ready again");
      assert.equal(await whoami(token), 200, "the refused logout ended nothing");
      assert.equal(await whoami(cached), 200);
      assert.equal(await logout(token), 204, "the logout, repeated, succeeds");
      assert.equal(await whoami(token), 401);
    });

    it("FLT-01: with Curfew's backends frozen (SIGSTOP), every request gets an answer, 503 or a success it committed; the frozen connections are dropped and Curfew recovers", async () => {
      const tokens = await Promise.all(Array.from({ length: 12 }, () => signIn()));
      const { rows } = await outside.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        [schema.name],
      );
      assert.ok(rows.length > 0, "Curfew holds connections to freeze");
      for (const { pid } of rows) process.kill(pid, "SIGSTOP");
      let logouts: (number | string)[];
      let whoamis: (number | string)[];
      try {
        // More requests at once than frozen connections: some meet a frozen one, the rest new ones.
        [logouts, whoamis] = await Promise.all([Promise.all(tokens.slice(0, 6).map(logout)), Promise.all(tokens.slice(6).map(whoami))]);
      } finally {
        for (const { pid } of rows) {
          try {
            process.kill(pid, "SIGCONT");
          } catch {
            // The backend has exited meanwhile (its client hung up).
          }
        }
      }
      for (const status of [...logouts, ...whoamis]) assert.ok(status === 200 || status === 204 || status === 503, `answered ${status}`);
      assert.ok([...logouts, ...whoamis].includes(503), "a request that met a frozen connection was answered 503");
      // INV-1: every logout answered 204 has ended its session; the others may be retried.
      for (const [i, status] of logouts.entries()) {
        if (status === 204) assert.equal(await whoami(tokens[i]!), 401);
      }
      await eventually(async () => (await ready()) === 200, "ready again");
      for (const [i, status] of logouts.entries()) {
        if (status === 503) assert.ok([204].includes((await logout(tokens[i]!)) as number), "a refused logout, repeated, succeeds");
        assert.equal(await whoami(tokens[i]!), 401);
      }
      for (const token of tokens.slice(6)) assert.equal(await whoami(token), 200, "untouched sessions are still live");
    });
  });
}
