/**
 * Several Curfew nodes on one PostgreSQL database, each with a session cache, and a logout that is
 * true on every node when it is answered (INV-2; docs/adr/0021-cache-across-nodes.md).
 *
 * - **Lease.** A serving node holds a lease: its `nodes` row says until when (`lease_until`, in the
 *   database's clock), renewed every third of a lease over the node's own listening connection.
 *   The node answers from its cache only while its lease holds by its own monotonic clock, counted
 *   from when the renewal was *sent*, so it always lets go no later than the row says.
 * - **Evictions.** A revocation's transaction carries one NOTIFY per 200 sessions it ended
 *   (PostgreSQL delivers them at the commit, or never). Every other node drops those sessions from
 *   its cache, then acknowledges to the revoking node's own channel.
 * - **The answer waits.** After the commit the revoking node reads who holds a lease, and waits
 *   for each of them to acknowledge or for its lease to run out. Either way that node no longer
 *   accepts the session from its cache by the time we answer.
 * - **Fencing.** A node whose listening connection breaks, or whose renewal fails, stops using
 *   its cache at once (it serves from the database) and empties it before it uses it again.
 *   Renewals travel on the listening connection itself: PostgreSQL sends a notice committed before
 *   a renewal ahead of that renewal's answer, so a node can never extend a lease past a notice it
 *   has not read.
 *
 * A frozen or partitioned node can delay a logout by at most one lease; it cannot make it false.
 */
import { performance } from "node:perf_hooks";
import { type Kysely, sql, type Transaction } from "kysely";
import pg from "pg";
import type { EvictionAnnouncer, EvictionList } from "./group-commit.ts";

export interface ClusterOptions {
  nodeId: string;
  /** `cluster.lease`: how long a lease lasts; also how long a revocation waits for a silent node. */
  leaseMs: number;
  /** A serving node holds a lease and keeps a cache; the CLI only announces what it ends. */
  holdsLease: boolean;
  /** The settings of the pool's connections: the listening connection is made the same way. */
  clientConfig: pg.ClientConfig;
  /** Drops sessions from this node's cache. */
  evict(ids: readonly string[] | "all"): void;
}

/** The database's clock, in epoch milliseconds: every lease is written and read in it. */
const DB_NOW_SQL = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
const DB_NOW = sql.raw<string>(DB_NOW_SQL);

/** NOTIFY payloads are at most 8000 bytes; 200 ids of 36 characters and a comma fit with room to spare. */
const IDS_PER_NOTICE = 200;

/** Added to every wait for a silent node's lease: clocks run at slightly different rates. */
const CLOCK_GRACE_MS = 50;

interface Announcement {
  seqs: number[];
}

interface Wait {
  seqs: number[];
  /** Node id → the local instant (performance.now()) its lease ends, for those not yet heard from. */
  pending: Map<string, number>;
  check(): void;
}

