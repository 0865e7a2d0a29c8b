/** The session core every door shares. No HTTP, no SQL: only ports (docs/architecture.md). */
import { AuditTrail } from "./audit.ts";
import { asStoreFailure } from "./errors.ts";
import { CoreEvents, type CoreListener } from "./events.ts";
import { Flows } from "./flows.ts";
import { Grants } from "./grants.ts";
import { Identities } from "./identities.ts";
import { type AfterCommit, LogoutEngine, type LogoutOutcome, type LogoutTarget } from "./logout.ts";
import type { Actor, BackchannelDelivery, DeliveryStatus, RevocationReason } from "./model.ts";
import type { Clock, PasswordHasher, Store } from "./ports.ts";
import { Proofs } from "./proofs.ts";
import { MemoryWindows, type WindowsFactory } from "./login-throttle.ts";
import { Readiness } from "./readiness.ts";
import { RequestLimits } from "./request-limits.ts";
import { RelyingApps } from "./relying-apps.ts";
import type { SigningKeys } from "./signing-keys.ts";
import { Sessions } from "./sessions.ts";
import type { CoreSettings } from "./settings.ts";

export interface CoreDeps {
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
  settings: CoreSettings;
  /** The provider's RS256 keys (ID tokens, logout tokens). */
  signingKeys: SigningKeys;
}

export interface Core {
  readonly clock: Clock;
  readonly settings: CoreSettings;
  readonly identities: Identities;
  readonly sessions: Sessions;
  readonly flows: Flows;
  /** Session-bound proofs (logout and CSRF tokens); the only holder of the server secret. */
  readonly proofs: Proofs;
  /** Single sign-on: the relying apps, and the codes and tokens they hold for sessions. */
  readonly apps: RelyingApps;
  /** Per-IP limits on unauthenticated writes (SEC-101); flows apply theirs themselves. */
  readonly limits: RequestLimits;
  readonly grants: Grants;
  readonly signingKeys: SigningKeys;
  /** The back-channel outbox, as operators see it (core/propagation.ts sends it). */
  readonly deliveries: {
    list(query: { sessionId?: string; clientId?: string; status?: DeliveryStatus; limit: number }): Promise<BackchannelDelivery[]>;
    /** Due again now; false when unknown or already delivered. */
    retry(id: string): Promise<boolean>;
  };
  /** Ends sessions: the one way any session ends (core/logout.ts). */
  logout(target: LogoutTarget, reason: RevocationReason, by: Actor): Promise<LogoutOutcome>;
  /** Adds a listener told of every committed logout, after its commit. */
  afterLogout(listener: AfterCommit): void;
  /** Adds a listener told of sign-ins, lockouts and validations (core/events.ts). */
  onEvent(listener: CoreListener): void;
  /** The audit trail, newest first (docs/adr/0025-audit-trail.md). */
  readonly audit: Pick<AuditTrail, "list">;
  /** Resolves when the store answers; throws STORE_UNAVAILABLE otherwise. */
  ready(): Promise<void>;
  /** One pass of housekeeping: purge ended sessions past retention, expired flows, codes and tokens, old audit events. */
  purge(): Promise<{ sessions: number; flows: number; grants: number; audit: number }>;
}

export function createCore({ store, hasher, clock, settings, signingKeys }: CoreDeps): Core {
  const engine = new LogoutEngine(store, clock, settings.sessions);
  // The throttle's and the limits' windows: the store's shared ones (PostgreSQL), else memory.
  const windows: WindowsFactory = (name, max, windowMs) => store.sharedWindows(name, max, windowMs) ?? new MemoryWindows(max, windowMs, clock);
  const limits = new RequestLimits(settings.requestLimits, windows);
  const events = new CoreEvents();
  const sessions = new Sessions(store, hasher, clock, settings, windows, events);
  const flows = new Flows(store, clock, settings.flows, limits);
  const proofs = new Proofs(settings.secret);
  const grants = new Grants(store, clock, sessions, proofs, settings.flows.lifespanMs.login);
  const readiness = new Readiness(store, clock);
  const audit = new AuditTrail(store, clock, settings.auditRetentionMs);
  return {
    clock,
    settings,
    identities: new Identities(store, hasher, clock, engine, settings.flows),
    sessions,
    flows,
    proofs,
    apps: new RelyingApps(store, clock),
    limits,
    grants,
    signingKeys,
    deliveries: {
      list: (query) =>
        store.listDeliveries(query).catch((e: unknown) => {
          throw asStoreFailure(e);
        }),
      retry: (id) =>
        store.retryDelivery(id, clock.now()).catch((e: unknown) => {
          throw asStoreFailure(e);
        }),
    },
    logout: (target, reason, by) => engine.logout(target, reason, by),
    afterLogout: (listener) => engine.afterCommit(listener),
    onEvent: (listener) => events.on(listener),
    ready: () => readiness.check(),
    audit,
    purge: async () => ({ sessions: await sessions.purge(), flows: await flows.purge(), grants: await grants.purge(), audit: await audit.purge() }),
  };
}

export { CoreError, isCoreError, type CoreErrorCode } from "./errors.ts";
export type { CoreEvent, SignInOutcome } from "./events.ts";
export type { EndedSession, LogoutOutcome, LogoutTarget } from "./logout.ts";
export type * from "./model.ts";
export type { AuditQuery, Clock, PasswordHasher, Store } from "./ports.ts";
export type { ProofPurpose } from "./proofs.ts";
export type { CoreSettings } from "./settings.ts";
