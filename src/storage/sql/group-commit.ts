/**
 * Group commit: writes that arrive while the event loop is busy share one transaction and so
 * one fsync. Each caller's promise settles only after the commit that holds its write is durable,
 * so nobody hears "done" before the data is on disk (INV-1). A bare node:http + better-sqlite3
 * server (the reference of `npm run bench`) ended ~20k sessions/s this way against ~2.9k with one
 * synchronous commit each, on two cores.
 *
 * If a batch fails, each of its writes is retried alone, so one bad write cannot fail the
 * others, and every caller learns its own outcome.
 */
import type { Kysely, Transaction } from "kysely";

/**
 * What a write tells the other nodes it made wrong in their session caches: the sessions it
 * ended, or everything (an identity deleted). Only a cached "yes" that must become "no" is
 * announced; a cached entry that is merely old can only say "no" too early, and the core asks
 * the database again before it says no (`Sessions.authenticate`).
 */
export interface Evictions {
  sessions(ids: Iterable<string>): void;
  all(): void;
}

export class EvictionList implements Evictions {
  readonly ids = new Set<string>();
  everything = false;

  sessions(ids: Iterable<string>): void {
    for (const id of ids) this.ids.add(id);
  }

  all(): void {
    this.everything = true;
  }

  get empty(): boolean {
    return !this.everything && this.ids.size === 0;
  }
}

/**
 * Sends a batch's evictions to the other nodes with its commit, and says when they have all acted
 * on them (docs/adr/0021-cache-across-nodes.md). Absent when one process serves the store.
 */
export interface EvictionAnnouncer<DB> {
  /** Inside the batch's transaction, after its writes: the notices go out if and only if it commits. */
  announce(trx: Transaction<DB>, evicted: EvictionList): Promise<unknown>;
  /**
   * After the commit: settles when every other node has evicted or lost its lease. Never rejects.
   * Also after a COMMIT that failed: it may have committed all the same (the answer was lost).
   */
  settled(announcement: unknown): Promise<void>;
}

export type Write<DB, T> = (trx: Transaction<DB>, evict: Evictions) => Promise<T>;

/**
 * Writes of one kind that a batch runs as one: consecutive items of a lane in a batch are handed
 * to `write` together (a few statements for all of them instead of a few each, which is what
 * bounds a batch on PostgreSQL, where every statement is a round trip). It returns one result per
 * item, in order, and reports each item's evictions on that item's own list. Alone (a failed
 * batch's retry) an item is a lane of one.
 */
export interface Lane<DB, I, T> {
  write(trx: Transaction<DB>, items: readonly I[], evictions: readonly Evictions[]): Promise<T[]>;
}

interface Pending<DB> {
  write: Write<DB, unknown>;
  /** Set for an item of a lane: its lane, and what it asks. */
  lane?: { lane: Lane<DB, unknown, unknown>; item: unknown };
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** Above this many writes a batch is cut, to bound the time one transaction holds the writer. */
const MAX_BATCH = 512;

export class GroupCommit<DB> {
  #queue: Pending<DB>[] = [];
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();
  /** Committed batches still waiting to be durable or for the other nodes' acknowledgements. */
  readonly #settling = new Set<Promise<void>>();

  readonly #announcer: EvictionAnnouncer<DB> | null;
  readonly #evictLocally: ((evicted: EvictionList) => void) | null;
  readonly #durable: (() => Promise<void>) | null;
  readonly #observe: ((size: number, seconds: number) => void) | null;

  constructor(
    private readonly db: Kysely<DB>,
    options: {
      announcer?: EvictionAnnouncer<DB> | null;
      /**
       * Evicts from this process's own cache after a commit, before anyone is answered: a read on
       * another connection (PostgreSQL) can see the row as it was until the commit, and would
       * otherwise keep what it read after the in-transaction eviction (INV-2).
       */
      evictLocally?: ((evicted: EvictionList) => void) | null;
      /**
       * After a commit: settles when it is on stable storage (SQLite's log fdatasync, wal-sync.ts),
       * and rejects when that cannot be known. Absent where a COMMIT is durable when it returns.
       * Starting it does not hold up the next batch, whose commit can run meanwhile.
       */
      durable?: (() => Promise<void>) | null;
      /** Told of each batch once it is durable: how many writes, and the seconds since its BEGIN (metrics). */
      observe?: ((size: number, seconds: number) => void) | null;
    } = {},
  ) {
    this.#announcer = options.announcer ?? null;
    this.#evictLocally = options.evictLocally ?? null;
    this.#durable = options.durable ?? null;
    this.#observe = options.observe ?? null;
  }

