/**
 * Opens the database named by a `database.url` (D17): `sqlite:PATH` (relative to the working
 * directory), `sqlite::memory:`, or `postgres://…` (a `schema` query parameter selects the
 * search_path, which the tests use to give each run a schema of its own).
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, SqliteDialect, type SqliteDatabase } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";
import { Sqlite, type SqliteConnection, type SqliteStatement } from "./sqlite-driver.ts";

export type SqlDialect = "sqlite" | "postgres";

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /** The SQLite connection itself (for `PRAGMA data_version`); absent on PostgreSQL. */
  sqlite: SqliteConnection | null;
  /**
   * The SQLite database file, whose write-ahead log the store must fdatasync before it answers a
   * write (wal-sync.ts); absent in memory and on PostgreSQL.
   */
  sqliteFile: string | null;
  /**
   * PostgreSQL's pool, the schema the tables live in (for the shared rate-limit windows), and the
   * settings of the pool's connections (for the cluster's own listening connection); absent on SQLite.
   */
  postgres: { pool: pg.Pool; schema: string | null; clientConfig: pg.ClientConfig } | null;
}

export function describeDatabaseUrl(url: string): { dialect: SqlDialect; location: string } {
  if (url.startsWith("sqlite:")) return { dialect: "sqlite", location: url.slice("sqlite:".length) };
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return { dialect: "postgres", location: new URL(url).host };
  }
  throw new Error(`unsupported database URL "${url.split(":")[0]}:…" (use sqlite:PATH or postgres://…)`);
}

/** PostgreSQL's pool and timeouts (configuration `database.postgres`). */
export interface PostgresOptions {
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export const DEFAULT_POSTGRES: PostgresOptions = { poolSize: 10, connectTimeoutMs: 2_000, statementTimeoutMs: 2_000 };

/**
 * Past the server's own statement_timeout, how long the client still waits for an answer: a
 * server that is frozen or cut off sends none, and its query must fail all the same.
 */
const CLIENT_GRACE_MS = 500;

export function openDatabase(url: string, postgres: PostgresOptions = DEFAULT_POSTGRES): OpenDatabase {
  const { dialect, location } = describeDatabaseUrl(url);
  if (dialect === "sqlite") {
    const memory = location === ":memory:";
    if (!memory) mkdirSync(dirname(resolve(location)), { recursive: true });
    const sqlite = new Sqlite(memory ? ":memory:" : resolve(location));
    // WAL lets readers run beside the writer. synchronous=NORMAL: a COMMIT does not fsync; the
    // store makes each batch durable with an fdatasync of the log on a thread of its own before
    // it answers (INV-1, wal-sync.ts), so the event loop never waits for the disk.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    // A first read opens (creates) the log file, which the store's fdatasync thread holds open.
    sqlite.prepare("SELECT count(*) FROM sqlite_master").get();
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: keepingStatements(sqlite) }) });
    return { db, dialect, sqlite, sqliteFile: memory ? null : resolve(location), postgres: null };
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("schema");
  // Set below instead: pg lets the connection string's parameters win over its other settings,
  // and the cluster's listening connection names itself apart from the pool's.
  const applicationName = parsed.searchParams.get("application_name") ?? "curfew";
  parsed.searchParams.delete("application_name");
  const clientConfig: pg.ClientConfig = {
    connectionString: parsed.href,
    // SEC-80, FLT-01: bounded waits, so a store that does not answer becomes a 503 within about
    // two seconds, not a hang. connectionTimeoutMillis bounds both a new connection and the wait
    // for a free one; statement_timeout is the server's own limit (lock waits included), and
    // query_timeout the client's, for a server that answers nothing at all.
    connectionTimeoutMillis: postgres.connectTimeoutMs,
    statement_timeout: postgres.statementTimeoutMs,
    query_timeout: postgres.statementTimeoutMs + CLIENT_GRACE_MS,
    // A transaction left open (its client gone quiet) must not hold its locks for ever.
    idle_in_transaction_session_timeout: 10 * postgres.statementTimeoutMs,
    application_name: applicationName,
    ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
  };
  const pool = new pg.Pool({ ...clientConfig, max: postgres.poolSize });
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: survivingLostConnections(pool) }) }),
    dialect,
    sqlite: null,
    sqliteFile: null,
    postgres: { pool, schema, clientConfig },
  };
}

