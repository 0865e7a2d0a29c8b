/**
 * FLT-19: the SQLite driver is one the running Node can keep alive (ADR 0018). better-sqlite3 12
 * aborts Node 24.19 and later when the collector finalizes a statement outside JavaScript (the
 * whole suite on Node 24 crashed in dozens of files with it), and better-sqlite3 13 crashes Node
 * 20 on first use. `.ci/run` runs the suite on both lines; this test pins the rule that picks.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { SQLITE_DRIVER_PACKAGE, Sqlite } from "./sqlite-driver.ts";

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split(".")[0]);
const { version } = require(`${SQLITE_DRIVER_PACKAGE}/package.json`) as { version: string };
const driverMajor = Number(version.split(".")[0]);

test(`FLT-19: on Node ${process.versions.node} the SQLite driver is better-sqlite3 ${version}: 13 or later on Node 22 and up, 12 on Node 20`, () => {
  if (nodeMajor >= 22) assert.ok(driverMajor >= 13, `better-sqlite3 ${version} on Node ${process.versions.node}`);
  else assert.equal(driverMajor, 12, `better-sqlite3 ${version} on Node ${process.versions.node}`);
});

test("FLT-19: the driver this Node loads opens a database, writes and reads", () => {
  const db = new Sqlite(":memory:");
  try {
    db.exec("CREATE TABLE t (n INTEGER)");
    db.prepare("INSERT INTO t (n) VALUES (?)").run(7);
    assert.deepEqual(db.prepare("SELECT n FROM t").get(), { n: 7 });
  } finally {
    db.close();
  }
});
