/** PostgreSQL for tests (D18): a schema of its own per run, dropped with everything in it afterwards. */
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface TestSchema {
  name: string;
  /** `baseUrl` with `?schema=<name>` and `application_name=<name>`, so Curfew's connections are named by it in pg_stat_activity. */
  url: string;
  drop(): Promise<void>;
}

async function run(baseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function postgresSchema(baseUrl: string, prefix = "curfew_test"): Promise<TestSchema> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await run(baseUrl, `CREATE SCHEMA ${name}`);
  const url = new URL(baseUrl);
  url.searchParams.set("schema", name);
  url.searchParams.set("application_name", name);
  return { name, url: url.href, drop: () => run(baseUrl, `DROP SCHEMA IF EXISTS ${name} CASCADE`) };
}
