/**
 * The interfaces the core needs from the outside world. Storage implements Store;
 * the composition root supplies the rest. Verbs are domain verbs (house rule 3).
 */
import type {
  AuditEvent,
  AuditEventType,
  BackchannelDelivery,
  DeliveryStatus,
  AuthorizationCode,
  AuthorizationRequest,
  GrantToken,
  Participant,
  RelyingApp,
  Door,
  Flow,
  Identity,
  IdentityRecord,
  Page,
  RevocationRecord,
  RevokedSession,
  Session,
  StoredError,
} from "./model.ts";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The audit trail's filters (`GET /admin/audit`, `curfew audit list`); `since` inclusive, `until` exclusive. */
export interface AuditQuery {
  identityId?: string;
  sessionId?: string;
  type?: AuditEventType;
  door?: Door;
  since?: Date;
  until?: Date;
  limit: number;
  cursor?: string;
}

export interface SessionQuery {
  identityId?: string;
  /** true: live (not revoked, not expired at `now`, and not idle); false: ended; undefined: all. */
  active?: boolean;
  now: Date;
  /**
   * Per door, the last-seen time at or before which a session counts as idle (D5). Without it
   * `active` considers revocation and absolute expiry only.
   */
  idleBefore?: Record<Door, Date>;
  exceptSessionId?: string;
  limit: number;
  cursor?: string;
}

export interface IdentityQuery {
  /** Exact, case-insensitive match on email or username. */
  identifier?: string;
  limit: number;
  cursor?: string;
}

export interface RevocationResult {
  /** The sessions this write revoked; sessions already revoked or past their expiry are not here. */
  revoked: RevokedSession[];
  /** How many back-channel deliveries the same transaction queued (INV-4). */
  queued: number;
}

export interface Store {
  /**
   * Answers when the store can commit: writes this process's row of `nodes` (seen at `at`) through
   * the same path as every write, durably; throws otherwise. A store that reads but cannot write
   * (a full disk, a read-only replica, a lock held for ever) is not ready.
   */
  ping(at: Date): Promise<void>;
  /**
   * Fixed-window counters every node of this store shares (PostgreSQL), named `name`, or null when
   * one process serves the store (SQLite) and its memory is the place for them.
   */
  sharedWindows(name: string, max: number, windowMs: number): WindowCounters | null;

  /** Inserts an identity; throws CoreError IDENTIFIER_TAKEN when email or username is in use. */
  insertIdentity(identity: IdentityRecord, audit: AuditEvent): Promise<void>;
  findIdentity(id: string): Promise<IdentityRecord | null>;
  /** Case-insensitive match on email or username (D9). */
  findIdentityByIdentifier(identifier: string): Promise<IdentityRecord | null>;
  listIdentities(query: IdentityQuery): Promise<Page<IdentityRecord>>;
  /**
   * Adds the Firstock digest verifier (D11) to an identity that has none, only while its password
   * verifier is still `passwordHash` (the one just checked): a password changed meanwhile is not
   * given back a digest of the old one.
   */
  setDigestHash(identityId: string, digestHash: string, passwordHash: string): Promise<void>;
  /**
   * Replaces an identity's traits, state and metadata, and its verifiers when `record` carries new
   * ones, with `audit`; IDENTIFIER_TAKEN when the traits name another identity's identifier; false
   * for an unknown identity. Every cached session of it, on every node, is evicted before the answer.
   */
  updateIdentity(record: IdentityRecord, audit: AuditEvent, options: { password: boolean }): Promise<boolean>;
  /** Replaces both password verifiers (D11) and writes `audit` with them; false for an unknown identity. */
  setPasswordHashes(identityId: string, hashes: { passwordHash: string; digestHash: string }, at: Date, audit: AuditEvent): Promise<boolean>;

