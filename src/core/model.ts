/** The core's records. Plain data: no HTTP, no SQL. */

/** The door a session was begun through (D7). */
export type Door = "kratos" | "oidc" | "firstock" | "assets";
export const DOORS = ["kratos", "oidc", "firstock", "assets"] as const satisfies readonly Door[];

/** Who or what ended a session; kept on the row and in the audit trail (house rule 3). */
export type RevocationReason =
  | "logout"
  | "revoked_by_user"
  | "revoked_by_admin"
  | "identity_deleted"
  /** The sessions a password change or reset ends (docs/adr/0026-password-change.md). */
  | "password_changed"
  /** Every session of an identity an operator set `inactive`. */
  | "identity_deactivated"
  /** Past its absolute expiry or idle timeout, recorded by the expiry sweep so its apps are told. */
  | "expired";

export type IdentityState = "active" | "inactive";

export interface Traits {
  email: string;
  username?: string;
}

export interface Identity {
  id: string;
  schemaId: "default";
  traits: Traits;
  state: IdentityState;
  stateChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  metadataPublic: unknown;
  metadataAdmin: unknown;
  externalId: string | null;
}

/** An identity as the store keeps it, with its password verifiers (PHC strings, never returned by a door). */
export interface IdentityRecord extends Identity {
  /** argon2id over the password. */
  passwordHash: string | null;
  /** argon2id over hex SHA-256 of the password, for the Firstock door (D11). */
  digestHash: string | null;
}

export interface Device {
  ipAddress: string | null;
  userAgent: string | null;
}

export interface Session {
  id: string;
  identityId: string;
  door: Door;
  /** SHA-256 of the token's secret, base64url. The token itself is never stored (D1). */
  secretHash: string;
  issuedAt: Date;
  authenticatedAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
  revokedReason: RevocationReason | null;
  device: Device;
}

/** A session together with the identity it belongs to, as authentication returns it. */
export interface AuthenticatedSession {
  session: Session;
  identity: Identity;
}

export const AUDIT_EVENT_TYPES = ["session.begun", "session.ended", "identity.created", "identity.deleted", "signin.failed", "signin.locked", "password.changed", "identity.updated"] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** One line of the audit trail: who, when, through which door, why. */
export interface AuditEvent {
  id: string;
  at: Date;
  type: AuditEventType;
  /** Null only for a failed sign-in that named no known account (what was typed is not kept). */
  identityId: string | null;
  sessionId: string | null;
  door: Door | null;
  /** For session.ended: the RevocationReason. */
  reason: string | null;
  /** Who asked: "self", "admin", "cli", or a door name. */
  actor: string;
  /** The client of a sign-in attempt (signin.failed, signin.locked); null elsewhere. */
  ipAddress: string | null;
  userAgent: string | null;
}

export type FlowType = "login" | "registration" | "settings";
export type FlowKind = "api" | "browser";

/** A self-service login or registration flow (Kratos's flow model, kept door-neutral). */
export interface Flow {
  id: string;
  type: FlowType;
  kind: FlowKind;
  issuedAt: Date;
  expiresAt: Date;
  requestUrl: string;
  returnTo: string | null;
  /** Browser flows: the masked CSRF token issued with the flow (its cookie holds the secret). */
  csrfToken: string | null;
  /**
   * A login flow that re-authenticates the signed-in person (Kratos `refresh=true`; OpenID
   * Connect `prompt=login` and `max_age`): the same identity renews the same session.
   */
  refresh: boolean;
  /** A settings flow's identity: only a session of it may read or submit the flow. Null for the others. */
  identityId: string | null;
  /**
   * What the flow's form shows after a failed submission (values echoed back, messages), as the
   * door that owns the flow serialises it; null until then. Kept so a browser sent back to the
   * form page sees why (Kratos stores the flow's UI the same way).
   */
  view: unknown;
}

/** An error kept for a browser that was sent to the error page (Kratos's error container). */
export interface StoredError {
  id: string;
  createdAt: Date;
  /** The door's own serialisation of the error. */
  error: unknown;
}

/** Which sessions a revocation write targets, as the store sees it (the engine resolves tokens first). */
export type RevocationTarget =
  | { kind: "session"; sessionId: string; identityId?: string }
  | { kind: "identity"; identityId: string; exceptSessionId?: string }
  /**
   * Up to `limit` sessions, not yet revoked, that took part in single sign-on and are past their
   * absolute expiry at the revocation's instant or, per door, last seen at or before `idleBefore`.
   */
  | { kind: "expired"; idleBefore: Record<Door, Date>; limit: number };

