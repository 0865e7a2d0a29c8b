/**
 * Sessions: begun by a sign-in at any door, checked on every request, extended and purged here;
 * ended only through the logout engine (core/logout.ts). "Revoke" makes a session unusable and
 * keeps its row with a reason; "purge" deletes rows; "logout" is the use case (house rule 3).
 */
import { randomUUID } from "node:crypto";
import { auditEvent } from "./audit.ts";
import { CoreError, asStoreFailure, sessionInactive } from "./errors.ts";
import { identifierKey, publicIdentity } from "./identities.ts";
import { nextCutoff } from "./daily-cutoff.ts";
import { CoreEvents, VALIDATION } from "./events.ts";
import { LoginThrottle, type WindowsFactory } from "./login-throttle.ts";
import { DOORS } from "./model.ts";
import type {
  AuthenticatedSession,
  Device,
  Door,
  Identity,
  IdentityRecord,
  Page,
  Session,
} from "./model.ts";
import type { Clock, PasswordHasher, SessionQuery, Store } from "./ports.ts";
import type { CoreSettings } from "./settings.ts";
import { mintSessionToken, parseSessionToken, passwordDigest, secretMatches } from "./tokens.ts";
import { newId } from "./ids.ts";

/** Unused for its door's idle timeout or longer at `now` (D5): over for its holder. */
export function pastIdleTimeout(policies: CoreSettings["sessions"], session: Pick<Session, "door" | "lastSeenAt">, now: Date): boolean {
  return now.getTime() - session.lastSeenAt.getTime() >= policies[session.door].idleTimeoutMs;
}

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

