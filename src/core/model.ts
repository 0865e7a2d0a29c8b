/** The core's records. Plain data: no HTTP, no SQL. */

/** The door a session was begun through (D7). */
export type Door = "kratos" | "oidc" | "firstock" | "assets";
export const DOORS = ["kratos", "oidc", "firstock", "assets"] as const satisfies readonly Door[];

/** Who or what ended a session; kept on the row and in the audit trail (house rule 3). */
export type RevocationReason =
  | "logout"
  | "revoked_by_user"
  | "revoked_by_admin"
  | "identity_deleted";

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

export type AuditEventType = "session.begun" | "session.ended" | "identity.created" | "identity.deleted";

/** One line of the audit trail: who, when, through which door, why. */
export interface AuditEvent {
  id: string;
  at: Date;
  type: AuditEventType;
  identityId: string;
  sessionId: string | null;
  door: Door | null;
  /** For session.ended: the RevocationReason. */
  reason: string | null;
  /** Who asked: "self", "admin", "cli", or a door name. */
  actor: string;
}

export type FlowType = "login" | "registration";
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
  | { kind: "identity"; identityId: string; exceptSessionId?: string };

/** Who or what ended a session, for the audit trail. */
export interface Actor {
  /** "self", "admin" or "cli". */
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
