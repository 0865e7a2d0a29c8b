/**
 * Opens the database named by a `database.url` (D17): `sqlite:PATH` (relative to the working
 * directory), `sqlite::memory:`, or `postgres://…` (a `schema` query parameter selects the
 * search_path, which the tests use to give each run a schema of its own).
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

export type SqlDialect = "sqlite" | "postgres";

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /** The SQLite connection itself (for `PRAGMA data_version`); absent on PostgreSQL. */
  sqlite: BetterSqlite3.Database | null;
}

export function describeDatabaseUrl(url: string): { dialect: SqlDialect; location: string } {
  if (url.startsWith("sqlite:")) return { dialect: "sqlite", location: url.slice("sqlite:".length) };
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return { dialect: "postgres", location: new URL(url).host };
  }
  throw new Error(`unsupported database URL "${url.split(":")[0]}:…" (use sqlite:PATH or postgres://…)`);
}

export function openDatabase(url: string): OpenDatabase {
  const { dialect, location } = describeDatabaseUrl(url);
  if (dialect === "sqlite") {
    const memory = location === ":memory:";
    if (!memory) mkdirSync(dirname(resolve(location)), { recursive: true });
    const sqlite = new BetterSqlite3(memory ? ":memory:" : resolve(location));
    // WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
    // before we answer (INV-1), and group commit (sql-store.ts) pays for it.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("busy_timeout = 5000");
    return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: keepingStatements(sqlite) }) }), dialect, sqlite };
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  const pool = new pg.Pool({
    connectionString: parsed.href,
    max: 10,
    // SEC-80: bounded waits, so a store that does not answer becomes a fast 503, not a hang.
    connectionTimeoutMillis: 5_000,
    query_timeout: 10_000,
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  });
  // An idle client that loses its server must not crash the process; the next query fails instead.
  pool.on("error", () => {});
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect, sqlite: null };
}

/** How many distinct statements are kept; Kysely's SQL is parameterised, so the store needs a few dozen. */
const STATEMENTS_KEPT = 256;

/**
 * Kysely's SQLite driver prepares every query it runs, and preparing costs more than the indexed
 * lookup itself (DESIGN.md "Performance", lever 3). This hands it the database with a cache of
 * prepared statements keyed by their SQL text: the same statements, compiled once. A statement
 * still iterating (`busy`, a streamed query) is never handed out twice; the cache is bounded and
 * drops its oldest entry when full. Results are identical: binding, stepping and errors are
 * per run in better-sqlite3, and SQLite re-prepares a statement itself after a schema change.
 */
function keepingStatements(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const found = kept.get(sql);
      if (found && !found.busy) return found;
      const statement = sqlite.prepare(sql);
      if (!found) {
        if (kept.size >= STATEMENTS_KEPT) kept.delete(kept.keys().next().value as string);
        kept.set(sql, statement);
      }
      return statement;
    },
  };
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`invalid schema name "${name}"`);
  return name;
}
