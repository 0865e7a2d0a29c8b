/**
 * SQLite's durability, off the event loop (docs/adr/0022-sqlite-writer.md).
 *
 * The connection runs with `synchronous=NORMAL` in WAL mode: a COMMIT appends its frames to the
 * write-ahead log and returns without an fsync (SQLite, "PRAGMA synchronous": in WAL mode NORMAL
 * syncs the log only at checkpoints). What `synchronous=FULL` would have done inside the COMMIT,
 * on the event loop, is done here instead, on a thread of its own: an fdatasync of the log file,
 * which flushes every frame written before it began, whoever wrote them. Group commit answers a
 * batch only after such an fdatasync has finished (INV-1), and the event loop reads the next
 * requests, and commits the next batch to the log, while it runs.
 *
 * - One fdatasync at a time. A batch committed while one is in flight needs the next one, which
 *   starts when the first ends and covers every batch committed meanwhile: under load a
 *   single fdatasync holds many batches.
 * - A thread of its own, not libuv's pool: the pool also runs password hashing (argon2), and a
 *   logout must not queue behind four sign-ins.
 * - An fdatasync that fails leaves the log in an unknown state on disk (Linux may forget the
 *   error once reported), so the failure is permanent: every later sync fails, the store's
 *   writes answer 503 and readiness says not ready, until the process is restarted and SQLite
 *   recovers the database from what is really on disk (FLT-20).
 * - The log file keeps its inode while this process holds the database open: SQLite deletes it
 *   only when the last connection closes, and truncates (never replaces) it otherwise.
 */
import { closeSync, existsSync, openSync } from "node:fs";
import { Worker } from "node:worker_threads";

/** The thread's whole program: one fdatasync per message, and its outcome back. */
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const { fdatasyncSync } = require("node:fs");
parentPort.on("message", () => {
  try {
    fdatasyncSync(workerData.fd);
    parentPort.postMessage(null);
  } catch (error) {
    parentPort.postMessage(String(error && error.message || error));
  }
});
`;

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class WalSync {
  readonly #fd: number;
  readonly #thread: Worker;
  /** The fdatasync running now, and the callers it answers. */
  #running: Waiter | null = null;
  /** Callers that need the fdatasync after the running one. */
  #next: Waiter | null = null;
  #failure: Error | null = null;
  #closed = false;

  /** For the database file at `databasePath`, whose `-wal` file SQLite has already created. */
  constructor(databasePath: string) {
    const log = `${databasePath}-wal`;
    if (!existsSync(log)) throw new Error(`${log} does not exist: the database is not in WAL mode`);
    this.#fd = openSync(log, "r+");
    this.#thread = new Worker(THREAD, { eval: true, workerData: { fd: this.#fd }, name: "curfew-wal-sync" });
    this.#thread.unref();
    this.#thread.on("message", (outcome: string | null) => this.#finished(outcome));
    this.#thread.on("error", (error) => this.#finished(`the fdatasync thread failed: ${error.message}`));
  }

  /** Settles once everything written to the log before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error("the database is closed"));
    if (!this.#running) return this.#start().promise;
    // The running fdatasync may have begun before this caller's frames were written.
    this.#next ??= waiter();
    return this.#next.promise;
  }

  #start(): Waiter {
    const running = waiter();
    this.#running = running;
    // Held open while a sync is in flight: a process must not exit with an answer pending on it.
    this.#thread.ref();
    this.#thread.postMessage(null);
    return running;
  }

  #finished(outcome: string | null): void {
    const done = this.#running;
    this.#running = null;
    this.#thread.unref();
    if (outcome !== null && !this.#failure) this.#failure = new Error(`fdatasync of the SQLite log failed: ${outcome}`);
    if (this.#failure) {
      done?.reject(this.#failure);
      this.#next?.reject(this.#failure);
      this.#next = null;
      return;
    }
    done?.resolve();
    const next = this.#next;
    this.#next = null;
    if (next) {
      const running = this.#start();
      running.promise.then(next.resolve, next.reject);
    }
  }

  /** After the last write has been answered. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.#running?.promise, this.#next?.promise]);
    await this.#thread.terminate();
    closeSync(this.#fd);
  }
}
