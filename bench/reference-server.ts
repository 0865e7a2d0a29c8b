/**
 * The bench's references (D20: measured in the same run, on the same SQLite file): a bare
 * `node:http` server with better-sqlite3 and prepared statements, no framework.
 *
 *   R1  GET /sessions/whoami            X-Session-Token `id.secret` → one indexed lookup
 *       (sessions JOIN identities), constant-time hash check, 200 JSON or 401.
 *   R1f The same whoami answering the very JSON Curfew's whoami answers (REF_FULL_JSON=1): the
 *       whole Kratos session (identity with its addresses, device, authentication methods) and the
 *       X-Kratos-Authenticated-Identity-Id header, built by hand from one wider indexed lookup;
 *       the derived sub-record ids hashed once and kept, as Curfew does.
 *   R2  DELETE /self-service/logout/api {"session_token": …} → the same lookup and check, then
 *       one UPDATE committed on its own with synchronous=FULL (one fsync per logout), 204.
 *       The same R2, speaking the other doors' logout wires:
 *       POST /api/V4/logout {"userId", "jKey"} (Firstock) → the lookup joined with the identity,
 *       userId must name it (username or email), the session must be live; one UPDATE as above;
 *       Firstock's success envelope, or its 401 INVALID_JKEY.
 *       POST /services/logout (Assets AJAX) with `Cookie: authToken=…` and `X-CSRF-TOKEN` =
 *       base64url(HMAC-SHA256(CURFEW_SECRET, "csrf:" + session id)) → the lookup, the CSRF
 *       check in constant time, the session must be live; one UPDATE as above;
 *       {"logoutSuccess":true} and the cleared cookie, or Assets' 401 / 403.
 *   R3  POST /oauth/token grant_type=authorization_code (a form; the client by HTTP Basic or
 *       client_id/client_secret in the body) → the client's secret hash (one indexed lookup of
 *       oidc_clients, compared in constant time); the code row by id, joined with its session and
 *       identity (one lookup), its secret hash compared in constant time; client, redirect_uri,
 *       expiry, PKCE S256 and a live session checked; one UPDATE marking it used, committed on
 *       its own with synchronous=FULL (one fsync per exchange, `AND used_at IS NULL` so a code is
 *       exchanged once); one RS256 ID token signed with jose (an RSA-2048 key generated at start,
 *       the same library and key size as Curfew's SigningKeys); the token response, or
 *       401 invalid_client / 400 invalid_grant. Less than Curfew does: the access token it
 *       answers is random and not stored (Curfew inserts its row, in its group commit), and
 *       the app row is not parsed beyond its secret hash.
 *       GET /.well-known/jwks.json serves R3's public key (the bench checks an ID token with it).
 *
 *   R2g The same native logout, with group commit (REF_GROUP_COMMIT=1): the logouts read off the
 *       sockets in one turn of the event loop are written in one transaction on the next
 *       (setImmediate), one fsync for them all, and each is answered after that commit. As
 *       better-sqlite3 is synchronous, the event loop stands still during the commit.
 *
 * Usage: CURFEW_SECRET=… [REF_GROUP_COMMIT=1] [REF_FULL_JSON=1] node --import tsx bench/reference-server.ts <sqlite file> <port>
 * Prints "ready <port>" once listening. Listens on 127.0.0.1 only.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { Sqlite } from "../src/storage/sql/sqlite-driver.ts";

const [file, portArg] = process.argv.slice(2);
if (!file || !portArg) {
  console.error("usage: reference-server.ts <sqlite file> <port>");
  process.exit(2);
}

const db = new Sqlite(file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.pragma("busy_timeout = 5000");

interface WhoamiRow {
  id: string;
  identity_id: string;
  secret_hash: string;
  issued_at: number;
  authenticated_at: number;
  expires_at: number;
  revoked_at: number | null;
  email: string;
  username: string | null;
  state: string;
}

const whoamiQuery = db.prepare<[string], WhoamiRow>(
  `SELECT sessions.id, sessions.identity_id, sessions.secret_hash, sessions.issued_at,
          sessions.authenticated_at, sessions.expires_at, sessions.revoked_at,
          identities.email, identities.username, identities.state
     FROM sessions JOIN identities ON identities.id = sessions.identity_id
    WHERE sessions.id = ?`,
);
interface FullRow extends WhoamiRow {
  door: string;
  ip_address: string | null;
  user_agent: string | null;
  schema_id: string;
  state_changed_at: number;
  identity_created_at: number;
  identity_updated_at: number;
  metadata_public: string | null;
  external_id: string | null;
}

const fullQuery = db.prepare<[string], FullRow>(
  `SELECT sessions.id, sessions.identity_id, sessions.secret_hash, sessions.issued_at,
          sessions.authenticated_at, sessions.expires_at, sessions.revoked_at, sessions.door,
          sessions.ip_address, sessions.user_agent,
          identities.email, identities.username, identities.state, identities.schema_id,
          identities.state_changed_at, identities.created_at AS identity_created_at,
          identities.updated_at AS identity_updated_at, identities.metadata_public, identities.external_id
     FROM sessions JOIN identities ON identities.id = sessions.identity_id
    WHERE sessions.id = ?`,
);
const FULL_JSON = process.env.REF_FULL_JSON === "1";
const derived = new Map<string, string>();

/** A UUID-shaped id hashed from `key`, kept (Curfew memoises the same ids). */
function derivedId(key: string): string {
  let id = derived.get(key);
  if (id === undefined) {
    const h = createHash("sha256").update(key).digest("hex");
    id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    if (derived.size >= 50_000) derived.clear();
    derived.set(key, id);
  }
  return id;
}

