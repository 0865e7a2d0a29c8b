/**
 * The Store port over Kysely: one implementation for SQLite and PostgreSQL
 * (docs/architecture.md). Dialect differences stay in connect.ts; the queries here run unchanged on both.
 */
import { type Insertable, type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { identityDeletedEvent, sessionEndedEvent } from "../../core/audit.ts";
import { CoreError } from "../../core/errors.ts";
import { DOORS } from "../../core/model.ts";
import { randomUUID } from "node:crypto";
import type {
  AuditEvent,
  AuthorizationCode,
  BackchannelDelivery,
  DeliveryStatus,
  AuthorizationRequest,
  Door,
  GrantToken,
  Participant,
  RelyingApp,
  Flow,
  FlowKind,
  FlowType,
  IdentityRecord,
  IdentityState,
  Page,
  RevocationReason,
  RevocationRecord,
  RevocationTarget,
  RevokedSession,
  Session,
  StoredError,
} from "../../core/model.ts";
import type { AuditQuery, DeliveryOutcome, IdentityQuery, RevocationResult, SessionQuery, Store, WindowCounters } from "../../core/ports.ts";
import { PostgresWindows } from "./postgres-windows.ts";
import { openDatabase, type OpenDatabase, type PostgresOptions } from "./connect.ts";
import { GroupCommit, type Lane } from "./group-commit.ts";
import { migrateToLatest } from "./migrations.ts";
import type { BackchannelDeliveriesTable, Database, IdentitiesTable, OidcClientsTable, OidcCodesTable, OidcParticipantsTable, OidcTokensTable, SessionsTable } from "./schema.ts";
import { toNumber } from "./schema.ts";
import { PostgresCluster } from "./cluster.ts";
import { WalSync } from "./wal-sync.ts";
import { type CachedSession, SessionCache } from "./session-cache.ts";
import { newId } from "../../core/ids.ts";

export interface SqlStoreOptions {
  /** Run migrations on open (the server does; `curfew migrate` does it explicitly). */
  migrate?: boolean;
  /**
   * Use the in-process session cache (default on). On PostgreSQL only a serving node keeps one,
   * under a lease (`cluster.serving`, ADR 0021).
   */
  cache?: boolean;
  /** The cache's bound in (estimated) bytes: `session.cache_max_bytes`. */
  cacheBytes?: number;
  /** Told of each group-commit batch once durable: its size and seconds (the server's metrics). */
  observeCommits?: (size: number, seconds: number) => void;
  /**
   * Several nodes on PostgreSQL (ADR 0021): `serving` holds a lease and keeps a cache, as `curfew
   * serve` does; without it (the CLI) the store only announces what it ends and waits for the
   * serving nodes. `leaseMs` is `cluster.lease`. Ignored on SQLite.
   */
  cluster?: { leaseMs: number; serving: boolean };
  /** PostgreSQL's pool and timeouts (configuration `database.postgres`). */
  postgres?: PostgresOptions;
}

/** `cluster.lease`'s default. */
export const DEFAULT_LEASE_MS = 2_000;

/** A node row not written for this long belongs to a process that has gone. */
const NODE_FORGOTTEN_MS = 24 * 3_600_000;

export class SqlStore implements Store {
  readonly #writes: GroupCommit<Database>;
  readonly #cache: SessionCache | null;
  readonly #cluster: PostgresCluster<Database> | null;

  private constructor(
    readonly db: Kysely<Database>,
    readonly dialect: OpenDatabase["dialect"],
    cache: SessionCache | null,
    cluster: PostgresCluster<Database> | null,
    private readonly postgres: OpenDatabase["postgres"],
    /** This process's row in `nodes`. */
    readonly nodeId: string,
    /** SQLite's durability (INV-1); absent where a COMMIT is durable when it returns. */
    private readonly walSync: WalSync | null,
    observeCommits: ((size: number, seconds: number) => void) | null,
  ) {
    this.#writes = new GroupCommit(db, {
      announcer: cluster,
      evictLocally: cache && ((evicted) => (evicted.everything ? cache.clear() : evicted.ids.forEach((id) => cache.delete(id)))),
      durable: walSync && (() => walSync.sync()),
      observe: observeCommits,
    });
    this.#cache = cache;
    this.#cluster = cluster;
  }

  /** Whether this node answers from its cache now (PostgreSQL: it holds a lease); for tests and the bench. */
  get cacheInUse(): boolean {
    return this.#cache !== null && (this.#cluster?.serving ?? true);
  }

  sharedWindows(name: string, max: number, windowMs: number): WindowCounters | null {
    return this.postgres ? new PostgresWindows(this.postgres.pool, this.postgres.schema, name, max, windowMs) : null;
  }

  static async open(url: string, options: SqlStoreOptions = {}): Promise<SqlStore> {
    const { db, dialect, sqlite, sqliteFile, postgres } = openDatabase(url, options.postgres);
    let walSync: WalSync | null = null;
    try {
      if (options.migrate ?? true) await migrateToLatest(db as Kysely<unknown>);
      if (sqliteFile) {
        walSync = new WalSync(sqliteFile);
        // The migrations' own writes, and whatever an earlier process left unsynced.
        await walSync.sync();
      }
    } catch (error) {
      await walSync?.close();
      await db.destroy();
      throw error;
    }
    const nodeId = randomUUID();
    let cache: SessionCache | null = null;
    let cluster: PostgresCluster<Database> | null = null;
    if (sqlite && (options.cache ?? true)) {
      const version = sqlite.prepare("PRAGMA data_version").pluck();
      let seen = version.get();
      const local = new SessionCache(() => {
        const now = version.get();
        if (now !== seen) {
          seen = now;
          local.clear();
        }
        return true;
      }, options.cacheBytes);
      cache = local;
    }
    if (postgres) {
      const holdsLease = (options.cluster?.serving ?? false) && (options.cache ?? true);
      const shared = new PostgresCluster(db, {
        nodeId,
        leaseMs: options.cluster?.leaseMs ?? DEFAULT_LEASE_MS,
        holdsLease,
        clientConfig: postgres.clientConfig,
        evict: (ids) => {
          if (ids === "all") cache?.clear();
          else for (const id of ids) cache?.delete(id);
        },
      });
      if (holdsLease) cache = new SessionCache(() => shared.serving, options.cacheBytes);
      try {
        await shared.start();
      } catch (error) {
        await db.destroy();
        throw error;
      }
      cluster = shared;
    }
    return new SqlStore(db, dialect, cache, cluster, postgres, nodeId, walSync, options.observeCommits ?? null);
  }

  /** Brings the schema up to date; returns the names of the migrations it applied (`curfew migrate`). */
  async migrate(): Promise<string[]> {
    const applied = await migrateToLatest(this.db as Kysely<unknown>);
    await this.walSync?.sync();
    return applied;
  }

  async ping(at: Date): Promise<void> {
    const t = at.getTime();
    await this.#writes.run(async (trx) => {
      await trx
        .insertInto("nodes")
        .values({ id: this.nodeId, started_at: t, seen_at: t })
        .onConflict((oc) => oc.column("id").doUpdateSet({ seen_at: t }))
        .execute();
      // Processes long gone leave rows; a day without a word is gone. Never a row whose lease may
      // still hold: its node's wall clock may be far from ours (ADR 0021).
      await trx
        .deleteFrom("nodes")
        .where("seen_at", "<", t - NODE_FORGOTTEN_MS)
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", t - NODE_FORGOTTEN_MS)]))
        .execute();
    });
  }

  async close(): Promise<void> {
    await this.#writes.drain();
    await this.#cluster?.close();
    await this.walSync?.close();
    await this.db.destroy();
  }

  // ---- identities -------------------------------------------------------------------------

  async insertIdentity(identity: IdentityRecord, audit: AuditEvent): Promise<void> {
    try {
      await this.#writes.run(async (trx) => {
        await trx.insertInto("identities").values(identityRow(identity)).execute();
        await insertAudit(trx, audit);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new CoreError("IDENTIFIER_TAKEN", "An account with the same identifier (email, phone, username, ...) exists already.");
      }
      throw error;
    }
  }

  async findIdentity(id: string): Promise<IdentityRecord | null> {
    const row = await this.db.selectFrom("identities").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? identityFromRow(row) : null;
  }

  async findIdentityByIdentifier(identifier: string): Promise<IdentityRecord | null> {
    if (!storable(identifier)) return null;
    const key = identifier.toLowerCase();
    const column = key.includes("@") ? "email_key" : "username_key";
    const row = await this.db.selectFrom("identities").selectAll().where(column, "=", key).executeTakeFirst();
    return row ? identityFromRow(row) : null;
  }

  async listIdentities(query: IdentityQuery): Promise<Page<IdentityRecord>> {
    let q = this.db.selectFrom("identities").selectAll().orderBy("id").limit(query.limit + 1);
    if (query.identifier !== undefined) {
      if (!storable(query.identifier)) return { items: [], next: null };
      const key = query.identifier.toLowerCase();
      q = q.where((eb) => eb.or([eb("email_key", "=", key), eb("username_key", "=", key)]));
    }
    if (query.cursor && storable(query.cursor)) q = q.where("id", ">", query.cursor);
    const rows = await q.execute();
    const items = rows.slice(0, query.limit).map(identityFromRow);
    return { items, next: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async updateIdentity(record: IdentityRecord, audit: AuditEvent, options: { password: boolean }): Promise<boolean> {
    // The verifiers only when they are what changes: an operator's edit of traits must not write
    // back the hashes it read, over a password the person changed meanwhile.
    const { id: _id, created_at: _created, password_hash, digest_hash, ...rest } = identityRow(record);
    const row = options.password ? { ...rest, password_hash, digest_hash } : rest;
    try {
      return await this.#writes.run(async (trx, evict) => {
        const updated = await trx.updateTable("identities").set(row).where("id", "=", record.id).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) return false;
        await insertAudit(trx, audit);
        // Cached sessions carry their identity: none may answer with the old traits or state,
        // here or on another node (no cache keeps an index by identity; an admin change is rare).
        this.#cache?.clear();
        evict.all();
        return true;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new CoreError("IDENTIFIER_TAKEN", "An account with the same identifier (email, phone, username, ...) exists already.");
      }
      throw error;
    }
  }

  async setPasswordHashes(identityId: string, hashes: { passwordHash: string; digestHash: string }, at: Date, audit: AuditEvent): Promise<boolean> {
    // The cache keeps no verifier (publicIdentity), so a cached session needs no eviction here;
    // the sessions the change ends are evicted by their revocation (ADR 0026).
    return this.#writes.run(async (trx) => {
      const updated = await trx
        .updateTable("identities")
        .set({ password_hash: hashes.passwordHash, digest_hash: hashes.digestHash, updated_at: at.getTime() })
        .where("id", "=", identityId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await insertAudit(trx, audit);
      return true;
    });
  }

  async setDigestHash(identityId: string, digestHash: string, passwordHash: string): Promise<void> {
    await this.#writes.run((trx) =>
      trx
        .updateTable("identities")
        .set({ digest_hash: digestHash })
        .where("id", "=", identityId)
        .where("digest_hash", "is", null)
        .where("password_hash", "=", passwordHash)
        .execute(),
    );
    this.#cache?.clear();
  }


  // ---- sessions ---------------------------------------------------------------------------

  async insertSession(session: Session, audit: AuditEvent): Promise<void> {
    await this.#writes.run(async (trx) => {
      await trx.insertInto("sessions").values(sessionRow(session)).execute();
      await insertAudit(trx, audit);
    });
  }

  /**
   * Always the record, never the cache: its callers decide from a no (a logout by token that finds
   * the session past its expiry ends nothing), and a cached copy's no can be wrong (ADR 0021).
   */
  async findSession(id: string): Promise<Session | null> {
    const row = await this.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? sessionFromRow(row) : null;
  }

  async findSessionWithIdentity(id: string, options?: { fresh?: boolean }): Promise<CachedSession | null> {
    const cache = this.#cache;
    if (!options?.fresh) {
      const cached = cache?.get(id);
      if (cached) return cached;
    }
    const generation = cache?.generation ?? 0;
    const row = await this.db
      .selectFrom("sessions")
      .innerJoin("identities", "identities.id", "sessions.identity_id")
      .selectAll("sessions")
      .select([
        "identities.schema_id",
        "identities.email",
        "identities.username",
        "identities.state",
        "identities.state_changed_at",
        "identities.created_at",
        "identities.updated_at",
        "identities.metadata_public",
        "identities.metadata_admin",
        "identities.external_id",
      ])
      .where("sessions.id", "=", id)
      .executeTakeFirst();
    if (!row) {
      if (options?.fresh) cache?.delete(id);
      return null;
    }
    const found = {
      session: sessionFromRow(row),
      identity: identityFromRow({ ...row, id: row.identity_id, email_key: "", username_key: null, password_hash: null, digest_hash: null }),
    };
    // Only live sessions are worth keeping; ended ones are answered from the database. A fresh read
    // replaces what was kept.
    if (cache && found.session.revokedAt === null) cache.set(id, { ...found, cached: true }, generation);
    else if (options?.fresh) cache?.delete(id);
    return found;
  }

  async listSessions(query: SessionQuery): Promise<Page<Session>> {
    let q = this.db
      .selectFrom("sessions")
      .selectAll()
      .orderBy("issued_at", "desc")
      .orderBy("id", "desc")
      .limit(query.limit + 1);
    q = filterSessions(q, query);
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (cursor) {
      q = q.where((eb) =>
        eb.or([eb("issued_at", "<", cursor.issuedAt), eb.and([eb("issued_at", "=", cursor.issuedAt), eb("id", "<", cursor.id)])]),
      );
    }
    const rows = await q.execute();
    const items = rows.slice(0, query.limit).map(sessionFromRow);
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  async countSessions(query: Omit<SessionQuery, "limit" | "cursor">): Promise<number> {
    const q = filterSessions(this.db.selectFrom("sessions").select((eb) => eb.fn.countAll<number | string>().as("n")), query);
    const row = await q.executeTakeFirstOrThrow();
    return toNumber(row.n);
  }

  async touchSession(id: string, lastSeenAt: Date): Promise<void> {
    await this.#writes.run((trx) =>
      trx
        .updateTable("sessions")
        .set({ last_seen_at: lastSeenAt.getTime() })
        .where("id", "=", id)
        .where("last_seen_at", "<", lastSeenAt.getTime())
        .execute(),
    );
    // Only after the commit: a cached activity the row does not have would keep an idle session
    // alive here after a failed write, and the next touch would revive it in the row (INV-2).
    const cached = this.#cache?.get(id);
    // Never backwards, as the row itself (above): touches of concurrent requests can land out of order.
    if (cached && cached.session.lastSeenAt < lastSeenAt) cached.session = { ...cached.session, lastSeenAt };
  }

  async revokeSessions(record: RevocationRecord): Promise<RevocationResult> {
    // The common case, one session (every door's logout): with the batch's other logouts.
    if (record.target.kind === "session" && !record.deleteIdentity) return this.#writes.runTogether(this.#sessionRevocations, record);
    const deleting = record.deleteIdentity && record.target.kind === "identity" ? record.target.identityId : null;
    const result = await this.#writes.run(async (trx, evict) => {
      // Not thrown here: a throw inside the group commit rolls back the whole batch and replays
      // its other writes one transaction each. This write simply writes nothing.
      if (deleting !== null && !(await trx.selectFrom("identities").select("id").where("id", "=", deleting).executeTakeFirst())) {
        return null;
      }
      const revoked = await revokeWhere(trx, record.target, record.reason, record.at.getTime());
      for (const s of revoked) {
        await insertAudit(trx, sessionEndedEvent(record, s));
        // Before the commit, and so before anyone is told "logged out" (INV-2).
        this.#cache?.delete(s.id);
      }
      // And on every other node before the answer (ADR 0021): the commit carries the notice.
      evict.sessions(revoked.map((s) => s.id));
      // Codes and tokens die with their session, in the same transaction (RFC 6749 leaves their
      // lifetime to us; docs/adr/0019-single-sign-on-provider.md).
      await revokeGrantsOf(trx, revoked.map((s) => s.id));
      // INV-4: the back-channel outbox, in this transaction: committed with the revocation or not at all.
      const [queued] = await queueBackchannel(trx, [{ record, revoked }]);
      if (deleting !== null) {
        await trx.deleteFrom("identities").where("id", "=", deleting).execute();
        await insertAudit(trx, identityDeletedEvent(record, deleting));
        // Cached sessions carry their identity; none of this one's may outlive it, here or elsewhere.
        this.#cache?.clear();
        evict.all();
      }
      return { revoked, queued: queued! };
    });
    if (result === null) throw new CoreError("IDENTITY_NOT_FOUND", "Unable to locate the resource");
    return result;
  }

  /**
   * The revocations of single sessions in a batch, written together: one UPDATE per 200 sessions
   * (per instant and reason), one INSERT of their audit rows, their grants and back-channel
   * notices for all of them at once; what `revokeSessions` does for each, in a few statements
   * rather than a few each. The first revocation of a session in the run ends it; a later one
   * finds it ended, as it would have one after the other.
   */
  readonly #sessionRevocations: Lane<Database, RevocationRecord, RevocationResult> = {
    write: async (trx, records, evictions) => {
      const first = new Map<string, number>();
      records.forEach((r, i) => {
        const t = r.target as Extract<RevocationTarget, { kind: "session" }>;
        if (storable(t.sessionId) && !first.has(t.sessionId)) first.set(t.sessionId, i);
      });
      const revoked = records.map((): RevokedSession[] => []);
      const firsts = [...first.values()];
      for (let k = 0; k < firsts.length; k += 200) {
        // Each row of the derived table is one revocation's session, instant, reason and owner
        // check (a SELECT … UNION ALL, as SQLite has no column list for VALUES).
        const asked = sql.join(
          firsts.slice(k, k + 200).map((i) => {
            const r = records[i]!;
            const t = r.target as Extract<RevocationTarget, { kind: "session" }>;
            return sql`select ${t.sessionId} as id, cast(${r.at.getTime()} as bigint) as at, ${r.reason} as reason, ${t.identityId ?? null} as owner`;
          }),
          sql` union all `,
        );
        const { rows } = await sql<{ id: string; identity_id: string; door: string; last_seen_at: number | string }>`
          update sessions set revoked_at = v.at, revoked_reason = v.reason
          from (${asked}) as v
          where sessions.id = v.id and (v.owner is null or sessions.identity_id = v.owner)
            and sessions.revoked_at is null and sessions.expires_at > v.at
          returning sessions.id, sessions.identity_id, sessions.door, sessions.last_seen_at`.execute(trx);
        for (const row of rows) revoked[first.get(row.id)!]!.push(revokedFromRow(row));
      }
      await insertAudits(trx, records.flatMap((r, i) => revoked[i]!.map((s) => sessionEndedEvent(r, s))));
      records.forEach((_, i) => {
        // Before the commit, and so before anyone is told "logged out" (INV-2); and on every
        // other node before the answer (ADR 0021).
        for (const s of revoked[i]!) this.#cache?.delete(s.id);
        evictions[i]!.sessions(revoked[i]!.map((s) => s.id));
      });
      await revokeGrantsOf(trx, revoked.flat().map((s) => s.id));
      const queued = await queueBackchannel(trx, records.map((record, i) => ({ record, revoked: revoked[i]! })));
      return records.map((_, i) => ({ revoked: revoked[i]!, queued: queued[i]! }));
    },
  };

  async extendSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    return this.#updateLiveSession(id, now, { expires_at: expiresAt.getTime(), last_seen_at: now.getTime() });
  }

  async reauthenticateSession(id: string, at: Date): Promise<boolean> {
    return this.#updateLiveSession(id, at, { authenticated_at: at.getTime(), last_seen_at: at.getTime() });
  }

  /** Sets columns of a session that is neither revoked nor expired at `now`; false otherwise. Evicts it from the cache. */
  async #updateLiveSession(id: string, now: Date, set: Partial<SessionsTable>): Promise<boolean> {
    const t = now.getTime();
    const updated = await this.#writes.run((trx) =>
      trx.updateTable("sessions").set(set).where("id", "=", id).where("revoked_at", "is", null).where("expires_at", ">", t).returning("id").execute(),
    );
    this.#cache?.delete(id);
    return updated.length > 0;
  }

  async purgeSessions(before: Date): Promise<number> {
    const t = before.getTime();
    const deleted = await this.#writes.run((trx) =>
      trx
        .deleteFrom("sessions")
        .where((eb) => eb.or([eb("revoked_at", "<", t), eb("expires_at", "<", t)]))
        .returning("id")
        .execute(),
    );
    for (const row of deleted) this.#cache?.delete(row.id);
    return deleted.length;
  }

  // ---- flows ------------------------------------------------------------------------------

  async insertFlow(flow: Flow): Promise<void> {
    await this.#writes.run((trx) =>
      trx
        .insertInto("flows")
        .values({
          id: flow.id,
          type: flow.type,
          kind: flow.kind,
          issued_at: flow.issuedAt.getTime(),
          expires_at: flow.expiresAt.getTime(),
          request_url: flow.requestUrl,
          return_to: flow.returnTo,
          csrf_token: flow.csrfToken,
          view: flow.view === null ? null : JSON.stringify(flow.view),
          refresh: flow.refresh ? 1 : 0,
          identity_id: flow.identityId,
        })
        .execute(),
    );
  }

  async findFlow(id: string): Promise<Flow | null> {
    const row = await this.db.selectFrom("flows").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      type: row.type as FlowType,
      kind: row.kind as FlowKind,
      issuedAt: new Date(toNumber(row.issued_at)),
      expiresAt: new Date(toNumber(row.expires_at)),
      requestUrl: row.request_url,
      returnTo: row.return_to,
      csrfToken: row.csrf_token,
      view: row.view === null ? null : JSON.parse(row.view),
      refresh: Number(row.refresh) === 1,
      identityId: row.identity_id,
    };
  }

  async saveFlowView(id: string, view: unknown): Promise<boolean> {
    const updated = await this.#writes.run((trx) =>
      trx
        .updateTable("flows")
        .set({ view: view === null ? null : JSON.stringify(view) })
        .where("id", "=", id)
        .returning("id")
        .execute(),
    );
    return updated.length > 0;
  }

  async insertError(error: StoredError): Promise<void> {
    await this.#writes.run((trx) =>
      trx
        .insertInto("errors")
        .values({ id: error.id, created_at: error.createdAt.getTime(), error: JSON.stringify(error.error) })
        .execute(),
    );
  }

  async findError(id: string): Promise<StoredError | null> {
    const row = await this.db.selectFrom("errors").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? { id: row.id, createdAt: new Date(toNumber(row.created_at)), error: JSON.parse(row.error) } : null;
  }

  async purgeErrors(before: Date): Promise<number> {
    const deleted = await this.#writes.run((trx) =>
      trx.deleteFrom("errors").where("created_at", "<", before.getTime()).returning("id").execute(),
    );
    return deleted.length;
  }

  async purgeFlows(before: Date): Promise<number> {
    const deleted = await this.#writes.run((trx) =>
      trx.deleteFrom("flows").where("expires_at", "<", before.getTime()).returning("id").execute(),
    );
    return deleted.length;
  }

  // ---- single sign-on ---------------------------------------------------------------------

  async syncConfigApps(apps: readonly RelyingApp[]): Promise<void> {
    await this.#writes.run(async (trx) => {
      const listed = apps.map((a) => a.clientId);
      let stale = trx.deleteFrom("oidc_clients").where("source", "=", "config");
      if (listed.length > 0) stale = stale.where("client_id", "not in", listed);
      const removed = await stale.returning("client_id").execute();
      // An admin app that configuration now defines is another app (another secret, perhaps
      // public): what the old one was given does not pass to it.
      const takenOver =
        listed.length > 0 ? await trx.selectFrom("oidc_clients").select("client_id").where("source", "=", "admin").where("client_id", "in", listed).execute() : [];
      await deleteGrantsOf(trx, [...removed, ...takenOver].map((r) => r.client_id));
      for (const app of apps) {
        // An upsert, so nodes starting together over one PostgreSQL do not race into a unique
        // violation; an app that was there keeps its created_at.
        const { created_at: _created, client_id: _id, ...changed } = appRow(app);
        await trx
          .insertInto("oidc_clients")
          .values(appRow(app))
          .onConflict((oc) => oc.column("client_id").doUpdateSet(changed))
          .execute();
      }
    });
  }

  async findApp(clientId: string): Promise<RelyingApp | null> {
    if (!storable(clientId)) return null;
    const row = await this.db.selectFrom("oidc_clients").selectAll().where("client_id", "=", clientId).executeTakeFirst();
    return row ? appFromRow(row) : null;
  }

  async listApps(): Promise<RelyingApp[]> {
    const rows = await this.db.selectFrom("oidc_clients").selectAll().orderBy("client_id").execute();
    return rows.map(appFromRow);
  }

  async insertApp(app: RelyingApp): Promise<boolean> {
    const rows = await this.#writes.run((trx) =>
      trx
        .insertInto("oidc_clients")
        .values(appRow(app))
        .onConflict((oc) => oc.column("client_id").doNothing())
        .returning("client_id")
        .execute(),
    );
    return rows.length === 1;
  }

  async updateApp(app: RelyingApp): Promise<boolean> {
    const { created_at: _created, client_id: _id, ...changed } = appRow(app);
    const rows = await this.#writes.run((trx) =>
      trx.updateTable("oidc_clients").set(changed).where("client_id", "=", app.clientId).where("source", "=", "admin").returning("client_id").execute(),
    );
    return rows.length === 1;
  }

  async deleteApp(clientId: string): Promise<boolean> {
    if (!storable(clientId)) return false;
    return this.#writes.run(async (trx) => {
      const rows = await trx.deleteFrom("oidc_clients").where("client_id", "=", clientId).where("source", "=", "admin").returning("client_id").execute();
      if (rows.length === 0) return false;
      await deleteGrantsOf(trx, [clientId]);
      return true;
    });
  }

  async insertAuthorizationRequest(request: AuthorizationRequest): Promise<void> {
    await this.#writes.run((trx) =>
      trx
        .insertInto("oidc_authorization_requests")
        .values({
          id: request.id,
          client_id: request.clientId,
          issued_at: request.issuedAt.getTime(),
          expires_at: request.expiresAt.getTime(),
          params: JSON.stringify(request.params),
        })
        .execute(),
    );
  }

  async takeAuthorizationRequest(id: string): Promise<AuthorizationRequest | null> {
    if (!storable(id)) return null;
    const rows = await this.#writes.run((trx) => trx.deleteFrom("oidc_authorization_requests").where("id", "=", id).returningAll().execute());
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      clientId: row.client_id,
      issuedAt: new Date(toNumber(row.issued_at)),
      expiresAt: new Date(toNumber(row.expires_at)),
      params: JSON.parse(row.params),
    };
  }

  async findAuthorizationRequestClient(id: string): Promise<string | null> {
    if (!storable(id)) return null;
    const row = await this.db.selectFrom("oidc_authorization_requests").select("client_id").where("id", "=", id).executeTakeFirst();
    return row?.client_id ?? null;
  }

  async insertCode(code: AuthorizationCode, participant: Participant): Promise<boolean> {
    return this.#writes.run(async (trx) => {
      if (!(await sessionUnrevoked(trx, code.sessionId))) return false;
      await trx.insertInto("oidc_codes").values(codeRow(code)).execute();
      const existing = await trx
        .selectFrom("oidc_participants")
        .select("sid")
        .where("session_id", "=", participant.sessionId)
        .where("client_id", "=", participant.clientId)
        .executeTakeFirst();
      if (!existing) {
        await trx
          .insertInto("oidc_participants")
          .values({ session_id: participant.sessionId, client_id: participant.clientId, sid: participant.sid, joined_at: participant.joinedAt.getTime() })
          .execute();
      }
      return true;
    });
  }

  async redeemCode(id: string, at: Date): Promise<{ code: AuthorizationCode; firstUse: boolean } | null> {
    if (!storable(id)) return null;
    const t = at.getTime();
    return this.#writes.run(async (trx) => {
      const row = await trx.selectFrom("oidc_codes").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return null;
      const code = codeFromRow(row);
      if (code.usedAt !== null) {
        // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
        await trx.updateTable("oidc_tokens").set({ revoked_at: t }).where("code_id", "=", id).where("revoked_at", "is", null).execute();
        return { code, firstUse: false };
      }
      await trx.updateTable("oidc_codes").set({ used_at: t }).where("id", "=", id).execute();
      return { code: { ...code, usedAt: at }, firstUse: true };
    });
  }

  async insertTokens(tokens: readonly GrantToken[]): Promise<boolean> {
    if (tokens.length === 0) return true;
    return this.#writes.run(async (trx) => {
      if (!(await sessionUnrevoked(trx, tokens[0]!.sessionId))) return false;
      await trx.insertInto("oidc_tokens").values(tokens.map(tokenRow)).execute();
      return true;
    });
  }

  async findToken(id: string): Promise<GrantToken | null> {
    if (!storable(id)) return null;
    const row = await this.db.selectFrom("oidc_tokens").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? tokenFromRow(row) : null;
  }

  async rotateRefreshToken(id: string, at: Date, replacements: readonly GrantToken[]): Promise<"rotated" | "reused" | "gone"> {
    if (!storable(id)) return "gone";
    const t = at.getTime();
    return this.#writes.run(async (trx) => {
      const row = await trx.selectFrom("oidc_tokens").selectAll().where("id", "=", id).where("kind", "=", "refresh").executeTakeFirst();
      if (!row || row.revoked_at !== null || !(await sessionUnrevoked(trx, row.session_id))) return "gone";
      if (row.used_at !== null) {
        // A rotated refresh token presented again: someone else holds a copy (RFC 9700 §4.14.2).
        await trx.updateTable("oidc_tokens").set({ revoked_at: t }).where("family_id", "=", row.family_id).where("revoked_at", "is", null).execute();
        return "reused";
      }
      await trx.updateTable("oidc_tokens").set({ used_at: t }).where("id", "=", id).execute();
      if (replacements.length > 0) await trx.insertInto("oidc_tokens").values(replacements.map(tokenRow)).execute();
      return "rotated";
    });
  }

  async revokeTokenFamily(familyId: string, at: Date): Promise<void> {
    if (!storable(familyId)) return;
    await this.#writes.run((trx) =>
      trx.updateTable("oidc_tokens").set({ revoked_at: at.getTime() }).where("family_id", "=", familyId).where("revoked_at", "is", null).execute(),
    );
  }

  async listParticipants(sessionId: string): Promise<Participant[]> {
    if (!storable(sessionId)) return [];
    const rows = await this.db.selectFrom("oidc_participants").selectAll().where("session_id", "=", sessionId).orderBy("joined_at").execute();
    return rows.map(participantFromRow);
  }

  async findParticipantBySid(sid: string): Promise<Participant | null> {
    if (!storable(sid)) return null;
    const row = await this.db.selectFrom("oidc_participants").selectAll().where("sid", "=", sid).limit(1).executeTakeFirst();
    return row ? participantFromRow(row) : null;
  }

  async purgeGrants(before: Date): Promise<number> {
    const t = before.getTime();
    return this.#writes.run(async (trx) => {
      const requests = await trx.deleteFrom("oidc_authorization_requests").where("expires_at", "<", t).returning("id").execute();
      const codes = await trx.deleteFrom("oidc_codes").where("expires_at", "<", t).returning("id").execute();
      const tokens = await trx
        .deleteFrom("oidc_tokens")
        .where((eb) => eb.or([eb("expires_at", "<", t), eb("revoked_at", "<", t)]))
        .returning("id")
        .execute();
      // A participant outlives nothing: once its session's row is purged, so is it.
      const participants = await trx
        .deleteFrom("oidc_participants")
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom("sessions").select("sessions.id").whereRef("sessions.id", "=", "oidc_participants.session_id"))),
        )
        .returning("sid")
        .execute();
      return requests.length + codes.length + tokens.length + participants.length;
    });
  }

  async claimDeliveries(now: Date, leaseUntil: Date, limit: number, skip: readonly string[]): Promise<BackchannelDelivery[]> {
    const t = now.getTime();
    return this.#writes.run(async (trx) => {
      let query = trx
        .selectFrom("backchannel_deliveries")
        .select("id")
        .where("status", "=", "pending")
        .where("next_attempt_at", "<=", t)
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", t)]));
      if (skip.length > 0) query = query.where("client_id", "not in", skip);
      const due = await query.orderBy("next_attempt_at").limit(limit).execute();
      if (due.length === 0) return [];
      // The lease condition again in the update: on PostgreSQL another node may have claimed
      // a row between the select and here; only rows this update changed are ours.
      const rows = await trx
        .updateTable("backchannel_deliveries")
        .set({ lease_until: leaseUntil.getTime() })
        .where("id", "in", due.map((r) => r.id))
        .where("status", "=", "pending")
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", t)]))
        .returningAll()
        .execute();
      return rows.map(deliveryFromRow);
    });
  }

  async retryDelivery(id: string, at: Date): Promise<boolean> {
    if (!storable(id)) return false;
    const t = at.getTime();
    const rows = await this.#writes.run((trx) =>
      trx
        .updateTable("backchannel_deliveries")
        .set({ status: "pending", next_attempt_at: t, lease_until: null, updated_at: t })
        .where("id", "=", id)
        .where("status", "!=", "delivered")
        .returning("id")
        .execute(),
    );
    return rows.length > 0;
  }

  async recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void> {
    await this.#writes.run((trx) =>
      trx
        .updateTable("backchannel_deliveries")
        .set({
          status: outcome.status,
          attempts: outcome.attempts,
          next_attempt_at: outcome.nextAttemptAt.getTime(),
          lease_until: null,
          last_status: outcome.lastStatus,
          last_error: outcome.lastError === null ? null : outcome.lastError.slice(0, 512),
          updated_at: outcome.at.getTime(),
        })
        .where("id", "=", id)
        .execute(),
    );
  }

  async listDeliveries(query: { sessionId?: string; clientId?: string; status?: DeliveryStatus; limit: number }): Promise<BackchannelDelivery[]> {
    let q = this.db.selectFrom("backchannel_deliveries").selectAll().orderBy("created_at", "desc").orderBy("id").limit(query.limit);
    if (query.sessionId !== undefined) q = q.where("session_id", "=", query.sessionId);
    if (query.clientId !== undefined) q = q.where("client_id", "=", query.clientId);
    if (query.status !== undefined) q = q.where("status", "=", query.status);
    return (await q.execute()).map(deliveryFromRow);
  }

  // ---- audit ------------------------------------------------------------------------------

  async listAuditEvents(query: AuditQuery): Promise<Page<AuditEvent>> {
    let q = this.db
      .selectFrom("audit_events")
      .selectAll()
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(query.limit + 1);
    if (query.identityId !== undefined) q = q.where("identity_id", "=", query.identityId);
    if (query.sessionId !== undefined) q = q.where("session_id", "=", query.sessionId);
    if (query.type !== undefined) q = q.where("type", "=", query.type);
    if (query.door !== undefined) q = q.where("door", "=", query.door);
    if (query.since !== undefined) q = q.where("at", ">=", query.since.getTime());
    if (query.until !== undefined) q = q.where("at", "<", query.until.getTime());
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (cursor) q = q.where((eb) => eb.or([eb("at", "<", cursor.issuedAt), eb.and([eb("at", "=", cursor.issuedAt), eb("id", "<", cursor.id)])]));
    const rows = await q.execute();
    const items = rows.slice(0, query.limit).map(
      (r): AuditEvent => ({
        id: r.id,
        at: new Date(toNumber(r.at)),
        type: r.type as AuditEvent["type"],
        identityId: r.identity_id,
        sessionId: r.session_id,
        door: r.door as Door | null,
        reason: r.reason,
        actor: r.actor,
        ipAddress: r.ip_address,
        userAgent: r.user_agent,
      }),
    );
    const last = items.at(-1);
    return { items, next: rows.length > query.limit && last ? encodeKey(last.at.getTime(), last.id) : null };
  }

  async insertAuditEvents(events: readonly AuditEvent[]): Promise<void> {
    if (events.length > 0) await this.#writes.run((trx) => insertAudits(trx, events));
  }

  async purgeAuditEvents(before: Date): Promise<number> {
    const result = await this.#writes.run((trx) => trx.deleteFrom("audit_events").where("at", "<", before.getTime()).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}

// ---- helpers ----------------------------------------------------------------------------------

async function revokeWhere(
  trx: Transaction<Database>,
  target: RevocationTarget,
  reason: RevocationReason,
  at: number,
): Promise<RevokedSession[]> {
  if (target.kind === "expired") return revokeExpired(trx, target, reason, at);
  let q = trx
    .updateTable("sessions")
    .set({ revoked_at: at, revoked_reason: reason })
    .where("revoked_at", "is", null)
    .where("expires_at", ">", at);
  if (target.kind === "session") {
    if (!storable(target.sessionId)) return [];
    q = q.where("id", "=", target.sessionId);
    if (target.identityId !== undefined) q = q.where("identity_id", "=", target.identityId);
  } else {
    q = q.where("identity_id", "=", target.identityId);
    if (target.exceptSessionId !== undefined) q = q.where("id", "!=", target.exceptSessionId);
  }
  const rows = await q.returning(["id", "identity_id", "door", "last_seen_at"]).execute();
  return rows.map(revokedFromRow);
}

/**
 * One pending delivery per (ended session, participating app with a back-channel URI): the
 * participants joined with the apps, read inside the revoking transaction. Takes the sessions of
 * several revocations at once (a batch's run of logouts) and says how many each one queued.
 */
async function queueBackchannel(trx: Transaction<Database>, ended: readonly { record: RevocationRecord; revoked: readonly RevokedSession[] }[]): Promise<number[]> {
  const queued = ended.map(() => 0);
  const all = ended.flatMap(({ record, revoked }, i) => revoked.map((session) => ({ session, record, i })));
  for (let k = 0; k < all.length; k += 500) {
    const chunk = all.slice(k, k + 500);
    const owed = await trx
      .selectFrom("oidc_participants")
      .innerJoin("oidc_clients", "oidc_clients.client_id", "oidc_participants.client_id")
      .select(["oidc_participants.session_id", "oidc_participants.client_id", "oidc_participants.sid", "oidc_clients.backchannel_logout_uri"])
      .where("oidc_participants.session_id", "in", chunk.map((e) => e.session.id))
      .where("oidc_clients.backchannel_logout_uri", "is not", null)
      .execute();
    if (owed.length === 0) continue;
    const endedOf = new Map(chunk.map((e) => [e.session.id, e]));
    await trx
      .insertInto("backchannel_deliveries")
      .values(
        owed.map((o) => {
          const e = endedOf.get(o.session_id)!;
          queued[e.i]!++;
          const at = e.record.at.getTime();
          return {
            id: newId(),
            session_id: o.session_id,
            identity_id: e.session.identityId,
            client_id: o.client_id,
            sid: o.sid,
            uri: o.backchannel_logout_uri!,
            reason: e.record.reason,
            status: "pending",
            attempts: 0,
            next_attempt_at: at,
            lease_until: null,
            last_status: null,
            last_error: null,
            created_at: at,
            updated_at: at,
          };
        }),
      )
      .execute();
  }
  return queued;
}

function deliveryFromRow(r: Selectable<BackchannelDeliveriesTable>): BackchannelDelivery {
  return {
    id: r.id,
    sessionId: r.session_id,
    identityId: r.identity_id,
    clientId: r.client_id,
    sid: r.sid,
    uri: r.uri,
    reason: r.reason as RevocationReason,
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: new Date(toNumber(r.next_attempt_at)),
    leaseUntil: r.lease_until === null ? null : new Date(toNumber(r.lease_until)),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: r.last_error,
    createdAt: new Date(toNumber(r.created_at)),
    updatedAt: new Date(toNumber(r.updated_at)),
  };
}

function revokedFromRow(r: { id: string; identity_id: string; door: string; last_seen_at: number | string }): RevokedSession {
  return { id: r.id, identityId: r.identity_id, door: r.door as Door, lastSeenAt: new Date(toNumber(r.last_seen_at)) };
}

/** The expiry sweep's write: participating sessions past their end, oldest first, `limit` at a time. */
async function revokeExpired(
  trx: Transaction<Database>,
  target: Extract<RevocationTarget, { kind: "expired" }>,
  reason: RevocationReason,
  at: number,
): Promise<RevokedSession[]> {
  const due = await trx
    .selectFrom("sessions")
    .select("id")
    .where("revoked_at", "is", null)
    .where((eb) =>
      eb.or([
        eb("expires_at", "<=", at),
        ...DOORS.map((d) => eb.and([eb("door", "=", d), eb("last_seen_at", "<=", target.idleBefore[d].getTime())])),
      ]),
    )
    .where(({ exists, selectFrom }) => exists(selectFrom("oidc_participants").select("oidc_participants.sid").whereRef("oidc_participants.session_id", "=", "sessions.id")))
    .orderBy("expires_at")
    .limit(target.limit)
    .execute();
  if (due.length === 0) return [];
  const rows = await trx
    .updateTable("sessions")
    .set({ revoked_at: at, revoked_reason: reason })
    .where("id", "in", due.map((r) => r.id))
    .where("revoked_at", "is", null)
    .returning(["id", "identity_id", "door", "last_seen_at"])
    .execute();
  return rows.map(revokedFromRow);
}

/** The codes and tokens of sessions just revoked in this transaction end at the instant their session did. */
async function revokeGrantsOf(trx: Transaction<Database>, sessionIds: readonly string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const endedAt = (column: "oidc_tokens.session_id" | "oidc_codes.session_id") =>
    sql<number>`(select sessions.revoked_at from sessions where sessions.id = ${sql.ref(column)})`;
  // In chunks: SQLite binds at most 32 766 parameters per statement.
  for (let i = 0; i < sessionIds.length; i += 500) {
    const chunk = sessionIds.slice(i, i + 500);
    await trx.updateTable("oidc_tokens").set({ revoked_at: endedAt("oidc_tokens.session_id") }).where("session_id", "in", chunk).where("revoked_at", "is", null).execute();
    await trx.updateTable("oidc_codes").set({ used_at: endedAt("oidc_codes.session_id") }).where("session_id", "in", chunk).where("used_at", "is", null).execute();
  }
}

/** Whether the session exists and has not been revoked: a grant is never issued for an ended one. */
async function sessionUnrevoked(trx: Transaction<Database>, sessionId: string): Promise<boolean> {
  const row = await trx.selectFrom("sessions").select("revoked_at").where("id", "=", sessionId).executeTakeFirst();
  return row !== undefined && row.revoked_at === null;
}

/**
 * Everything given to apps that are gone: held requests, codes, tokens and participant records
 * (a pending notice to such an app is cancelled when it comes due, ADR 0020).
 */
async function deleteGrantsOf(trx: Transaction<Database>, clientIds: readonly string[]): Promise<void> {
  if (clientIds.length === 0) return;
  for (const table of ["oidc_authorization_requests", "oidc_codes", "oidc_tokens", "oidc_participants"] as const) {
    await trx.deleteFrom(table).where("client_id", "in", clientIds).execute();
  }
}

/** The app's metadata beside its indexed columns. */
interface AppMetadata {
  authMethod: RelyingApp["authMethod"];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  allowedLogoutUrls: string[];
  webOrigins: string[];
  backchannelLogoutSessionRequired: boolean;
  frontchannelLogoutUri: string | null;
  frontchannelLogoutSessionRequired: boolean;
}

function appRow(a: RelyingApp): OidcClientsTable {
  const metadata: AppMetadata = {
    authMethod: a.authMethod,
    redirectUris: [...a.redirectUris],
    postLogoutRedirectUris: [...a.postLogoutRedirectUris],
    allowedLogoutUrls: [...a.allowedLogoutUrls],
    webOrigins: [...a.webOrigins],
    backchannelLogoutSessionRequired: a.backchannelLogoutSessionRequired,
    frontchannelLogoutUri: a.frontchannelLogoutUri,
    frontchannelLogoutSessionRequired: a.frontchannelLogoutSessionRequired,
  };
  return {
    client_id: a.clientId,
    source: a.source,
    secret_hash: a.secretHash,
    backchannel_logout_uri: a.backchannelLogoutUri,
    metadata: JSON.stringify(metadata),
    created_at: a.createdAt.getTime(),
    updated_at: a.updatedAt.getTime(),
  };
}

function appFromRow(r: Selectable<OidcClientsTable>): RelyingApp {
  const m = JSON.parse(r.metadata) as AppMetadata;
  return {
    clientId: r.client_id,
    secretHash: r.secret_hash,
    backchannelLogoutUri: r.backchannel_logout_uri,
    source: r.source === "admin" ? "admin" : "config",
    createdAt: new Date(toNumber(r.created_at)),
    updatedAt: new Date(toNumber(r.updated_at)),
    ...m,
  };
}

function codeRow(c: AuthorizationCode): OidcCodesTable {
  return {
    id: c.id,
    secret_hash: c.secretHash,
    client_id: c.clientId,
    session_id: c.sessionId,
    identity_id: c.identityId,
    redirect_uri: c.redirectUri,
    scope: c.scope,
    nonce: c.nonce,
    code_challenge: c.codeChallenge,
    issued_at: c.issuedAt.getTime(),
    expires_at: c.expiresAt.getTime(),
    used_at: c.usedAt?.getTime() ?? null,
  };
}

function codeFromRow(r: Selectable<OidcCodesTable>): AuthorizationCode {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    clientId: r.client_id,
    sessionId: r.session_id,
    identityId: r.identity_id,
    redirectUri: r.redirect_uri,
    scope: r.scope,
    nonce: r.nonce,
    codeChallenge: r.code_challenge,
    issuedAt: new Date(toNumber(r.issued_at)),
    expiresAt: new Date(toNumber(r.expires_at)),
    usedAt: r.used_at === null ? null : new Date(toNumber(r.used_at)),
  };
}

