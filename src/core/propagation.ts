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
const BATCH = 32;

export class Propagation {
  #scheduled = false;
  #stopped = false;
  #running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly keys: SigningKeys,
    private readonly transport: BackchannelTransport,
    /** The issuer string, exactly as in ID tokens. */
    private readonly issuer: string,
    /** Told of an attempt that failed to run at all (a store fault); delivery goes on at the next poll. */
    private readonly failed: (error: unknown) => void = () => {},
  ) {}

  /** Sends what is due soon, without making the caller wait (after a logout's commit). */
  wake(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.run().catch(this.failed);
    });
  }

  /** One pass: claims due rows and sends each; resolves when the pass is done. Never two at once. */
  run(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** No new passes; resolves when the one in progress has recorded its outcomes (shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running?.catch(() => {});
  }

  async #pass(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const claimed = await this.store.claimDeliveries(now, new Date(now.getTime() + LEASE_MS), BATCH);
      if (claimed.length === 0) return;
      // Apps are told in parallel: one slow app does not hold up the others (FLT-06).
      await Promise.all(claimed.map((d) => this.#deliver(d)));
      if (claimed.length < BATCH) return;
    }
  }

  async #deliver(d: BackchannelDelivery): Promise<void> {
    const app = await this.store.findApp(d.clientId);
    const now = this.clock.now();
    if (!app || app.backchannelLogoutUri === null) {
      await this.store.recordDelivery(d.id, { ...this.#settled(d, "cancelled", now), lastError: "the app no longer exists or takes no back-channel logout" });
      return;
    }
    const token = await this.logoutToken(d, now);
    // The app's URI now, not when the notice was queued: an app moved by the admin API is not
    // told at its old address, which may have a new owner.
    const answer = await this.transport.post(app.backchannelLogoutUri, token);
    await this.store.recordDelivery(d.id, this.#outcome(d, answer, this.clock.now()));
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
