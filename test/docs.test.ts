/**
 * The documentation stays true to the code: docs/configuration.md is exactly what
 * `curfew config reference` prints (D17: every key documented once, from the schema), the README
 * opens with the two commands that start and test Curfew, and every local link in the docs, and
 * every docs/ path a source comment cites, names a file that exists.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { configurationReference } from "../src/config/reference.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path, suffix));
    else if (entry.name.endsWith(suffix)) out.push(path);
  }
  return out;
}

describe("docs/configuration.md", () => {
  it("is exactly the output of `curfew config reference`", () => {
    assert.equal(
      read("docs/configuration.md"),
      configurationReference(),
      "regenerate it: node --import tsx src/cli/main.ts config reference > docs/configuration.md",
    );
  });
});

describe("README.md", () => {
  const readme = read("README.md");

  it("gives the two commands: npm install && npm start, and npm test", () => {
    assert.ok(readme.includes("npm install && npm start"));
    assert.ok(readme.includes("npm test"));
  });

  it("opens its Quick start with those two commands", () => {
    const quickStart = readme.slice(readme.indexOf("## Quick start"));
    const blocks = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    assert.deepEqual(blocks.slice(0, 2), ["npm install && npm start", "npm test"]);
  });
});

describe("links", () => {
  it("every relative link in README.md and docs/ names a file that exists", () => {
    const missing: string[] = [];
    for (const file of ["README.md", ...filesUnder("docs", ".md")]) {
      const text = read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith("#")) continue;
        const path = resolve(ROOT, dirname(file), target!.split("#")[0]!);
        if (!existsSync(path)) missing.push(`${file} → ${target}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it("every docs/ file a source comment cites exists", () => {
    const missing: string[] = [];
    for (const file of [...filesUnder("src", ".ts"), ...filesUnder("test", ".ts")]) {
      for (const [path] of read(file).matchAll(/docs\/[\w./-]+\.md/g)) {
        if (!existsSync(join(ROOT, path))) missing.push(`${relative(ROOT, join(ROOT, file))} → ${path}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