function tokenRow(t: GrantToken): OidcTokensTable {
  return {
    id: t.id,
    secret_hash: t.secretHash,
    kind: t.kind,
    client_id: t.clientId,
    session_id: t.sessionId,
    identity_id: t.identityId,
    scope: t.scope,
    code_id: t.codeId,
    family_id: t.familyId,
    issued_at: t.issuedAt.getTime(),
    expires_at: t.expiresAt.getTime(),
    revoked_at: t.revokedAt?.getTime() ?? null,
    used_at: t.usedAt?.getTime() ?? null,
  };
}

function tokenFromRow(r: Selectable<OidcTokensTable>): GrantToken {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    kind: r.kind === "refresh" ? "refresh" : "access",
    clientId: r.client_id,
    sessionId: r.session_id,
    identityId: r.identity_id,
    scope: r.scope,
    codeId: r.code_id,
    familyId: r.family_id,
    issuedAt: new Date(toNumber(r.issued_at)),
    expiresAt: new Date(toNumber(r.expires_at)),
    revokedAt: r.revoked_at === null ? null : new Date(toNumber(r.revoked_at)),
    usedAt: r.used_at === null ? null : new Date(toNumber(r.used_at)),
  };
}

function participantFromRow(r: Selectable<OidcParticipantsTable>): Participant {
  return { sessionId: r.session_id, clientId: r.client_id, sid: r.sid, joinedAt: new Date(toNumber(r.joined_at)) };
}

