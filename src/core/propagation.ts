/**
 * Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5), the "deliver" of
 * house rule 10: the logout engine's transaction wrote one pending row per app to tell (the outbox,
 * INV-4); this sends them. It is woken after every committed logout and also polls (rows written by
 * the CLI, by another node, or left by a restart), claims due rows under a lease so two nodes
 * never send one at once, and signs a fresh logout token for every attempt (SEC-43, SEC-45).
 *
 * The logout answer never waits for it: apps are told after the person has heard "signed out",
 * with retries when an app is down.
 */
import { randomUUID } from "node:crypto";
import type { BackchannelDelivery } from "./model.ts";
import type { BackchannelTransport, Clock, DeliveryOutcome, Store } from "./ports.ts";
import type { SigningKeys } from "./signing-keys.ts";

/** Back-Channel Logout 1.0 §2.4: the one member of `events`. */
export const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";
/** §4: "preferably at most two minutes". */
export const LOGOUT_TOKEN_LIFESPAN_S = 120;
const FIRST_RETRY_MS = 1_000;
const LONGEST_RETRY_MS = 10 * 60_000;
const GIVE_UP_AFTER_MS = 24 * 3_600_000;
/** A 400 says the app refused this token; a few tries cover an app mid-deploy, no more (FLT-07). */
const MAX_TRIES_ON_400 = 3;
const LEASE_MS = 30_000;
/**
 * Notices in flight at once. Each is its own slot, refilled as soon as it frees: a slow or silent
 * app holds its slots for up to the transport's timeout, and never the others' notices (FLT-06).
 */
const CONCURRENCY = 64;
/**
 * An app's share: once it has this many notices in flight, its rows are not claimed until some
 * settle; a claim takes at most this many rows, so one app never holds more than twice this
 * (15 of the 64 slots), however large its backlog.
 */
const PER_APP = 8;

