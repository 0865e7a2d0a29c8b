/**
 * What single sign-on hands relying apps, all bound to the browser's Curfew session: pending
 * authorization requests, authorization codes (RFC 6749 §4.1, PKCE RFC 7636), access and
 * refresh tokens (RFC 6749 §1.4, §1.5), and the record of which apps took part in a session
 * (Back-Channel Logout 1.0 §2.3). Every code and token is `id.secret` with only the secret's
 * hash kept (D1), and dies with its session: the logout engine's one write revokes them
 * (docs/adr/0019-single-sign-on-provider.md).
 */
import { createHash } from "node:crypto";
import { asStoreFailure } from "./errors.ts";
import type { AuthenticatedSession, AuthorizationRequest, GrantToken, Participant, RelyingApp } from "./model.ts";
import type { Clock, Store } from "./ports.ts";
import type { Proofs } from "./proofs.ts";
import type { Sessions } from "./sessions.ts";
import { constantTimeEqual, mintSessionToken, parseSessionToken, secretMatches } from "./tokens.ts";
import { newId } from "./ids.ts";

/** RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED"; ours is one. */
export const CODE_LIFESPAN_MS = 60_000;
/** Access tokens live an hour (Auth0's default), never past their session. */
export const ACCESS_TOKEN_LIFESPAN_MS = 3_600_000;

/** The scopes this provider grants; others are dropped from what is granted (RFC 6749 §3.3). */
export const SUPPORTED_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export interface CodeRequest {
  redirectUri: string;
  scope: string;
  nonce: string | null;
  codeChallenge: string | null;
}

/** Tokens just issued, with the session and identity they speak for. */
export interface Issued {
  auth: AuthenticatedSession;
  clientId: string;
  scope: string;
  nonce: string | null;
  accessToken: string;
  accessExpiresAt: Date;
  /** Only with `offline_access` (OpenID Connect Core 1.0 §11). */
  refreshToken: string | null;
}

export type RefreshOutcome = Issued | { refused: "invalid_grant" | "invalid_scope" };