function filterSessions<Q extends { where: (...args: never[]) => unknown }>(q: Q, query: Omit<SessionQuery, "limit" | "cursor">): Q {
  // Typed loosely on purpose: the same filters apply to the row query and the count query.
  let r = q as unknown as import("kysely").SelectQueryBuilder<Database, "sessions", unknown>;
  if (query.identityId !== undefined) r = r.where("identity_id", "=", query.identityId);
  if (query.exceptSessionId !== undefined) r = r.where("id", "!=", query.exceptSessionId);
  const t = query.now.getTime();
  const idle = query.idleBefore;
  if (query.active === true) {
    r = r.where("revoked_at", "is", null).where("expires_at", ">", t);
    if (idle) r = r.where((eb) => eb.or(DOORS.map((d) => eb.and([eb("door", "=", d), eb("last_seen_at", ">", idle[d].getTime())]))));
  }
  if (query.active === false) {
    r = r.where((eb) =>
      eb.or([
        eb("revoked_at", "is not", null),
        eb("expires_at", "<=", t),
        ...(idle ? DOORS.map((d) => eb.and([eb("door", "=", d), eb("last_seen_at", "<=", idle[d].getTime())])) : []),
      ]),
    );
  }
  return r as unknown as Q;
}

/** Several audit rows in one statement per 500 (8 parameters each, far below SQLite's limit). */
async function insertAudits(trx: Transaction<Database>, events: readonly AuditEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) await trx.insertInto("audit_events").values(events.slice(i, i + 500).map(auditRow)).execute();
}

