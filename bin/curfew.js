#!/usr/bin/env node
// The `curfew` command (docs/adr/0023-compiled-build.md). Production runs the JavaScript that
// `npm run build` writes to dist/, with no TypeScript compiler loaded. A checkout that has not been
// built, or whose sources changed after the build, runs src/ through tsx instead: a stale dist/
// must never serve code other than the code in front of the developer.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const compiled = join(root, "dist", "cli", "main.js");
const sources = join(root, "src");

/** The newest modification time of the TypeScript under `dir` (0 when there is none). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const built = existsSync(compiled) ? statSync(compiled).mtimeMs : null;
const hasSources = existsSync(join(sources, "cli", "main.ts"));

if (built !== null && (!hasSources || newestSource(sources) <= built)) {
  await import(pathToFileURL(compiled).href);
} else {
  if (built !== null) {
    process.stderr.write("curfew: src/ changed after the last `npm run build`; running the sources through tsx\n");
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(sources, "cli", "main.ts")).href);
}
