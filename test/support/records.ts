/** Rows written straight to a Store, past the core, for states the API cannot produce today. */
import { randomUUID } from "node:crypto";
import { auditEvent } from "../../src/core/audit.ts";
import type { IdentityRecord, Traits } from "../../src/core/model.ts";
import type { Store } from "../../src/core/ports.ts";

/**
 * Stores an identity as one stored before D11 (or imported) looks: a password verifier, no
 * digest verifier; returns the record.
 */
export async function insertPreDigestIdentity(store: Store, traits: Traits, passwordHash: string, now: Date): Promise<IdentityRecord> {
  const record: IdentityRecord = {
    id: randomUUID(),
    schemaId: "default",
    traits,
    state: "active",
    stateChangedAt: now,
    createdAt: now,
    updatedAt: now,
    metadataPublic: null,
    metadataAdmin: null,
    externalId: null,
    passwordHash,
    digestHash: null,
  };
  await store.insertIdentity(record, auditEvent("identity.created", now, { identityId: record.id, actor: "test" }));
  return record;
}
