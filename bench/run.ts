/**
 * `npm run bench`: Curfew's whoami and its logouts at three doors (Kratos native logout, Firstock
 * logout, Assets AJAX logout) against bare references measured in the same run (D20;
 * docs/adr/0005-group-commit-and-cache.md). Not part of CI: it prints the figures and whether the
 * targets were met, and exits 0 either way.
 *
 *   1. Seeds one identity (username `bench`, the Firstock userId) and the sessions THROUGH THE
 *      STORE (bench/seed.ts): 10,000 for whoami, plus never-used token pools for each logout run,
 *      of the door that run logs out through (every logout ends a fresh session). Curfew and the
 *      reference each run on their own copy of the file, so they share the pools.
 *   2. Starts, each as its own child process on CPU 0 (taskset), on its own copy of that SQLite file:
 *        Curfew  `node --import tsx src/cli/main.ts serve`
 *        R1/R2   bench/reference-server.ts (bare node:http + better-sqlite3; R2 speaks each
 *                door's logout wire, with one synchronous=FULL commit per logout)
 *   3. Loads them from CPU 1 with wrk (bench/load.lua), or autocannon when wrk is missing:
 *      warm-up 2 s, then measure 8 s. Logout runs are bounded by their pool.
 *   4. Checks that a sample of the logged-out tokens answers 401 at whoami, and counts the
 *      revoked rows of each door on disk.
 *
 * Knobs (environment): BENCH_CONNECTIONS (64), BENCH_WARMUP_S (2), BENCH_MEASURE_S (8),
 * BENCH_LOADGEN=autocannon (use the fallback even with wrk installed), BENCH_KEEP=1 (keep the
 * temporary directory). Loopback only.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Sqlite } from "../src/storage/sql/sqlite-driver.ts";
import type { Door } from "../src/core/model.ts";
import { BENCH_USERNAME, seedSessions } from "./seed.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WHOAMI_SESSIONS = 10_000;
/**
 * Logout pools, per door: warm-up and measurement each use tokens of their own, never used
 * before. Curfew and the reference run on separate copies of the database, so both use the
 * same pools (the reference, one fsync per logout, uses only the first part of each).
 */
const POOLS = { warm: 10_000, measure: 60_000 };
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 64);
const WARMUP_S = envInt("BENCH_WARMUP_S", 2);
const MEASURE_S = envInt("BENCH_MEASURE_S", 8);
const TARGETS = { whoami: 0.6, logout: 1.0 };
const SECRET = "bench-secret-bench-secret-bench-secret-0123456789";
const SAMPLE = 200;

interface LoadResult {
  requests: number;
  /** Seconds the requests were counted over (the pool's real window when it ran out). */
  window: number;
  rps: number;
  exhausted: boolean;
  /** Tokens handed out (logout: the first `handed` tokens of the pool were sent). */
  handed: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** Busy share of CPU 0 (server) and CPU 1 (load) during the measurement, 0–1. */
  cpu0: number;
  cpu1: number;
  /** CPU time the server process spent per answered request (µs; user + system, all threads). */
  cpuPerRequestUs: number;
  /** Requests answered during the warm-up before this measurement. */
  warmRequests: number;
}

const children = new Set<ChildProcess>();
const haveTaskset = which("taskset");
/** BENCH_LOADGEN=autocannon forces the fallback (to check it); otherwise wrk when installed. */
const haveWrk = process.env.BENCH_LOADGEN !== "autocannon" && which("wrk");

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function which(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return haveTaskset ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, argv] = pinned(0, command, args);
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.once("exit", (code, signal) => {
    children.delete(child);
    if (code !== 0 && signal !== "SIGTERM" && signal !== "SIGKILL") console.error(`${name} exited (${code ?? signal}):\n${stderr}`);
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitReady(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited before it was ready`);
    try {
      const res = await fetch(`${url}/health/alive`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer ${url}/health/alive within 30 s`);
}

/** [busy, total] jiffies per CPU, from /proc/stat (empty where there is none). */
function cpuTimes(): Map<string, [number, number]> {
  const times = new Map<string, [number, number]>();
  try {
    for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
      const m = /^(cpu\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const v = m[2]!.trim().split(/\s+/).map(Number);
      const idle = (v[3] ?? 0) + (v[4] ?? 0);
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      times.set(m[1]!, [total - idle, total]);
    }
  } catch {
    // not Linux
  }
  return times;
}

/** The 1-minute load average ("–" where there is no /proc). */
function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;
  } catch {
    return "–";
  }
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

