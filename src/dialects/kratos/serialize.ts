/** Core records → Kratos JSON (ory/kratos spec/api.json `session`, `identity`). */
import { createHash } from "node:crypto";
import type { Static } from "typebox";
import type { Identity, Session } from "../../core/model.ts";
import type * as W from "./wire.ts";

export interface SerializeOptions {
  /** Public base URL, for `schema_url`. */
  baseUrl: string;
  /** Admin views add `metadata_admin` (never on public endpoints, as in Kratos). */
  admin: boolean;
}

/** A stable UUID-shaped id for a sub-record that has no row of its own (devices, addresses). */
function derivedId(of: string, kind: string): string {
  const key = `${kind}:${of}`;
  let id = derivedIds.get(key);
  if (id === undefined) {
    const h = createHash("sha256").update(key).digest("hex");
    id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    // Bounded memo: these ids are stable, and hashing three per whoami was a measured 6% of it.
    if (derivedIds.size >= 50_000) derivedIds.clear();
    derivedIds.set(key, id);
  }
  return id;
}

const derivedIds = new Map<string, string>();

export const SCHEMA_PATH = "/schemas/ZGVmYXVsdA"; // base64url("default"), as Kratos names it (D9)

export function identityJson(identity: Identity, options: SerializeOptions): Static<typeof W.Identity> {
  const created = identity.createdAt.toISOString();
  const json: Static<typeof W.Identity> = {
    id: identity.id,
    schema_id: identity.schemaId,
    schema_url: options.baseUrl + SCHEMA_PATH,
    state: identity.state,
    state_changed_at: identity.stateChangedAt.toISOString(),
    traits: identity.traits,
    verifiable_addresses: [
      {
        id: derivedId(identity.id, "verifiable"),
        value: identity.traits.email,
        verified: false,
        via: "email",
        status: "pending",
        created_at: created,
        updated_at: created,
      },
    ],
    recovery_addresses: [
      { id: derivedId(identity.id, "recovery"), value: identity.traits.email, via: "email", created_at: created, updated_at: created },
    ],
    metadata_public: identity.metadataPublic,
    organization_id: null,
    created_at: created,
    updated_at: identity.updatedAt.toISOString(),
  };
  if (identity.externalId !== null) json.external_id = identity.externalId;
  if (options.admin) json.metadata_admin = identity.metadataAdmin;
  return json;
}

export interface SessionJsonOptions extends SerializeOptions {
  /** Whether the session is live now (computed by the core). */
  active: boolean;
  /** The identity to embed, or null when not expanded. */
  identity: Identity | null;
  devices: boolean;
}

export function sessionJson(session: Session, o: SessionJsonOptions): Static<typeof W.Session> {
  const authenticated = session.authenticatedAt.toISOString();
  return {
    id: session.id,
    active: o.active,
    expires_at: session.expiresAt.toISOString(),
    authenticated_at: authenticated,
    authenticator_assurance_level: "aal1",
    authentication_methods: [{ method: "password", aal: "aal1", completed_at: authenticated }],
    issued_at: session.issuedAt.toISOString(),
    identity: o.identity ? identityJson(o.identity, o) : null,
    devices: o.devices
      ? [
          {
            id: derivedId(session.id, "device"),
            ip_address: session.device.ipAddress,
            user_agent: session.device.userAgent,
            location: "",
          },
        ]
      : [],
    door: session.door,
  };
}