function auditRow(e: AuditEvent): Insertable<Database["audit_events"]> {
  return {
    id: e.id,
    at: e.at.getTime(),
    type: e.type,
    identity_id: e.identityId,
    session_id: e.sessionId,
    door: e.door,
    reason: e.reason,
    actor: e.actor,
    ip_address: e.ipAddress,
    user_agent: e.userAgent,
  };
}

async function insertAudit(trx: Transaction<Database>, e: AuditEvent): Promise<void> {
  await trx.insertInto("audit_events").values(auditRow(e)).execute();
}

function identityRow(i: IdentityRecord): IdentitiesTable {
  return {
    id: i.id,
    schema_id: i.schemaId,
    email: i.traits.email,
    email_key: i.traits.email.toLowerCase(),
    username: i.traits.username ?? null,
    username_key: i.traits.username?.toLowerCase() ?? null,
    state: i.state,
    state_changed_at: i.stateChangedAt.getTime(),
    created_at: i.createdAt.getTime(),
    updated_at: i.updatedAt.getTime(),
    metadata_public: i.metadataPublic === null ? null : JSON.stringify(i.metadataPublic),
    metadata_admin: i.metadataAdmin === null ? null : JSON.stringify(i.metadataAdmin),
    external_id: i.externalId,
    password_hash: i.passwordHash,
    digest_hash: i.digestHash,
  };
}