/** CPU time (user + system, µs) a process has used so far, from /proc/PID/stat; NaN elsewhere. */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

function busy(before: Map<string, [number, number]>, after: Map<string, [number, number]>, cpu: string): number {
  const a = before.get(cpu);
  const b = after.get(cpu);
  if (!a || !b || b[1] === a[1]) return NaN;
  return (b[0] - a[0]) / (b[1] - a[1]);
}

// ---- load generators ---------------------------------------------------------------------------

type Mode = "whoami" | "whoami-once" | "logout" | "firstock-logout" | "assets-logout";

/** The logouts measured: each door's own wire, each against R2 speaking that wire. */
interface LogoutOp {
  label: string;
  heading: string;
  mode: Mode;
  /** The door of the seeded sessions this logout ends (D7). */
  door: Door;
}

const LOGOUTS: readonly LogoutOp[] = [
  { label: "native logout", heading: "native logout (DELETE /self-service/logout/api, each token once)", mode: "logout", door: "kratos" },
  { label: "Firstock logout", heading: "Firstock logout (POST /api/V4/logout {userId, jKey}, each jKey once)", mode: "firstock-logout", door: "firstock" },
  {
    label: "Assets AJAX logout",
    heading: "Assets AJAX logout (POST /services/logout, authToken cookie + X-CSRF-TOKEN, each token once)",
    mode: "assets-logout",
    door: "assets",
  },
];

/** The Assets csrfToken of a session (src/core/csrf.ts sessionCsrfToken): HMAC(secret, "csrf:" + id). */
function csrfTokenOf(token: string): string {
  return createHmac("sha256", SECRET).update("csrf:" + token.slice(0, token.indexOf("."))).digest("base64url");
}

/** A line of a tokens file: the token, and for the Assets logout its csrfToken after a space. */
function tokenLine(mode: Mode, token: string): string {
  return mode === "assets-logout" ? `${token} ${csrfTokenOf(token)}` : token;
}

async function wrk(url: string, mode: Mode, tokensFile: string, seconds: number): Promise<LoadResult> {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--timeout", "5s", "--latency", "-s", join(ROOT, "bench/load.lua"), url, "--", mode, tokensFile, "1"];
  if (mode === "firstock-logout") args.push(BENCH_USERNAME);
  const [cmd, argv] = pinned(1, "wrk", args);
  const before = cpuTimes();
  const out = await new Promise<string>((resolveOut, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    let interrupt: NodeJS.Timeout | null = null;
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      // The pool is used up: wrk's main thread would sleep out the -d; SIGINT ends it (and it
      // still prints its report). Repeated, since the first may reach the stopping worker thread.
      if (!interrupt && stdout.includes("BENCH_EXHAUSTED")) {
        const kick = () => child.kill("SIGINT");
        kick();
        interrupt = setInterval(kick, 100);
      }
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => {
      children.delete(child);
      if (interrupt) clearInterval(interrupt);
      if (code === 0) resolveOut(stdout);
      else reject(new Error(`wrk exited ${code}: ${stderr}${stdout}`));
    });
  });
  const after = cpuTimes();
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`no BENCH_JSON line in wrk output:\n${out}`);
  const r = JSON.parse(line.slice("BENCH_JSON ".length)) as {
    requests: number;
    window_s: number;
    exhausted: boolean;
    handed: number;
    non2xx: number;
    connect_errors: number;
    read_errors: number;
    write_errors: number;
    timeouts: number;
    p50_us: number;
    p99_us: number;
  };
  return {
    requests: r.requests,
    window: r.window_s,
    rps: r.requests / r.window_s,
    exhausted: r.exhausted,
    handed: r.handed,
    non2xx: r.non2xx,
    errors: r.connect_errors + r.read_errors + r.write_errors + r.timeouts,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    cpu0: busy(before, after, "cpu0"),
    cpu1: busy(before, after, "cpu1"),
    cpuPerRequestUs: NaN,
    warmRequests: 0,
  };
}

