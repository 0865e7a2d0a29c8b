/**
 * Identities (D9, D10): one schema, `default`, with `email` (required) and `username`
 * (optional), both unique and matched case-insensitively, stored as given.
 */
import { auditEvent } from "./audit.ts";
import { CoreError, asStoreFailure } from "./errors.ts";
import type { LogoutEngine } from "./logout.ts";
import type { Actor, Identity, IdentityRecord, IdentityState, Page, Traits } from "./model.ts";
import type { Clock, IdentityQuery, PasswordHasher, Store } from "./ports.ts";
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

export class Identities {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly logout: LogoutEngine,
  ) {}

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
