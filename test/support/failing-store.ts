/**
 * D19 fault injection without containers: a Store that forwards to a real SqlStore until a
 * test switches one of its methods to fail.
 *
 * Two ways to fail, the two that matter for INV-1 and INV-3 (FLT-01, FLT-03):
 * - `"before"`: the call never reaches the database (it is down, the pool is exhausted); nothing
 *   changes;
 * - `"after"`: the call runs and commits, then its answer is lost (an ambiguous commit); the
 *   caller cannot know, so it must not claim success, and a retry must be harmless.
 */
import type {
  AuditEvent,
  AuthorizationCode,
  AuthorizationRequest,
  BackchannelDelivery,
  DeliveryStatus,
  Flow,
  GrantToken,
  Identity,
  IdentityRecord,
  Page,
  Participant,
  RelyingApp,
  RevocationRecord,
  Session,
  StoredError,
} from "../../src/core/model.ts";
import type { AuditQuery, DeliveryOutcome, IdentityQuery, RevocationResult, SessionQuery, Store, WindowCounters } from "../../src/core/ports.ts";
import { SqlStore } from "../../src/storage/sql/sql-store.ts";

/** Every Store method a test can switch to fail (closing is never faulted). */
export type StoreMethod = Exclude<keyof Store, "close">;
export type FaultMode = "before" | "after";

