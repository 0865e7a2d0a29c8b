/**
 * Findings of a security review of the SQL store, each named after the rule it proves: the
 * session cache never runs ahead of the row (INV-2), and input the database cannot bind is an
 * answer ("none"), never a store failure (SEC-66, INV-3's 503 is for a store that did not answer).
 * SQLite always; PostgreSQL too when TEST_POSTGRES_URL is set (D18).
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { sql } from "kysely";
import pg from "pg";
import type { AuditEvent, IdentityRecord, Session } from "../../core/model.ts";
import { identityRecord, sessionRecord } from "../../../test/support/records.ts";
import { SqlStore } from "./sql-store.ts";

const T = Date.UTC(2031, 0, 1, 12, 0, 0);
const MINUTE = 60_000;

function event(type: AuditEvent["type"], identityId: string, sessionId: string | null = null): AuditEvent {
  return { id: randomUUID(), at: new Date(T), type, identityId, sessionId, door: null, reason: null, actor: "self", ipAddress: null, userAgent: null };
}

async function seeded(store: SqlStore): Promise<{ identity: IdentityRecord; session: Session }> {
  const identity = identityRecord(new Date(T));
  await store.insertIdentity(identity, event("identity.created", identity.id));
  const session = sessionRecord(identity.id, new Date(T));
  await store.insertSession(session, event("session.begun", identity.id, session.id));
  return { identity, session };
}

describe("SqlStore session cache (review)", () => {
  it("INV-2: a touch that does not commit leaves the cached last-seen time as it was, so a failed write cannot keep an idle session alive", async () => {
    const store = await SqlStore.open("sqlite::memory:");
    try {
      const { session } = await seeded(store);
      assert.equal((await store.findSessionWithIdentity(session.id))?.session.lastSeenAt.getTime(), T, "now cached");
      // The disk refuses the activity write (as SQLITE_IOERR would); nothing else changes.
      await sql`CREATE TRIGGER review_fail_touch BEFORE UPDATE OF last_seen_at ON sessions BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`.execute(store.db);
      await assert.rejects(store.touchSession(session.id, new Date(T + 29 * MINUTE)));
      await sql`DROP TRIGGER review_fail_touch`.execute(store.db);
      const cached = await store.findSessionWithIdentity(session.id);
      assert.equal(cached?.session.lastSeenAt.getTime(), T, "the cache says what the row says");
      assert.equal((await store.findSession(session.id))?.lastSeenAt.getTime(), T);
      // A committed touch is cached as before.
      await store.touchSession(session.id, new Date(T + 30 * 1000));
      assert.equal((await store.findSessionWithIdentity(session.id))?.session.lastSeenAt.getTime(), T + 30 * 1000);
    } finally {
      await store.close();
    }
  });
});

/** The stores to run the input checks on: SQLite, and PostgreSQL (a schema of its own) when configured. */
const targets: { name: string; open: () => Promise<{ store: SqlStore; done: () => Promise<void> }> }[] = [
  {
    name: "SQLite",
    open: async () => {
      const store = await SqlStore.open("sqlite::memory:");
      return { store, done: () => store.close() };
    },
  },
];
const POSTGRES_URL = process.env.TEST_POSTGRES_URL;
if (POSTGRES_URL) {
  targets.push({
    name: "PostgreSQL",
    open: async () => {
      const schema = `curfew_review_${process.pid}_${randomBytes(4).toString("hex")}`;
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = new URL(POSTGRES_URL);
      url.searchParams.set("schema", schema);
      const store = await SqlStore.open(url.href);
      return {
        store,
        done: async () => {
          await store.close();
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await admin.end();
        },
      };
    },
  });
}

for (const target of targets) {
  describe(`SqlStore input it cannot bind, on ${target.name} (review)`, () => {
    it("SEC-66: a page_token that encodeCursor never writes (a fraction, 1e300, U+0000) lists from the start instead of failing the store", async () => {
      const { store, done } = await target.open();
      try {
        const { identity, session } = await seeded(store);
        for (const raw of [[1.5, "x"], [1e300, "x"], [T, "a\u0000b"], ["1", "x"]]) {
          const cursor = Buffer.from(JSON.stringify(raw)).toString("base64url");
          const page = await store.listSessions({ identityId: identity.id, now: new Date(T), limit: 10, cursor });
          assert.deepEqual(page.items.map((s) => s.id), [session.id], JSON.stringify(raw));
        }
      } finally {
        await done();
      }
    });

    it("SEC-66: an identifier, identity cursor or session id with U+0000 names nothing; it is not a store failure", async () => {
      const { store, done } = await target.open();
      try {
        const { identity, session } = await seeded(store);
        assert.equal(await store.findIdentityByIdentifier("review\u0000@example.org"), null);
        assert.equal(await store.findIdentityByIdentifier("a\u0000b"), null);
        assert.deepEqual(await store.listIdentities({ identifier: "a\u0000b", limit: 10 }), { items: [], next: null });
        assert.deepEqual((await store.listIdentities({ cursor: "a\u0000b", limit: 10 })).items.map((i) => i.id), [identity.id]);
        const ended = await store.revokeSessions({
          target: { kind: "session", sessionId: "a\u0000b", identityId: identity.id },
          reason: "revoked_by_user",
          at: new Date(T),
          by: { actor: "self", door: "kratos" },
          deleteIdentity: false,
        });
        assert.deepEqual(ended.revoked, []);
        assert.equal((await store.findSession(session.id))?.revokedAt, null, "nothing else was touched");
      } finally {
        await done();
      }
    });
  });
}
