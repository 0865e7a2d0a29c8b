/**
 * SqlStore: the Store contract on every database it supports (house rule 7: SQLite always,
 * PostgreSQL whenever TEST_POSTGRES_URL is set, D18), then what only the SQL store promises:
 * group commit (INV-1) and a session cache that never resurrects a session (INV-2, D8).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Sqlite } from "./sqlite-driver.ts";
import pg from "pg";
import type { Actor, AuditEvent, IdentityRecord, RevocationReason, RevocationRecord, RevocationTarget, Session } from "../../core/model.ts";
import { describeStoreContract } from "../store.contract.ts";
import { type TestSchema, postgresSchema } from "../../../test/support/postgres.ts";
import { identityRecord, sessionRecord } from "../../../test/support/records.ts";
import { SqlStore } from "./sql-store.ts";
import { type Kysely, sql } from "kysely";
import { openDatabase } from "./connect.ts";
import { migrateToLatest } from "./migrations.ts";

const POSTGRES_URL = process.env.TEST_POSTGRES_URL;

const T = Date.UTC(2031, 0, 1, 12, 0, 0);
const HOUR = 3_600_000;

async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "curfew-sql-store-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

// ---- the contract, on each database ----------------------------------------------------------

describeStoreContract("SqlStore on sqlite::memory:", async () => ({ store: await SqlStore.open("sqlite::memory:") }));

describeStoreContract("SqlStore on a SQLite file", async () => {
  const { dir, remove } = await tempDir();
  try {
    return { store: await SqlStore.open(`sqlite:${join(dir, "curfew.db")}`), cleanup: remove };
  } catch (error) {
    await remove();
    throw error;
  }
});

if (POSTGRES_URL) {
  describeStoreContract("SqlStore on PostgreSQL", async () => {
    const schema = await postgresSchema(POSTGRES_URL);
    try {
      return { store: await SqlStore.open(schema.url), cleanup: schema.drop };
    } catch (error) {
      await schema.drop();
      throw error;
    }
  });
  describeStoreContract("SqlStore on PostgreSQL, a serving node with its cache (ADR 0021)", async () => {
    const schema = await postgresSchema(POSTGRES_URL);
    try {
      return { store: await SqlStore.open(schema.url, { cluster: { leaseMs: 2_000, serving: true } }), cleanup: schema.drop };
    } catch (error) {
      await schema.drop();
      throw error;
    }
  });
} else {
  describe("SqlStore on PostgreSQL", () => {
    it("runs when TEST_POSTGRES_URL is set (D18)", { skip: "TEST_POSTGRES_URL is not set" }, () => {});
  });
}

// ---- what only the SQL store promises --------------------------------------------------------

function event(type: AuditEvent["type"], identityId: string, sessionId: string | null = null, extra: Partial<AuditEvent> = {}): AuditEvent {
  return { id: randomUUID(), at: new Date(T), type, identityId, sessionId, door: null, reason: null, actor: "self", ipAddress: null, userAgent: null, ...extra };
}

/** One revocation record, as the logout engine writes it. */
function record(target: RevocationTarget, reason: RevocationReason, by: Actor, deleteIdentity = false): RevocationRecord {
  return { target, reason, at: new Date(T + HOUR), by, deleteIdentity };
}

const KRATOS: Actor = { actor: "self", door: "kratos" };
const CLI: Actor = { actor: "cli", door: null };

async function seed(store: SqlStore, sessions: number): Promise<{ identity: IdentityRecord; sessions: Session[] }> {
  const identity = identityRecord(new Date(T));
  await store.insertIdentity(identity, event("identity.created", identity.id));
  const made = Array.from({ length: sessions }, () => sessionRecord(identity.id, new Date(T)));
  await Promise.all(made.map((s) => store.insertSession(s, event("session.begun", identity.id, s.id))));
  return { identity, sessions: made };
}