/** Who or what ended a session, for the audit trail. */
export interface Actor {
  /** "self", "admin", "cli", or "system" (the server's own jobs). */
  actor: string;
  /** The door the request came through; null outside the doors (admin API, CLI). */
  door: Door | null;
}

/** One revocation, as the logout engine hands it to the store: everything the write needs, as data. */
export interface RevocationRecord {
  target: RevocationTarget;
  reason: RevocationReason;
  /** The instant of the revocation: `revoked_at`, and what "past its expiry" is measured against. */
  at: Date;
  by: Actor;
  /**
   * With an identity target: also delete the identity, after revoking its sessions, in the same
   * transaction (D6). Ignored for a session target.
   */
  deleteIdentity: boolean;
}

/** A session a revocation write ended, as it stood just before. */
export interface RevokedSession {
  id: string;
  identityId: string;
  door: Door;
  lastSeenAt: Date;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor of the next page, or null on the last page. */
  next: string | null;
}

// ---- single sign-on (the OpenID Connect door) ---------------------------------------------------

/** How a relying app proves itself at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`). */
export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "none";

/**
 * A relying app of single sign-on: an OpenID Connect client (RFC 7591 metadata names). Apps come
 * from configuration (`oidc.clients`) or the admin API; the store keeps both, so every node and
 * the revoking transaction see the same list.
 */
export interface RelyingApp {
  clientId: string;
  /** SHA-256 of the client secret, base64url (D1); null for a public app (`none`). */
  secretHash: string | null;
  authMethod: ClientAuthMethod;
  redirectUris: readonly string[];
  /** RP-Initiated Logout 1.0 §3: compared exactly. */
  postLogoutRedirectUris: readonly string[];
  /** Auth0's Allowed Logout URLs for `/v2/logout` (wildcard `*` as the leftmost label). */
  allowedLogoutUrls: readonly string[];
  /** Origins whose pages may call the token, revocation and userinfo endpoints (CORS). */
  webOrigins: readonly string[];
  backchannelLogoutUri: string | null;
  backchannelLogoutSessionRequired: boolean;
  frontchannelLogoutUri: string | null;
  frontchannelLogoutSessionRequired: boolean;
  /** Where it was defined: configuration apps cannot be changed through the admin API. */
  source: "config" | "admin";
  createdAt: Date;
  updatedAt: Date;
}

/**
 * An authorization request waiting for its browser to sign in (`/authorize` without a session).
 * The door keeps its validated parameters as it likes (`params`); it lives as long as a login flow.
 */
export interface AuthorizationRequest {
  id: string;
  clientId: string;
  issuedAt: Date;
  expiresAt: Date;
  params: unknown;
}

/** An authorization code: `id.secret`, only the secret's hash kept (D1), used once (RFC 6749 §4.1.2). */
export interface AuthorizationCode {
  id: string;
  secretHash: string;
  clientId: string;
  sessionId: string;
  identityId: string;
  redirectUri: string;
  scope: string;
  nonce: string | null;
  /** PKCE S256 challenge (RFC 7636 §4.2), or null for a confidential app that sent none. */
  codeChallenge: string | null;
  issuedAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export type GrantTokenKind = "access" | "refresh";

/**
 * An access or refresh token: opaque `id.secret`, only the secret's hash kept (D1). Every token
 * belongs to the session it was issued under and dies with it, `offline_access` refresh tokens
 * too (docs/adr/0019-single-sign-on-provider.md).
 */
export interface GrantToken {
  id: string;
  secretHash: string;
  kind: GrantTokenKind;
  clientId: string;
  sessionId: string;
  identityId: string;
  scope: string;
  /** The code it was issued for: a replayed code revokes its tokens (RFC 6749 §4.1.2). */
  codeId: string | null;
  /** Every token descended from one code: reuse of a rotated refresh token revokes them all. */
  familyId: string;
  issuedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  /** A refresh token that has been exchanged (rotated); presented again, it is reuse. */
  usedAt: Date | null;
}

/** An app that took part in a session (Back-Channel Logout 1.0 §2.3): told when the session ends. */
export interface Participant {
  sessionId: string;
  clientId: string;
  /** The session's `sid` (one per session, D4's construction): in ID tokens and logout tokens. */
  sid: string;
  joinedAt: Date;
}

export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";

/**
 * One back-channel logout notice owed to one app for one ended session (Back-Channel Logout 1.0
 * §2.5): the outbox row, written in the revoking transaction (INV-4) and delivered after it.
 */
export interface BackchannelDelivery {
  id: string;
  sessionId: string;
  identityId: string;
  clientId: string;
  sid: string;
  /** The app's `backchannel_logout_uri` when the session ended. */
  uri: string;
  reason: RevocationReason;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  /** While a node is sending it: no other node claims it before then. */
  leaseUntil: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}