  run<T>(write: Write<DB, T>): Promise<T> {
    return this.#enqueue({ write: write as Write<DB, unknown> });
  }

  /** Like `run`, for an item of `lane`, which runs with the lane's other items of its batch. */
  runTogether<I, T>(lane: Lane<DB, I, T>, item: I): Promise<T> {
    const one: Write<DB, T> = async (trx, evict) => (await lane.write(trx, [item], [evict]))[0]!;
    return this.#enqueue({ write: one as Write<DB, unknown>, lane: { lane: lane as Lane<DB, unknown, unknown>, item } });
  }

  #enqueue<T>(entry: Pick<Pending<DB>, "write" | "lane">): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ ...entry, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate: let every request already read off the sockets queue its write first.
        setImmediate(() => {
          this.#running = this.#running.then(() => this.#flush());
        });
      }
    });
  }

  /** Resolves once everything queued so far has been committed or failed, and acknowledged. */
  async drain(): Promise<void> {
    while (this.#scheduled || this.#queue.length > 0 || this.#settling.size > 0) {
      await new Promise((r) => setImmediate(r));
      await this.#running;
      await Promise.all(this.#settling);
    }
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      await this.#commit(batch);
    }
  }

  async #commit(batch: Pending<DB>[]): Promise<void> {
    const began = performance.now();
    const results: unknown[] = [];
    const evictions = batch.map(() => new EvictionList());
    // Assigned inside the callback, where control flow analysis cannot see it.
    let announcement = null as { value: unknown } | null;
    let union = null as EvictionList | null;
    try {
      await this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < batch.length; ) {
          const lane = batch[i]!.lane?.lane;
          if (!lane) {
            results.push(await batch[i]!.write(trx, evictions[i]!));
            i++;
            continue;
          }
          // A run of consecutive items of one lane: only consecutive, so writes still apply in
          // the order they were asked for.
          let j = i + 1;
          while (j < batch.length && batch[j]!.lane?.lane === lane) j++;
          results.push(...(await lane.write(trx, batch.slice(i, j).map((p) => p.lane!.item), evictions.slice(i, j))));
          i = j;
        }
        union = unionOf(evictions);
        if (this.#announcer && !union.empty) announcement = { value: await this.#announcer.announce(trx, union) };
      });
    } catch (error) {
      // The COMMIT may have reached the database before the connection failed: its notices may be
      // out, and a retry that then finds nothing to end would be answered at once (INV-2).
      if (announcement !== null) await this.#announcer!.settled(announcement.value);
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      for (const item of batch) await this.#commit([item]);
      return;
    }
    if (this.#evictLocally && !union!.empty) this.#evictLocally(union!);
    // Committed, and to be answered once durable (INV-1): a write that evicted nothing then, one
    // that did once the other nodes have acted on it too (INV-2). The next batch does not wait.
    const durable = this.#durable?.() ?? null;
    const settled = announcement === null ? null : this.#announcer!.settled(announcement.value);
    if (durable === null && settled === null) {
      this.#observe?.(batch.length, (performance.now() - began) / 1000);
      batch.forEach((item, i) => item.resolve(results[i]));
      return;
    }
    const done = this.#answer(batch, results, evictions, durable, settled, began).finally(() => this.#settling.delete(done));
    this.#settling.add(done);
  }

  async #answer(
    batch: Pending<DB>[],
    results: unknown[],
    evictions: EvictionList[],
    durable: Promise<void> | null,
    settled: Promise<void> | null,
    began: number,
  ): Promise<void> {
    try {
      await durable;
    } catch (error) {
      // Committed, perhaps, but not known to be on disk: nobody is told it was done (INV-1).
      for (const item of batch) item.reject(error);
      return;
    }
    this.#observe?.(batch.length, (performance.now() - began) / 1000);
    const waiting: number[] = [];
    batch.forEach((item, i) => {
      if (settled && !evictions[i]!.empty) waiting.push(i);
      else item.resolve(results[i]);
    });
    if (waiting.length === 0) return;
    await settled;
    for (const i of waiting) batch[i]!.resolve(results[i]);
  }
}

function unionOf(lists: readonly EvictionList[]): EvictionList {
  const union = new EvictionList();
  for (const e of lists) {
    union.sessions(e.ids);
    if (e.everything) union.all();
  }
  return union;
}