function identityFromRow(r: Selectable<IdentitiesTable>): IdentityRecord {
  return {
    id: r.id,
    schemaId: "default",
    traits: r.username === null ? { email: r.email } : { email: r.email, username: r.username },
    state: r.state as IdentityState,
    stateChangedAt: new Date(toNumber(r.state_changed_at)),
    createdAt: new Date(toNumber(r.created_at)),
    updatedAt: new Date(toNumber(r.updated_at)),
    metadataPublic: r.metadata_public === null ? null : JSON.parse(r.metadata_public),
    metadataAdmin: r.metadata_admin === null ? null : JSON.parse(r.metadata_admin),
    externalId: r.external_id,
    passwordHash: r.password_hash,
    digestHash: r.digest_hash,
  };
}

function sessionRow(s: Session): SessionsTable {
  return {
    id: s.id,
    identity_id: s.identityId,
    door: s.door,
    secret_hash: s.secretHash,
    issued_at: s.issuedAt.getTime(),
    authenticated_at: s.authenticatedAt.getTime(),
    expires_at: s.expiresAt.getTime(),
    last_seen_at: s.lastSeenAt.getTime(),
    revoked_at: s.revokedAt?.getTime() ?? null,
    revoked_reason: s.revokedReason,
    ip_address: s.device.ipAddress,
    user_agent: s.device.userAgent,
  };
}

