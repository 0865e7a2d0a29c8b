/**
 * INV-1 on the SQLite default, at the system-call level: `curfew serve` runs under strace, and no
 * logout answer leaves the process before an fdatasync of the
 * write-ahead log that holds its commit has returned (docs/adr/0022-sqlite-writer.md: COMMIT
 * does not sync, a thread of its own does, and group commit answers after it).
 *
 * Needs strace, which .ci/run installs; elsewhere the suite runs where strace is on the PATH.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { freePort } from "../support/ports.ts";
import { type Running, children, cleanEnv, track, waitUntilServing } from "../support/processes.ts";
import { TEST_SECRET, TEST_SIGNING_KEYS } from "../support/server.ts";
import { checkDurableAnswers } from "../support/strace.ts";

const BIN = fileURLToPath(new URL("../../bin/curfew.js", import.meta.url));
const PASSWORD = "correct horse battery staple";
const LOGOUTS = 12;
const haveStrace = spawnSync("strace", ["-V"]).status === 0;
if (!haveStrace && process.env.CI) throw new Error("strace is not installed: .ci/run installs it for test/e2e/durable-answers.test.ts");

describe("the trace checker (test/support/strace.ts)", () => {
  const log = (pid: number, call: string) => `${pid} ${call}`;
  const wal = "7<data/curfew.sqlite-wal>";
  const socket = "21<TCP:[127.0.0.1:4433->127.0.0.1:50000]>";

  it("passes an answer sent after the fdatasync that covers its log write", () => {
    const trace = [
      log(1, `pwrite64(${wal}, "\\0\\0"..., 4120, 32) = 4120`),
      log(2, `fdatasync(${wal} <unfinished ...>`),
      log(2, `<... fdatasync resumed>) = 0`),
      log(1, `writev(${socket}, [{iov_base="HTTP/1.1 204 No Content\\r\\n"..., iov_len=25}], 1) = 25`),
    ].join("\n");
    assert.deepEqual(checkDurableAnswers(trace, /"HTTP\/1\.1 204 /), { logWrites: 1, logSyncs: 1, answers: 1, violations: [] });
  });

  it("flags an answer sent while the fdatasync is still running, or one that began before the write", () => {
    const early = [
      log(1, `pwrite64(${wal}, "\\0"..., 4120, 32) = 4120`),
      log(2, `fdatasync(${wal} <unfinished ...>`),
      log(1, `write(${socket}, "HTTP/1.1 204 No Content\\r\\n"..., 25) = 25`),
      log(2, `<... fdatasync resumed>) = 0`),
    ].join("\n");
    assert.equal(checkDurableAnswers(early, /"HTTP\/1\.1 204 /).violations.length, 1);
    const stale = [
      log(2, `fdatasync(${wal} <unfinished ...>`),
      log(1, `pwrite64(${wal}, "\\0"..., 4120, 32) = 4120`),
      log(2, `<... fdatasync resumed>) = 0`),
      log(1, `write(${socket}, "HTTP/1.1 204 No Content\\r\\n"..., 25) = 25`),
    ].join("\n");
    assert.equal(checkDurableAnswers(stale, /"HTTP\/1\.1 204 /).violations.length, 1);
    const failed = [log(1, `pwrite64(${wal}, "\\0"..., 4120, 32) = 4120`), log(2, `fdatasync(${wal}) = -1 EIO (Input/output error)`), log(1, `write(${socket}, "HTTP/1.1 204 No Content"..., 25) = 25`)].join("\n");
    assert.equal(checkDurableAnswers(failed, /"HTTP\/1\.1 204 /).violations.length, 1);
  });
});

if (haveStrace) {
  describe("INV-1 under strace: answers follow the fdatasync of the SQLite log", () => {
    const dir = mkdtempSync(join(tmpdir(), "curfew-durable-"));
    const env = cleanEnv({
      CURFEW_DATABASE_URL: `sqlite:${join(dir, "curfew.sqlite")}`,
      CURFEW_SECRET: TEST_SECRET,
      CURFEW_OIDC_SIGNING_KEYS: TEST_SIGNING_KEYS,
      CURFEW_HASHERS__ARGON2__MEMORY_KIB: "64",
      CURFEW_HASHERS__ARGON2__ITERATIONS: "1",
    });
    let server: Running | null = null;

    after(() => {
      if (server) process.kill(-server.child.pid!, "SIGKILL");
      for (const child of children) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    });

    it("INV-1: every logout answer leaves after an fdatasync of the log that began after its commit", async () => {
      const migrate = track(spawn(process.execPath, [BIN, "migrate"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] }));
      assert.equal((await migrate.exited).code, 0, migrate.stderr());
      const create = track(spawn(process.execPath, [BIN, "identities", "create", "--email", "ada@example.com"], { cwd: dir, env: { ...env, CURFEW_PASSWORD: PASSWORD }, stdio: ["ignore", "pipe", "pipe"] }));
      assert.equal((await create.exited).code, 0, create.stderr());

      const [port, adminPort] = [await freePort(), await freePort()];
      const traceFile = join(dir, "trace");
      // -f: every thread; -yy: the file or socket behind each descriptor; seccomp: only these calls stop the process.
      const traced = ["fdatasync", "fsync", "write", "pwrite64", "writev", "pwritev", "pwritev2", "sendmsg", "sendto"].join(",");
      server = track(
        spawn("strace", ["-f", "--seccomp-bpf", "-qq", "-yy", "-s", "48", "-e", `trace=${traced}`, "-o", traceFile, process.execPath, BIN, "serve"], {
          cwd: dir,
          env: { ...env, CURFEW_PUBLIC_PORT: String(port), CURFEW_ADMIN_PORT: String(adminPort) },
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        }),
      );
      const base = `http://127.0.0.1:${port}`;
      await waitUntilServing(server, `${base}/health/alive`);

      const tokens: string[] = [];
      for (let i = 0; i < LOGOUTS; i++) {
        const flow = (await (await fetch(`${base}/self-service/login/api`)).json()) as { id: string };
        const signedIn = await fetch(`${base}/self-service/login?flow=${flow.id}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ method: "password", identifier: "ada@example.com", password: PASSWORD }),
        });
        assert.equal(signedIn.status, 200, await signedIn.clone().text());
        tokens.push(((await signedIn.json()) as { session_token: string }).session_token);
      }
      // One at a time: each answer must find every log write before it durable (test/support/strace.ts).
      for (const token of tokens) {
        const res = await fetch(`${base}/self-service/logout/api`, { method: "DELETE", headers: { "content-type": "application/json" }, body: JSON.stringify({ session_token: token }) });
        assert.equal(res.status, 204);
      }
      process.kill(-server.child.pid!, "SIGTERM");
      await server.exited;
      server = null;

      const trace = readFileSync(traceFile, "utf8");
      const logouts = checkDurableAnswers(trace, /"HTTP\/1\.1 204 /);
      assert.equal(logouts.answers, LOGOUTS, "every logout answer was seen in the trace");
      assert.ok(logouts.logWrites >= LOGOUTS, `each logout wrote to the log (${logouts.logWrites} writes)`);
      assert.ok(logouts.logSyncs >= LOGOUTS, `and each was synced (${logouts.logSyncs} fdatasyncs)`);
      assert.deepEqual(logouts.violations, []);
    });
  });
}
