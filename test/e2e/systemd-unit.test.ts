/**
 * deploy/curfew.service, run as systemd would run it (docs/deploy.md): its Environment and
 * EnvironmentFile, its WorkingDirectory, ExecStartPre (migrate) then ExecStart (serve), and its
 * KillSignal, which must stop the server within TimeoutStopSec with exit 0. The unit's install
 * paths are mapped onto this checkout and a temporary directory; nothing else is changed.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { freePort } from "../support/ports.ts";
import { children, cleanEnv, track, waitUntilServing } from "../support/processes.ts";
import { TEST_SECRET, TEST_SIGNING_KEYS } from "../support/server.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const UNIT = readFileSync(join(ROOT, "deploy", "curfew.service"), "utf8");

/** The values of `key=` in the unit's [Service] section, in order. */
function service(key: string): string[] {
  const section = UNIT.slice(UNIT.indexOf("[Service]"), UNIT.indexOf("[Install]"));
  return section
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** Seconds of a systemd time span as the unit writes it (a plain number of seconds). */
function seconds(span: string): number {
  assert.match(span, /^\d+$/);
  return Number(span);
}

describe("deploy/curfew.service", () => {
  const dir = mkdtempSync(join(tmpdir(), "curfew-unit-"));
  after(() => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("migrates, serves, and stops on its KillSignal within TimeoutStopSec, exit 0", async () => {
    const publicPort = await freePort();
    const adminPort = await freePort();
    const paths: Record<string, string> = {
      "/usr/bin/node": process.execPath,
      "/opt/curfew": ROOT,
      "/etc/curfew/curfew.yaml": join(dir, "curfew.yaml"),
      "/etc/curfew/curfew.env": join(dir, "curfew.env"),
      "/var/lib/curfew": dir,
    };
    const local = (value: string) => Object.entries(paths).reduce((v, [from, to]) => v.split(from).join(to), value);
    writeFileSync(paths["/etc/curfew/curfew.yaml"]!, `serve:\n  public:\n    host: 127.0.0.1\n    port: ${publicPort}\n  admin:\n    port: ${adminPort}\n`);
    writeFileSync(
      paths["/etc/curfew/curfew.env"]!,
      [`CURFEW_SECRET=${TEST_SECRET}`, `CURFEW_OIDC_SIGNING_KEYS=${TEST_SIGNING_KEYS}`, "CURFEW_DATABASE_URL=sqlite:./curfew.sqlite", "CURFEW_HASHERS__ARGON2__MEMORY_KIB=64", "CURFEW_HASHERS__ARGON2__ITERATIONS=1"].join("\n") + "\n",
    );

    // What systemd hands the process: Environment= lines, then the EnvironmentFile's.
    const env: Record<string, string> = {};
    for (const assignment of service("Environment")) {
      const [k, ...v] = assignment.split("=");
      env[k!] = v.join("=");
    }
    for (const file of service("EnvironmentFile")) {
      for (const line of readFileSync(local(file), "utf8").split("\n")) {
        const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
        if (m) env[m[1]!] = m[2]!;
      }
    }
    assert.equal(env.NODE_ENV, "production", "the unit runs in production mode");
    const [cwd] = service("WorkingDirectory").map(local);
    const argv = (line: string) => local(line).split(" ");

    for (const pre of service("ExecStartPre")) {
      const [cmd, ...args] = argv(pre);
      const r = spawnSync(cmd!, args, { cwd, env: cleanEnv(env), encoding: "utf8" });
      assert.equal(r.status, 0, `${pre}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /applied \d+ migration/);
    }
    const [start] = service("ExecStart");
    const [cmd, ...args] = argv(start!);
    const running = track(spawn(cmd!, args, { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] }));
    await waitUntilServing(running, `http://127.0.0.1:${publicPort}/health/ready`);
    assert.equal((await fetch(`http://127.0.0.1:${publicPort}/health/ready`)).status, 200);

    const [signal] = service("KillSignal");
    const [timeout] = service("TimeoutStopSec");
    running.child.kill(signal as NodeJS.Signals);
    const stopped = await Promise.race([running.exited, new Promise<null>((r) => setTimeout(() => r(null), seconds(timeout!) * 1000).unref())]);
    assert.deepEqual(stopped, { code: 0, signal: null }, `stopped within ${timeout} s with exit 0\n${running.stderr()}`);
  });
});
