/**
 * Schema migrations, in order. Each is dialect-neutral Kysely DDL, so SQLite and PostgreSQL
 * run the same list. Never edit a migration that has shipped; add the next one.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from "kysely";

const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("identities")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("schema_id", "varchar(64)", (c) => c.notNull())
        .addColumn("email", "varchar(320)", (c) => c.notNull())
        .addColumn("email_key", "varchar(320)", (c) => c.notNull().unique())
        .addColumn("username", "varchar(64)")
        .addColumn("username_key", "varchar(64)", (c) => c.unique())
        .addColumn("state", "varchar(16)", (c) => c.notNull())
        .addColumn("state_changed_at", "bigint", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .addColumn("metadata_public", "text")
        .addColumn("metadata_admin", "text")
        .addColumn("external_id", "varchar(255)")
        .addColumn("password_hash", "varchar(255)")
        .addColumn("digest_hash", "varchar(255)")
        .execute();
      await db.schema
        .createTable("sessions")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("identity_id", "varchar(36)", (c) => c.notNull())
        .addColumn("door", "varchar(16)", (c) => c.notNull())
        .addColumn("secret_hash", "varchar(64)", (c) => c.notNull())
        .addColumn("issued_at", "bigint", (c) => c.notNull())
        .addColumn("authenticated_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .addColumn("revoked_reason", "varchar(32)")
        .addColumn("ip_address", "varchar(64)")
        .addColumn("user_agent", "varchar(512)")
        .execute();
      await db.schema.createIndex("sessions_identity_issued").on("sessions").columns(["identity_id", "issued_at"]).execute();
      await db.schema.createIndex("sessions_issued").on("sessions").columns(["issued_at", "id"]).execute();
      await db.schema.createIndex("sessions_expires").on("sessions").column("expires_at").execute();
      await db.schema.createIndex("sessions_revoked").on("sessions").column("revoked_at").execute();
      await db.schema
        .createTable("flows")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("type", "varchar(16)", (c) => c.notNull())
        .addColumn("kind", "varchar(16)", (c) => c.notNull())
        .addColumn("issued_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("request_url", "text", (c) => c.notNull())
        .addColumn("return_to", "text")
        .addColumn("csrf_token", "varchar(64)")
        .execute();
      await db.schema.createIndex("flows_expires").on("flows").column("expires_at").execute();
      await db.schema
        .createTable("audit_events")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("type", "varchar(32)", (c) => c.notNull())
        .addColumn("identity_id", "varchar(36)", (c) => c.notNull())
        .addColumn("session_id", "varchar(36)")
        .addColumn("door", "varchar(16)")
        .addColumn("reason", "varchar(32)")
        .addColumn("actor", "varchar(32)", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("audit_identity").on("audit_events").columns(["identity_id", "at"]).execute();
      await db.schema.createIndex("audit_session").on("audit_events").column("session_id").execute();
    },
  },
  "0002_flow_views_and_errors": {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("flows").addColumn("view", "text").execute();
      await db.schema
        .createTable("errors")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("error", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("errors_created").on("errors").column("created_at").execute();
    },
  },
  "0003_flow_csrf_token_text": {
    // The masked CSRF token of a browser flow (pad + secret, base64url) is 86 characters; 0001
    // declared 64. SQLite ignores declared lengths, PostgreSQL refused every browser flow.
    async up(db: Kysely<unknown>) {
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        await db.schema.alterTable("flows").alterColumn("csrf_token", (c) => c.setDataType("text")).execute();
      }
    },
  },
  "0004_oidc": {
    // Single sign-on (docs/adr/0019-single-sign-on-provider.md): relying apps, pending
    // authorization requests, codes and tokens (hashes only, D1), the apps that took part in each
    // session, and the back-channel logout outbox (INV-4). Also Kratos's `refresh` on login flows.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("flows").addColumn("refresh", "integer", (c) => c.notNull().defaultTo(0)).execute();
      await db.schema
        .createTable("oidc_clients")
        .addColumn("client_id", "varchar(255)", (c) => c.primaryKey())
        .addColumn("source", "varchar(16)", (c) => c.notNull())
        .addColumn("secret_hash", "varchar(64)")
        .addColumn("backchannel_logout_uri", "text")
        .addColumn("metadata", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("oidc_authorization_requests")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("client_id", "varchar(255)", (c) => c.notNull())
        .addColumn("issued_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("params", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("oidc_requests_expires").on("oidc_authorization_requests").column("expires_at").execute();
      await db.schema
        .createTable("oidc_codes")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("secret_hash", "varchar(64)", (c) => c.notNull())
        .addColumn("client_id", "varchar(255)", (c) => c.notNull())
        .addColumn("session_id", "varchar(36)", (c) => c.notNull())
        .addColumn("identity_id", "varchar(36)", (c) => c.notNull())
        .addColumn("redirect_uri", "text", (c) => c.notNull())
        .addColumn("scope", "text", (c) => c.notNull())
        .addColumn("nonce", "text")
        .addColumn("code_challenge", "varchar(128)")
        .addColumn("issued_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("used_at", "bigint")
        .execute();
      await db.schema.createIndex("oidc_codes_session").on("oidc_codes").column("session_id").execute();
      await db.schema.createIndex("oidc_codes_expires").on("oidc_codes").column("expires_at").execute();
      await db.schema
        .createTable("oidc_tokens")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("secret_hash", "varchar(64)", (c) => c.notNull())
        .addColumn("kind", "varchar(16)", (c) => c.notNull())
        .addColumn("client_id", "varchar(255)", (c) => c.notNull())
        .addColumn("session_id", "varchar(36)", (c) => c.notNull())
        .addColumn("identity_id", "varchar(36)", (c) => c.notNull())
        .addColumn("scope", "text", (c) => c.notNull())
        .addColumn("code_id", "varchar(36)")
        .addColumn("family_id", "varchar(36)", (c) => c.notNull())
        .addColumn("issued_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint")
        .addColumn("used_at", "bigint")
        .execute();
      await db.schema.createIndex("oidc_tokens_session").on("oidc_tokens").column("session_id").execute();
      await db.schema.createIndex("oidc_tokens_code").on("oidc_tokens").column("code_id").execute();
      await db.schema.createIndex("oidc_tokens_family").on("oidc_tokens").column("family_id").execute();
      await db.schema.createIndex("oidc_tokens_expires").on("oidc_tokens").column("expires_at").execute();
      await db.schema
        .createTable("oidc_participants")
        .addColumn("session_id", "varchar(36)", (c) => c.notNull())
        .addColumn("client_id", "varchar(255)", (c) => c.notNull())
        .addColumn("sid", "varchar(64)", (c) => c.notNull())
        .addColumn("joined_at", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("oidc_participants_pk", ["session_id", "client_id"])
        .execute();
      await db.schema.createIndex("oidc_participants_sid").on("oidc_participants").column("sid").execute();
      await db.schema
        .createTable("backchannel_deliveries")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("session_id", "varchar(36)", (c) => c.notNull())
        .addColumn("identity_id", "varchar(36)", (c) => c.notNull())
        .addColumn("client_id", "varchar(255)", (c) => c.notNull())
        .addColumn("sid", "varchar(64)", (c) => c.notNull())
        .addColumn("uri", "text", (c) => c.notNull())
        .addColumn("reason", "varchar(32)", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("lease_until", "bigint")
        .addColumn("last_status", "integer")
        .addColumn("last_error", "varchar(512)")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("backchannel_due").on("backchannel_deliveries").columns(["status", "next_attempt_at"]).execute();
      await db.schema.createIndex("backchannel_session").on("backchannel_deliveries").column("session_id").execute();
    },
  },
  "0005_nodes": {
    async up(db: Kysely<unknown>) {
      // One row per running Curfew process: readiness proves a commit by writing its own row.
      await db.schema
        .createTable("nodes")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("started_at", "bigint", (c) => c.notNull())
        .addColumn("seen_at", "bigint", (c) => c.notNull())
        .execute();
    },
  },
  "0006_node_leases": {
    async up(db: Kysely<unknown>) {
      // A serving node's lease on PostgreSQL (docs/adr/0021-cache-across-nodes.md): until this
      // instant, in the database's own clock (epoch ms), the node may answer from its session
      // cache, and every revocation waits for its acknowledgement. Null: no lease (the CLI, SQLite).
      await db.schema.alterTable("nodes").addColumn("lease_until", "bigint").execute();
    },
  },
  "0007_partial_revoked_index": {
    async up(db: Kysely<unknown>) {
      // Only ended sessions in the index the purge reads (`revoked_at < cutoff` implies NOT NULL,
      // so both SQLite and PostgreSQL still use it). A logout then adds one entry at the index's
      // right edge instead of also moving one out of the NULLs, where it sat on a random page
      // among the live sessions: one page less written per logout (docs/adr/0022-sqlite-writer.md).
      await db.schema.dropIndex("sessions_revoked").execute();
      await db.schema.createIndex("sessions_revoked").on("sessions").column("revoked_at").where(sql.ref("revoked_at"), "is not", null).execute();
    },
  },
  "0008_audit_sign_in_attempts": {
    async up(db: Kysely<unknown>) {
      // Failed sign-ins and lockouts join the trail (docs/adr/0025-audit-trail.md): an attempt on no
      // known account has no identity, and every attempt has a client. SQLite cannot drop a NOT NULL,
      // so the table is rebuilt, the same way on both engines; its indexes go with the old table.
      await db.schema
        .createTable("audit_events_v8")
        .addColumn("id", "varchar(36)", (c) => c.primaryKey())
        .addColumn("at", "bigint", (c) => c.notNull())
        .addColumn("type", "varchar(32)", (c) => c.notNull())
        .addColumn("identity_id", "varchar(36)")
        .addColumn("session_id", "varchar(36)")
        .addColumn("door", "varchar(16)")
        .addColumn("reason", "varchar(32)")
        .addColumn("actor", "varchar(32)", (c) => c.notNull())
        .addColumn("ip_address", "varchar(64)")
        .addColumn("user_agent", "varchar(512)")
        .execute();
      await sql`insert into audit_events_v8 (id, at, type, identity_id, session_id, door, reason, actor)
        select id, at, type, identity_id, session_id, door, reason, actor from audit_events`.execute(db);
      await db.schema.dropTable("audit_events").execute();
      await db.schema.alterTable("audit_events_v8").renameTo("audit_events").execute();
      await db.schema.createIndex("audit_identity").on("audit_events").columns(["identity_id", "at"]).execute();
      await db.schema.createIndex("audit_session").on("audit_events").column("session_id").execute();
      // The trail's own order (newest first, by instant then id) and its retention purge.
      await db.schema.createIndex("audit_at").on("audit_events").columns(["at", "id"]).execute();
    },
  },
  "0009_settings_flows": {
    async up(db: Kysely<unknown>) {
      // A settings flow belongs to one identity: only its sessions may read or submit it (ADR 0026).
      await db.schema.alterTable("flows").addColumn("identity_id", "varchar(36)").execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Brings the schema up to date, or with `upTo` to that migration (a test of a later one's upgrade
 * starts there); returns the names of the migrations it applied.
 */
export async function migrateToLatest(db: Kysely<unknown>, upTo?: string): Promise<string[]> {
  // Kysely's Migrator looks for its own tables in every schema unless told which one, so on
  // PostgreSQL a second Curfew schema in the same database (one per test run, or a staging
  // copy) would make it skip creating them here. Name the schema the tables will live in.
  const migrationTableSchema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: "curfew_migrations",
    migrationLockTableName: "curfew_migrations_lock",
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = upTo === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(upTo);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
