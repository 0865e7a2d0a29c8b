/**
 * Production runs compiled JavaScript (docs/adr/0023-compiled-build.md): `npm run build` compiles
 * src/ to plain modules, the compiled server starts and answers on a Node with no TypeScript
 * loader, and bin/curfew.js picks the build only while it is current.
 *
 * The build under test goes to a directory of its own under .tmp/ (ignored by git), never to
 * dist/: other test files run bin/curfew.js at the same time, and must not see a half-written
 * dist/. Inside the project, so that the compiled modules find node_modules as dist/ would.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { freePort } from "../support/ports.ts";
import { children, cleanEnv, stop, track, waitUntilServing } from "../support/processes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRATCH = join(ROOT, ".tmp");
const dirs: string[] = [];

after(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(prefix: string): string {
  mkdirSync(SCRATCH, { recursive: true });
  const dir = mkdtempSync(join(SCRATCH, prefix));
  dirs.push(dir);
  return dir;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe("BUILD-01: npm run build gives a server that runs without TypeScript at run time", () => {
  let out: string;

  before(() => {
    // A package of its own, as dist/ sits in this one: package.json beside the output directory.
    const pkg = scratchDir("build-");
    copyFileSync(join(ROOT, "package.json"), join(pkg, "package.json"));
    out = join(pkg, "dist");
    const built = spawnSync("npm", ["run", "--silent", "build", "--", "--outDir", out], { cwd: ROOT, encoding: "utf8" });
    assert.equal(built.status, 0, `npm run build failed:\n${built.stdout}\n${built.stderr}`);
  });

  it("the compiled CLI says its version, package.json's", () => {
    const r = spawnSync(process.execPath, [join(out, "cli", "main.js"), "--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
  });

  it("compiles every module of src/ but the tests, and every relative import names a .js file", () => {
    const js = filesUnder(out).filter((f) => f.endsWith(".js"));
    const expected = filesUnder(join(ROOT, "src"))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".contract.ts"))
      .map((f) => relative(join(ROOT, "src"), f).replace(/\.ts$/, ".js"))
      .sort();
    assert.deepEqual(js.map((f) => relative(out, f)).sort(), expected);
    for (const file of js) {
      const text = readFileSync(file, "utf8");
      for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        assert.match(specifier!, /\.js$/, `${relative(out, file)} imports ${specifier}`);
      }
      assert.doesNotMatch(text, /\btsx\b/, `${relative(out, file)} names tsx`);
    }
  });

  it("the compiled CLI migrates a database and the compiled server serves it, then stops on SIGTERM", async () => {
    const data = scratchDir("build-data-");
    const env = cleanEnv({
      CURFEW_DATABASE_URL: `sqlite:${join(data, "curfew.sqlite")}`,
      CURFEW_SECRET: "a-secret-for-the-build-test-0123456789",
      CURFEW_PUBLIC_PORT: String(await freePort()),
      CURFEW_ADMIN_PORT: String(await freePort()),
    });
    const main = join(out, "cli", "main.js");
    const migrated = spawnSync(process.execPath, [main, "migrate"], { cwd: data, env, encoding: "utf8" });
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.match(migrated.stdout + migrated.stderr, /applied \d+ migration/);
    // Plain `node`, no --import: a module that still needed TypeScript would fail to load here.
    const running = track(spawn(process.execPath, [main, "serve"], { cwd: data, env, stdio: ["ignore", "pipe", "pipe"] }));
    await waitUntilServing(running, `http://127.0.0.1:${env.CURFEW_PUBLIC_PORT}/health/ready`);
    const res = await fetch(`http://127.0.0.1:${env.CURFEW_PUBLIC_PORT}/health/ready`);
    assert.equal(res.status, 200, await res.text());
    const version = await fetch(`http://127.0.0.1:${env.CURFEW_ADMIN_PORT}/version`);
    assert.deepEqual(await version.json(), { version: (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version });
    assert.deepEqual(await stop(running), { code: 0, signal: null });
  });
});

describe("BUILD-02: bin/curfew.js runs the build only while it is current", () => {
  /**
   * A project of two modules that say which ran: dist/cli/main.js, and src/cli/main.ts with a
   * type annotation, which runs only through tsx. bin/curfew.js is the real one, copied.
   */
  function project(): { dir: string; run: () => { stdout: string; stderr: string }; age: (file: string, seconds: number) => void } {
    const dir = scratchDir("bin-");
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "dist", "cli"), { recursive: true });
    mkdirSync(join(dir, "src", "cli"), { recursive: true });
    copyFileSync(join(ROOT, "bin", "curfew.js"), join(dir, "bin", "curfew.js"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(join(dir, "dist", "cli", "main.js"), 'console.log("dist");\n');
    writeFileSync(join(dir, "src", "cli", "main.ts"), 'const ran: string = "src";\nconsole.log(ran);\n');
    const now = Date.now() / 1000;
    return {
      dir,
      run: () => {
        const r = spawnSync(process.execPath, [join(dir, "bin", "curfew.js")], { cwd: dir, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        return { stdout: r.stdout.trim(), stderr: r.stderr };
      },
      age: (file, seconds) => utimesSync(join(dir, file), now - seconds, now - seconds),
    };
  }

  it("a build newer than every source runs, with no word on stderr", () => {
    const p = project();
    p.age("src/cli/main.ts", 60);
    assert.deepEqual(p.run(), { stdout: "dist", stderr: "" });
  });

  it("a source changed after the build runs the sources through tsx, and says so", () => {
    const p = project();
    p.age("dist/cli/main.js", 60);
    const r = p.run();
    assert.equal(r.stdout, "src");
    assert.match(r.stderr, /src\/ changed after the last `npm run build`/);
  });

  it("without a build, the sources run through tsx, silently", () => {
    const p = project();
    rmSync(join(p.dir, "dist"), { recursive: true });
    assert.deepEqual(p.run(), { stdout: "src", stderr: "" });
  });
});