/** What an injected fault throws: something that is not a CoreError, as a real driver error is not. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
  constructor(
    readonly method: StoreMethod,
    readonly mode: FaultMode,
  ) {
    super(`injected store fault in ${method} (${mode})`);
  }
}

export class FailingStore implements Store {
  readonly #faults = new Map<StoreMethod, FaultMode>();
  /** How many times each method was called, failed or not. */
  readonly calls = new Map<StoreMethod, number>();

  private constructor(readonly inner: Store) {}

  /** A FailingStore over a fresh, migrated in-memory SQLite store. */
  static async open(url = "sqlite::memory:"): Promise<FailingStore> {
    return new FailingStore(await SqlStore.open(url, { migrate: true }));
  }

  /** From now on, calls to these methods fail in the given way until healed. */
  fail(methods: StoreMethod | readonly StoreMethod[], mode: FaultMode = "before"): void {
    for (const m of typeof methods === "string" ? [methods] : methods) this.#faults.set(m, mode);
  }

  /** Lets these methods (all, when none are named) reach the store again. */
  heal(...methods: StoreMethod[]): void {
    if (methods.length === 0) this.#faults.clear();
    for (const m of methods) this.#faults.delete(m);
  }

  callCount(method: StoreMethod): number {
    return this.calls.get(method) ?? 0;
  }

  async #run<T>(method: StoreMethod, call: () => Promise<T>): Promise<T> {
    this.calls.set(method, this.callCount(method) + 1);
    const mode = this.#faults.get(method);
    if (mode === "before") throw new InjectedFault(method, mode);
    const result = await call();
    if (mode === "after") throw new InjectedFault(method, mode);
    return result;
  }

  sharedWindows(name: string, max: number, windowMs: number): WindowCounters | null {
    return this.inner.sharedWindows(name, max, windowMs);
  }
  ping(at: Date): Promise<void> {
    return this.#run("ping", () => this.inner.ping(at));
  }
  insertIdentity(identity: IdentityRecord, audit: AuditEvent): Promise<void> {
    return this.#run("insertIdentity", () => this.inner.insertIdentity(identity, audit));
  }
  findIdentity(id: string): Promise<IdentityRecord | null> {
    return this.#run("findIdentity", () => this.inner.findIdentity(id));
  }
  findIdentityByIdentifier(identifier: string): Promise<IdentityRecord | null> {
    return this.#run("findIdentityByIdentifier", () => this.inner.findIdentityByIdentifier(identifier));
  }
  listIdentities(query: IdentityQuery): Promise<Page<IdentityRecord>> {
    return this.#run("listIdentities", () => this.inner.listIdentities(query));
  }
  setDigestHash(identityId: string, digestHash: string, passwordHash: string): Promise<void> {
    return this.#run("setDigestHash", () => this.inner.setDigestHash(identityId, digestHash, passwordHash));
  }
  insertSession(session: Session, audit: AuditEvent): Promise<void> {
    return this.#run("insertSession", () => this.inner.insertSession(session, audit));
  }
  findSession(id: string): Promise<Session | null> {
    return this.#run("findSession", () => this.inner.findSession(id));
  }
  findSessionWithIdentity(id: string): Promise<{ session: Session; identity: Identity } | null> {
    return this.#run("findSessionWithIdentity", () => this.inner.findSessionWithIdentity(id));
  }
  listSessions(query: SessionQuery): Promise<Page<Session>> {
    return this.#run("listSessions", () => this.inner.listSessions(query));
  }
  countSessions(query: Omit<SessionQuery, "limit" | "cursor">): Promise<number> {
    return this.#run("countSessions", () => this.inner.countSessions(query));
  }
  touchSession(id: string, lastSeenAt: Date): Promise<void> {
    return this.#run("touchSession", () => this.inner.touchSession(id, lastSeenAt));
  }
  revokeSessions(record: RevocationRecord): Promise<RevocationResult> {
    return this.#run("revokeSessions", () => this.inner.revokeSessions(record));
  }
  extendSession(id: string, expiresAt: Date, now: Date): Promise<boolean> {
    return this.#run("extendSession", () => this.inner.extendSession(id, expiresAt, now));
  }
  reauthenticateSession(id: string, at: Date): Promise<boolean> {
    return this.#run("reauthenticateSession", () => this.inner.reauthenticateSession(id, at));
  }
  purgeSessions(before: Date): Promise<number> {
    return this.#run("purgeSessions", () => this.inner.purgeSessions(before));
  }
  insertFlow(flow: Flow): Promise<void> {
    return this.#run("insertFlow", () => this.inner.insertFlow(flow));
  }
  findFlow(id: string): Promise<Flow | null> {
    return this.#run("findFlow", () => this.inner.findFlow(id));
  }
  saveFlowView(id: string, view: unknown): Promise<boolean> {
    return this.#run("saveFlowView", () => this.inner.saveFlowView(id, view));
  }
  purgeFlows(before: Date): Promise<number> {
    return this.#run("purgeFlows", () => this.inner.purgeFlows(before));
  }
  insertError(error: StoredError): Promise<void> {
    return this.#run("insertError", () => this.inner.insertError(error));
  }
  findError(id: string): Promise<StoredError | null> {
    return this.#run("findError", () => this.inner.findError(id));
  }
  purgeErrors(before: Date): Promise<number> {
    return this.#run("purgeErrors", () => this.inner.purgeErrors(before));
  }
  syncConfigApps(apps: readonly RelyingApp[]): Promise<void> {
    return this.#run("syncConfigApps", () => this.inner.syncConfigApps(apps));
  }
  findApp(clientId: string): Promise<RelyingApp | null> {
    return this.#run("findApp", () => this.inner.findApp(clientId));
  }
  listApps(): Promise<RelyingApp[]> {
    return this.#run("listApps", () => this.inner.listApps());
  }
  insertApp(app: RelyingApp): Promise<boolean> {
    return this.#run("insertApp", () => this.inner.insertApp(app));
  }
  updateApp(app: RelyingApp): Promise<boolean> {
    return this.#run("updateApp", () => this.inner.updateApp(app));
  }
  deleteApp(clientId: string): Promise<boolean> {
    return this.#run("deleteApp", () => this.inner.deleteApp(clientId));
  }
  findAuthorizationRequestClient(id: string): Promise<string | null> {
    return this.#run("findAuthorizationRequestClient", () => this.inner.findAuthorizationRequestClient(id));
  }
  insertAuthorizationRequest(request: AuthorizationRequest): Promise<void> {
    return this.#run("insertAuthorizationRequest", () => this.inner.insertAuthorizationRequest(request));
  }
  takeAuthorizationRequest(id: string): Promise<AuthorizationRequest | null> {
    return this.#run("takeAuthorizationRequest", () => this.inner.takeAuthorizationRequest(id));
  }
  insertCode(code: AuthorizationCode, participant: Participant): Promise<boolean> {
    return this.#run("insertCode", () => this.inner.insertCode(code, participant));
  }
  redeemCode(id: string, at: Date): Promise<{ code: AuthorizationCode; firstUse: boolean } | null> {
    return this.#run("redeemCode", () => this.inner.redeemCode(id, at));
  }
  insertTokens(tokens: readonly GrantToken[]): Promise<boolean> {
    return this.#run("insertTokens", () => this.inner.insertTokens(tokens));
  }
  findToken(id: string): Promise<GrantToken | null> {
    return this.#run("findToken", () => this.inner.findToken(id));
  }
  rotateRefreshToken(id: string, at: Date, replacements: readonly GrantToken[]): Promise<"rotated" | "reused" | "gone"> {
    return this.#run("rotateRefreshToken", () => this.inner.rotateRefreshToken(id, at, replacements));
  }
  revokeTokenFamily(familyId: string, at: Date): Promise<void> {
    return this.#run("revokeTokenFamily", () => this.inner.revokeTokenFamily(familyId, at));
  }
  listParticipants(sessionId: string): Promise<Participant[]> {
    return this.#run("listParticipants", () => this.inner.listParticipants(sessionId));
  }
  findParticipantBySid(sid: string): Promise<Participant | null> {
    return this.#run("findParticipantBySid", () => this.inner.findParticipantBySid(sid));
  }
  purgeGrants(before: Date): Promise<number> {
    return this.#run("purgeGrants", () => this.inner.purgeGrants(before));
  }
  claimDeliveries(now: Date, leaseUntil: Date, limit: number, skip: readonly string[]): Promise<BackchannelDelivery[]> {
    return this.#run("claimDeliveries", () => this.inner.claimDeliveries(now, leaseUntil, limit, skip));
  }
  retryDelivery(id: string, at: Date): Promise<boolean> {
    return this.#run("retryDelivery", () => this.inner.retryDelivery(id, at));
  }
  recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void> {
    return this.#run("recordDelivery", () => this.inner.recordDelivery(id, outcome));
  }
  listDeliveries(query: { sessionId?: string; clientId?: string; status?: DeliveryStatus; limit: number }): Promise<BackchannelDelivery[]> {
    return this.#run("listDeliveries", () => this.inner.listDeliveries(query));
  }
  listAuditEvents(query: AuditQuery): Promise<Page<AuditEvent>> {
    return this.#run("listAuditEvents", () => this.inner.listAuditEvents(query));
  }
  updateIdentity(record: IdentityRecord, audit: AuditEvent, options: { password: boolean }): Promise<boolean> {
    return this.#run("updateIdentity", () => this.inner.updateIdentity(record, audit, options));
  }
  setPasswordHashes(identityId: string, hashes: { passwordHash: string; digestHash: string }, at: Date, audit: AuditEvent): Promise<boolean> {
    return this.#run("setPasswordHashes", () => this.inner.setPasswordHashes(identityId, hashes, at, audit));
  }
  insertAuditEvents(events: readonly AuditEvent[]): Promise<void> {
    return this.#run("insertAuditEvents", () => this.inner.insertAuditEvents(events));
  }
  purgeAuditEvents(before: Date): Promise<number> {
    return this.#run("purgeAuditEvents", () => this.inner.purgeAuditEvents(before));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