export class PostgresCluster<DB> implements EvictionAnnouncer<DB> {
  /** Named after the `nodes` table itself (its oid), once connected: nodes that share it share the channel. */
  #evictChannel = "";
  readonly #ackChannel: string;
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #renewing = false;
  /** performance.now() until which this node's lease holds; -Infinity: none. */
  #deadline = Number.NEGATIVE_INFINITY;
  #seq = 0;
  /** Announcement number → the nodes that have acknowledged it. */
  readonly #acks = new Map<number, Set<string>>();
  readonly #waits = new Set<Wait>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly options: ClusterOptions,
  ) {
    this.#ackChannel = ackChannelOf(options.nodeId);
  }

  /** Whether this node may answer from its cache now: it holds a lease and hears every notice. */
  get serving(): boolean {
    return this.#client !== null && performance.now() < this.#deadline;
  }

  async start(): Promise<void> {
    await this.#connect();
    if (this.options.holdsLease) await this.#renew();
    this.#timer = setInterval(() => void this.#tick(), Math.max(1, Math.floor(this.options.leaseMs / 3)));
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#deadline = Number.NEGATIVE_INFINITY;
    const client = this.#client;
    this.#client = null;
    // Gone for good: nobody need wait for this node's acknowledgements any more. Through the pool,
    // which works even when the listening connection is the thing that broke.
    if (this.options.holdsLease) await sql`delete from nodes where id = ${this.options.nodeId}`.execute(this.db).catch(() => {});
    await client?.end().catch(() => {});
  }

  // ---- announcing (the revoking node) -------------------------------------------------------

  async announce(trx: Transaction<DB>, evicted: EvictionList): Promise<Announcement> {
    if (this.#evictChannel === "") {
      const { rows } = await sql<{ oid: string }>`select 'nodes'::regclass::oid as oid`.execute(trx);
      this.#evictChannel = channelOf(rows[0]!.oid);
    }
    const payloads: string[] = [];
    const ids = [...evicted.ids];
    const seqs: number[] = [];
    const next = () => {
      const seq = ++this.#seq;
      seqs.push(seq);
      return `${this.options.nodeId} ${seq}`;
    };
    if (evicted.everything) payloads.push(`${next()} *`);
    else for (let i = 0; i < ids.length; i += IDS_PER_NOTICE) payloads.push(`${next()} ${ids.slice(i, i + IDS_PER_NOTICE).join(",")}`);
    await sql`select pg_notify(${this.#evictChannel}, p) from unnest(${payloads}::text[]) as p`.execute(trx);
    // Only now: acknowledgements come after the commit, and a NOTIFY that failed leaves nothing behind.
    for (const seq of seqs) this.#acks.set(seq, new Set());
    return { seqs };
  }

  async settled(announcement: unknown): Promise<void> {
    const { seqs } = announcement as Announcement;
    try {
      // Leases that ended a moment ago count too: a node's clock may run a little slow.
      const { rows } = await sql<{ id: string; lease_until: string; now: string }>`
        select id, lease_until, ${DB_NOW} as now from nodes where lease_until > ${DB_NOW} - ${CLOCK_GRACE_MS} and id <> ${this.options.nodeId}`.execute(this.db);
      // A node that does not acknowledge is waited for at least a whole lease from now: a lease
      // renewed before the commit ends by then by the node's own clock, whatever the database's
      // clock did (it may be stepped). Longer when its row says so (a node configured with a
      // longer lease), counted from when the answer arrived, the latest the database's "now" was.
      const received = performance.now();
      const until = (r: (typeof rows)[number]) => received + Math.max(this.options.leaseMs, Number(r.lease_until) - Number(r.now)) + CLOCK_GRACE_MS;
      await this.#waitFor(seqs, new Map(rows.map((r) => [r.id, until(r)])));
    } catch {
      // Who holds a lease is unknown. Any node that held one at the commit has read the notice or
      // lost its lease once a whole lease has passed.
      await new Promise((r) => setTimeout(r, this.options.leaseMs + CLOCK_GRACE_MS));
    } finally {
      for (const seq of seqs) this.#acks.delete(seq);
    }
  }

  #waitFor(seqs: number[], pending: Map<string, number>): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const wait: Wait = {
        seqs,
        pending,
        check: () => {
          if (timer) clearTimeout(timer);
          const now = performance.now();
          for (const [node, until] of pending) {
            if (now >= until || seqs.every((s) => this.#acks.get(s)?.has(node))) pending.delete(node);
          }
          if (pending.size === 0) {
            this.#waits.delete(wait);
            resolve();
            return;
          }
          timer = setTimeout(wait.check, Math.max(1, Math.min(...pending.values()) - now));
        },
      };
      this.#waits.add(wait);
      wait.check();
    });
  }

  // ---- listening (every node) ---------------------------------------------------------------

  async #tick(): Promise<void> {
    if (this.#closed) return;
    if (!this.#client) {
      this.#connecting ??= this.#connect()
        .catch(() => {})
        .finally(() => (this.#connecting = null));
      await this.#connecting;
    }
    if (this.options.holdsLease) await this.#renew();
  }

  async #connect(): Promise<void> {
    const config = this.options.clientConfig;
    const client = new pg.Client({ ...config, application_name: `${config.application_name ?? "curfew"}:listener` });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    client.on("notification", (n) => this.#notified(n));
    try {
      await client.connect();
      // Whatever names the schema (the URL, search_path, the role's settings), the nodes that
      // share one `nodes` table share its oid, and so the channel. PostgreSQL keeps 63 bytes of
      // a channel name, folded to lower case.
      // Before the migrations (`curfew migrate` opens the store first) there is no table yet, and
      // nothing to announce or to hear; `announce` names the channel once there is.
      const { rows } = await client.query<{ oid: string | null }>("select to_regclass('nodes')::oid as oid");
      if (rows[0]?.oid) this.#evictChannel = channelOf(rows[0].oid);
      await client.query(`LISTEN ${this.#ackChannel}`);
      if (this.options.holdsLease) await client.query(`LISTEN ${this.#evictChannel}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  /** The listening connection broke: from now on this node answers from the database (fenced). */
  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#deadline = Number.NEGATIVE_INFINITY;
    this.options.evict("all");
    client.end().catch(() => {});
  }

  async #renew(): Promise<void> {
    const client = this.#client;
    if (!client || this.#renewing || this.#closed) return;
    this.#renewing = true;
    const sent = performance.now();
    try {
      const now = Date.now();
      await client.query(
        `insert into nodes (id, started_at, seen_at, lease_until) values ($1, $2, $2, ${DB_NOW_SQL} + $3)
         on conflict (id) do update set seen_at = $2, lease_until = excluded.lease_until`,
        [this.options.nodeId, now, this.options.leaseMs],
      );
      if (this.#client !== client) return;
      // Back from a lapse (or the first lease): whatever the cache held was kept without hearing
      // every notice, so none of it is trusted.
      if (!this.serving) this.options.evict("all");
      this.#deadline = sent + this.options.leaseMs;
    } catch {
      // A renewal that failed or timed out leaves the connection in an unknown state.
      this.#lost(client);
    } finally {
      this.#renewing = false;
    }
  }

  #notified(notice: pg.Notification): void {
    const payload = notice.payload ?? "";
    if (notice.channel === this.#evictChannel) {
      const [origin, seq, list] = payload.split(" ");
      if (!origin || !seq || list === undefined || origin === this.options.nodeId) return;
      this.options.evict(list === "*" ? "all" : list.split(","));
      this.#client?.query("select pg_notify($1, $2)", [ackChannelOf(origin), `${seq} ${this.options.nodeId}`]).catch(() => {});
    } else if (notice.channel === this.#ackChannel) {
      const [seq, from] = payload.split(" ");
      const acked = this.#acks.get(Number(seq));
      if (!acked || !from) return;
      acked.add(from);
      for (const wait of this.#waits) if (wait.seqs.includes(Number(seq))) wait.check();
    }
  }
}

function channelOf(nodesOid: string): string {
  return `curfew_evict_${nodesOid}`;
}

function ackChannelOf(nodeId: string): string {
  return `curfew_ack_${nodeId.replaceAll("-", "").toLowerCase()}`;
}