export class Grants {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly sessions: Sessions,
    private readonly proofs: Proofs,
    /** How long an authorization request waits for its sign-in: a login flow's lifespan. */
    private readonly requestLifespanMs: number,
  ) {}

  /** The session's `sid` (OpenID Connect Front-Channel Logout 1.0 §3): one per session, D4's construction. */
  sidOf(sessionId: string): string {
    return this.proofs.mint("sid", sessionId);
  }

  /** Keeps an authorization request while its browser signs in. */
  async holdRequest(clientId: string, params: unknown): Promise<AuthorizationRequest> {
    const now = this.clock.now();
    const request: AuthorizationRequest = {
      id: newId(),
      clientId,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.requestLifespanMs),
      params,
    };
    await this.store.insertAuthorizationRequest(request).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return request;
  }

  /** The app a held request is for, the request left held; null when unknown or taken. */
  async appOfRequest(id: string): Promise<string | null> {
    return this.store.findAuthorizationRequestClient(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /** The held request, once; null when unknown, already taken, or expired. */
  async takeRequest(id: string): Promise<AuthorizationRequest | null> {
    const request = await this.store.takeAuthorizationRequest(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return request && request.expiresAt.getTime() > this.clock.now().getTime() ? request : null;
  }

  /**
   * A code for `app` under the live session `auth`. The app becomes a participant of the
   * session in the same commit, before the code exists for anyone (INV-4). Null when the
   * session was revoked meanwhile.
   */
  async issueCode(app: RelyingApp, auth: AuthenticatedSession, request: CodeRequest): Promise<string | null> {
    const now = this.clock.now();
    const id = newId();
    const { token, secretHash } = mintSessionToken(id);
    const participant: Participant = { sessionId: auth.session.id, clientId: app.clientId, sid: this.sidOf(auth.session.id), joinedAt: now };
    const stored = await this.store
      .insertCode(
        {
          id,
          secretHash,
          clientId: app.clientId,
          sessionId: auth.session.id,
          identityId: auth.identity.id,
          redirectUri: request.redirectUri,
          scope: request.scope,
          nonce: request.nonce,
          codeChallenge: request.codeChallenge,
          issuedAt: now,
          expiresAt: new Date(Math.min(now.getTime() + CODE_LIFESPAN_MS, auth.session.expiresAt.getTime())),
          usedAt: null,
        },
        participant,
      )
      .catch((e: unknown) => {
        throw asStoreFailure(e);
      });
    return stored ? token : null;
  }

  /**
   * Exchanges a code (RFC 6749 §4.1.3): for the app it was issued to, with the same
   * `redirect_uri`, the PKCE verifier of its challenge, once, within a minute, while its session
   * is live. Null for anything else (`invalid_grant`); a second use also revokes the tokens of
   * the first (RFC 6749 §4.1.2).
   */
  async exchangeCode(app: RelyingApp, code: string, redirectUri: string | null, codeVerifier: string | null): Promise<Issued | null> {
    const parsed = parseSessionToken(code);
    if (!parsed) return null;
    const now = this.clock.now();
    const redeemed = await this.store.redeemCode(parsed.sessionId, now).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!redeemed || !secretMatches(parsed.secret, redeemed.code.secretHash) || !redeemed.firstUse) return null;
    const c = redeemed.code;
    if (c.clientId !== app.clientId || c.expiresAt.getTime() <= now.getTime()) return null;
    // RFC 6749 §4.1.3: the same redirect_uri as the authorization request, exactly.
    if (redirectUri === null || redirectUri !== c.redirectUri) return null;
    if (!pkceMatches(c.codeChallenge, codeVerifier)) return null;
    const auth = await this.#liveSession(c.sessionId);
    if (!auth) return null;
    const familyId = newId();
    return this.#issue(app, auth, c.scope, c.nonce, { codeId: c.id, familyId }, now);
  }

  /**
   * A refresh (RFC 6749 §6), rotated: the old refresh token is spent, a new one comes with the
   * new access token. A spent token presented again revokes its whole family (RFC 9700 §4.14.2).
   * A refresh is use of the session (D5).
   */
  async refresh(app: RelyingApp, token: string, requestedScope: string | null): Promise<RefreshOutcome> {
    const parsed = parseSessionToken(token);
    if (!parsed) return { refused: "invalid_grant" };
    const found = await this.store.findToken(parsed.sessionId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    const now = this.clock.now();
    if (!found || found.kind !== "refresh" || !secretMatches(parsed.secret, found.secretHash) || found.clientId !== app.clientId) {
      return { refused: "invalid_grant" };
    }
    if (found.revokedAt !== null || found.expiresAt.getTime() <= now.getTime()) return { refused: "invalid_grant" };
    let scope = found.scope;
    if (requestedScope !== null) {
      // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
      const granted = new Set(found.scope.split(" "));
      const asked = requestedScope.split(" ").filter((s) => s !== "");
      if (asked.some((s) => !granted.has(s))) return { refused: "invalid_scope" };
      scope = asked.join(" ");
    }
    const auth = await this.#liveSession(found.sessionId);
    if (!auth) return { refused: "invalid_grant" };
    const minted = this.#mint(app, auth, scope, { codeId: found.codeId, familyId: found.familyId }, now);
    const outcome = await this.store.rotateRefreshToken(found.id, now, minted.rows).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (outcome !== "rotated") return { refused: "invalid_grant" };
    await this.sessions.recordActivity(auth, now);
    return { ...minted.issued, nonce: null };
  }

  /**
   * The session and scope an access token speaks for (RFC 6750), or null: unknown, wrong, expired,
   * revoked, or its session no longer live.
   */
  async authenticateAccess(token: string): Promise<{ auth: AuthenticatedSession; grant: GrantToken } | null> {
    const parsed = parseSessionToken(token);
    if (!parsed) return null;
    const grant = await this.store.findToken(parsed.sessionId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!grant || grant.kind !== "access" || !secretMatches(parsed.secret, grant.secretHash)) return null;
    if (grant.revokedAt !== null || grant.expiresAt.getTime() <= this.clock.now().getTime()) return null;
    const auth = await this.#liveSession(grant.sessionId);
    return auth ? { auth, grant } : null;
  }

  /**
   * RFC 7009 §2.1: revokes a token of `app`; a refresh token takes its family's access tokens
   * along. A token that is unknown, malformed or another app's is silently left alone (§2.2).
   */
  async revoke(app: RelyingApp, token: string): Promise<void> {
    const parsed = parseSessionToken(token);
    if (!parsed) return;
    const found = await this.store.findToken(parsed.sessionId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!found || found.clientId !== app.clientId || !secretMatches(parsed.secret, found.secretHash)) return;
    await this.store.revokeTokenFamily(found.familyId, this.clock.now()).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  async participants(sessionId: string): Promise<Participant[]> {
    return this.store.listParticipants(sessionId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /** The participant record of a `sid` (an `id_token_hint` or a `logout_hint`), or null. */
  async participantBySid(sid: string): Promise<Participant | null> {
    return this.store.findParticipantBySid(sid).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  async purge(): Promise<number> {
    return this.store.purgeGrants(this.clock.now()).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  #liveSession(sessionId: string): Promise<AuthenticatedSession | null> {
    return this.sessions.findLiveById(sessionId);
  }

  async #issue(
    app: RelyingApp,
    auth: AuthenticatedSession,
    scope: string,
    nonce: string | null,
    lineage: { codeId: string | null; familyId: string },
    now: Date,
  ): Promise<Issued | null> {
    const minted = this.#mint(app, auth, scope, lineage, now);
    const stored = await this.store.insertTokens(minted.rows).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return stored ? { ...minted.issued, nonce } : null;
  }

  #mint(
    app: RelyingApp,
    auth: AuthenticatedSession,
    scope: string,
    lineage: { codeId: string | null; familyId: string },
    now: Date,
  ): { rows: GrantToken[]; issued: Omit<Issued, "nonce"> } {
    const sessionEnd = auth.session.expiresAt.getTime();
    const row = (kind: GrantToken["kind"], expiresAt: number): { row: GrantToken; token: string } => {
      const id = newId();
      const { token, secretHash } = mintSessionToken(id);
      return {
        token,
        row: {
          id,
          secretHash,
          kind,
          clientId: app.clientId,
          sessionId: auth.session.id,
          identityId: auth.identity.id,
          scope,
          codeId: lineage.codeId,
          familyId: lineage.familyId,
          issuedAt: now,
          expiresAt: new Date(expiresAt),
          revokedAt: null,
          usedAt: null,
        },
      };
    };
    const access = row("access", Math.min(now.getTime() + ACCESS_TOKEN_LIFESPAN_MS, sessionEnd));
    const refresh = scope.split(" ").includes("offline_access") ? row("refresh", sessionEnd) : null;
    return {
      rows: refresh ? [access.row, refresh.row] : [access.row],
      issued: {
        auth,
        clientId: app.clientId,
        scope,
        accessToken: access.token,
        accessExpiresAt: access.row.expiresAt,
        refreshToken: refresh?.token ?? null,
      },
    };
  }
}

/**
 * RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) equals the challenge, compared in constant
 * time. A code issued without a challenge (a confidential app may omit PKCE) takes no verifier:
 * one sent anyway is refused, so a stolen code cannot be dressed up as a PKCE one.
 */
export function pkceMatches(challenge: string | null, verifier: string | null): boolean {
  if (challenge === null) return verifier === null;
  if (verifier === null || !CODE_VERIFIER.test(verifier)) return false;
  return constantTimeEqual(createHash("sha256").update(verifier).digest("base64url"), challenge);
}
