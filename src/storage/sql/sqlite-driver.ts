/**
 * better-sqlite3, in the major version that the running Node can keep alive (ADR 0018).
 *
 * - Version 12 wraps its objects in Node's own `node::ObjectWrap`. Node 24.19 made that class
 *   remove an environment cleanup hook in its destructor, which aborts the process when a
 *   statement is garbage collected with no JavaScript context entered (an idle GC) or at exit:
 *   `Assertion failed: (env) != nullptr` in `RemoveEnvironmentCleanupHook`.
 * - Version 13 is built on Node-API and has no such destructor, but it needs Node 22: on Node
 *   20 its prebuilt binary crashes the process on first use.
 *
 * So Node 22 and later (the supported lines, package.json `engines`) get version 13, and Node
 * 20, past its end of life but still the Node of some machines, gets version 12, installed
 * under the alias `better-sqlite3-v12`. Both have the same API. Only one is ever loaded.
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split(".")[0]);

/** The installed package this Node loads: `better-sqlite3` (13) or its alias `better-sqlite3-v12`. */
export const SQLITE_DRIVER_PACKAGE = nodeMajor >= 22 ? "better-sqlite3" : "better-sqlite3-v12";

/** The better-sqlite3 Database constructor for this Node. */
export const Sqlite: typeof BetterSqlite3 = require(SQLITE_DRIVER_PACKAGE);

export type SqliteConnection = BetterSqlite3.Database;
export type SqliteStatement = BetterSqlite3.Statement;
