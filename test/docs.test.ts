/**
 * The documentation stays true to the code, and the repository explains itself:
 * - docs/configuration.md is exactly what `curfew config reference` prints (D17: every key
 *   documented once, from the schema), and the README opens with the two commands;
 * - every local link in the docs (with its #anchor) and every docs/ path a source comment cites
 *   names something that exists;
 * - every rule, decision and checklist id cited anywhere (SEC-nn, BAD-*, FLT-nn, INV-n, REG-nn,
 *   Dn, K-nn, house rule n, ADR nnnn) is defined exactly once inside the repository;
 * - no shipped file names a path of a particular machine or a document outside the repository;
 * - every route of every door is in that door's page, the built-in pages and the Firstock and
 *   Assets routes are in the README, and every ADR is numbered as its file is.
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
import { OIDC_ROUTES } from "../src/dialects/oidc/index.ts";
import { execFileSync } from "node:child_process";

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

  it("docs/dialects/oidc.md lists every route of the OpenID Connect door", () => {
    assert.deepEqual(undocumented("docs/dialects/oidc.md", Object.values(OIDC_ROUTES)), []);
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

/** Every file the repository ships, as git knows them (this file excepted: it spells the patterns out). */
function shippedFiles(): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "" && f !== "package-lock.json" && f !== "test/docs.test.ts" && existsSync(join(ROOT, f)));
}

/** Where ids are defined: the rules, the decisions, and each door's compatibility checklist. */
const DEFINING = ["docs/security.md", "docs/decisions.md", ...filesUnder("docs/dialects", ".md")];

/** Definitions: `- **SEC-01** …`, `- **House rule 9.** …`, `## D5. …`. */
function definitions(): Map<string, string[]> {
  const defined = new Map<string, string[]>();
  const add = (id: string, file: string) => defined.set(id, [...(defined.get(id) ?? []), file]);
  for (const file of DEFINING) {
    for (const line of read(file).split("\n")) {
      const item = /^- \*\*((?:SEC|FLT|REG|PERF|INV|K)-\d+|BAD-[A-Z]\d+|House rule \d+)\.?\*\*/.exec(line);
      if (item) add(item[1]!.replace(/^House rule/, "house rule"), file);
      const decision = /^## (D\d+)\. /.exec(line);
      if (decision) add(decision[1]!, file);
    }
  }
  return defined;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The ids a text cites, ranges (`SEC-31..SEC-35`, `BAD-J01..J25`, `BAD-C01/C02`) expanded. */
function citations(text: string): Set<string> {
  const cited = new Set<string>();
  for (const m of text.matchAll(/\b(SEC|FLT|REG|PERF|INV|K)-(\d+)((?:(?:\.\.|\/|–)(?:\1-)?\d+)?)/g)) {
    const [, family, first, rest] = m as unknown as [string, string, string, string];
    const last = rest ? /(\d+)$/.exec(rest)![1]! : first;
    const range = rest.startsWith("/") ? [Number(first), Number(last)] : span(Number(first), Number(last));
    for (const n of range) cited.add(`${family}-${pad(n, first.length)}`);
  }
  for (const m of text.matchAll(/\bBAD-([A-Z])(\d+)((?:(?:\.\.|\/|–)(?:BAD-)?[A-Z]?\d+)?)/g)) {
    const [, letter, first, rest] = m as unknown as [string, string, string, string];
    const last = rest ? /(\d+)$/.exec(rest)![1]! : first;
    const range = rest.startsWith("/") ? [Number(first), Number(last)] : span(Number(first), Number(last));
    for (const n of range) cited.add(`BAD-${letter}${pad(n, first.length)}`);
  }
  for (const m of text.matchAll(/\b(D)(\d{1,2})(?:(?:\.\.|…|–)D?(\d{1,2}))?\b/g)) {
    for (const n of span(Number(m[2]), Number(m[3] ?? m[2]))) cited.add(`D${n}`);
  }
  for (const m of text.matchAll(/\b[Hh]ouse rules? (\d+)\b/g)) cited.add(`house rule ${m[1]}`);
  return cited;
}

function span(a: number, b: number): number[] {
  return b >= a && b - a < 100 ? Array.from({ length: b - a + 1 }, (_, i) => a + i) : [a];
}

describe("the repository explains itself", () => {
  const files = shippedFiles().filter((f) => /\.(ts|js|md|ya?ml|json)$/.test(f) || f === ".ci/run");

  it("every rule, decision and checklist id is defined once, in docs/security.md, docs/decisions.md or a door's page", () => {
    const defined = definitions();
    const twice = [...defined].filter(([, where]) => where.length > 1).map(([id, where]) => `${id}: ${where.join(", ")}`);
    assert.deepEqual(twice, [], "defined more than once");
    const missing: string[] = [];
    for (const file of files) {
      for (const id of citations(read(file))) if (!defined.has(id)) missing.push(`${file} cites ${id}`);
    }
    assert.deepEqual(missing, []);
  });

  it("every ADR a file cites by number exists", () => {
    const adrs = new Set(readdirSync(join(ROOT, "docs/adr")).map((name) => name.slice(0, 4)));
    const missing: string[] = [];
    for (const file of files) {
      for (const [, n] of read(file).matchAll(/\bADR[ -](\d{4})\b/g)) if (!adrs.has(n!)) missing.push(`${file} cites ADR ${n}`);
    }
    assert.deepEqual(missing, []);
  });

  it("no shipped file names a path of a particular machine, or a document outside the repository", () => {
    const outside = [
      /(^|[\s"'`(=:])\/(work|tmp|root|home|Users|private\/var)\/[\w.-]/,
      /[A-Z]:\\(Users|work)\\/,
      /\.\.\/shared\b/,
      /\bresearch\/[\w-]+\.md/,
      /\b(DESIGN|DECISIONS)\.md\b/,
      /\bseeds?[ /]0\d\d\b/,
    ];
    const found: string[] = [];
    for (const file of files) {
      read(file)
        .split("\n")
        .forEach((line, i) => {
          for (const pattern of outside) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
        });
    }
    assert.deepEqual(found, []);
  });
});