/** Fallback when wrk is missing: autocannon in this process (pinned to CPU 1 at start-up). */
type RequestParams = { method?: string; path?: string; headers?: Record<string, string>; body?: string };

async function autocannonRun(url: string, mode: Mode, tokensFile: string, seconds: number): Promise<LoadResult> {
  const { default: autocannon } = await import("autocannon");
  const lines = readFileSync(tokensFile, "utf8").split("\n").filter(Boolean);
  const once = mode !== "whoami";
  let i = 0;
  const before = cpuTimes();
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    timeout: 5,
    ...(once ? { amount: lines.length } : { duration: seconds }),
    requests: [
      {
        setupRequest: (request): RequestParams => {
          const line = lines[i++ % lines.length]!;
          switch (mode) {
            case "logout":
              return { ...request, method: "DELETE", path: "/self-service/logout/api", headers: { "content-type": "application/json" }, body: JSON.stringify({ session_token: line }) };
            case "firstock-logout":
              return { ...request, method: "POST", path: "/api/V4/logout", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId: BENCH_USERNAME, jKey: line }) };
            case "assets-logout": {
              const [token, csrf] = line.split(" ");
              return { ...request, method: "POST", path: "/services/logout", headers: { cookie: `authToken=${token}`, "x-csrf-token": csrf!, "content-length": "0" } };
            }
            default:
              return { ...request, method: "GET", path: "/sessions/whoami", headers: { "x-session-token": line } };
          }
        },
      },
    ],
  });
  const timer = once ? setTimeout(() => instance.stop(), seconds * 1000) : null;
  const r = await instance;
  if (timer) clearTimeout(timer);
  const after = cpuTimes();
  return {
    requests: r.requests.total,
    window: r.duration,
    rps: r.requests.total / r.duration,
    exhausted: once && i >= lines.length,
    handed: Math.min(i, lines.length),
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    cpu0: busy(before, after, "cpu0"),
    cpu1: busy(before, after, "cpu1"),
    cpuPerRequestUs: NaN,
    warmRequests: 0,
  };
}

const load = haveWrk ? wrk : autocannonRun;

/** Warm-up, then the measured run. Whoami first presents every token once (bounded), so the
 * measurement sees the steady state of a server whose sessions are all in use. */
async function measure(label: string, url: string, pid: number, mode: Mode, warmFile: string, file: string): Promise<LoadResult> {
  process.stdout.write(`  ${label}: `);
  if (mode === "whoami") {
    const primed = await load(url, "whoami-once", file, 30);
    process.stdout.write(`primed ${fmtInt(primed.handed)} sessions in ${primed.window.toFixed(1)} s, `);
  }
  process.stdout.write(`warm-up ${WARMUP_S} s … `);
  const warm = await load(url, mode, warmFile, WARMUP_S);
  process.stdout.write(`measure ${MEASURE_S} s … `);
  const cpuBefore = processCpuUs(pid);
  const r = await load(url, mode, file, MEASURE_S);
  r.cpuPerRequestUs = (processCpuUs(pid) - cpuBefore) / r.requests;
  r.warmRequests = warm.requests;
  console.log(`${fmtInt(r.rps)} req/s, p99 ${fmtMs(r.p99Ms)}${r.exhausted ? ` (pool used up after ${r.window.toFixed(1)} s)` : ""}`);
  if (r.non2xx > 0 || r.errors > 0) console.log(`    ! ${r.non2xx} non-2xx answers, ${r.errors} socket errors/timeouts`);
  return r;
}

