/**
 * Identities (D9, D10): one schema, `default`, with `email` (required) and `username`
 * (optional), both unique and matched case-insensitively, stored as given.
 */
import { auditEvent } from "./audit.ts";
import { CoreError, asStoreFailure } from "./errors.ts";
import type { LogoutEngine } from "./logout.ts";
import type { Actor, AuthenticatedSession, Identity, IdentityRecord, IdentityState, Page, Traits } from "./model.ts";
import type { Clock, IdentityQuery, PasswordHasher, Store } from "./ports.ts";
import type { CoreSettings } from "./settings.ts";
import { passwordDigest } from "./tokens.ts";
import { newId } from "./ids.ts";

export const SCHEMA_ID = "default";

// No white space and no control characters (RFC 5321 allows neither; PostgreSQL cannot store U+0000).
const EMAIL = /^[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+\.[^\s@\x00-\x1f\x7f]+$/;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** SEC-64: bound the input before hashing; never truncate silently. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_BYTES = 1024;

/** Validates traits; throws TRAITS_INVALID naming the field. Unknown traits are refused. */
export function validateTraits(input: unknown): Traits {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new CoreError("TRAITS_INVALID", "traits must be an object.", { field: "traits" });
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "email" && key !== "username") {
      throw new CoreError("TRAITS_INVALID", `Property ${key} is not part of the identity schema.`, {
        field: `traits.${key}`,
      });
    }
  }
  const { email, username } = record;
  if (typeof email !== "string" || email.length === 0) {
    throw new CoreError("TRAITS_INVALID", "Property email is missing.", { field: "traits.email" });
  }
  if (email.length > 320 || !EMAIL.test(email)) {
    throw new CoreError("TRAITS_INVALID", `"${email.slice(0, 320)}" is not valid "email".`, { field: "traits.email" });
  }
  if (username === undefined || username === null || username === "") return { email };
  // A username never contains "@", so it can never be mistaken for another identity's email.
  if (typeof username !== "string" || !USERNAME.test(username)) {
    throw new CoreError(
      "TRAITS_INVALID",
      "username must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
      { field: "traits.username" },
    );
  }
  return { email, username };
}

export function validatePassword(password: unknown): string {
  if (typeof password !== "string" || password.length === 0) {
    throw new CoreError("PASSWORD_REJECTED", "Property password is missing.", { field: "password" });
  }
  if (Buffer.byteLength(password, "utf8") > PASSWORD_MAX_BYTES) {
    throw new CoreError("PASSWORD_REJECTED", `The password must be at most ${PASSWORD_MAX_BYTES} bytes long.`, {
      field: "password",
    });
  }
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    throw new CoreError(
      "PASSWORD_REJECTED",
      `The password must be at least ${PASSWORD_MIN_LENGTH} characters long, but got ${[...password].length}.`,
      { field: "password" },
    );
  }
  return password;
}

/** The lookup key of an identifier: emails and usernames compare case-insensitively (D9). */
export function identifierKey(identifier: string): string {
  return identifier.trim().toLowerCase();
}

export interface NewIdentity {
  traits: unknown;
  password?: unknown;
  state?: IdentityState;
  metadataPublic?: unknown;
  metadataAdmin?: unknown;
  externalId?: string | null;
}

export function publicIdentity(record: IdentityRecord): Identity {
  const { passwordHash: _p, digestHash: _d, ...identity } = record;
  return identity;
}

/** What an operator changes: each given field replaces the identity's; the rest stay. */
export interface IdentityChange {
  traits?: unknown;
  state?: IdentityState;
  metadataPublic?: unknown;
  metadataAdmin?: unknown;
  /** A new password (a reset): both verifiers are replaced, every session ends. */
  password?: unknown;
}