function fullWhoami(req: IncomingMessage, res: ServerResponse): void {
  const parsed = parse(req.headers["x-session-token"]);
  const row = parsed ? fullQuery.get(parsed[0]) : undefined;
  if (!parsed || !row || !matches(parsed[1], row.secret_hash) || row.revoked_at !== null || row.expires_at <= Date.now() || row.state !== "active") {
    send(res, 401, UNAUTHORIZED);
    return;
  }
  const authenticated = new Date(row.authenticated_at).toISOString();
  const created = new Date(row.identity_created_at).toISOString();
  const traits = row.username === null ? { email: row.email } : { email: row.email, username: row.username };
  const identity: Record<string, unknown> = {
    id: row.identity_id,
    schema_id: row.schema_id,
    schema_url: `http://127.0.0.1:${portArg}/schemas/ZGVmYXVsdA`,
    state: row.state,
    state_changed_at: new Date(row.state_changed_at).toISOString(),
    traits,
    verifiable_addresses: [
      { id: derivedId(`verifiable:${row.identity_id}`), value: row.email, verified: false, via: "email", status: "pending", created_at: created, updated_at: created },
    ],
    recovery_addresses: [{ id: derivedId(`recovery:${row.identity_id}`), value: row.email, via: "email", created_at: created, updated_at: created }],
    metadata_public: row.metadata_public === null ? null : JSON.parse(row.metadata_public),
    organization_id: null,
    created_at: created,
    updated_at: new Date(row.identity_updated_at).toISOString(),
  };
  if (row.external_id !== null) identity.external_id = row.external_id;
  const body = JSON.stringify({
    id: row.id,
    active: true,
    expires_at: new Date(row.expires_at).toISOString(),
    authenticated_at: authenticated,
    authenticator_assurance_level: "aal1",
    authentication_methods: [{ method: "password", aal: "aal1", completed_at: authenticated }],
    issued_at: new Date(row.issued_at).toISOString(),
    identity,
    devices: [{ id: derivedId(`device:${row.id}`), ip_address: row.ip_address, user_agent: row.user_agent, location: "" }],
    door: row.door,
  });
  res.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "x-kratos-authenticated-identity-id": row.identity_id,
  });
  res.end(body);
}

const secretQuery = db.prepare<[string], { secret_hash: string }>(`SELECT secret_hash FROM sessions WHERE id = ?`);
const liveQuery = db.prepare<[string], { secret_hash: string; revoked_at: number | null; expires_at: number; email: string; username: string | null }>(
  `SELECT sessions.secret_hash, sessions.revoked_at, sessions.expires_at, identities.email, identities.username
     FROM sessions JOIN identities ON identities.id = sessions.identity_id
    WHERE sessions.id = ?`,
);
const revoke = db.prepare<[number, string]>(
  `UPDATE sessions SET revoked_at = ?, revoked_reason = 'logout' WHERE id = ? AND revoked_at IS NULL`,
);