export class Propagation {
  #stopped = false;
  /** A fill is scheduled for the next turn of the event loop (wakes coalesce into it). */
  #scheduled = false;
  /** The fill in progress, if any; a wake during it makes it claim once more (no lost wake-up). */
  #filling: Promise<number> | null = null;
  #again = false;
  readonly #inFlight = new Set<Promise<void>>();
  /** Notices in flight per app (client_id). */
  readonly #perApp = new Map<string, number>();
  /** Notices settled so far: a claim that saw fewer rows than asked is trusted only if none settled meanwhile. */
  #settledCount = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly keys: SigningKeys,
    private readonly transport: BackchannelTransport,
    /** The issuer string, exactly as in ID tokens. */
    private readonly issuer: string,
    /** Told of an attempt that failed to run at all (a store fault); delivery goes on at the next poll. */
    private readonly failed: (error: unknown) => void = () => {},
    /** Told what became of each notice attempted (metrics), once recorded. */
    private readonly attempted: (status: DeliveryOutcome["status"]) => void = () => {},
  ) {}

  /** Sends what is due soon, without making the caller wait (after a logout's commit, after a notice settles). */
  wake(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.poll().catch(this.failed);
    });
  }

  /**
   * Claims due rows into the free slots and starts them; resolves once claiming is done, not
   * when the notices are (the server's poll each second: a stalled app must not stall the poll).
   */
  poll(): Promise<number> {
    if (this.#stopped) return Promise.resolve(0);
    if (this.#filling) {
      this.#again = true;
      return this.#filling;
    }
    this.#filling = this.#fill().finally(() => {
      this.#filling = null;
    });
    return this.#filling;
  }

  /** Claims and sends until nothing due is left and every notice started has its outcome recorded. */
  async run(): Promise<void> {
    for (;;) {
      await Promise.all([...this.#inFlight]);
      await this.#filling;
      if (this.#inFlight.size > 0) continue;
      // Nothing in flight and no claim running: this claim skips no app, so finding nothing
      // means nothing is due.
      if ((await this.poll()) === 0 && this.#inFlight.size === 0) return;
    }
  }

  /** No new claims; resolves when the notices in flight have recorded their outcomes (shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#filling?.catch(() => {});
    await Promise.all([...this.#inFlight]);
  }

  /** Returns how many rows it claimed. */
  async #fill(): Promise<number> {
    let total = 0;
    do {
      this.#again = false;
      for (;;) {
        const free = Math.min(CONCURRENCY - this.#inFlight.size, PER_APP);
        if (free <= 0 || this.#stopped) break;
        const now = this.clock.now();
        const full = [...this.#perApp].filter(([, n]) => n >= PER_APP).map(([clientId]) => clientId);
        const settledBefore = this.#settledCount;
        const claimed = await this.store.claimDeliveries(now, new Date(now.getTime() + LEASE_MS), free, full);
        total += claimed.length;
        for (const d of claimed) {
          this.#perApp.set(d.clientId, (this.#perApp.get(d.clientId) ?? 0) + 1);
          const sending: Promise<void> = this.#deliver(d)
            .catch(this.failed)
            .finally(() => {
              this.#inFlight.delete(sending);
              this.#settledCount++;
              const left = (this.#perApp.get(d.clientId) ?? 1) - 1;
              if (left > 0) this.#perApp.set(d.clientId, left);
              else this.#perApp.delete(d.clientId);
              // The slot is free: take the next due row, if any (coalesced with other wakes).
              this.wake();
            });
          this.#inFlight.add(sending);
        }
        // Fewer than asked: nothing more is due, unless a notice settled during the claim and so
        // freed an app that this claim skipped.
        if (claimed.length < free && (full.length === 0 || this.#settledCount === settledBefore)) break;
      }
    } while (this.#again && !this.#stopped);
    return total;
  }

  async #deliver(d: BackchannelDelivery): Promise<void> {
    const app = await this.store.findApp(d.clientId);
    const now = this.clock.now();
    if (!app || app.backchannelLogoutUri === null) {
      await this.store.recordDelivery(d.id, { ...this.#settled(d, "cancelled", now), lastError: "the app no longer exists or takes no back-channel logout" });
      this.attempted("cancelled");
      return;
    }
    const token = await this.logoutToken(d, now);
    // The app's URI now, not when the notice was queued: an app moved by the admin API is not
    // told at its old address, which may have a new owner.
    const answer = await this.transport.post(app.backchannelLogoutUri, token);
    const outcome = this.#outcome(d, answer, this.clock.now());
    await this.store.recordDelivery(d.id, outcome);
    this.attempted(outcome.status);
  }

  /** §2.4: `typ: logout+jwt`, a fresh `jti`, two minutes, `sid` and `sub`, the one event, never `nonce`. */
  logoutToken(d: Pick<BackchannelDelivery, "clientId" | "sid" | "identityId">, now: Date): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return this.keys.sign(
      {
        iss: this.issuer,
        aud: d.clientId,
        iat,
        exp: iat + LOGOUT_TOKEN_LIFESPAN_S,
        jti: randomUUID(),
        sub: d.identityId,
        sid: d.sid,
        events: { [BACKCHANNEL_EVENT]: {} },
      },
      "logout+jwt",
    );
  }

  #outcome(d: BackchannelDelivery, answer: { status: number } | { error: string }, now: Date): DeliveryOutcome {
    const attempts = d.attempts + 1;
    const status = "status" in answer ? answer.status : null;
    // §2.8: 200 is success, and frameworks answer 204; both are.
    if (status === 200 || status === 204) return { status: "delivered", attempts, nextAttemptAt: now, lastStatus: status, lastError: null, at: now };
    const lastError = "error" in answer ? answer.error : `HTTP ${status}`;
    // §2.5: retry only what may be transient: no answer, 408, 429, 5xx.
    const transient = status === null || status === 408 || status === 429 || status >= 500;
    const retry = (transient && now.getTime() - d.createdAt.getTime() < GIVE_UP_AFTER_MS) || (status === 400 && attempts < MAX_TRIES_ON_400);
    if (!retry) return { status: "failed", attempts, nextAttemptAt: now, lastStatus: status, lastError, at: now };
    const backoff = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1));
    const jitter = Math.floor(Math.random() * (backoff / 2));
    return { status: "pending", attempts, nextAttemptAt: new Date(now.getTime() + backoff + jitter), lastStatus: status, lastError, at: now };
  }

  #settled(d: BackchannelDelivery, status: "cancelled", now: Date): DeliveryOutcome {
    return { status, attempts: d.attempts, nextAttemptAt: now, lastStatus: null, lastError: null, at: now };
  }
}
