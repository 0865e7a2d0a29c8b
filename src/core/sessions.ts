/**
 * Sessions: begun by a sign-in at any door, checked on every request, ended through any door.
 * "Revoke" makes a session unusable and keeps its row with a reason; "purge" deletes rows;
 * "logout" is the user-facing use case built on revoke (house rule 3).
 */
import { randomUUID } from "node:crypto";
import { auditEvent } from "./audit.ts";
import { CoreError, asStoreFailure } from "./errors.ts";
import { identifierKey, publicIdentity } from "./identities.ts";
import { nextCutoff } from "./daily-cutoff.ts";
import { LoginThrottle } from "./login-throttle.ts";
import { DOORS } from "./model.ts";
import type {
  AuthenticatedSession,
  Device,
  Door,
  Identity,
  IdentityRecord,
  Page,
  RevocationReason,
  RevocationTarget,
  Session,
} from "./model.ts";
import type { Clock, PasswordHasher, SessionQuery, Store } from "./ports.ts";
import type { CoreSettings } from "./settings.ts";
import { constantTimeEqual, deriveLogoutToken, mintSessionToken, parseSessionToken, passwordDigest, secretMatches } from "./tokens.ts";

/** Where a request came from, as far as the core cares. */
export interface RequestOrigin {
  door: Door;
  ipAddress: string | null;
  userAgent: string | null;
}

/** A proof of knowledge of the password: the password itself, or its hex SHA-256 (Firstock, D11). */
export type PasswordProof = { kind: "password"; password: string } | { kind: "digest"; digest: string };

export interface SignedIn extends AuthenticatedSession {
  /** The session token `id.secret` (D1). Returned once; only its hash is kept. */
  token: string;
}

/** Who is ending a session, for the audit trail. */
export interface Actor {
  actor: string;
  /** The door the request came through; null outside the doors (admin API, CLI). */
  door: Door | null;
}

/**
 * A last-seen write at most this often per session: idle timeouts are precise to this much,
 * and a validation costs no write most of the time (docs/adr/0004-session-activity.md).
 */
export const LAST_SEEN_GRANULARITY_MS = 60_000;

