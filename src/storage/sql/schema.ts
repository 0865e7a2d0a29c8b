/**
 * Table types for Kysely. Times are epoch milliseconds in `bigint` columns: both SQLite and
 * PostgreSQL store them exactly, and one representation keeps both dialects' rows identical
 * (pg returns int8 as a string; rows pass through `toNumber`).
 */
export interface IdentitiesTable {
  id: string;
  schema_id: string;
  email: string;
  email_key: string;
  username: string | null;
  username_key: string | null;
  state: string;
  state_changed_at: number | string;
  created_at: number | string;
  updated_at: number | string;
  metadata_public: string | null;
  metadata_admin: string | null;
  external_id: string | null;
  password_hash: string | null;
  digest_hash: string | null;
}

export interface SessionsTable {
  id: string;
  identity_id: string;
  door: string;
  secret_hash: string;
  issued_at: number | string;
  authenticated_at: number | string;
  expires_at: number | string;
  last_seen_at: number | string;
  revoked_at: number | string | null;
  revoked_reason: string | null;
  ip_address: string | null;
  user_agent: string | null;
}

export interface FlowsTable {
  id: string;
  type: string;
  kind: string;
  issued_at: number | string;
  expires_at: number | string;
  request_url: string;
  return_to: string | null;
  csrf_token: string | null;
  view: string | null;
  refresh: number;
  identity_id: string | null;
}

export interface ErrorsTable {
  id: string;
  created_at: number | string;
  error: string;
}

export interface AuditEventsTable {
  id: string;
  at: number | string;
  type: string;
  identity_id: string | null;
  session_id: string | null;
  door: string | null;
  reason: string | null;
  actor: string;
  ip_address: string | null;
  user_agent: string | null;
}

export interface OidcClientsTable {
  client_id: string;
  source: string;
  secret_hash: string | null;
  backchannel_logout_uri: string | null;
  /** The rest of the app's metadata, as JSON. */
  metadata: string;
  created_at: number | string;
  updated_at: number | string;
}

export interface OidcAuthorizationRequestsTable {
  id: string;
  client_id: string;
  issued_at: number | string;
  expires_at: number | string;
  params: string;
}

export interface OidcCodesTable {
  id: string;
  secret_hash: string;
  client_id: string;
  session_id: string;
  identity_id: string;
  redirect_uri: string;
  scope: string;
  nonce: string | null;
  code_challenge: string | null;
  issued_at: number | string;
  expires_at: number | string;
  used_at: number | string | null;
}

export interface OidcTokensTable {
  id: string;
  secret_hash: string;
  kind: string;
  client_id: string;
  session_id: string;
  identity_id: string;
  scope: string;
  code_id: string | null;
  family_id: string;
  issued_at: number | string;
  expires_at: number | string;
  revoked_at: number | string | null;
  used_at: number | string | null;
}

export interface OidcParticipantsTable {
  session_id: string;
  client_id: string;
  sid: string;
  joined_at: number | string;
}

export interface BackchannelDeliveriesTable {
  id: string;
  session_id: string;
  identity_id: string;
  client_id: string;
  sid: string;
  uri: string;
  reason: string;
  status: string;
  attempts: number;
  next_attempt_at: number | string;
  lease_until: number | string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number | string;
  updated_at: number | string;
}

export interface NodesTable {
  id: string;
  started_at: number | string;
  seen_at: number | string;
  /** Epoch ms in the database's clock; null without a lease. */
  lease_until: number | string | null;
}

export interface Database {
  identities: IdentitiesTable;
  sessions: SessionsTable;
  flows: FlowsTable;
  errors: ErrorsTable;
  audit_events: AuditEventsTable;
  oidc_clients: OidcClientsTable;
  oidc_authorization_requests: OidcAuthorizationRequestsTable;
  oidc_codes: OidcCodesTable;
  oidc_tokens: OidcTokensTable;
  oidc_participants: OidcParticipantsTable;
  backchannel_deliveries: BackchannelDeliveriesTable;
  nodes: NodesTable;
}

export function toNumber(value: number | string): number {
  return typeof value === "number" ? value : Number(value);
}
