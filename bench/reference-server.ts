/**
 * The bench's references (D20: measured in the same run, on the same SQLite file): a bare
 * `node:http` server with better-sqlite3 and prepared statements, no framework.
 *
 *   R1  GET /sessions/whoami            X-Session-Token `id.secret` → one indexed lookup
 *       (sessions JOIN identities), constant-time hash check, 200 JSON or 401.
 *   R2  DELETE /self-service/logout/api {"session_token": …} → the same lookup and check, then
 *       one UPDATE committed on its own with synchronous=FULL (one fsync per logout), 204.
 *
 * Usage: node --import tsx bench/reference-server.ts <sqlite file> <port>
 * Prints "ready <port>" once listening. Listens on 127.0.0.1 only.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import Database from "better-sqlite3";

const [file, portArg] = process.argv.slice(2);
if (!file || !portArg) {
  console.error("usage: reference-server.ts <sqlite file> <port>");
  process.exit(2);
}

const db = new Database(file);
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

function logout(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > 4096) req.destroy();
    else chunks.push(chunk);
  });
  req.on("end", () => {
    let token: unknown;
    try {
      token = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { session_token?: unknown }).session_token;
    } catch {
      send(res, 400, JSON.stringify({ error: { code: 400 } }));
      return;
    }
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

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (url === "/sessions/whoami" && req.method === "GET") return whoami(req, res);
  if (url === "/self-service/logout/api" && req.method === "DELETE") return logout(req, res);
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
