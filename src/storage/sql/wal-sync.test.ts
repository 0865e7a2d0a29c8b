/**
 * SQLite's log fdatasync on its own thread (docs/adr/0022-sqlite-writer.md). That a store's
 * answers follow the fdatasync is proven under strace (test/e2e/durable-answers.test.ts); here,
 * the barrier itself.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { WalSync } from "./wal-sync.ts";

const dir = mkdtempSync(join(tmpdir(), "curfew-wal-sync-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("WalSync", () => {
  it("settles every caller, those who asked while an fdatasync ran included", async () => {
    writeFileSync(join(dir, "a.sqlite-wal"), "frames");
    const wal = new WalSync(join(dir, "a.sqlite"));
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => wal.sync()));
      assert.deepEqual(new Set(outcomes.map((o) => o.status)), new Set(["fulfilled"]));
      await wal.sync();
    } finally {
      await wal.close();
    }
    await assert.rejects(wal.sync(), /closed/);
  });

  it("refuses a database without a write-ahead log", () => {
    assert.throws(() => new WalSync(join(dir, "none.sqlite")), /not in WAL mode/);
  });

  it("FLT-20: an fdatasync that fails fails its callers and every sync after it, for good", async () => {
    // fdatasync(2) on a FIFO fails (EINVAL): a real failing call, as a disk's EIO would be.
    execFileSync("mkfifo", [join(dir, "fifo.sqlite-wal")]);
    const wal = new WalSync(join(dir, "fifo.sqlite"));
    try {
      const [first, second] = await Promise.allSettled([wal.sync(), wal.sync()]);
      assert.equal(first.status, "rejected");
      assert.equal(second.status, "rejected");
      assert.match(String((first as PromiseRejectedResult).reason), /fdatasync of the SQLite log failed: EINVAL/);
      await assert.rejects(wal.sync(), /fdatasync of the SQLite log failed/, "still failing: the log's state on disk is unknown");
    } finally {
      await wal.close();
    }
  });
});
