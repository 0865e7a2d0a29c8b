/**
 * The bench's references (D20: measured in the same run, on the same SQLite file): a bare
 * `node:http` server with better-sqlite3 and prepared statements, no framework.
 *
 *   R1  GET /sessions/whoami            X-Session-Token `id.secret` → one indexed lookup
 *       (sessions JOIN identities), constant-time hash check, 200 JSON or 401.
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
 *
 * Usage: CURFEW_SECRET=… node --import tsx bench/reference-server.ts <sqlite file> <port>
 * Prints "ready <port>" once listening. Listens on 127.0.0.1 only.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
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

/** The request's JSON body (at most 4 KiB), or undefined when it is not JSON. */
function readJson(req: IncomingMessage, then: (body: Record<string, unknown> | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > 4096) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
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
    // Autocommit: this statement is its own transaction, durable (fsync) before it returns.
    revoke.run(Date.now(), parsed[0]);
    send(res, 204, null);
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

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (url === "/sessions/whoami" && req.method === "GET") return whoami(req, res);
  if (url === "/self-service/logout/api" && req.method === "DELETE") return logout(req, res);
  if (url === "/api/V4/logout" && req.method === "POST") return firstockLogout(req, res);
  if (url === "/services/logout" && req.method === "POST") return assetsLogout(req, res);
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