/** `id.secret` → [id, secret], or null when not of the shape (36 + 1 + 43 characters). */
function parse(token: unknown): [string, string] | null {
  if (typeof token !== "string" || token.length !== 80 || token.charCodeAt(36) !== 46) return null;
  return [token.slice(0, 36), token.slice(37)];
}

function matches(secret: string, storedHash: string): boolean {
  const presented = createHash("sha256").update(secret).digest();
  const stored = Buffer.from(storedHash, "base64url");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

const UNAUTHORIZED = JSON.stringify({ error: { code: 401, status: "Unauthorized" } });
const FORBIDDEN = JSON.stringify({ error: { code: 403, status: "Forbidden" } });

function send(res: ServerResponse, status: number, body: string | null): void {
  if (body === null) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function whoami(req: IncomingMessage, res: ServerResponse): void {
  const parsed = parse(req.headers["x-session-token"]);
  const row = parsed ? whoamiQuery.get(parsed[0]) : undefined;
  const now = Date.now();
  if (!parsed || !row || !matches(parsed[1], row.secret_hash) || row.revoked_at !== null || row.expires_at <= now || row.state !== "active") {
    send(res, 401, UNAUTHORIZED);
    return;
  }
  send(
    res,
    200,
    JSON.stringify({
      id: row.id,
      active: true,
      expires_at: new Date(row.expires_at).toISOString(),
      authenticated_at: new Date(row.authenticated_at).toISOString(),
      issued_at: new Date(row.issued_at).toISOString(),
      identity: { id: row.identity_id, state: row.state, traits: row.username === null ? { email: row.email } : { email: row.email, username: row.username } },
    }),
  );
}

/** The request's body as text (at most 4 KiB; a larger one is cut off). */
function readBody(req: IncomingMessage, then: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > 4096) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => then(Buffer.concat(chunks).toString("utf8")));
}

/** The request's JSON body (at most 4 KiB), or undefined when it is not JSON. */
function readJson(req: IncomingMessage, then: (body: Record<string, unknown> | undefined) => void): void {
  readBody(req, (text) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    then(typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined);
  });
}

function logout(req: IncomingMessage, res: ServerResponse): void {
  readJson(req, (body) => {
    if (!body) {
      send(res, 400, JSON.stringify({ error: { code: 400 } }));
      return;
    }
    const token = body.session_token;
    const parsed = parse(token);
    const row = parsed ? secretQuery.get(parsed[0]) : undefined;
    if (!parsed || !row || !matches(parsed[1], row.secret_hash)) {
      send(res, 403, FORBIDDEN);
      return;
    }
    if (GROUP_COMMIT) {
      commitLater(parsed[0], () => send(res, 204, null));
      return;
    }
    // Autocommit: this statement is its own transaction, durable (fsync) before it returns.
    revoke.run(Date.now(), parsed[0]);
    send(res, 204, null);
  });
}

const GROUP_COMMIT = process.env.REF_GROUP_COMMIT === "1";
let queued: [string, () => void][] = [];
const revokeAll = db.transaction((ids: [string, () => void][], at: number) => {
  for (const [id] of ids) revoke.run(at, id);
});

/** R2g: revoke `id` in the next batch's transaction, then `answer`. */
function commitLater(id: string, answer: () => void): void {
  queued.push([id, answer]);
  if (queued.length > 1) return;
  setImmediate(() => {
    const batch = queued;
    queued = [];
    revokeAll(batch, Date.now());
    for (const [, done] of batch) done();
  });
}

/** A live session row for the token (not revoked, not expired), or undefined. */
function liveSession(parsed: [string, string] | null) {
  const row = parsed ? liveQuery.get(parsed[0]) : undefined;
  if (!parsed || !row || !matches(parsed[1], row.secret_hash) || row.revoked_at !== null || row.expires_at <= Date.now()) return undefined;
  return row;
}