export class Sessions {
  readonly #throttle: LoginThrottle;
  #dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly settings: CoreSettings,
  ) {
    this.#throttle = new LoginThrottle(settings.throttle, clock);
  }

  /**
   * Signs in with an identifier (email or username, D9) and a password proof. Unknown
   * identifiers and wrong passwords are indistinguishable in outcome and timing class (D14,
   * SEC-62): both run one argon2id verification. Throttled before hashing (SEC-60, SEC-61).
   */
  async signIn(identifier: string, proof: PasswordProof, origin: RequestOrigin): Promise<SignedIn> {
    const key = identifierKey(identifier);
    this.#throttle.admit(key, origin.ipAddress);
    const record = await this.store.findIdentityByIdentifier(key).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    // SEC-60: failures count against the account, whichever of its identifiers was typed;
    // unknown identifiers count against themselves.
    const account = record ? `identity:${record.id}` : key;
    if (record) this.#throttle.check(account);
    const verifier = record ? (proof.kind === "password" ? record.passwordHash : record.digestHash) : null;
    const secret = proof.kind === "password" ? proof.password : proof.digest.toLowerCase();
    const ok = verifier ? await this.hasher.verify(verifier, secret) : await this.#burnVerification(secret);
    if (!record || !ok || record.state !== "active") {
      this.#throttle.failed(account);
      throw new CoreError("CREDENTIALS_INVALID", "The provided credentials are invalid.");
    }
    this.#throttle.succeeded(account);
    if (proof.kind === "password" && record.digestHash === null) await this.#addDigestVerifier(record, proof.password);
    return this.begin(publicIdentity(record), origin);
  }

  /**
   * Counts an attempt from `ip` against the per-IP limit without naming an identifier:
   * registration hashes a password twice, so it is throttled like a sign-in (SEC-61).
   */
  admitAttempt(ip: string | null): void {
    this.#throttle.admit("", ip);
  }

  /** Starts a new session for an identity that has just proved who it is. Always a new token (SEC-12). */
  async begin(identity: Identity, origin: RequestOrigin): Promise<SignedIn> {
    const now = this.clock.now();
    const id = randomUUID();
    const { token, secretHash } = mintSessionToken(id);
    const device: Device = { ipAddress: origin.ipAddress, userAgent: origin.userAgent };
    const session: Session = {
      id,
      identityId: identity.id,
      door: origin.door,
      secretHash,
      issuedAt: now,
      authenticatedAt: now,
      expiresAt: this.#expiryFrom(now, origin.door),
      lastSeenAt: now,
      revokedAt: null,
      revokedReason: null,
      device,
    };
    const audit = auditEvent("session.begun", now, {
      identityId: identity.id,
      sessionId: id,
      door: origin.door,
      actor: origin.door,
    });
    await this.store.insertSession(session, audit).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return { token, session, identity };
  }

  /**
   * The check behind every authenticated request. Anything but a live session of an active
   * identity is SESSION_INACTIVE; a store that cannot answer is STORE_UNAVAILABLE, never a
   * pass (INV-3).
   */
  async authenticate(token: string | null | undefined): Promise<AuthenticatedSession> {
    if (!token) throw new CoreError("SESSION_MISSING", "No session credentials were found in the request.");
    const parsed = parseSessionToken(token);
    if (!parsed) throw inactive();
    const found = await this.store.findSessionWithIdentity(parsed.sessionId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!found || !secretMatches(parsed.secret, found.session.secretHash)) throw inactive();
    const now = this.clock.now();
    if (!this.isLive(found.session, now) || found.identity.state !== "active") throw inactive();
    // At most once a minute, and at least twice per idle timeout, so a short timeout (under two
    // minutes) still sees the activity that keeps a session alive.
    const granularity = Math.min(LAST_SEEN_GRANULARITY_MS, this.settings.sessions[found.session.door].idleTimeoutMs / 2);
    if (now.getTime() - found.session.lastSeenAt.getTime() >= granularity) {
      await this.store.touchSession(found.session.id, now).catch((e: unknown) => {
        throw asStoreFailure(e);
      });
    }
    return found;
  }

  /**
   * authenticate() for callers that treat "no live session" as an answer, not an error: null for
   * a missing, malformed, unknown or ended token; a store failure still throws (INV-3).
   */
  async findLive(token: string | null | undefined): Promise<AuthenticatedSession | null> {
    try {
      return await this.authenticate(token);
    } catch (error) {
      if (error instanceof CoreError && (error.code === "SESSION_INACTIVE" || error.code === "SESSION_MISSING")) return null;
      throw error;
    }
  }

  /** Live: not revoked, before its absolute expiry, and used within its idle timeout (D5). */
  isLive(session: Session, now: Date = this.clock.now()): boolean {
    const t = now.getTime();
    return (
      session.revokedAt === null &&
      t < session.expiresAt.getTime() &&
      t - session.lastSeenAt.getTime() < this.settings.sessions[session.door].idleTimeoutMs
    );
  }

  async get(id: string): Promise<Session> {
    const session = await this.store.findSession(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!session) throw new CoreError("SESSION_NOT_FOUND", "Unable to locate the resource");
    return session;
  }

  async list(query: Omit<SessionQuery, "now" | "idleBefore">): Promise<Page<Session>> {
    return this.store.listSessions(this.#withNow(query)).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  async count(query: Omit<SessionQuery, "now" | "idleBefore" | "limit" | "cursor">): Promise<number> {
    return this.store.countSessions(this.#withNow(query)).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /** A query as of now, with each door's idle cut-off, so "active" means what isLive means. */
  #withNow<Q extends object>(query: Q): Q & { now: Date; idleBefore: Record<Door, Date> } {
    const now = this.clock.now();
    const idleBefore = Object.fromEntries(
      DOORS.map((door) => [door, new Date(now.getTime() - this.settings.sessions[door].idleTimeoutMs)]),
    ) as Record<Door, Date>;
    return { ...query, now, idleBefore };
  }

  /**
   * Revokes sessions durably and answers only after the commit (INV-1). Returns the ids this
   * call ended; sessions already ended are left untouched and not counted.
   */
  async revoke(target: RevocationTarget, reason: RevocationReason, by: Actor): Promise<string[]> {
    const now = this.clock.now();
    const result = await this.store
      .revokeSessions(target, reason, now, (sessionId, identityId) =>
        // The door the end came through, not the one the session began at (that is on its
        // session.begun): null for the admin API and the CLI, as for an identity's deletion.
        auditEvent("session.ended", now, { identityId, sessionId, door: by.door, reason, actor: by.actor }),
      )
      .catch((e: unknown) => {
        throw asStoreFailure(e);
      });
    return result.revokedIds;
  }

  /** Logout of the session that made the request. */
  async logout(current: AuthenticatedSession, by: Actor): Promise<void> {
    await this.revoke({ kind: "session", sessionId: current.session.id }, "logout", by);
  }

  /**
   * Logout by presenting the session token itself (Kratos `performNativeLogout`, Firstock
   * logout). Ends a live session; an unknown or malformed token is SESSION_INACTIVE. A
   * session that had already ended answers `false` (one ended only by idleness is revoked now,
   * durably), so each door can say what its vendor says for a repeat.
   */
  async logoutWithToken(token: string, by: Actor, expectIdentityId?: string): Promise<boolean> {
    const parsed = parseSessionToken(token);
    if (!parsed) throw inactive();
    const found = await this.store.findSession(parsed.sessionId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!found || !secretMatches(parsed.secret, found.secretHash)) throw inactive();
    if (expectIdentityId !== undefined && found.identityId !== expectIdentityId) throw inactive();
    const now = this.clock.now();
    const live = this.isLive(found, now);
    // Revoked even when idle past its timeout: idleness is computed from the clock and the
    // configured timeout, and a longer timeout after a restart would revive a session its owner
    // was told had ended (INV-1, INV-2). Already revoked or past its absolute expiry: no write.
    const revocable = found.revokedAt === null && now.getTime() < found.expiresAt.getTime();
    const ended = revocable ? await this.revoke({ kind: "session", sessionId: found.id }, "logout", by) : [];
    // Idle, it had already ended (isLive) before this logout: the door answers as for a repeat.
    return live && ended.length > 0;
  }

  /** A user ends one of their own other sessions (Kratos `disableMySession`). */
  async revokeOwn(current: AuthenticatedSession, sessionId: string, by: Actor): Promise<void> {
    if (sessionId === current.session.id) {
      throw new CoreError("CANNOT_REVOKE_CURRENT_SESSION", "cannot revoke current session");
    }
    await this.revoke({ kind: "session", sessionId, identityId: current.identity.id }, "revoked_by_user", by);
  }

  /** A user ends all their sessions but the current one (Kratos `disableMyOtherSessions`). */
  async revokeOthers(current: AuthenticatedSession, by: Actor): Promise<number> {
    const ended = await this.revoke(
      { kind: "identity", identityId: current.identity.id, exceptSessionId: current.session.id },
      "revoked_by_user",
      by,
    );
    return ended.length;
  }

  /** Extends a live session from now by its door's lifespan (D6: never revives an ended one). */
  async extend(id: string): Promise<Session> {
    const now = this.clock.now();
    const session = await this.get(id);
    if (!this.isLive(session, now)) throw new CoreError("SESSION_NOT_FOUND", "Unable to locate the resource");
    const expiresAt = this.#expiryFrom(now, session.door);
    const extended = await this.store.extendSession(id, expiresAt, now).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!extended) throw new CoreError("SESSION_NOT_FOUND", "Unable to locate the resource");
    return { ...session, expiresAt, lastSeenAt: now };
  }

  /** Absolute expiry of a session begun (or extended) now: its lifespan, cut at the daily cut-off if any (D5). */
  #expiryFrom(now: Date, door: Door): Date {
    const policy = this.settings.sessions[door];
    const end = now.getTime() + policy.lifespanMs;
    return new Date(policy.dailyCutoff ? Math.min(end, nextCutoff(now, policy.dailyCutoff).getTime()) : end);
  }

  /** D4: the Kratos logout token of a session. */
  logoutToken(sessionId: string): string {
    return deriveLogoutToken(this.settings.secret, sessionId);
  }

  /**
   * Checks a presented logout token against the session it must belong to (D4), in constant
   * time: LOGOUT_TOKEN_MISSING or LOGOUT_TOKEN_MISMATCH (a token of another session, or none).
   * The caller then validates where to go next and only then revokes (research/kratos.md §2.5).
   */
  assertLogoutToken(current: AuthenticatedSession, presented: string | undefined): void {
    if (!presented) throw new CoreError("LOGOUT_TOKEN_MISSING", "Please include a token in the URL query.");
    if (!constantTimeEqual(presented, this.logoutToken(current.session.id))) {
      throw new CoreError("LOGOUT_TOKEN_MISMATCH", "The logout token does not belong to this session.");
    }
  }

  /** Deletes the rows of sessions that ended more than `purgeAfterMs` ago. */
  async purge(): Promise<number> {
    const before = new Date(this.clock.now().getTime() - this.settings.purgeAfterMs);
    return this.store.purgeSessions(before).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  async #addDigestVerifier(record: IdentityRecord, password: string): Promise<void> {
    // D11: an identity created before it had a digest verifier gains one at its next sign-in.
    const digestHash = await this.hasher.hash(passwordDigest(password));
    await this.store.setDigestHash(record.id, digestHash).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /** One verification against a fixed hash, so unknown identifiers cost what known ones do. */
  async #burnVerification(secret: string): Promise<false> {
    this.#dummyHash ??= this.hasher.hash(randomUUID());
    await this.hasher.verify(await this.#dummyHash, secret);
    return false;
  }
}

function inactive(): CoreError {
  return new CoreError("SESSION_INACTIVE", "No active session was found in this request.");
}
