/**
 * FLT-02: PostgreSQL connections dropped while they are in use (a restart, a failover,
 * `pg_terminate_backend`, a network cut). A real Curfew over sockets on a schema of its own
 * (D18) takes a burst of native logouts; while they run, another connection terminates every
 * backend of Curfew's pool, checked-out ones included. The process must not die of the pool
 * client's unhandled 'error' event (it runs in this test's process, so this file would crash),
 * each logout is answered 204 or 503 and never a false 204 (INV-1, INV-3), and Curfew recovers
 * by itself: whoami answers again, and the logouts refused with 503 succeed when repeated.
 * Runs only when TEST_POSTGRES_URL is set (house rule 7).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { postgresSchema } from "../support/postgres.ts";
import { type TestServer, startTestServer } from "../support/server.ts";

const POSTGRES_URL = process.env.TEST_POSTGRES_URL;


const PASSWORD = "connection loss correct horse 42";
/** Sessions logged out in the burst; one more stays live for whoami. */
const LOGOUTS = 300;
/** Sign-ins in flight at once while the sessions are made. */
const SIGN_INS_IN_FLIGHT = 16;
/** Rounds of pg_terminate_backend during the burst (each one that found a backend counts). */
const KILL_ROUNDS = 3;

function sessionIdOf(token: string): string {
  const id = token.split(".", 1)[0]!;
  assert.match(id, /^[0-9a-f-]{36}$/, "tokens are id.secret (D1)");
  return id;
}

function countOf(statuses: readonly (number | Error)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) {
    const key = s instanceof Error ? s.name : String(s);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function jsonBody(body: unknown, method = "POST"): RequestInit {
  return { method, headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) };
}

