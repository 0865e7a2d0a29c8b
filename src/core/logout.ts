/**
 * The logout engine: the one way a session ends (house rule 3: logout is the use case, revoke its
 * write). Every door, the admin API, the CLI and identity deletion call `logout`; nothing else
 * ends a session, so whatever must happen when one ends (the audit trail now, the back-channel
 * outbox of INV-4 next) happens for all of them.
 *
 * One call is one durable write (`Store.revokeSessions`, in the group commit): it answers only
 * after the commit that holds the revocation and its audit rows (INV-1), and a store that cannot
 * confirm is STORE_UNAVAILABLE, never an outcome (INV-3). Only then do the `afterCommit` listeners
 * run: the place where a revocation is told to the rest of the world. The store has already
 * dropped the ended sessions from its cache inside the transaction, so there is no instant
 * between the commit and the eviction at which this node could still accept them (INV-2).
 */
import { asStoreFailure, sessionInactive } from "./errors.ts";
import { DOORS } from "./model.ts";
import type { Actor, Door, RevocationReason, RevocationRecord, RevocationTarget, RevokedSession, Session } from "./model.ts";
import type { Clock, Store } from "./ports.ts";
import { pastIdleTimeout } from "./sessions.ts";
import type { CoreSettings } from "./settings.ts";
import { parseSessionToken, secretMatches } from "./tokens.ts";

/** Which sessions a logout ends. */
export type LogoutTarget =
  /**
   * One session, named by id: the caller's own once it has authenticated, or an admin's or the
   * CLI's choice. With `ownerId`, only if it belongs to that identity (a user ending one of their
   * own sessions names nobody else's).
   */
  | { kind: "session"; sessionId: string; ownerId?: string }
  /**
   * The one session a session token proves (Kratos native logout, Firstock logout), verified here
   * in constant time. An unknown, malformed or wrong token, or one of another identity than
   * `ownerId`, is SESSION_INACTIVE and ends nothing (SEC-51).
   */
  | { kind: "token"; token: string; ownerId?: string }
  /** Every other session of the identity that holds `of` (Kratos `disableMyOtherSessions`). */
  | { kind: "others"; of: Pick<Session, "id" | "identityId"> }
  /**
   * Every session of an identity. With `deleteIdentity`, the identity is deleted in the same
   * transaction, after its sessions (D6), and an unknown identity is IDENTITY_NOT_FOUND.
   */
  | { kind: "identity"; identityId: string; deleteIdentity?: boolean }
  /**
   * The expiry sweep: sessions that ended by time (absolute expiry or idle timeout) and took part
   * in single sign-on, recorded as ended so that their apps are told (INV-4). Ended already for
   * their holders; revoking them changes nothing else.
   */
  | { kind: "expired"; limit: number };

/** A session this logout ended. */
export interface EndedSession {
  id: string;
  identityId: string;
  /** The door it was begun through (D7). */
  door: Door;
  /**
   * Whether its holder could still use it until now. False for a session already past its idle
   * timeout: over for its holder, but still revoked now, so that a longer timeout configured
   * later can never bring it back (INV-2; docs/adr/0002-revoke-and-purge.md).
   */
  wasInUse: boolean;
}

/** Exactly what a logout ended; sessions that had already been revoked or expired are not in it. */
export interface LogoutOutcome {
  ended: readonly EndedSession[];
}

/** Told, after the commit, what a logout ended and why. Must not throw; it cannot undo the logout. */
export type AfterCommit = (outcome: LogoutOutcome, reason: RevocationReason, by: Actor, backchannelQueued: number) => void;

const NOTHING: LogoutOutcome = { ended: [] };

export class LogoutEngine {
  readonly #afterCommit: AfterCommit[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly sessions: CoreSettings["sessions"],
  ) {}

  /** Adds a listener for every committed logout (propagation to other nodes and relying apps). */
  afterCommit(listener: AfterCommit): void {
    this.#afterCommit.push(listener);
  }

  async logout(target: LogoutTarget, reason: RevocationReason, by: Actor): Promise<LogoutOutcome> {
    const at = this.clock.now();
    const resolved = await this.#resolve(target, at);
    if (resolved === null) return NOTHING;
    const record: RevocationRecord = {
      target: resolved,
      reason,
      at,
      by,
      deleteIdentity: target.kind === "identity" && target.deleteIdentity === true,
    };
    const { revoked, queued } = await this.store.revokeSessions(record).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    // Swept sessions had ended by time already: none was still in use.
    const outcome: LogoutOutcome = {
      ended: revoked.map((s) => (target.kind === "expired" ? { ...this.#ended(s, at), wasInUse: false } : this.#ended(s, at))),
    };
    for (const listener of this.#afterCommit) listener(outcome, reason, by, queued);
    return outcome;
  }

  /** The store's target; null when a proven session has already ended and there is nothing to write. */
  async #resolve(target: LogoutTarget, at: Date): Promise<RevocationTarget | null> {
    switch (target.kind) {
      case "session":
        return { kind: "session", sessionId: target.sessionId, ...(target.ownerId !== undefined ? { identityId: target.ownerId } : {}) };
      case "others":
        return { kind: "identity", identityId: target.of.identityId, exceptSessionId: target.of.id };
      case "identity":
        return { kind: "identity", identityId: target.identityId };
      case "expired": {
        const idleBefore = Object.fromEntries(
          DOORS.map((door) => [door, new Date(at.getTime() - this.sessions[door].idleTimeoutMs)]),
        ) as Record<Door, Date>;
        return { kind: "expired", idleBefore, limit: target.limit };
      }
      case "token": {
        const parsed = parseSessionToken(target.token);
        if (!parsed) throw sessionInactive();
        const found = await this.store.findSession(parsed.sessionId).catch((e: unknown) => {
          throw asStoreFailure(e);
        });
        if (!found || !secretMatches(parsed.secret, found.secretHash)) throw sessionInactive();
        if (target.ownerId !== undefined && found.identityId !== target.ownerId) throw sessionInactive();
        // Already revoked, or past its absolute expiry: it has ended for good, and a write would
        // change nothing. An idle one is still revoked (EndedSession.wasInUse).
        if (found.revokedAt !== null || at.getTime() >= found.expiresAt.getTime()) return null;
        return { kind: "session", sessionId: found.id };
      }
    }
  }

  #ended(s: RevokedSession, at: Date): EndedSession {
    return { id: s.id, identityId: s.identityId, door: s.door, wasInUse: !pastIdleTimeout(this.sessions, s, at) };
  }
}