export interface AuthenticateOptions {
  /**
   * Record the request as activity (default). A request whose next step ends the session (a
   * logout) skips it: the logout is then its one durable write.
   */
  recordActivity?: boolean;
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
    windows: WindowsFactory,
    private readonly events: CoreEvents = new CoreEvents(),
  ) {
    this.#throttle = new LoginThrottle(settings.throttle, windows);
  }

  /**
   * Signs in with an identifier (email or username, D9) and a password proof. Unknown
   * identifiers and wrong passwords are indistinguishable in outcome and timing class (D14,
   * SEC-62): both run one argon2id verification. Throttled before hashing (SEC-60, SEC-61).
   */
  async signIn(identifier: string, proof: PasswordProof, origin: RequestOrigin): Promise<SignedIn> {
    return this.begin(await this.#verify(identifier, proof, origin), origin);
  }

  /**
   * Re-authentication of a signed-in person (Kratos `refresh=true`; OpenID Connect `prompt=login`
   * and `max_age`): the same checks and throttle as a sign-in; when the credentials are the
   * session's own identity's, the same session records a fresh `authenticated_at` and is
   * returned. Null when they prove another identity: that is not a re-authentication, and the
   * session is left as it was.
   */
  async reauthenticate(current: AuthenticatedSession, identifier: string, proof: PasswordProof, origin: RequestOrigin): Promise<AuthenticatedSession | null> {
    const identity = await this.#verify(identifier, proof, origin);
    if (identity.id !== current.identity.id) return null;
    const now = this.clock.now();
    const renewed = await this.store.reauthenticateSession(current.session.id, now).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!renewed) throw sessionInactive();
    return { session: { ...current.session, authenticatedAt: now, lastSeenAt: now }, identity };
  }

  /** The identity an identifier and password proof name, or CREDENTIALS_INVALID / RATE_LIMITED. */
  async #verify(identifier: string, proof: PasswordProof, origin: RequestOrigin): Promise<Identity> {
    const { door } = origin;
    const key = identifierKey(identifier);
    await this.#throttled(door, null, () => this.#throttle.admit(key, origin.ipAddress));
    const record = await this.store.findIdentityByIdentifier(key).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    const identityId = record?.id ?? null;
    // SEC-60: failures count against the account, whichever of its identifiers was typed;
    // unknown identifiers count against themselves.
    const account = record ? `identity:${record.id}` : key;
    if (record) await this.#throttled(door, identityId, () => this.#throttle.check(account));
    const verifier = record ? (proof.kind === "password" ? record.passwordHash : record.digestHash) : null;
    const secret = proof.kind === "password" ? proof.password : proof.digest.toLowerCase();
    const ok = verifier ? await this.hasher.verify(verifier, secret) : await this.#burnVerification(secret);
    if (!record || !ok || record.state !== "active") {
      const lockedFor = await this.#throttle.failed(account);
      // The trail keeps the attempt and its client, never what was typed (docs/adr/0025-audit-trail.md).
      // Written before the answer, as every write: the no is the same either way, and an attacker's
      // flood of attempts is bounded by the throttle, which refuses before this.
      const now = this.clock.now();
      const fields = { identityId, door, actor: "self", ipAddress: origin.ipAddress, userAgent: origin.userAgent };
      const trail = [auditEvent("signin.failed", now, fields)];
      if (lockedFor > 0) trail.push(auditEvent("signin.locked", now, fields));
      await this.store.insertAuditEvents(trail).catch((e: unknown) => {
        throw asStoreFailure(e);
      });
      this.events.emit({ type: "signin", door, outcome: "bad_credentials", identityId });
      if (lockedFor > 0) this.events.emit({ type: "lockout", door, identityId, retryAfterSeconds: lockedFor });
      throw new CoreError("CREDENTIALS_INVALID", "The provided credentials are invalid.");
    }
    await this.#throttle.succeeded(account);
    if (proof.kind === "password" && record.digestHash === null) await this.#addDigestVerifier(record, proof.password);
    this.events.emit({ type: "signin", door, outcome: "ok", identityId });
    return publicIdentity(record);
  }

  /** Runs a throttle check, telling the observers of a refusal (RATE_LIMITED) before it goes on. */
  async #throttled(door: Door, identityId: string | null, check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (error) {
      if (error instanceof CoreError && error.code === "RATE_LIMITED") this.events.emit({ type: "signin", door, outcome: "throttled", identityId });
      throw error;
    }
  }

  /**
   * Counts an attempt from `ip` against the per-IP limit without naming an identifier:
   * registration hashes a password twice, so it is throttled like a sign-in (SEC-61).
   */
  admitAttempt(ip: string | null): Promise<void> {
    return this.#throttle.admit("", ip);
  }

  /** Starts a new session for an identity that has just proved who it is. Always a new token (SEC-12). */
  async begin(identity: Identity, origin: RequestOrigin): Promise<SignedIn> {
    const now = this.clock.now();
    const id = newId();
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
  async authenticate(token: string | null | undefined, options: AuthenticateOptions = {}): Promise<AuthenticatedSession> {
    if (!token) throw new CoreError("SESSION_MISSING", "No session credentials were found in the request.");
    const parsed = parseSessionToken(token);
    if (!parsed) throw sessionInactive();
    const now = this.clock.now();
    const found = await this.findLiveById(parsed.sessionId, (f) => secretMatches(parsed.secret, f.session.secretHash), now);
    if (!found) throw sessionInactive();
    if (options.recordActivity !== false) await this.recordActivity(found, now);
    return found;
  }

  /**
   * The session and its identity when `check` passes (the secret, say), the session is live at
   * `now` and its identity active; else null. A cached copy may only say yes faster: its activity
   * or expiry can be older than the record (another node served or extended the session,
   * ADR 0021), so every no it gives is the record's to confirm. A store failure throws (INV-3).
   */
  async findLiveById(sessionId: string, check: (found: AuthenticatedSession) => boolean = () => true, now: Date = this.clock.now()): Promise<AuthenticatedSession | null> {
    const find = (fresh: boolean) =>
      this.store.findSessionWithIdentity(sessionId, fresh ? { fresh } : undefined).catch((e: unknown) => {
        throw asStoreFailure(e);
      });
    let found = await find(false);
    const hit = found?.cached === true;
    // What a copy cannot get wrong is checked first: a wrong secret costs no second read.
    if (!found || !check(found)) {
      this.events.emit(hit ? VALIDATION.refusedHit : VALIDATION.refusedMiss);
      return null;
    }
    const accepted = (f: AuthenticatedSession) => this.isLive(f.session, now) && f.identity.state === "active";
    if (!accepted(found) && found.cached) found = await find(true);
    const live = found && check(found) && accepted(found) ? found : null;
    this.events.emit(live ? (hit ? VALIDATION.okHit : VALIDATION.okMiss) : hit ? VALIDATION.refusedHit : VALIDATION.refusedMiss);
    return live;
  }

  /**
   * Counts a request as use of its session (D5), for a caller that looked it up with
   * `recordActivity: false` and then did not end it: a refused logout is still a request of the
   * session's holder, as any other.
   */
  async recordActivity(found: AuthenticatedSession, now: Date = this.clock.now()): Promise<void> {
    // At most once a minute, and at least twice per idle timeout, so a short timeout (under two
    // minutes) still sees the activity that keeps a session alive.
    const granularity = Math.min(LAST_SEEN_GRANULARITY_MS, this.settings.sessions[found.session.door].idleTimeoutMs / 2);
    if (now.getTime() - found.session.lastSeenAt.getTime() >= granularity) {
      await this.store.touchSession(found.session.id, now).catch((e: unknown) => {
        throw asStoreFailure(e);
      });
    }
  }

  /**
   * Runs the checks of a logout on a session looked up with `recordActivity: false`, and hands
   * back what they return. A refusal (a throw) ends nothing, so the request counts as use of the
   * session like any other (D5) before the refusal goes on.
   */
  async checkBeforeEnding<T>(found: AuthenticatedSession, checks: () => T): Promise<T> {
    try {
      return checks();
    } catch (error) {
      await this.recordActivity(found);
      throw error;
    }
  }

  /**
   * authenticate() for callers that treat "no live session" as an answer, not an error: null for
   * a missing, malformed, unknown or ended token; a store failure still throws (INV-3).
   */
  async findLive(token: string | null | undefined, options: AuthenticateOptions = {}): Promise<AuthenticatedSession | null> {
    try {
      return await this.authenticate(token, options);
    } catch (error) {
      if (error instanceof CoreError && (error.code === "SESSION_INACTIVE" || error.code === "SESSION_MISSING")) return null;
      throw error;
    }
  }

  /**
   * The session id a token of our shape names, without looking it up or checking its secret: for
   * a door that must tell whether two carriers name the same session. Null for anything else.
   */
  sessionIdOf(token: string): string | null {
    return parseSessionToken(token)?.sessionId ?? null;
  }

  /** Live: not revoked, before its absolute expiry, and used within its idle timeout (D5). */
  isLive(session: Session, now: Date = this.clock.now()): boolean {
    return session.revokedAt === null && now.getTime() < session.expiresAt.getTime() && !pastIdleTimeout(this.settings.sessions, session, now);
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
    await this.store.setDigestHash(record.id, digestHash, record.passwordHash!).catch((e: unknown) => {
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
