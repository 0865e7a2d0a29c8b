/**
 * Prometheus metrics (prom-client), served on the admin listener at `/metrics` and at Kratos's
 * `/metrics/prometheus` (docs/adr/0024-metrics-and-logs.md).
 *
 * Every label value comes from a closed set: a door, a route *pattern* (never a path with ids in
 * it), a method, a status code, an outcome or a reason. Never a user id, an identifier, a token or
 * an address: a label is a time series, and a series per user would be both a leak and a flood.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CoreEvent, Door, RevocationReason } from "../core/index.ts";

/** Which door a request came through; `admin` for the admin listener, `none` for health, docs and metrics. */
export type DoorLabel = Door | "admin" | "none";

/** Who asked for a logout: the door of a holder's own request, or the operator's channel. */
export type LogoutChannel = Door | "admin" | "cli" | "system";

/** Seconds; from a cached whoami (~0.1 ms) to a sign-in's argon2id (~50 ms) to a timeout. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds a group commit takes, COMMIT to durable (ADR 0022). */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Writes per group-commit batch (it cuts batches at 512). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export class Metrics {
  readonly registry = new Registry();
  readonly #httpRequests: Counter<"door" | "route" | "method" | "status">;
  readonly #httpDuration: Histogram<"door" | "route" | "method">;
  readonly #signIns: Counter<"door" | "outcome">;
  readonly #lockouts: Counter<"door">;
  readonly #logouts: Counter<"channel" | "reason">;
  readonly #sessionsEnded: Counter<"door" | "reason">;
  readonly #validations: Counter<"outcome" | "cache">;
  readonly #storeErrors: Counter<"operation">;
  readonly #batchSize: Histogram;
  readonly #commitSeconds: Histogram;
  readonly #liveSessions: Gauge;
  readonly #deliveries: Counter<"status">;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#httpRequests = new Counter({
      name: "curfew_http_requests_total",
      help: "HTTP requests answered, by door, route pattern, method and status.",
      labelNames: ["door", "route", "method", "status"],
      registers,
    });
    this.#httpDuration = new Histogram({
      name: "curfew_http_request_duration_seconds",
      help: "Time from a request's arrival to its answer, by door, route pattern and method.",
      labelNames: ["door", "route", "method"],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.#signIns = new Counter({
      name: "curfew_signins_total",
      help: "Sign-ins and re-authentications by door and outcome (ok, bad_credentials, throttled).",
      labelNames: ["door", "outcome"],
      registers,
    });
    this.#lockouts = new Counter({
      name: "curfew_lockouts_total",
      help: "Failed sign-ins that filled an account's failure window (the account is refused until it ends).",
      labelNames: ["door"],
      registers,
    });
    this.#logouts = new Counter({
      name: "curfew_logouts_total",
      help: "Committed logouts and revocations that ended at least one session, by who asked (a door, admin, cli, system) and reason.",
      labelNames: ["channel", "reason"],
      registers,
    });
    this.#sessionsEnded = new Counter({
      name: "curfew_sessions_ended_total",
      help: "Sessions ended, by the door they were begun through and the reason.",
      labelNames: ["door", "reason"],
      registers,
    });
    this.#validations = new Counter({
      name: "curfew_validations_total",
      help: "Session tokens checked, by outcome (ok, refused) and whether the session cache answered (hit, miss).",
      labelNames: ["outcome", "cache"],
      registers,
    });
    this.#storeErrors = new Counter({
      name: "curfew_store_errors_total",
      help: "Store calls that failed, by operation (a Store method).",
      labelNames: ["operation"],
      registers,
    });
    this.#batchSize = new Histogram({
      name: "curfew_group_commit_batch_size",
      help: "Writes committed together in one group-commit transaction.",
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.#commitSeconds = new Histogram({
      name: "curfew_group_commit_seconds",
      help: "Time from a batch's BEGIN until it is durable (SQLite: after the log's fdatasync).",
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.#liveSessions = new Gauge({
      name: "curfew_live_sessions",
      help: "Live sessions (not revoked, not expired, not idle: what a validation accepts), counted once a minute by a background job, not per scrape.",
      registers,
    });
    this.#deliveries = new Counter({
      name: "curfew_backchannel_deliveries_total",
      help: "Back-channel logout notice attempts, by what became of the notice (delivered, pending: to be retried, failed, cancelled).",
      labelNames: ["status"],
      registers,
    });
  }

  request(door: DoorLabel, route: string, method: string, status: number, seconds: number): void {
    this.#httpRequests.inc({ door, route, method, status: String(status) });
    this.#httpDuration.observe({ door, route, method }, seconds);
  }

  /** What the core tells (core/events.ts). */
  coreEvent(event: CoreEvent): void {
    switch (event.type) {
      case "signin":
        this.#signIns.inc({ door: event.door, outcome: event.outcome });
        return;
      case "lockout":
        this.#lockouts.inc({ door: event.door });
        return;
      case "validation":
        this.#validations.inc({ outcome: event.outcome, cache: event.cache });
        return;
    }
  }

  logout(channel: LogoutChannel, reason: RevocationReason, ended: readonly { door: Door }[]): void {
    if (ended.length === 0) return;
    this.#logouts.inc({ channel, reason });
    for (const s of ended) this.#sessionsEnded.inc({ door: s.door, reason });
  }

  storeError(operation: string): void {
    this.#storeErrors.inc({ operation });
  }

  groupCommit(size: number, seconds: number): void {
    this.#batchSize.observe(size);
    this.#commitSeconds.observe(seconds);
  }

  liveSessions(count: number): void {
    this.#liveSessions.set(count);
  }

  delivery(status: "delivered" | "pending" | "failed" | "cancelled"): void {
    this.#deliveries.inc({ status });
  }
}