// ---- correctness -------------------------------------------------------------------------------

async function statuses(url: string, tokens: string[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const token of tokens) {
    const res = await fetch(`${url}/sessions/whoami`, { headers: { "x-session-token": token } });
    await res.arrayBuffer();
    counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
  }
  return counts;
}

/** An evenly spread sample of the tokens the logout run certainly answered (not the last in flight). */
function revokedSample(pool: string[], r: LoadResult): string[] {
  const answered = Math.max(0, Math.min(r.handed, r.requests) - CONNECTIONS);
  const n = Math.min(SAMPLE, answered);
  return Array.from({ length: n }, (_, k) => pool[Math.floor((k * answered) / n)]!);
}

async function verify(label: string, url: string, pool: string[], r: LoadResult, live: string[]): Promise<boolean> {
  const revoked = await statuses(url, revokedSample(pool, r));
  const stillLive = await statuses(url, live);
  const n401 = revoked.get(401) ?? 0;
  const total = [...revoked.values()].reduce((a, b) => a + b, 0);
  const n200 = stillLive.get(200) ?? 0;
  const ok = total > 0 && n401 === total && n200 === live.length && r.non2xx === 0;
  console.log(
    `  ${label}: ${n401}/${total} logged-out tokens answer 401 at whoami; ${n200}/${live.length} untouched tokens still 200; ` +
      `${r.non2xx} non-2xx logout answers → ${ok ? "OK" : "FAILED"}` +
      (n401 !== total ? ` (statuses: ${JSON.stringify(Object.fromEntries(revoked))})` : ""),
  );
  return ok;
}

/**
 * After the server has stopped: every logout answered with success (warm-up and measurement)
 * must be a revoked row of that door's sessions in its database file (more may be, for requests
 * still in flight when wrk stopped).
 */
function verifyRows(label: string, file: string, door: Door, r: LoadResult): boolean {
  const db = new Sqlite(file, { readonly: true });
  try {
    const revoked = (db.prepare("SELECT count(*) AS n FROM sessions WHERE revoked_at IS NOT NULL AND door = ?").get(door) as { n: number }).n;
    const answered = r.warmRequests + r.requests;
    const ok = revoked >= answered;
    console.log(`  ${label}: ${fmtInt(revoked)} revoked ${door} rows on disk for ${fmtInt(answered)} logouts answered with success → ${ok ? "OK" : "FAILED"}`);
    return ok;
  } finally {
    db.close();
  }
}

// ---- output -----------------------------------------------------------------------------------

function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}

function fmtMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

function fmtUs(us: number): string {
  return Number.isFinite(us) ? `${Math.round(us)} µs` : "–";
}