/**
 * The pool as Kysely uses it, made safe against connections that break (a PostgreSQL restart,
 * a failover, `pg_terminate_backend`, a network cut), idle or checked out.
 *
 * - pg emits 'error' on a client whose connection breaks, and an EventEmitter 'error' nobody
 *   listens for is thrown: the process exits. pg-pool listens only while a client is idle (it
 *   removes its listener on checkout and adds it back on release), then removes the client and
 *   re-emits on the pool. So the pool gets a listener, and every client one of its own from
 *   'connect' on, which marks it broken.
 * - The query that was running is failed by pg itself (the server's FATAL error, or "Connection
 *   terminated unexpectedly"); nothing here turns that into a result, so the store throws and the
 *   core answers STORE_UNAVAILABLE, a 503, never a success (INV-1, INV-3).
 * - A broken client is released with an error, which pg-pool's documented contract takes as
 *   "destroy this client", so it is never handed out again. This matters because the server's
 *   FATAL message (57P01 for pg_terminate_backend) reaches the running query before the socket
 *   closes: Kysely releases the client at once, while pg still thinks it usable, and pg-pool
 *   would give it to the next waiting query. The query's own error marks the client broken
 *   first (its catch runs before Kysely's, which awaits it).
 */
function survivingLostConnections(pool: pg.Pool): PostgresPool {
  const broken = new WeakSet<pg.PoolClient>();
  const guarded = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  pool.on("error", () => {}); // an idle client: pg-pool has already removed it
  pool.on("connect", (client) => {
    client.on("error", () => broken.add(client));
  });
  const guard = (client: pg.PoolClient): PostgresPoolClient => ({
    // Only the (sql, parameters) form: Kysely passes a cursor only when its config names one, and
    // ours does not; hence the cast past the cursor overload.
    query: ((sql: string, parameters: readonly unknown[]) =>
      client.query(sql, [...parameters]).catch((error: unknown) => {
        if (endsTheSession(error)) broken.add(client);
        throw error;
      })) as unknown as PostgresPoolClient["query"],
    release: () => client.release(broken.has(client) ? new Error("the connection to PostgreSQL was lost") : undefined),
  });
  return {
    async connect() {
      const client = await pool.connect();
      // One object per client: Kysely keys its connections by the client it is given.
      let facade = guarded.get(client);
      if (!facade) guarded.set(client, (facade = guard(client)));
      return facade;
    },
    end: () => pool.end(),
  };
}

/**
 * A server error after which the session is over (PostgreSQL protocol, ErrorResponse: a FATAL or
 * PANIC severity closes the connection). The severity field may be translated (lc_messages), so
 * the SQLSTATE classes that mean it are checked too: 57P (operator intervention: shutdown,
 * pg_terminate_backend, database dropped, idle_session_timeout) and 08 (connection exception).
 */
function endsTheSession(error: unknown): boolean {
  // pg's own query_timeout: the server never answered, and whatever it sends later would be read
  // as the next query's answer. This connection is done.
  if (error instanceof Error && error.message === "Query read timeout") return true;
  if (!(error instanceof pg.DatabaseError)) return false;
  return error.severity === "FATAL" || error.severity === "PANIC" || /^(57P|08)/.test(error.code ?? "");
}

/** How many distinct statements are kept; Kysely's SQL is parameterised, so the store needs a few dozen. */
const STATEMENTS_KEPT = 256;

/**
 * Kysely's SQLite driver prepares every query it runs, and preparing costs more than the indexed
 * lookup itself. This hands it the database with a cache of
 * prepared statements keyed by their SQL text: the same statements, compiled once. A statement
 * still iterating (`busy`, a streamed query) is never handed out twice; the cache is bounded and
 * drops its oldest entry when full. Results are identical: binding, stepping and errors are
 * per run in better-sqlite3, and SQLite re-prepares a statement itself after a schema change.
 */
function keepingStatements(sqlite: SqliteConnection): SqliteDatabase {
  const kept = new Map<string, SqliteStatement>();
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
