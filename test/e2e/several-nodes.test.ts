/**
 * README "Run several nodes", as written: two `curfew serve` processes started one after the other
 * from one directory, on one PostgreSQL database; an identity made with the CLI; a sign-in on the
 * first node is known to the second, a logout on the second is refused by the first on its next
 * request (INV-2 across processes: the logout is answered once the first node has dropped the
 * session from its cache, ADR 0021; test/e2e/cross-node-revocation.test.ts tries it harder). Runs
 * only when TEST_POSTGRES_URL is set (house rule 7).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/ports.ts";
import { postgresSchema } from "../support/postgres.ts";
import { type Running, children, cleanEnv, stop, track, waitUntilServing } from "../support/processes.ts";

const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
const BIN = fileURLToPath(new URL("../../bin/curfew.js", import.meta.url));
const PASSWORD = "correct horse battery staple";

if (POSTGRES_URL) {
  describe("README: run several nodes on one PostgreSQL", () => {
    let schema: Awaited<ReturnType<typeof postgresSchema>>;
    let dir: string;
    const nodes: Running[] = [];

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL, "curfew_nodes");
      dir = mkdtempSync(join(tmpdir(), "curfew-nodes-"));
    });

    after(async () => {
      for (const node of nodes) await stop(node);
      for (const child of children) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      await schema?.drop();
    });

    /** `npx curfew …` in the shared directory, with the shared database. */
    function curfew(args: string[], env: Record<string, string>): Running {
      return track(spawn(process.execPath, [BIN, ...args], { cwd: dir, env: cleanEnv({ CURFEW_DATABASE_URL: schema.url, ...env }), stdio: ["ignore", "pipe", "pipe"] }));
    }

    it("a session begun on one node is ended on the other, and then refused by the first", async () => {
      const [a, b] = [await freePort(), await freePort()];
      const [adminA, adminB] = [await freePort(), await freePort()];
      nodes.push(curfew(["serve"], { CURFEW_PUBLIC_PORT: String(a), CURFEW_ADMIN_PORT: String(adminA) }));
      await waitUntilServing(nodes[0]!, `http://127.0.0.1:${a}/health/ready`);
      assert.ok(existsSync(join(dir, "data", "curfew.secret")) && existsSync(join(dir, "data", "curfew-oidc-keys.json")), "the first node kept the secret and keys");
      nodes.push(curfew(["serve"], { CURFEW_PUBLIC_PORT: String(b), CURFEW_ADMIN_PORT: String(adminB) }));
      await waitUntilServing(nodes[1]!, `http://127.0.0.1:${b}/health/ready`);

      const create = curfew(["identities", "create", "--email", "ada@example.com"], { CURFEW_PASSWORD: PASSWORD });
      assert.equal((await create.exited).code, 0, create.stderr());

      const flow = (await (await fetch(`http://127.0.0.1:${a}/self-service/login/api`)).json()) as { id: string };
      const signedIn = await fetch(`http://127.0.0.1:${a}/self-service/login?flow=${flow.id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ method: "password", identifier: "ada@example.com", password: PASSWORD }),
      });
      assert.equal(signedIn.status, 200);
      const { session_token: token } = (await signedIn.json()) as { session_token: string };
      const whoami = async (port: number) => (await fetch(`http://127.0.0.1:${port}/sessions/whoami`, { headers: { "x-session-token": token } })).status;

      assert.equal(await whoami(b), 200, "the other node knows it");
      const logout = await fetch(`http://127.0.0.1:${b}/self-service/logout/api`, {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session_token: token }),
      });
      assert.equal(logout.status, 204);
      assert.equal(await whoami(a), 401, "and the first refuses it on its next request");
      for (const node of nodes.splice(0)) assert.deepEqual(await stop(node), { code: 0, signal: null });
    });
  });
}
