/**
 * The bench's PostgreSQL reference (D20: measured in the same run, on the same database and
 * schema as Curfew): a bare `node:http` server with `pg`, no framework.
 *
 *   R4  GET /sessions/whoami            X-Session-Token `id.secret` → one indexed SELECT
 *       (sessions JOIN identities, by primary key) on a pool of 10, constant-time hash check,
 *       the same JSON as R1, or 401.
 *   R5  DELETE /self-service/logout/api {"session_token": …} → one indexed SELECT of the secret
 *       hash and its check, then group commit: the logouts that arrive while a commit is in
 *       flight are written together in the next transaction (one `UPDATE … WHERE id = ANY($2)`,
 *       one COMMIT, so one WAL flush for them all), on a connection of its own; each is answered
 *       204 after the commit that holds it.
 *
 * Usage: node --import tsx bench/pg-reference-server.ts <postgres url[?schema=…]> <port>
 * Prints "ready <port>" once listening. Listens on 127.0.0.1 only.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import pg from "pg";

const [urlArg, portArg] = process.argv.slice(2);
if (!urlArg || !portArg) {
  console.error("usage: pg-reference-server.ts <postgres url> <port>");
  process.exit(2);
}
const url = new URL(urlArg);
const schema = url.searchParams.get("schema");
url.searchParams.delete("schema");
const settings: pg.PoolConfig = { connectionString: url.href, ...(schema ? { options: `-c search_path=${schema}` } : {}) };
const reads = new pg.Pool({ ...settings, max: 10 });
const writer = new pg.Client(settings);

interface WhoamiRow {
  id: string;
  identity_id: string;
  secret_hash: string;
  issued_at: string;
  authenticated_at: string;
  expires_at: string;
  revoked_at: string | null;
  email: string;
  username: string | null;
  state: string;
}

const WHOAMI: pg.QueryConfig = {
  name: "whoami",
  text: `SELECT sessions.id, sessions.identity_id, sessions.secret_hash, sessions.issued_at,
                sessions.authenticated_at, sessions.expires_at, sessions.revoked_at,
                identities.email, identities.username, identities.state
           FROM sessions JOIN identities ON identities.id = sessions.identity_id
          WHERE sessions.id = $1`,
};
const SECRET: pg.QueryConfig = { name: "secret", text: "SELECT secret_hash FROM sessions WHERE id = $1" };

function parse(token: unknown): [string, string] | null {
  if (typeof token !== "string" || token.length !== 80 || token.charCodeAt(36) !== 46) return null;
  return [token.slice(0, 36), token.slice(37)];
}

function matches(secret: string, storedHash: string): boolean {
  const presented = createHash("sha256").update(secret).digest();
  const stored = Buffer.from(storedHash, "base64url");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

function send(res: ServerResponse, status: number, body: string | null): void {
  if (body === null) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const UNAUTHORIZED = JSON.stringify({ error: { code: 401, status: "Unauthorized" } });

async function whoami(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = parse(req.headers["x-session-token"]);
  const row = parsed ? (await reads.query<WhoamiRow>({ ...WHOAMI, values: [parsed[0]] })).rows[0] : undefined;
  if (!parsed || !row || !matches(parsed[1], row.secret_hash) || row.revoked_at !== null || Number(row.expires_at) <= Date.now() || row.state !== "active") {
    send(res, 401, UNAUTHORIZED);
    return;
  }
  send(
    res,
    200,
    JSON.stringify({
      id: row.id,
      active: true,
      expires_at: new Date(Number(row.expires_at)).toISOString(),
      authenticated_at: new Date(Number(row.authenticated_at)).toISOString(),
      issued_at: new Date(Number(row.issued_at)).toISOString(),
      identity: { id: row.identity_id, state: row.state, traits: row.username === null ? { email: row.email } : { email: row.email, username: row.username } },
    }),
  );
}

let queued: [string, () => void, (e: unknown) => void][] = [];
let committing = false;

/** R5: revoke `id` in the next batch, which starts as soon as the commit in flight is done. */
function commitLater(id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    queued.push([id, resolve, reject]);
    if (!committing) void flush();
  });
}

async function flush(): Promise<void> {
  committing = true;
  while (queued.length > 0) {
    const batch = queued;
    queued = [];
    try {
      await writer.query("BEGIN");
      await writer.query("UPDATE sessions SET revoked_at = $1, revoked_reason = 'logout' WHERE id = ANY($2) AND revoked_at IS NULL", [
        Date.now(),
        batch.map(([id]) => id),
      ]);
      await writer.query("COMMIT");
      for (const [, done] of batch) done();
    } catch (error) {
      await writer.query("ROLLBACK").catch(() => {});
      for (const [, , fail] of batch) fail(error);
    }
  }
  committing = false;
}

function logout(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    let token: unknown;
    try {
      token = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { session_token?: unknown }).session_token;
    } catch {
      send(res, 400, JSON.stringify({ error: { code: 400 } }));
      return;
    }
    const parsed = parse(token);
    try {
      const row = parsed ? (await reads.query<{ secret_hash: string }>({ ...SECRET, values: [parsed[0]] })).rows[0] : undefined;
      if (!parsed || !row || !matches(parsed[1], row.secret_hash)) {
        send(res, 403, JSON.stringify({ error: { code: 403, status: "Forbidden" } }));
        return;
      }
      await commitLater(parsed[0]);
      send(res, 204, null);
    } catch {
      send(res, 503, JSON.stringify({ error: { code: 503 } }));
    }
  });
}

const server = createServer((req, res) => {
  const path = req.url ?? "/";
  if (path === "/sessions/whoami" && req.method === "GET") {
    whoami(req, res).catch(() => send(res, 503, JSON.stringify({ error: { code: 503 } })));
    return;
  }
  if (path === "/self-service/logout/api" && req.method === "DELETE") return logout(req, res);
  if (path === "/health/alive") return send(res, 200, '{"status":"ok"}');
  send(res, 404, '{"error":{"code":404}}');
});
server.keepAliveTimeout = 5_000;
await writer.connect();
server.listen(Number(portArg), "127.0.0.1", () => console.log(`ready ${portArg}`));

const stop = () =>
  server.close(() => {
    void Promise.all([reads.end(), writer.end()]).then(() => process.exit(0));
  });
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
