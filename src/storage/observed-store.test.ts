import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Store } from "../core/ports.ts";
import { observedStore } from "./observed-store.ts";

class Base {
  async findSession(id: string): Promise<string> {
    return `session ${id}`;
  }
}
class Fake extends Base {
  readonly name = "fake";
  async touchSession(): Promise<void> {
    throw new Error("disk I/O error");
  }
  sharedWindows(): null {
    return null;
  }
}

describe("observedStore", () => {
  const failures: string[] = [];
  const store = observedStore(new Fake() as unknown as Store, (operation) => failures.push(operation));

  it("INV-3: a failed call still rejects, unchanged, and is counted under its method's name", async () => {
    await assert.rejects(store.touchSession("s", new Date()), /disk I\/O error/);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(failures, ["touchSession"]);
  });

  it("answers what the store answers, inherited methods and plain values alike, counting nothing", async () => {
    failures.length = 0;
    assert.equal((await store.findSession("a")) as unknown, "session a");
    assert.equal(store.sharedWindows("x", 1, 1), null);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(failures, []);
  });
});