const INVALID_JKEY = JSON.stringify({ status: "failed", code: "401", name: "INVALID_JKEY", error: { field: "jKey", message: "jKey parameter is invalid" } });
const FIRSTOCK_LOGGED_OUT = JSON.stringify({ status: "success", data: "Successfully logged out" });

function firstockLogout(req: IncomingMessage, res: ServerResponse): void {
  readJson(req, (body) => {
    const parsed = parse(body?.jKey);
    const row = liveSession(parsed);
    const userId = typeof body?.userId === "string" ? body.userId.toLowerCase() : null;
    if (!row || userId === null || (userId !== row.email.toLowerCase() && userId !== row.username?.toLowerCase())) {
      send(res, 401, INVALID_JKEY);
      return;
    }
    revoke.run(Date.now(), parsed![0]);
    send(res, 200, FIRSTOCK_LOGGED_OUT);
  });
}

const CSRF_SECRET = process.env.CURFEW_SECRET ?? "";
const NOT_LOGGED_IN = JSON.stringify({ errorcode: 401, message: "Not logged in" });
const INVALID_CSRF = JSON.stringify({ errorcode: 403, errorname: "InvalidCsrfTokenException", message: "Invalid CSRF token" });
const ASSETS_LOGGED_OUT = JSON.stringify({ logoutSuccess: true });

function authTokenCookie(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === "authToken") return part.slice(eq + 1).trim();
  }
  return null;
}

function assetsLogout(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on("end", () => {
    const parsed = parse(authTokenCookie(req.headers.cookie));
    if (!liveSession(parsed)) {
      send(res, 401, NOT_LOGGED_IN);
      return;
    }
    const expected = Buffer.from(createHmac("sha256", CSRF_SECRET).update("csrf:" + parsed![0]).digest("base64url"));
    const presented = Buffer.from(String(req.headers["x-csrf-token"] ?? ""));
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
      send(res, 403, INVALID_CSRF);
      return;
    }
    revoke.run(Date.now(), parsed![0]);
    res.setHeader("set-cookie", "authToken=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    send(res, 200, ASSETS_LOGGED_OUT);
  });
}

// ---- R3: the code exchange --------------------------------------------------------------------

const ISSUER = `http://127.0.0.1:${portArg}/`;
const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
const KID = "bench-reference";
const JWKS = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: "RS256", use: "sig" }] });

interface CodeRow {
  secret_hash: string;
  client_id: string;
  session_id: string;
  redirect_uri: string;
  scope: string;
  nonce: string | null;
  code_challenge: string | null;
  expires_at: number;
  used_at: number | null;
  identity_id: string;
  authenticated_at: number;
  session_expires_at: number;
  revoked_at: number | null;
  email: string;
  username: string | null;
  state: string;
}

const clientQuery = db.prepare<[string], { secret_hash: string | null }>(`SELECT secret_hash FROM oidc_clients WHERE client_id = ?`);
const codeQuery = db.prepare<[string], CodeRow>(
  `SELECT oidc_codes.secret_hash, oidc_codes.client_id, oidc_codes.session_id, oidc_codes.redirect_uri, oidc_codes.scope,
          oidc_codes.nonce, oidc_codes.code_challenge, oidc_codes.expires_at, oidc_codes.used_at,
          sessions.identity_id, sessions.authenticated_at, sessions.expires_at AS session_expires_at, sessions.revoked_at,
          identities.email, identities.username, identities.state
     FROM oidc_codes
     JOIN sessions ON sessions.id = oidc_codes.session_id
     JOIN identities ON identities.id = sessions.identity_id
    WHERE oidc_codes.id = ?`,
);
const redeem = db.prepare<[number, string]>(`UPDATE oidc_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`);

const INVALID_CLIENT = JSON.stringify({ error: "invalid_client", error_description: "Client authentication failed." });
const INVALID_GRANT = JSON.stringify({ error: "invalid_grant", error_description: "The code is invalid, expired or already used." });

function sendOAuth(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    pragma: "no-cache",
  });
  res.end(body);
}

/** The form body (at most 4 KiB). */
function readForm(req: IncomingMessage, then: (form: URLSearchParams) => void): void {
  readBody(req, (text) => then(new URLSearchParams(text)));
}

