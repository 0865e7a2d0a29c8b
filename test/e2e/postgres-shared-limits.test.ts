/**
 * SEC-60 and SEC-61 across nodes: two Curfew processes' worth of servers on one PostgreSQL
 * schema count sign-in failures and attempts in one place, so a second node does not double the
 * limits (ADR 0006). Real sockets, real PostgreSQL; runs only when TEST_POSTGRES_URL is set.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { postgresSchema } from "../support/postgres.ts";
import { type TestServer, startTestServer } from "../support/server.ts";

const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
const PASSWORD = "two nodes correct horse 42";

if (POSTGRES_URL) {
  describe("SEC-60, SEC-61: the sign-in limits hold for the cluster, not per node", () => {
    let schema: Awaited<ReturnType<typeof postgresSchema>>;
    let a: TestServer;
    let b: TestServer;

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL, "curfew_limits");
      const config = {
        "database.url": schema.url,
        "login.rate_limit.per_identifier.max": 3,
        "login.rate_limit.per_ip.max": 8,
      };
      a = await startTestServer({ listen: true, config });
      b = await startTestServer({ listen: true, config });
      for (const email of ["ada@example.com", "bob@example.com"]) {
        await a.server.core.identities.create({ traits: { email }, password: PASSWORD }, "test");
      }
    });

    after(async () => {
      await a?.close();
      await b?.close();
      await schema?.drop();
    });

    /** A native sign-in at `node`: its status. */
    async function signIn(node: TestServer, identifier: string, password: string): Promise<number> {
      const flow = (await (await fetch(`${node.publicUrl}/self-service/login/api`, { headers: { accept: "application/json" } })).json()) as { id: string };
      const res = await fetch(`${node.publicUrl}/self-service/login?flow=${flow.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ method: "password", identifier, password }),
      });
      await res.arrayBuffer();
      return res.status;
    }

    it("SEC-60: failures on two nodes add up; the next attempt is refused on both, the right password included", async () => {
      assert.equal(await signIn(a, "ada@example.com", "wrong password 1"), 400);
      assert.equal(await signIn(b, "ada@example.com", "wrong password 2"), 400);
      assert.equal(await signIn(a, "ada@example.com", "wrong password 3"), 400);
      assert.equal(await signIn(b, "ada@example.com", PASSWORD), 429, "the third failure was on the other node");
      assert.equal(await signIn(a, "ada@example.com", PASSWORD), 429);
    });

    it("SEC-61: attempts from one IP on two nodes add up", async () => {
      // 5 attempts so far from 127.0.0.1 (an attempt refused for its account still counted for its IP): 3 more reach the limit of 8.
      for (let i = 0; i < 3; i++) assert.equal(await signIn(i % 2 === 0 ? a : b, "bob@example.com", PASSWORD), 200, `attempt ${i}`);
      assert.equal(await signIn(a, "bob@example.com", PASSWORD), 429);
      assert.equal(await signIn(b, "bob@example.com", PASSWORD), 429);
    });
  });
}