if (POSTGRES_URL) {
  describe("FLT-02: PostgreSQL connections dropped mid-burst", () => {
    let schema: Awaited<ReturnType<typeof postgresSchema>>;
    let server: TestServer | undefined;
    /** A connection of its own, outside Curfew's pool: it terminates and it reads. */
    let outside: pg.Client;

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL, "curfew_flt02");
      outside = new pg.Client({ connectionString: POSTGRES_URL });
      await outside.connect();
      server = await startTestServer({
        listen: true,
        config: {
          "database.url": schema.url,
          // Every sign-in here comes from 127.0.0.1; keep the per-IP limit out of the way.
          "login.rate_limit.per_ip.max": 100_000,
        },
      });
    });

    after(async () => {
      await server?.close();
      await outside?.end();
      await schema?.drop();
    });

    async function signIn(identifier: string): Promise<string> {
      const flow = await fetch(`${server!.publicUrl}/self-service/login/api`, { headers: { accept: "application/json" } });
      assert.equal(flow.status, 200, await flow.clone().text());
      const { id } = (await flow.json()) as { id: string };
      const res = await fetch(`${server!.publicUrl}/self-service/login?flow=${id}`, jsonBody({ method: "password", identifier, password: PASSWORD }));
      assert.equal(res.status, 200, await res.clone().text());
      const { session_token } = (await res.json()) as { session_token: string };
      sessionIdOf(session_token);
      return session_token;
    }

    /** The native logout's status, or the error fetch rejected with (a hang-up, a reset). */
    function logout(token: string): Promise<number | Error> {
      return fetch(`${server!.publicUrl}/self-service/logout/api`, jsonBody({ session_token: token }, "DELETE")).then(
        async (res) => {
          await res.arrayBuffer();
          return res.status;
        },
        (error: Error) => error,
      );
    }

    async function whoami(token: string): Promise<number | Error> {
      try {
        const res = await fetch(`${server!.publicUrl}/sessions/whoami`, { headers: { accept: "application/json", "x-session-token": token } });
        await res.arrayBuffer();
        return res.status;
      } catch (error) {
        return error as Error;
      }
    }

    /** Terminates every backend of Curfew's pool, idle or busy; how many it found. */
    async function terminateCurfewBackends(): Promise<number> {
      const { rows } = await outside.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1
         ) AS terminated`,
        [schema.name],
      );
      return rows[0]!.n;
    }

    async function stillLive(ids: readonly string[]): Promise<string[]> {
      const { rows } = await outside.query<{ id: string }>(
        `SELECT id FROM ${schema.name}.sessions WHERE id = ANY($1::text[]) AND revoked_at IS NULL`,
        [ids],
      );
      return rows.map((r) => r.id);
    }

    it("the server stays up, answers 503 or 204 to each logout, never a false 204, and whoami answers again", async (t) => {
      // The server runs in this process: an 'error' event nobody listens for is thrown from the
      // socket's callback, which would end a real Curfew. The test runner catches it (and fails the
      // file); watching without handling lets this test name it. uncaughtExceptionMonitor changes nothing.
      const uncaught: Error[] = [];
      const watch = (error: Error) => uncaught.push(error);
      process.on("uncaughtExceptionMonitor", watch);
      t.after(() => process.off("uncaughtExceptionMonitor", watch));

      // One identity, LOGOUTS + 1 sessions through the API (native login, as a native app signs in).
      const email = `flt02-${randomBytes(4).toString("hex")}@example.test`;
      const created = await fetch(
        `${server!.adminUrl}/admin/identities`,
        jsonBody({ schema_id: "default", traits: { email }, credentials: { password: { config: { password: PASSWORD } } } }),
      );
      assert.equal(created.status, 201, await created.clone().text());
      const tokens: string[] = [];
      while (tokens.length < LOGOUTS + 1) {
        const n = Math.min(SIGN_INS_IN_FLIGHT, LOGOUTS + 1 - tokens.length);
        tokens.push(...(await Promise.all(Array.from({ length: n }, () => signIn(email)))));
      }
      const survivor = tokens.pop()!;
      assert.equal(await whoami(survivor), 200);

      // The burst, and the backends terminated while it runs.
      let outstanding = tokens.length;
      const answers = Promise.all(
        tokens.map((token) =>
          logout(token).finally(() => {
            outstanding -= 1;
          }),
        ),
      );
      let rounds = 0;
      let terminated = 0;
      let terminatedMidBurst = 0;
      while (rounds < KILL_ROUNDS && outstanding > 0) {
        const n = await terminateCurfewBackends();
        if (n > 0) {
          rounds += 1;
          terminated += n;
          if (outstanding > 0) terminatedMidBurst += n;
        }
        await sleep(10);
      }
      const statuses = await answers;

      t.diagnostic(`terminated ${terminated} backends in ${rounds} rounds; answers: ${JSON.stringify(countOf(statuses))}`);
      assert.deepStrictEqual(uncaught.map(String), [], "nothing was thrown out of the event loop (a real server would have exited)");
      assert.ok(terminatedMidBurst > 0, `the backends must be terminated while logouts are unanswered (terminated ${terminated} in ${rounds} rounds)`);
      const unexpected = statuses.flatMap((s, i) => (s === 204 || s === 503 ? [] : [`${tokens[i]!.slice(0, 8)}…: ${s instanceof Error ? `${s.name}: ${s.message}` : s}`]));
      assert.deepStrictEqual(unexpected, [], "every logout is answered 204 or 503: no other status, no hang-up");

      // INV-1: a 204 is only ever said of a durable revocation.
      const acknowledged = tokens.filter((_, i) => statuses[i] === 204).map(sessionIdOf);
      assert.deepStrictEqual(await stillLive(acknowledged), [], "every session whose logout answered 204 is revoked");

      // Recovery without help: whoami answers 200 again within a bounded number of tries.
      let seen: number | Error = 0;
      for (let attempt = 1; attempt <= 20 && seen !== 200; attempt++) {
        seen = await whoami(survivor);
        if (seen !== 200) await sleep(50 * attempt);
      }
      assert.equal(seen, 200, "whoami answers again once the database is back");

      // And the logouts refused with 503 succeed when repeated, durably.
      const refused = tokens.filter((_, i) => statuses[i] === 503);
      const repeated = await Promise.all(refused.map(logout));
      assert.deepStrictEqual(repeated.filter((s) => s !== 204), [], "a logout refused with 503 answers 204 when repeated");
      assert.deepStrictEqual(await stillLive(tokens.map(sessionIdOf)), [], "every logged-out session is revoked");
      assert.equal(await whoami(survivor), 200, "the session nobody logged out is still live");
      assert.deepStrictEqual(uncaught.map(String), [], "nothing was thrown out of the event loop during recovery");
    });
  });
} else {
  describe("FLT-02: PostgreSQL connections dropped mid-burst", () => {
    it("runs when TEST_POSTGRES_URL is set (D18)", { skip: "TEST_POSTGRES_URL is not set" }, () => {});
  });
}
