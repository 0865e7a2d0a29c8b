/**
 * The interfaces the core needs from the outside world. Storage implements Store;
 * the composition root supplies the rest. Verbs are domain verbs (house rule 3).
 */
import type {
  AuditEvent,
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
}

export interface Store {
  /** Answers when the store can serve requests; throws otherwise. */
  ping(): Promise<void>;

  /** Inserts an identity; throws CoreError IDENTIFIER_TAKEN when email or username is in use. */
  insertIdentity(identity: IdentityRecord, audit: AuditEvent): Promise<void>;
  findIdentity(id: string): Promise<IdentityRecord | null>;
  /** Case-insensitive match on email or username (D9). */
  findIdentityByIdentifier(identifier: string): Promise<IdentityRecord | null>;
  listIdentities(query: IdentityQuery): Promise<Page<IdentityRecord>>;
  setDigestHash(identityId: string, digestHash: string): Promise<void>;

  insertSession(session: Session, audit: AuditEvent): Promise<void>;
  findSession(id: string): Promise<Session | null>;
  /** Finds a session and its identity in one call: the hot path of every authenticated request. */
  findSessionWithIdentity(id: string): Promise<{ session: Session; identity: Identity } | null>;
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
   * event (D6; IDENTITY_NOT_FOUND when there is none, and nothing changes). The outbox rows of
   * back-channel logout (INV-4) belong in the same transaction.
   */
  revokeSessions(record: RevocationRecord): Promise<RevocationResult>;
  /** Sets a new expiry on a live session only (D6); false when it is revoked, expired or unknown. */
  extendSession(id: string, expiresAt: Date, now: Date): Promise<boolean>;
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

  listAuditEvents(query: { identityId?: string; sessionId?: string; limit: number }): Promise<AuditEvent[]>;

  close(): Promise<void>;
}

/** Password verifiers (argon2id), kept behind a port so the core stays free of native code. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}
