/**
 * Curfew as real processes, the way an operator runs it: a clean environment, output kept for
 * the failure message, a bounded wait until it serves, SIGTERM to stop. Every child started here
 * is in `children`, for a test file's `after` to kill should a test leave one behind.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";

/** How long a start-up may take before the test gives up (a deadline, not a timed assertion). */
export const START_DEADLINE_MS = 30_000;

export const children = new Set<ChildProcess>();

/**
 * The environment of a fresh shell: ours without any CURFEW_* setting, NODE_ENV, or what the npm
 * running these tests set for itself (npm_*), plus `extra`.
 */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("CURFEW_") && k !== "NODE_ENV" && !k.startsWith("NODE_TEST") && !k.startsWith("npm_")) env[k] = v;
  }
  return { ...env, ...extra };
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function track(child: ChildProcess): Running {
  children.add(child);
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `url` until it answers, the process dies, or the start-up deadline passes. */
export async function waitUntilServing(running: Running, url: string): Promise<void> {
  let dead = false;
  void running.exited.then(() => (dead = true));
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (dead) assert.fail(`the server exited before serving ${url}\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) assert.fail(`no answer from ${url} in time\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stop(running: Running): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  running.child.kill("SIGTERM");
  return running.exited;
}
