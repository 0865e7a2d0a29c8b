/**
 * The documentation stays true to the code: docs/configuration.md is exactly what
 * `curfew config reference` prints (D17: every key documented once, from the schema), the README
 * opens with the two commands that start and test Curfew, every local link in the docs (with its
 * #anchor, when it has one) and every docs/ path a source comment cites names something that
 * exists, every route of every door is in that door's page, the built-in pages and the Firstock and
 * Assets routes are in the README, and every ADR is numbered as its file is.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { configurationReference } from "../src/config/reference.ts";
import { ROUTES as ASSETS_ROUTES, SERVICES_PREFIX } from "../src/dialects/assets/index.ts";
import { PREFIX as FIRSTOCK_PREFIX, ROUTES as FIRSTOCK_ROUTES } from "../src/dialects/firstock/index.ts";
import { ROUTES as KRATOS_ROUTES } from "../src/dialects/kratos/routes.ts";
import { PAGES } from "../src/dialects/kratos/ui/pages.ts";

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

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

describe("links", () => {
  it("every relative link in README.md and docs/ names a file that exists, and an anchor it has", () => {
    const missing: string[] = [];
    for (const file of ["README.md", ...filesUnder("docs", ".md")]) {
      const text = read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const [pathPart, anchor] = target!.split("#") as [string, string | undefined];
        const path = pathPart === "" ? join(ROOT, file) : resolve(ROOT, dirname(file), pathPart);
        if (!existsSync(path)) {
          missing.push(`${file} → ${target}`);
          continue;
        }
        if (anchor !== undefined && path.endsWith(".md") && !anchorsOf(readFileSync(path, "utf8")).has(anchor)) {
          missing.push(`${file} → ${target} (no such heading)`);
        }
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

/** Paths as the docs write them: Fastify's `:id` is `{id}`, in backticks, before a quote, `?` or `,`. */
function undocumented(doc: string, paths: Iterable<string>): string[] {
  const text = read(doc);
  const missing = new Set<string>();
  for (const path of paths) {
    const written = path.replace(/:([a-z]+)/g, "{$1}");
    const pattern = new RegExp("`" + written.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "[`?,]");
    if (!pattern.test(text)) missing.add(written);
  }
  return [...missing];
}

describe("every route is documented", () => {
  const firstock = Object.values(FIRSTOCK_ROUTES).map((route) => FIRSTOCK_PREFIX + route);
  const assets = [
    ...[ASSETS_ROUTES.login, ASSETS_ROUTES.apiLogin, ASSETS_ROUTES.profile, ASSETS_ROUTES.logout].map((route) => SERVICES_PREFIX + route),
    ASSETS_ROUTES.redirectLogout,
  ];

  it("docs/dialects/kratos.md lists every route of the Kratos door", () => {
    assert.deepEqual(undocumented("docs/dialects/kratos.md", Object.values(KRATOS_ROUTES)), []);
  });

  it("docs/dialects/firstock.md lists every route of the Firstock door", () => {
    assert.deepEqual(undocumented("docs/dialects/firstock.md", firstock), []);
  });

  it("docs/dialects/assets.md lists every route of the Assets door", () => {
    assert.deepEqual(undocumented("docs/dialects/assets.md", assets), []);
  });

  it("README.md lists every built-in page and every Firstock and Assets route", () => {
    assert.deepEqual(undocumented("README.md", [...Object.values(PAGES), ...firstock, ...assets]), []);
  });
});

describe("docs/adr", () => {
  it("every ADR is titled with its file's number, states its status, and the numbers have no gaps", () => {
    const files = readdirSync(join(ROOT, "docs/adr")).filter((name) => name.endsWith(".md")).sort();
    const problems: string[] = [];
    files.forEach((name, i) => {
      const number = name.slice(0, 4);
      if (number !== String(i + 1).padStart(4, "0")) problems.push(`${name}: expected number ${String(i + 1).padStart(4, "0")}`);
      const text = read(`docs/adr/${name}`);
      if (!text.startsWith(`# ${number}. `)) problems.push(`${name}: the title does not start with "# ${number}. "`);
      if (!/^- Status: /m.test(text)) problems.push(`${name}: no "- Status:" line`);
    });
    assert.deepEqual(problems, []);
  });
});
