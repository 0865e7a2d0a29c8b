/**
 * The group commit's evictions (ADR 0021): what a batch's writes ended goes out in its
 * transaction, and only the writes that ended something wait for the other nodes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { type EvictionAnnouncer, type EvictionList, GroupCommit } from "./group-commit.ts";
import type { Database } from "./schema.ts";
import { SqlStore } from "./sql-store.ts";

/** An announcer that records what it was given and settles when the test says so. */
function recordingAnnouncer() {
  const announced: { ids: string[]; everything: boolean }[] = [];
  const settledFor: unknown[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const announcer: EvictionAnnouncer<Database> = {
    async announce(trx, evicted: EvictionList) {
      await sql`select 1`.execute(trx); // inside the transaction, as the real one's NOTIFY
      announced.push({ ids: [...evicted.ids].sort(), everything: evicted.everything });
      return announced.length;
    },
    settled: (a) => {
      settledFor.push(a);
      return released;
    },
  };
  return { announcer, announced, settledFor, release };
}

describe("GroupCommit with an eviction announcer (ADR 0021)", () => {
  it("INV-2: one announcement per batch with every write's evictions; the evicting writes are answered only once it settles, the others at the commit", async () => {
    const store = await SqlStore.open("sqlite::memory:");
    try {
      const { announcer, announced, release } = recordingAnnouncer();
      const writes = new GroupCommit(store.db, { announcer });
      const answered: string[] = [];
      const ending = [
        writes.run(async (_trx, evict) => evict.sessions(["s2", "s1"])).then(() => answered.push("end 1")),
        writes.run(async (_trx, evict) => evict.sessions(["s3"])).then(() => answered.push("end 2")),
      ];
      const plain = writes.run(async () => "signed in").then((v) => answered.push(v));
      await plain;
      assert.deepEqual(announced, [{ ids: ["s1", "s2", "s3"], everything: false }]);
      assert.deepEqual(answered, ["signed in"], "the write that ended nothing does not wait");
      release();
      await Promise.all(ending);
      assert.deepEqual(answered.sort(), ["end 1", "end 2", "signed in"]);
      await writes.drain();
    } finally {
      await store.close();
    }
  });

  it("INV-2: a batch whose COMMIT fails still waits for its announcement (it may have committed), and each write is retried alone with its own", async () => {
    const store = await SqlStore.open("sqlite::memory:");
    try {
      // A deferred foreign key fails at COMMIT, after the writes and the announcement.
      await sql`PRAGMA foreign_keys = ON`.execute(store.db);
      await sql`CREATE TABLE parent (id TEXT PRIMARY KEY)`.execute(store.db);
      await sql`CREATE TABLE child (parent_id TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`.execute(store.db);
      const { announcer, announced, settledFor, release } = recordingAnnouncer();
      release();
      const writes = new GroupCommit(store.db, { announcer });
      const good = writes.run(async (_trx, evict) => evict.sessions(["good"]));
      const bad = writes.run(async (trx, evict) => {
        evict.sessions(["bad"]);
        await sql`INSERT INTO child VALUES ('nobody')`.execute(trx);
      });
      await assert.rejects(bad, /FOREIGN KEY/);
      await good;
      assert.deepEqual(
        announced.map((a) => a.ids),
        [["bad", "good"], ["good"], ["bad"]],
        "the batch's, then each write's own on its retry",
      );
      assert.deepEqual(settledFor, [1, 2, 3], "waited for: the failed batch's, the good retry's, the failed retry's");
    } finally {
      await store.close();
    }
  });
});

describe("GroupCommit with a durability barrier (docs/adr/0022-sqlite-writer.md)", () => {
  /** A barrier that records each call and settles when the test says so. */
  function barrier() {
    const calls: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const durable = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
    return { calls, durable };
  }

  it("INV-1: a committed write is answered only once the barrier says it is on disk, and the next batch commits meanwhile", async () => {
    const store = await SqlStore.open("sqlite::memory:");
    try {
      await sql`CREATE TABLE t (v TEXT)`.execute(store.db);
      const { calls, durable } = barrier();
      const writes = new GroupCommit(store.db, { durable });
      const answered: string[] = [];
      const first = writes.run((trx) => sql`INSERT INTO t VALUES ('one')`.execute(trx)).then(() => answered.push("one"));
      while (calls.length < 1) await new Promise((r) => setImmediate(r));
      const second = writes.run((trx) => sql`INSERT INTO t VALUES ('two')`.execute(trx)).then(() => answered.push("two"));
      while (calls.length < 2) await new Promise((r) => setImmediate(r));
      const { rows } = await sql<{ v: string }>`SELECT v FROM t ORDER BY v`.execute(store.db);
      assert.deepEqual(rows.map((r) => r.v), ["one", "two"], "both batches committed while the first was not yet durable");
      assert.deepEqual(answered, [], "nobody answered before the barrier");
      calls[1]!.resolve();
      await second;
      assert.deepEqual(answered, ["two"]);
      calls[0]!.resolve();
      await first;
      await writes.drain();
    } finally {
      await store.close();
    }
  });

  it("INV-1, FLT-20: when the barrier fails every write of its batch fails, committed or not, and none is retried", async () => {
    const store = await SqlStore.open("sqlite::memory:");
    try {
      await sql`CREATE TABLE t (v TEXT)`.execute(store.db);
      const { calls, durable } = barrier();
      const writes = new GroupCommit(store.db, { durable });
      const a = writes.run((trx) => sql`INSERT INTO t VALUES ('a')`.execute(trx));
      const b = writes.run((trx) => sql`INSERT INTO t VALUES ('b')`.execute(trx));
      while (calls.length < 1) await new Promise((r) => setImmediate(r));
      calls[0]!.reject(new Error("fdatasync: EIO"));
      await assert.rejects(a, /EIO/);
      await assert.rejects(b, /EIO/);
      assert.equal(calls.length, 1, "one barrier for the batch, no retry");
      const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(store.db);
      assert.equal(rows[0]!.n, 2, "written once each");
      await writes.drain();
    } finally {
      await store.close();
    }
  });
});