function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : "–";
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => "| " + r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ") + " |";
  const rule = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|";
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join("\n");
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!haveWrk && process.env.BENCH_LOADGEN !== "autocannon") {
    console.log("wrk not found: install it for the reference figures (`apt-get install wrk`); falling back to autocannon.");
  }
  if (haveTaskset) spawnSync("taskset", ["-pc", "1", String(process.pid)], { stdio: "ignore" });
  else console.log("taskset not found: server and load share the CPUs (figures are noisier).");

  const loadBefore = loadAverage();
  if (Number(loadBefore) > 1) console.log(`Load average is ${loadBefore}: other processes compete for the 2 CPUs, so the figures will be noisy.`);
  const dir = mkdtempSync(join(tmpdir(), "curfew-bench-"));
  const keep = process.env.BENCH_KEEP === "1";
  try {
    // Whoami's sessions are seeded last, so their last use is seconds old when whoami starts: no
    // session reaches the one-minute last-seen write (LAST_SEEN_GRANULARITY_MS) while it is measured.
    const groups = [
      ...LOGOUTS.flatMap((op) => [
        { count: POOLS.warm, door: op.door },
        { count: POOLS.measure, door: op.door },
      ]),
      { count: WHOAMI_SESSIONS, door: "kratos" as const },
    ];
    const total = groups.reduce((n, g) => n + g.count, 0);
    process.stdout.write(`Seeding ${fmtInt(total)} sessions through SqlStore in ${dir} … `);
    const base = join(dir, "seed.sqlite");
    const seeded = await seedSessions(base, groups);
    console.log(`${(seeded.ms / 1000).toFixed(1)} s`);

    const file = (name: string, lines: string[]) => {
      const path = join(dir, `${name}.tokens`);
      writeFileSync(path, lines.join("\n") + "\n");
      return path;
    };
    const pools = LOGOUTS.map((op, k) => {
      const warm = seeded.tokens[2 * k]!;
      const measure = seeded.tokens[2 * k + 1]!;
      return {
        op,
        measure,
        warmFile: file(`${op.mode}-warm`, warm.map((t) => tokenLine(op.mode, t))),
        file: file(op.mode, measure.map((t) => tokenLine(op.mode, t))),
      };
    });
    const whoamiTokens = seeded.tokens[seeded.tokens.length - 1]!;
    const whoamiFile = file("whoami", whoamiTokens);
    const curfewDb = join(dir, "curfew.sqlite");
    const refDb = join(dir, "reference.sqlite");
    copyFileSync(base, curfewDb);
    copyFileSync(base, refDb);

    const [publicPort, adminPort, refPort] = [await freePort(), await freePort(), await freePort()];
    const node = process.execPath;
    const curfew = start("curfew", node, ["--import", "tsx", "src/cli/main.ts", "serve"], {
      ...process.env,
      NODE_ENV: "production",
      CURFEW_DATABASE_URL: `sqlite:${curfewDb}`,
      CURFEW_SECRET: SECRET,
      CURFEW_PUBLIC_PORT: String(publicPort),
      CURFEW_ADMIN_PORT: String(adminPort),
      CURFEW_SERVE__PUBLIC__HOST: "127.0.0.1",
      CURFEW_SERVE__ADMIN__HOST: "127.0.0.1",
      CURFEW_BASE_URL: `http://127.0.0.1:${publicPort}/`,
      CURFEW_LOG__LEVEL: "silent",
    });
    // R2's Assets logout checks the same session-bound CSRF token, so it needs the same secret.
    const reference = start("reference", node, ["--import", "tsx", "bench/reference-server.ts", refDb, String(refPort)], { ...process.env, CURFEW_SECRET: SECRET });
    const curfewUrl = `http://127.0.0.1:${publicPort}`;
    const refUrl = `http://127.0.0.1:${refPort}`;
    await Promise.all([waitReady(curfewUrl, curfew, "curfew"), waitReady(refUrl, reference, "reference")]);

    console.log(
      `Load: ${haveWrk ? "wrk -t1" : "autocannon"} with ${CONNECTIONS} connections${haveTaskset ? ", server on CPU 0, load on CPU 1" : ""}; ` +
        `warm-up ${WARMUP_S} s, measure ${MEASURE_S} s`,
    );
    console.log("whoami (GET /sessions/whoami, X-Session-Token, 10,000 live sessions round-robin)");
    const whoamiCurfew = await measure("Curfew", curfewUrl, curfew.pid!, "whoami", whoamiFile, whoamiFile);
    const whoamiRef = await measure("R1 bare node:http + better-sqlite3", refUrl, reference.pid!, "whoami", whoamiFile, whoamiFile);

    const logouts: { op: LogoutOp; measure: string[]; curfew: LoadResult; ref: LoadResult }[] = [];
    for (const pool of pools) {
      console.log(pool.op.heading);
      const c = await measure("Curfew", curfewUrl, curfew.pid!, pool.op.mode, pool.warmFile, pool.file);
      const r = await measure("R2 bare, one synchronous=FULL commit per logout", refUrl, reference.pid!, pool.op.mode, pool.warmFile, pool.file);
      logouts.push({ op: pool.op, measure: pool.measure, curfew: c, ref: r });
    }

    console.log("Correctness");
    const untouched = whoamiTokens.slice(0, 20);
    const checks: boolean[] = [];
    for (const l of logouts) {
      checks.push(await verify(`Curfew ${l.op.label}`, curfewUrl, l.measure, l.curfew, untouched));
      checks.push(await verify(`R2 ${l.op.label}`, refUrl, l.measure, l.ref, untouched));
    }

    await Promise.all([stop(curfew), stop(reference)]);
    for (const l of logouts) {
      checks.push(verifyRows(`Curfew ${l.op.label}`, curfewDb, l.op.door, l.curfew));
      checks.push(verifyRows(`R2 ${l.op.label}`, refDb, l.op.door, l.ref));
    }

    const row = (op: string, c: LoadResult, refName: string, r: LoadResult, target: number) => {
      const ratio = c.rps / r.rps;
      return [
        op,
        fmtInt(c.rps),
        fmtMs(c.p99Ms),
        fmtUs(c.cpuPerRequestUs),
        refName,
        fmtInt(r.rps),
        fmtMs(r.p99Ms),
        fmtUs(r.cpuPerRequestUs),
        `${ratio.toFixed(2)}×`,
        `≥ ${target.toFixed(1)}×`,
        ratio >= target ? "yes" : "NO",
      ];
    };
    const rows = [row("whoami", whoamiCurfew, "R1", whoamiRef, TARGETS.whoami), ...logouts.map((l) => row(l.op.label, l.curfew, "R2", l.ref, TARGETS.logout))];
    const all = [whoamiCurfew, whoamiRef, ...logouts.flatMap((l) => [l.curfew, l.ref])];
    console.log("");
    console.log(table([["operation", "Curfew req/s", "p99", "CPU/req", "reference", "req/s", "p99", "CPU/req", "ratio", "target", "met"], ...rows]));
    console.log(
      `R1 = bare node:http + better-sqlite3, one prepared indexed lookup per whoami; R2 = the same, one synchronous=FULL commit per logout,\n` +
        `speaking each door's wire (Kratos 204; Firstock {userId, jKey} → success envelope; Assets authToken cookie + X-CSRF-TOKEN → {"logoutSuccess":true}).\n` +
        `CPU/req = the server process's CPU time (user + system) per answered request, less sensitive to a noisy machine than req/s.\n` +
        `CPU 0 (server) busy while measuring: ${all.map((r) => fmtPct(r.cpu0)).join(" / ")}; ` +
        `CPU 1 (load) at most ${fmtPct(Math.max(...all.map((r) => r.cpu1)))}. ` +
        `Load average ${loadBefore} before, ${loadAverage()} after.\n` +
        `Logout req/s count each pool's real window (${logouts.map((l) => `${l.op.label} ${l.curfew.window.toFixed(1)} s Curfew, ${l.ref.window.toFixed(1)} s R2`).join("; ")}). ` +
        `Noisy 2-core machine: treat figures as ±15 %. Logout correctness: ${checks.every(Boolean) ? "OK" : "FAILED"}.`,
    );
    const missed = whoamiCurfew.rps / whoamiRef.rps < TARGETS.whoami || logouts.some((l) => l.curfew.rps / l.ref.rps < TARGETS.logout);
    if (missed) console.log("Target missed (reported only; benchmarks do not gate CI, D20).");
  } finally {
    for (const child of children) child.kill("SIGKILL");
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

process.once("SIGINT", () => {
  for (const child of children) child.kill("SIGKILL");
  process.exit(130);
});

main().catch((error: unknown) => {
  for (const child of children) child.kill("SIGKILL");
  console.error(error);
  process.exit(1);
});
