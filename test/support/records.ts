/** Rows written straight to a Store, past the core, for states the API cannot produce today. */
import { randomBytes, randomUUID } from "node:crypto";
import { auditEvent } from "../../src/core/audit.ts";
import type { IdentityRecord, Session, Traits } from "../../src/core/model.ts";
import type { Store } from "../../src/core/ports.ts";
import type { AppDefinition } from "../../src/core/relying-apps.ts";

/**
 * Stores an identity as one stored before D11 (or imported) looks: a password verifier, no
 * digest verifier; returns the record.
 */
export async function insertPreDigestIdentity(store: Store, traits: Traits, passwordHash: string, now: Date): Promise<IdentityRecord> {
  const record = identityRecord(now, { traits, passwordHash });
  await store.insertIdentity(record, auditEvent("identity.created", now, { identityId: record.id, actor: "test" }));
  return record;
}

/** A plain active identity with unique identifiers and no verifiers, created at `at`. */
export function identityRecord(at: Date, overrides: Partial<IdentityRecord> = {}): IdentityRecord {
  const t = randomBytes(5).toString("hex");
  return {
    id: randomUUID(),
    schemaId: "default",
    traits: { email: `rec.${t}@example.org`, username: `rec_${t}` },
    state: "active",
    stateChangedAt: at,
    createdAt: at,
    updatedAt: at,
    metadataPublic: null,
    metadataAdmin: null,
    externalId: null,
    passwordHash: null,
    digestHash: null,
    ...overrides,
  };
}

/** A live Kratos session of `identityId` begun at `at`, with a 12-hour lifespan. */
export function sessionRecord(identityId: string, at: Date, overrides: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    identityId,
    door: "kratos",
    secretHash: randomBytes(32).toString("base64url"),
    issuedAt: at,
    authenticatedAt: at,
    expiresAt: new Date(at.getTime() + 12 * 3_600_000),
    lastSeenAt: at,
    revokedAt: null,
    revokedReason: null,
    device: { ipAddress: null, userAgent: null },
    ...overrides,
  };
}

/** A public relying app (PKCE, no secret) of rp.example with a back-channel logout URI. */
export function appDefinition(clientId: string, overrides: Partial<AppDefinition> = {}): AppDefinition {
  return {
    clientId,
    secretHash: null,
    authMethod: "none",
    redirectUris: ["https://rp.example/cb"],
    postLogoutRedirectUris: [],
    allowedLogoutUrls: [],
    webOrigins: [],
    backchannelLogoutUri: "https://rp.example/bc",
    backchannelLogoutSessionRequired: true,
    frontchannelLogoutUri: null,
    frontchannelLogoutSessionRequired: false,
    ...overrides,
  };
}