  insertSession(session: Session, audit: AuditEvent): Promise<void>;
  findSession(id: string): Promise<Session | null>;
  /**
   * Finds a session and its identity in one call: the hot path of every authenticated request.
   * `cached` says the answer came from a copy kept in this process, which may be older than the
   * record (another node's activity, an extension); `fresh` reads the record itself.
   */
  findSessionWithIdentity(id: string, options?: { fresh?: boolean }): Promise<{ session: Session; identity: Identity; cached?: boolean } | null>;
  listSessions(query: SessionQuery): Promise<Page<Session>>;
  countSessions(query: Omit<SessionQuery, "limit" | "cursor">): Promise<number>;
  /** Records activity. Implementations may coalesce writes (idle precision is documented). */
  touchSession(id: string, lastSeenAt: Date): Promise<void>;
  /**
   * The one write that ends sessions (the logout engine, core/logout.ts, is its only caller).
   * In one transaction, committed before it answers (INV-1): revokes the target's sessions that
   * are neither revoked nor past their expiry, writes one `session.ended` audit event for each
   * (core/audit.ts builds them from the record), drops them from any session cache before the
   * commit (INV-2), and, when the record says so, deletes the identity with an `identity.deleted`
   * event (D6; IDENTITY_NOT_FOUND when there is none, and nothing changes). In the same
   * transaction it revokes the ended sessions' codes and tokens (they die with their session) and
   * writes one pending back-channel delivery for each app of those sessions that has a
   * `backchannel_logout_uri` (the outbox, INV-4).
   */
  revokeSessions(record: RevocationRecord): Promise<RevocationResult>;
  /** Sets a new expiry on a live session only (D6); false when it is revoked, expired or unknown. */
  extendSession(id: string, expiresAt: Date, now: Date): Promise<boolean>;
  /**
   * Records a fresh sign-in on a live session (re-authentication): `authenticated_at` and
   * `last_seen_at` become `at`. False when the session is revoked, expired or unknown.
   */
  reauthenticateSession(id: string, at: Date): Promise<boolean>;
  /** Deletes rows of sessions that ended before `before`. Returns how many. */
  purgeSessions(before: Date): Promise<number>;

  insertFlow(flow: Flow): Promise<void>;
  findFlow(id: string): Promise<Flow | null>;
  /** Replaces a flow's view; false when the flow is unknown. */
  saveFlowView(id: string, view: unknown): Promise<boolean>;
  purgeFlows(before: Date): Promise<number>;

  insertError(error: StoredError): Promise<void>;
  findError(id: string): Promise<StoredError | null>;
  /** Deletes errors created before `before`. Returns how many. */
  purgeErrors(before: Date): Promise<number>;

  // ---- single sign-on: relying apps, codes, tokens, participants ----------------------------

  /**
   * Makes the configuration's apps (source "config") exactly `apps`: inserts and updates them,
   * deletes configuration apps no longer listed. Apps from the admin API are untouched; an admin
   * app of the same id is replaced by the configuration's (configuration wins).
   */
  syncConfigApps(apps: readonly RelyingApp[]): Promise<void>;
  findApp(clientId: string): Promise<RelyingApp | null>;
  listApps(): Promise<RelyingApp[]>;
  /** Adds an app of the admin API; false (nothing written) when its client_id is taken, by either source. */
  insertApp(app: RelyingApp): Promise<boolean>;
  /** Replaces an admin API app's metadata (its `createdAt` kept); false when there is no admin app of that id. */
  updateApp(app: RelyingApp): Promise<boolean>;
  /**
   * Deletes an admin API app and, in the same transaction, its held authorization requests, codes,
   * tokens and participants: nothing it was given outlives it. False when there is no admin app
   * of that id (a configuration app is removed from the configuration, not here).
   */
  deleteApp(clientId: string): Promise<boolean>;

  insertAuthorizationRequest(request: AuthorizationRequest): Promise<void>;
  /** Deletes and returns the request, once; null when unknown or already taken. */
  takeAuthorizationRequest(id: string): Promise<AuthorizationRequest | null>;
  /** The held request's app, without taking the request; null when unknown or taken. */
  findAuthorizationRequestClient(id: string): Promise<string | null>;