describe("SqlStore on a SQLite file", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let file: string;

  before(async () => {
    ({ dir, remove } = await tempDir());
    file = `sqlite:${join(dir, "curfew.db")}`;
  });

  after(async () => {
    await remove();
  });

  it("INV-1: 50 concurrent revocations share commits, and each is durable before it is acknowledged", async () => {
    const store = await SqlStore.open(file);
    const { identity, sessions } = await seed(store, 50);

    // Count transactions: group commit must put concurrent revocations into fewer than one each.
    let transactions = 0;
    const begin = store.db.transaction.bind(store.db);
    store.db.transaction = () => {
      transactions++;
      return begin();
    };

    // Another connection to the same file, as another process would have: it sees only what
    // was committed, so each acknowledgement can be checked against it the moment it arrives.
    const observer = new Sqlite(join(dir, "curfew.db"), { readonly: true });
    const revokedAt = observer.prepare("SELECT revoked_at FROM sessions WHERE id = ?").pluck();
    const unacknowledgedButUndurable: string[] = [];
    try {
      const results = await Promise.all(
        sessions.map((s) =>
          store.revokeSessions(record({ kind: "session", sessionId: s.id }, "logout", KRATOS)).then((r) => {
            if (revokedAt.get(s.id) == null) unacknowledgedButUndurable.push(s.id);
            return r;
          }),
        ),
      );
      results.forEach((r, i) => assert.deepStrictEqual(r.revoked.map((x) => x.id), [sessions[i]!.id]));
    } finally {
      observer.close();
    }
    assert.deepStrictEqual(unacknowledgedButUndurable, [], "INV-1: no revocation is acknowledged before its commit");
    assert.ok(transactions >= 1 && transactions < 50, `50 revocations took ${transactions} transactions`);
    await store.close();

    const reopened = await SqlStore.open(file);
    try {
      for (const s of sessions) {
        const row = await reopened.findSession(s.id);
        assert.equal(row?.revokedAt?.getTime(), T + HOUR);
        assert.equal(row?.revokedReason, "logout");
        assert.equal((await reopened.listAuditEvents({ sessionId: s.id, limit: 10 })).items[0]?.type, "session.ended");
      }
      assert.equal(await reopened.countSessions({ identityId: identity.id, active: true, now: new Date(T) }), 0);
    } finally {
      await reopened.close();
    }
  });

  it("INV-2: a revocation by another process is seen at once", async () => {
    const server = await SqlStore.open(file);
    // The `curfew` CLI opens the same file with a store of its own.
    const cli = await SqlStore.open(file);
    try {
      const { sessions } = await seed(server, 2);
      const [viaJoin, viaFind] = sessions as [Session, Session];

      const first = await server.findSessionWithIdentity(viaJoin.id);
      assert.equal(first?.session.revokedAt, null);
      const again = await server.findSessionWithIdentity(viaJoin.id);
      assert.equal(again?.cached, true, "the live session is served from the cache");
      assert.equal(again?.session.id, first?.session.id);
      assert.equal((await server.findSessionWithIdentity(viaJoin.id, { fresh: true }))?.cached, undefined, "a fresh read is the record's");
      assert.equal((await server.findSession(viaFind.id))?.revokedAt, null);
      assert.ok(await server.findSessionWithIdentity(viaFind.id));

      const result = await cli.revokeSessions(record({ kind: "session", sessionId: viaJoin.id }, "revoked_by_admin", CLI));
      assert.deepStrictEqual(result.revoked.map((x) => x.id), [viaJoin.id]);
      assert.equal((await server.findSessionWithIdentity(viaJoin.id))?.session.revokedReason, "revoked_by_admin");

      await cli.revokeSessions(record({ kind: "session", sessionId: viaFind.id }, "revoked_by_admin", CLI));
      assert.equal((await server.findSession(viaFind.id))?.revokedReason, "revoked_by_admin");
      assert.equal((await server.findSessionWithIdentity(viaFind.id))?.session.revokedReason, "revoked_by_admin");
    } finally {
      await cli.close();
      await server.close();
    }
  });

  it("INV-2: an identity deleted by another process takes its sessions with it at once", async () => {
    const server = await SqlStore.open(file);
    const cli = await SqlStore.open(file);
    try {
      const { identity, sessions } = await seed(server, 1);
      const session = sessions[0]!;
      assert.ok(await server.findSessionWithIdentity(session.id));
      const deleted = await cli.revokeSessions(record({ kind: "identity", identityId: identity.id }, "identity_deleted", CLI, true));
      assert.deepStrictEqual(deleted.revoked.map((x) => x.id), [session.id]);
      const found = await server.findSessionWithIdentity(session.id);
      assert.ok(found === null || found.session.revokedAt !== null);
    } finally {
      await cli.close();
      await server.close();
    }
  });

  it("INV-2: a revocation through the same store is never served stale from the cache", async () => {
    const store = await SqlStore.open(file);
    try {
      const { sessions } = await seed(store, 3);
      const [warm, racing, cold] = sessions as [Session, Session, Session];
      await store.findSessionWithIdentity(warm.id);
      await store.findSessionWithIdentity(racing.id);

      // Reads that start before, during and after the revocation of each session.
      const before = sessions.map((s) => store.findSessionWithIdentity(s.id));
      const revocation = store.revokeSessions(record({ kind: "identity", identityId: warm.identityId }, "logout", KRATOS));
      const during = sessions.map((s) => store.findSessionWithIdentity(s.id));
      const result = await revocation;
      assert.equal(result.revoked.length, 3);
      await Promise.all([...before, ...during]);

      // Once the revocation is acknowledged, nothing the store answers is live, however it got there.
      for (const s of [warm, racing, cold]) {
        for (let i = 0; i < 2; i++) {
          assert.equal((await store.findSessionWithIdentity(s.id))?.session.revokedAt?.getTime(), T + HOUR, s.id);
          assert.equal((await store.findSession(s.id))?.revokedAt?.getTime(), T + HOUR, s.id);
        }
      }
    } finally {
      await store.close();
    }
  });

  it("INV-1: a revocation and its audit rows commit together or not at all", async () => {
    const store = await SqlStore.open(file);
    try {
      const { identity, sessions } = await seed(store, 2);
      const [kept, other] = sessions as [Session, Session];
      // The audit row of one session cannot be written: the whole write must fail, and with it
      // the revocation of both sessions (one transaction), or the trail would miss an end.
      const raw = new Sqlite(join(dir, "curfew.db"));
      raw.exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events WHEN NEW.session_id = '${kept.id}' BEGIN SELECT RAISE(ABORT, 'audit refused'); END`);
      try {
        await assert.rejects(store.revokeSessions(record({ kind: "identity", identityId: identity.id }, "revoked_by_admin", CLI)), /audit refused/);
      } finally {
        raw.exec("DROP TRIGGER refuse_audit");
        raw.close();
      }
      for (const s of [kept, other]) {
        assert.equal((await store.findSession(s.id))?.revokedAt, null, "nothing was revoked");
        assert.equal((await store.listAuditEvents({ sessionId: s.id, limit: 10 })).items.length, 1, "only session.begun");
      }
    } finally {
      await store.close();
    }
  });

  it("migrating an up-to-date file again changes nothing", async () => {
    const store = await SqlStore.open(file);
    const { sessions } = await seed(store, 1);
    await store.close();
    const again = await SqlStore.open(file);
    try {
      assert.deepStrictEqual(await again.findSession(sessions[0]!.id), sessions[0]);
    } finally {
      await again.close();
    }
  });
});

if (POSTGRES_URL) {
  describe("SqlStore on PostgreSQL", () => {
    let schema: TestSchema;

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL);
    });

    after(async () => {
      await schema?.drop();
    });

    it("D8: with no session cache, a revocation by another node is seen at once", async () => {
      const nodeA = await SqlStore.open(schema.url, { cache: true });
      const nodeB = await SqlStore.open(schema.url);
      try {
        const { sessions } = await seed(nodeA, 1);
        const session = sessions[0]!;
        assert.equal((await nodeA.findSessionWithIdentity(session.id))?.session.revokedAt, null);
        assert.equal((await nodeA.findSessionWithIdentity(session.id))?.session.revokedAt, null);
        await nodeB.revokeSessions(record({ kind: "session", sessionId: session.id }, "logout", KRATOS));
        assert.equal((await nodeA.findSessionWithIdentity(session.id))?.session.revokedAt?.getTime(), T + HOUR);
        assert.equal((await nodeA.findSession(session.id))?.revokedAt?.getTime(), T + HOUR);
      } finally {
        await nodeB.close();
        await nodeA.close();
      }
    });

    it("INV-1: 50 concurrent revocations resolve, each committed before it is acknowledged", async () => {
      const store = await SqlStore.open(schema.url);
      // A pool, not one client: the acknowledgements arrive together and each is checked at once.
      const observer = new pg.Pool({ connectionString: POSTGRES_URL, max: 5 });
      try {
        const { sessions } = await seed(store, 50);
        const name = new URL(schema.url).searchParams.get("schema")!;
        // Another connection looks the moment each acknowledgement arrives: only committed rows are visible to it.
        const seenByObserver = await Promise.all(
          sessions.map((s) =>
            store.revokeSessions(record({ kind: "session", sessionId: s.id }, "logout", KRATOS)).then(async (r) => {
              assert.deepStrictEqual(r.revoked.map((x) => x.id), [s.id]);
              const { rows } = await observer.query<{ revoked_at: string | null }>(`SELECT revoked_at FROM ${name}.sessions WHERE id = $1`, [s.id]);
              return rows[0]?.revoked_at ?? null;
            }),
          ),
        );
        assert.deepStrictEqual(seenByObserver, sessions.map(() => String(T + HOUR)));
      } finally {
        await observer.end();
        await store.close();
      }
    });

    it("two schemas in one database migrate independently", async () => {
      const other = await postgresSchema(POSTGRES_URL);
      try {
        const a = await SqlStore.open(schema.url);
        const b = await SqlStore.open(other.url);
        try {
          const { sessions } = await seed(b, 1);
          assert.equal(await a.findSession(sessions[0]!.id), null);
          assert.ok(await b.findSession(sessions[0]!.id));
        } finally {
          await a.close();
          await b.close();
        }
      } finally {
        await other.drop();
      }
    });
  });
}

// ---- several nodes on one PostgreSQL (ADR 0021) ----------------------------------------------

if (POSTGRES_URL) {
  describe("SqlStore: several nodes on one PostgreSQL, each with its cache (ADR 0021)", () => {
    let schema: TestSchema;
    const opened: SqlStore[] = [];
    const LEASE_MS = 600;

    before(async () => {
      schema = await postgresSchema(POSTGRES_URL, "curfew_cluster");
    });
    after(async () => {
      for (const store of opened) await store.close().catch(() => {});
      await schema.drop();
    });

    /** A store as `curfew serve` opens it (serving) or as the CLI does, named `name` in pg_stat_activity. */
    async function node(name: string, serving = true): Promise<SqlStore> {
      const url = new URL(schema.url);
      url.searchParams.set("application_name", `${schema.name}_${name}`);
      const store = await SqlStore.open(url.href, { cluster: { leaseMs: LEASE_MS, serving } });
      opened.push(store);
      return store;
    }

    async function until(what: string, holds: () => boolean | Promise<boolean>): Promise<void> {
      const deadline = Date.now() + 20 * LEASE_MS;
      while (!(await holds())) {
        if (Date.now() > deadline) assert.fail(`never: ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    async function dbNow(store: SqlStore): Promise<number> {
      const { rows } = await sql<{ now: string }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as now`.execute(store.db);
      return Number(rows[0]!.now);
    }

    it("INV-2: a revocation on one node is answered only after every other node has dropped the session from its cache", async () => {
      const a = await node("a");
      const b = await node("b");
      const c = await node("c");
      const { sessions } = await seed(a, 3);
      for (const store of [a, b, c]) {
        for (const s of sessions) await store.findSessionWithIdentity(s.id);
        assert.equal((await store.findSessionWithIdentity(sessions[0]!.id))?.cached, true, "each node serves it from its cache");
      }
      await a.revokeSessions(record({ kind: "session", sessionId: sessions[0]!.id }, "logout", KRATOS));
      // No waiting here: the answer above came after B and C acknowledged.
      for (const store of [b, c]) {
        const found = await store.findSessionWithIdentity(sessions[0]!.id);
        assert.equal(found?.cached, undefined, "read from the database, not the cache");
        assert.notEqual(found?.session.revokedAt, null);
        assert.equal((await store.findSessionWithIdentity(sessions[1]!.id))?.cached, true, "the sessions not ended stay cached");
      }

      // The CLI holds no lease and no cache, and its revocations wait for the serving nodes all the same.
      const cli = await node("cli", false);
      assert.equal(cli.cacheInUse, false);
      await cli.revokeSessions(record({ kind: "identity", identityId: sessions[1]!.identityId }, "revoked_by_admin", CLI));
      for (const store of [a, b, c]) assert.notEqual((await store.findSessionWithIdentity(sessions[2]!.id))?.session.revokedAt, null);
      for (const store of [a, b, c, cli]) await store.close();
    });

    it("INV-2: a node that never acknowledges holds a revocation's answer until its lease has run out, and no longer", async () => {
      const a = await node("a2");
      const { sessions } = await seed(a, 1);
      // A node that took a lease and then went silent (frozen, cut off): a row and nothing else.
      const silentUntil = (await dbNow(a)) + 3 * LEASE_MS;
      await a.db.insertInto("nodes").values({ id: randomUUID(), started_at: T, seen_at: T, lease_until: silentUntil }).execute();
      await a.revokeSessions(record({ kind: "session", sessionId: sessions[0]!.id }, "logout", KRATOS));
      assert.ok((await dbNow(a)) >= silentUntil, "answered only once the silent node's lease had ended");
      await a.close();
    });

    it("INV-2: a node whose listening connection is killed stops answering from its cache at once, and empties it before using it again", async () => {
      const a = await node("a3");
      const b = await node("b3");
      const { sessions } = await seed(a, 2);
      for (const s of sessions) await b.findSessionWithIdentity(s.id);
      assert.equal(b.cacheInUse, true);
      const killer = new pg.Client({ connectionString: POSTGRES_URL });
      await killer.connect();
      try {
        const killed = await killer.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [`${schema.name}_b3:listener`]);
        assert.equal(killed.rowCount, 1, "B's listening connection");
      } finally {
        await killer.end();
      }
      await until("B notices the lost connection", () => !b.cacheInUse);
      // While B cannot hear notices, A's revocation cannot reach it, and B must not need it to.
      await a.revokeSessions(record({ kind: "session", sessionId: sessions[0]!.id }, "logout", KRATOS));
      assert.notEqual((await b.findSessionWithIdentity(sessions[0]!.id))?.session.revokedAt, null);
      await until("B holds a lease again", () => b.cacheInUse);
      assert.equal((await b.findSessionWithIdentity(sessions[1]!.id))?.cached, undefined, "nothing kept from before the break");
      assert.equal((await b.findSessionWithIdentity(sessions[1]!.id))?.cached, true);
      await a.close();
      await b.close();
    });

    it("INV-2: the revoking node does not keep what a read saw of the session before the commit", async () => {
      const a = await node("a5");
      const { sessions } = await seed(a, 1);
      const s = sessions[0]!;
      assert.ok(await a.findSessionWithIdentity(s.id));
      // Hold the revocation's transaction open after it has evicted the session (the grants'
      // UPDATE waits for this lock), and read the session meanwhile on another connection.
      const blocker = new pg.Client({ connectionString: POSTGRES_URL });
      await blocker.connect();
      try {
        await blocker.query("BEGIN");
        await blocker.query(`LOCK TABLE ${schema.name}.oidc_tokens IN ACCESS EXCLUSIVE MODE`);
        const revocation = a.revokeSessions(record({ kind: "session", sessionId: s.id }, "logout", KRATOS));
        await until("the revocation waits for the lock", async () => {
          const { rows } = await blocker.query<{ n: string }>(
            "select count(*) as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'",
            [`${schema.name}_a5`],
          );
          return Number(rows[0]!.n) > 0;
        });
        const during = await a.findSessionWithIdentity(s.id);
        assert.equal(during?.session.revokedAt, null, "not committed yet: the read sees it live");
        await blocker.query("ROLLBACK");
        await revocation;
      } finally {
        await blocker.end();
      }
      const after = await a.findSessionWithIdentity(s.id);
      assert.equal(after?.cached, undefined, "read from the database");
      assert.notEqual(after?.session.revokedAt, null);
      await a.close();
    });

    it("ADR-0021: a node's copy older than the record (an extension elsewhere): findSession is the record's, a fresh read replaces the copy", async () => {
      const a = await node("a6");
      const b = await node("b6");
      const { sessions } = await seed(a, 1);
      const s = sessions[0]!;
      await a.findSessionWithIdentity(s.id);
      const later = new Date(s.expiresAt.getTime() + HOUR);
      assert.equal(await b.extendSession(s.id, later, new Date(T)), true);
      assert.equal((await a.findSession(s.id))?.expiresAt.getTime(), later.getTime(), "findSession never answers from the cache");
      assert.equal((await a.findSessionWithIdentity(s.id))?.session.expiresAt.getTime(), s.expiresAt.getTime(), "the copy lags (not announced)");
      assert.equal((await a.findSessionWithIdentity(s.id, { fresh: true }))?.session.expiresAt.getTime(), later.getTime());
      const kept = await a.findSessionWithIdentity(s.id);
      assert.equal(kept?.cached, true);
      assert.equal(kept?.session.expiresAt.getTime(), later.getTime(), "the fresh read replaced the copy");
      await a.close();
      await b.close();
    });

    it("`curfew migrate` on an empty schema: the store opens before the tables exist, then migrates", async () => {
      const empty = await postgresSchema(POSTGRES_URL, "curfew_empty");
      try {
        const store = await SqlStore.open(empty.url, { migrate: false });
        try {
          assert.ok((await store.migrate()).includes("0006_node_leases"));
          const { sessions } = await seed(store, 1);
          const ended = await store.revokeSessions(record({ kind: "session", sessionId: sessions[0]!.id }, "logout", KRATOS));
          assert.equal(ended.revoked.length, 1, "and then announces on the channel it names once the table is there");
        } finally {
          await store.close();
        }
      } finally {
        await empty.drop();
      }
    });

    it("a node that stops gives up its lease, so nobody waits for it", async () => {
      const a = await node("a4");
      const b = await node("b4");
      const leases = async () =>
        (await a.db.selectFrom("nodes").select("id").where("lease_until", ">", await dbNow(a)).where("id", "in", [a.nodeId, b.nodeId]).execute()).length;
      assert.equal(await leases(), 2);
      await b.close();
      assert.equal(await leases(), 1);
      await a.close();
    });
  });
}

describe("migration 0008 (audit sign-in attempts) on a SQLite file of 0007", () => {
  it("keeps every audit row, and afterwards takes rows without an identity and with a client", async () => {
    const dir = await mkdtemp(join(tmpdir(), "curfew-m8-"));
    const url = `sqlite:${join(dir, "curfew.sqlite")}`;
    try {
      const { db } = openDatabase(url);
      await migrateToLatest(db as Kysely<unknown>, "0007_partial_revoked_index");
      const row = { id: randomUUID(), at: T, type: "session.ended", identity_id: randomUUID(), session_id: randomUUID(), door: "kratos", reason: "logout", actor: "self" };
      await sql`insert into audit_events (id, at, type, identity_id, session_id, door, reason, actor)
        values (${row.id}, ${row.at}, ${row.type}, ${row.identity_id}, ${row.session_id}, ${row.door}, ${row.reason}, ${row.actor})`.execute(db);
      assert.deepEqual(await migrateToLatest(db as Kysely<unknown>), ["0008_audit_sign_in_attempts", "0009_settings_flows"]);
      await db.destroy();

      const store = await SqlStore.open(url);
      try {
        const [kept] = (await store.listAuditEvents({ limit: 10 })).items;
        assert.deepEqual(kept, {
          id: row.id,
          at: new Date(T),
          type: "session.ended",
          identityId: row.identity_id,
          sessionId: row.session_id,
          door: "kratos",
          reason: "logout",
          actor: "self",
          ipAddress: null,
          userAgent: null,
        });
        const attempt = { ...event("signin.failed", randomUUID()), identityId: null, ipAddress: "192.0.2.1", userAgent: "curl/8.1" };
        await store.insertAuditEvents([attempt]);
        assert.deepEqual((await store.listAuditEvents({ type: "signin.failed", limit: 10 })).items, [attempt]);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