function sessionFromRow(r: Selectable<SessionsTable>): Session {
  return {
    id: r.id,
    identityId: r.identity_id,
    door: r.door as Door,
    secretHash: r.secret_hash,
    issuedAt: new Date(toNumber(r.issued_at)),
    authenticatedAt: new Date(toNumber(r.authenticated_at)),
    expiresAt: new Date(toNumber(r.expires_at)),
    lastSeenAt: new Date(toNumber(r.last_seen_at)),
    revokedAt: r.revoked_at === null ? null : new Date(toNumber(r.revoked_at)),
    revokedReason: r.revoked_reason as RevocationReason | null,
    device: { ipAddress: r.ip_address, userAgent: r.user_agent },
  };
}

function encodeCursor(s: Session): string {
  return encodeKey(s.issuedAt.getTime(), s.id);
}

/** A page's cursor: the (instant, id) of its last row, which the next page starts after. */
function encodeKey(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString("base64url");
}

/**
 * A cursor that does not decode is treated as "from the start" rather than an error. Only what
 * encodeCursor writes decodes: PostgreSQL refuses a fraction or 1e300 for a bigint, and a store
 * error would answer bad input with 503 "the store did not answer".
 */
function decodeCursor(cursor: string): { issuedAt: number; id: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && Number.isSafeInteger(v[0]) && typeof v[1] === "string" && storable(v[1])) return { issuedAt: v[0], id: v[1] };
  } catch {
    // fall through
  }
  return null;
}

/**
 * PostgreSQL text cannot hold U+0000 and refuses any query that binds it, so such a value can
 * name nothing: it is answered as "none" here instead of failing as a store error (503) would.
 */
function storable(value: string): boolean {
  return !value.includes("\0");
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}