  /**
   * Stores a code and makes its app a participant of the session (Back-Channel Logout 1.0 §2.3),
   * in one transaction, committed before it answers: the app is on record before it holds a code.
   * Nothing is written when the session has been revoked meanwhile (false).
   */
  insertCode(code: AuthorizationCode, participant: Participant): Promise<boolean>;
  /**
   * Marks a code used, once. The first use gets the code back with `firstUse: true`; any later
   * use gets it with `firstUse: false` and, in the same transaction, revokes every token issued
   * for it (RFC 6749 §4.1.2). Null for an unknown code.
   */
  redeemCode(id: string, at: Date): Promise<{ code: AuthorizationCode; firstUse: boolean } | null>;
  /** Stores tokens, unless their session has been revoked meanwhile (false: nothing written). */
  insertTokens(tokens: readonly GrantToken[]): Promise<boolean>;
  findToken(id: string): Promise<GrantToken | null>;
  /**
   * Exchanges a refresh token (RFC 6749 §6, rotated): marks it used and stores its replacements,
   * in one transaction. When it had been used already, revokes its whole family instead
   * ("reused"); "gone" when it is unknown, revoked, or its session has ended.
   */
  rotateRefreshToken(id: string, at: Date, replacements: readonly GrantToken[]): Promise<"rotated" | "reused" | "gone">;
  /** Revokes every live token of a family (RFC 7009 §2.1: a refresh token takes its access tokens along). */
  revokeTokenFamily(familyId: string, at: Date): Promise<void>;
  listParticipants(sessionId: string): Promise<Participant[]>;
  /** The participant record of a `sid`, whichever app holds it. */
  findParticipantBySid(sid: string): Promise<Participant | null>;
  /** Deletes expired authorization requests, codes and tokens, and ended sessions' participants. Returns how many rows. */
  purgeGrants(before: Date): Promise<number>;

  /**
   * Claims up to `limit` pending deliveries due at `now` that no node holds, leasing them until
   * `leaseUntil`, so that several nodes on one database never send the same one at once. Rows of
   * the apps in `skip` are left for later (apps that already have their share of notices in flight).
   */
  claimDeliveries(now: Date, leaseUntil: Date, limit: number, skip: readonly string[]): Promise<BackchannelDelivery[]>;
  /** Makes a delivery pending and due at `at` again (an operator's retry); false when unknown or already delivered. */
  retryDelivery(id: string, at: Date): Promise<boolean>;
  /** Records an attempt's outcome and releases the lease. */
  recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void>;
  listDeliveries(query: { sessionId?: string; clientId?: string; status?: DeliveryStatus; limit: number }): Promise<BackchannelDelivery[]>;

  /** Newest first; `next` continues where this page ended. */
  listAuditEvents(query: AuditQuery): Promise<Page<AuditEvent>>;
  /** Audit events of sign-in attempts that created nothing else, written through the group commit. */
  insertAuditEvents(events: readonly AuditEvent[]): Promise<void>;
  /** Deletes audit events from before `before` (`audit.retention`); answers how many. */
  purgeAuditEvents(before: Date): Promise<number>;

  close(): Promise<void>;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  lastError: string | null;
  at: Date;
}

/**
 * Where back-channel logout tokens are POSTed (Back-Channel Logout 1.0 §2.5). The HTTP
 * implementation refuses addresses the configuration does not allow (SEC-47) and follows no
 * redirect; an answer is its status, anything else an error message.
 */
export interface BackchannelTransport {
  post(uri: string, logoutToken: string): Promise<{ status: number } | { error: string }>;
}

/** Password verifiers (argon2id), kept behind a port so the core stays free of native code. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/** Fixed windows of counts by key (the sign-in throttle's). */
export interface WindowCounters {
  /** Seconds until `key` may try again, or 0 when it may try now (its window is not full). */
  blockedFor(key: string): Promise<number>;
  /** Counts one for `key`, opening its window if none is open. */
  hit(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}