export class Identities {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly logout: LogoutEngine,
    private readonly settings: Pick<CoreSettings["flows"], "privilegedSessionMaxAgeMs" | "revokeOtherSessionsOnPasswordChange">,
  ) {}

  /**
   * A signed-in person's new password (the Kratos settings flow, docs/adr/0026-password-change.md).
   * Only within the privileged window after a sign-in (SESSION_REFRESH_REQUIRED otherwise), under
   * the same rules as at registration. Both verifiers are replaced (D11) before anything else, so
   * the old password signs nobody in from then on; then every other session of the identity ends
   * through the logout engine, at every door, before the answer (unless configured off). A store
   * failure in either step is STORE_UNAVAILABLE, never a success: the caller may retry, and a retry
   * that finds the password already changed still ends the other sessions.
   */
  async changePassword(current: AuthenticatedSession, password: unknown, by: Actor): Promise<{ ended: number }> {
    const now = this.clock.now();
    if (now.getTime() - current.session.authenticatedAt.getTime() > this.settings.privilegedSessionMaxAgeMs) {
      throw new CoreError("SESSION_REFRESH_REQUIRED", "The login session is too old and thus not allowed to update these fields. Please re-authenticate.");
    }
    const checked = validatePassword(password);
    const [passwordHash, digestHash] = await Promise.all([this.hasher.hash(checked), this.hasher.hash(passwordDigest(checked))]);
    const audit = auditEvent("password.changed", now, { identityId: current.identity.id, sessionId: current.session.id, door: by.door, actor: by.actor });
    const changed = await this.store.setPasswordHashes(current.identity.id, { passwordHash, digestHash }, now, audit).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!changed) throw new CoreError("IDENTITY_NOT_FOUND", "Unable to locate the resource");
    if (!this.settings.revokeOtherSessionsOnPasswordChange) return { ended: 0 };
    const { ended } = await this.logout.logout({ kind: "others", of: current.session }, "password_changed", by);
    return { ended: ended.length };
  }

  /** Creates an identity; the password, when given, gets both verifiers (D11). */
  async create(input: NewIdentity, actor: string): Promise<Identity> {
    const traits = validateTraits(input.traits);
    const password = input.password === undefined ? null : validatePassword(input.password);
    const [passwordHash, digestHash] = password
      ? await Promise.all([this.hasher.hash(password), this.hasher.hash(passwordDigest(password))])
      : [null, null];
    const now = this.clock.now();
    const record: IdentityRecord = {
      id: newId(),
      schemaId: SCHEMA_ID,
      traits,
      state: input.state ?? "active",
      stateChangedAt: now,
      createdAt: now,
      updatedAt: now,
      metadataPublic: input.metadataPublic ?? null,
      metadataAdmin: input.metadataAdmin ?? null,
      externalId: input.externalId ?? null,
      passwordHash,
      digestHash,
    };
    try {
      await this.store.insertIdentity(record, auditEvent("identity.created", now, { identityId: record.id, actor }));
    } catch (error) {
      throw asStoreFailure(error);
    }
    return publicIdentity(record);
  }

  /**
   * An operator's change to an identity (Kratos `PUT`/`PATCH /admin/identities/{id}`, `curfew
   * identities update` and `set-password`): its traits, state and metadata as given, and a new
   * password when one is given. What a change takes away ends its sessions through the logout
   * engine before the answer: all of them when the identity becomes `inactive` (it cannot sign in
   * at any door either) or its password is reset. A store failure at either step is
   * STORE_UNAVAILABLE, never a success (docs/adr/0026-password-change.md).
   */
  async update(id: string, change: IdentityChange, by: Actor): Promise<{ identity: Identity; ended: number }> {
    const record = await this.store.findIdentity(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!record) throw new CoreError("IDENTITY_NOT_FOUND", "Unable to locate the resource");
    const traits = change.traits === undefined ? record.traits : validateTraits(change.traits);
    const password = change.password === undefined ? null : validatePassword(change.password);
    const [passwordHash, digestHash] = password
      ? await Promise.all([this.hasher.hash(password), this.hasher.hash(passwordDigest(password))])
      : [record.passwordHash, record.digestHash];
    const now = this.clock.now();
    const state = change.state ?? record.state;
    const updated: IdentityRecord = {
      ...record,
      traits,
      state,
      stateChangedAt: state === record.state ? record.stateChangedAt : now,
      updatedAt: now,
      metadataPublic: change.metadataPublic === undefined ? record.metadataPublic : change.metadataPublic,
      metadataAdmin: change.metadataAdmin === undefined ? record.metadataAdmin : change.metadataAdmin,
      passwordHash,
      digestHash,
    };
    // An inactive identity's sessions end every time, not only on the change to inactive: a retry
    // after a logout that failed must still end them (INV-3), and ending nothing twice is harmless.
    const reason = password ? "password_changed" : state === "inactive" ? "identity_deactivated" : null;
    const audit = auditEvent(password ? "password.changed" : "identity.updated", now, { identityId: id, reason, actor: by.actor, door: by.door });
    const found = await this.store.updateIdentity(updated, audit, { password: password !== null }).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!found) throw new CoreError("IDENTITY_NOT_FOUND", "Unable to locate the resource");
    // A reset or a deactivation takes away what its sessions stood on: they all end, now.
    const ended = reason === null ? 0 : (await this.logout.logout({ kind: "identity", identityId: id }, reason, by)).ended.length;
    return { identity: publicIdentity(updated), ended };
  }

  async get(id: string): Promise<Identity> {
    const record = await this.store.findIdentity(id).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    if (!record) throw new CoreError("IDENTITY_NOT_FOUND", "Unable to locate the resource");
    return publicIdentity(record);
  }

  /** The identity an identifier (email or username, case-insensitive, D9) names, or null. */
  async findByIdentifier(identifier: string): Promise<Identity | null> {
    const record = await this.store.findIdentityByIdentifier(identifierKey(identifier)).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return record ? publicIdentity(record) : null;
  }

  async list(query: IdentityQuery): Promise<Page<Identity>> {
    const page = await this.store.listIdentities(query).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
    return { items: page.items.map(publicIdentity), next: page.next };
  }

  /**
   * Ends every session of the identity and deletes it, in one transaction, through the logout
   * engine like every other end of a session (D6, SEC-17); IDENTITY_NOT_FOUND when there is none.
   */
  async delete(id: string, by: Actor): Promise<void> {
    await this.logout.logout({ kind: "identity", identityId: id, deleteIdentity: true }, "identity_deleted", by);
  }
}