/** RFC 6749 §2.3.1: HTTP Basic with the form-encoded id and secret, or both in the body. */
function clientOf(req: IncomingMessage, form: URLSearchParams): [string, string] | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    try {
      return [decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " ")), decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "))];
    } catch {
      return null;
    }
  }
  const id = form.get("client_id");
  const secret = form.get("client_secret");
  return id !== null && secret !== null ? [id, secret] : null;
}

function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function tokenExchange(req: IncomingMessage, res: ServerResponse): void {
  readForm(req, (form) => {
    const client = clientOf(req, form);
    const app = client ? clientQuery.get(client[0]) : undefined;
    if (!client || !app || app.secret_hash === null || !matches(client[1], app.secret_hash)) {
      sendOAuth(res, 401, INVALID_CLIENT);
      return;
    }
    if (form.get("grant_type") !== "authorization_code") {
      sendOAuth(res, 400, JSON.stringify({ error: "unsupported_grant_type" }));
      return;
    }
    const parsed = parse(form.get("code"));
    const row = parsed ? codeQuery.get(parsed[0]) : undefined;
    const now = Date.now();
    const verifier = form.get("code_verifier");
    if (
      !parsed ||
      !row ||
      !matches(parsed[1], row.secret_hash) ||
      row.used_at !== null ||
      row.client_id !== client[0] ||
      row.expires_at <= now ||
      row.redirect_uri !== form.get("redirect_uri") ||
      row.code_challenge === null ||
      verifier === null ||
      !constantTimeEqual(createHash("sha256").update(verifier).digest("base64url"), row.code_challenge) ||
      row.revoked_at !== null ||
      row.session_expires_at <= now ||
      row.state !== "active"
    ) {
      sendOAuth(res, 400, INVALID_GRANT);
      return;
    }
    // Autocommit: its own transaction, durable (fsync) before it returns; 0 rows: used meanwhile.
    if (redeem.run(now, parsed[0]).changes !== 1) {
      sendOAuth(res, 400, INVALID_GRANT);
      return;
    }
    const iat = Math.floor(now / 1000);
    const scopes = new Set(row.scope.split(" "));
    const claims = {
      iss: ISSUER,
      sub: row.identity_id,
      aud: row.client_id,
      exp: iat + 3600,
      iat,
      auth_time: Math.floor(row.authenticated_at / 1000),
      ...(row.nonce !== null ? { nonce: row.nonce } : {}),
      sid: createHmac("sha256", CSRF_SECRET).update("sid:" + row.session_id).digest("base64url"),
      ...(scopes.has("email") ? { email: row.email } : {}),
      ...(scopes.has("profile") && row.username !== null ? { preferred_username: row.username } : {}),
    };
    new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: KID })
      .sign(privateKey)
      .then(
        (idToken) =>
          sendOAuth(
            res,
            200,
            JSON.stringify({
              access_token: `${randomUUID()}.${randomBytes(32).toString("base64url")}`,
              token_type: "Bearer",
              expires_in: 3600,
              scope: row.scope,
              id_token: idToken,
            }),
          ),
        () => sendOAuth(res, 500, JSON.stringify({ error: "server_error" })),
      );
  });
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (url === "/sessions/whoami" && req.method === "GET") return FULL_JSON ? fullWhoami(req, res) : whoami(req, res);
  if (url === "/self-service/logout/api" && req.method === "DELETE") return logout(req, res);
  if (url === "/api/V4/logout" && req.method === "POST") return firstockLogout(req, res);
  if (url === "/services/logout" && req.method === "POST") return assetsLogout(req, res);
  if (url === "/oauth/token" && req.method === "POST") return tokenExchange(req, res);
  if (url === "/.well-known/jwks.json") return send(res, 200, JWKS);
  if (url === "/health/alive") return send(res, 200, '{"status":"ok"}');
  send(res, 404, '{"error":{"code":404}}');
});
server.keepAliveTimeout = 5_000;
server.listen(Number(portArg), "127.0.0.1", () => console.log(`ready ${portArg}`));

const stop = () => server.close(() => {
  db.close();
  process.exit(0);
});
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
