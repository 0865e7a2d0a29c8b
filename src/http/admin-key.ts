/**
 * The admin listener's gate: with `serve.admin.key` set, every admin call needs
 * `Authorization: Bearer <key>`, compared in constant time. Without a key the listener is bound
 * to loopback (the configuration refuses anything else), and answers only requests addressed to
 * a loopback name (`addressedToLoopback`).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { logRefusal } from "./security-log.ts";

export function adminKeyChecker(key: string): (authorization: string | undefined) => boolean {
  // Hash both sides so the comparison takes the same time whatever the presented length.
  const expected = createHash("sha256").update(key).digest();
  return (authorization) => {
    if (typeof authorization !== "string" || !authorization.toLowerCase().startsWith("bearer ")) return false;
    const presented = createHash("sha256").update(authorization.slice(7).trim()).digest();
    return timingSafeEqual(expected, presented);
  };
}

/**
 * SEC-100: without a key, loopback is the admin API's only protection, and a browser can be
 * brought to loopback. DNS rebinding points a page's own host name at 127.0.0.1, so its scripts
 * call the admin API as their own origin, with no CORS in the way. Such requests still name that
 * host in `Host`, so a keyless admin call must name 127.0.0.0/8, ::1 or localhost (any port).
 */
export function addressedToLoopback(host: string | undefined): boolean {
  if (typeof host !== "string" || host === "") return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.[0-9]{1,3}){3}$/.test(hostname);
}

const NOT_LOOPBACK = "Without an admin key, the admin API answers only requests addressed to 127.0.0.1, [::1] or localhost.";

/** An admin refusal, for a door to say in its own envelope. */
export interface AdminRefusal {
  status: 401 | 403;
  reason: string;
}

/**
 * The gate on an admin door's plugin: with a key, a request without it is refused 401 (the door
 * adds nothing but its envelope; `WWW-Authenticate` is set here); without one, a request not
 * addressed to loopback is refused 403 (SEC-100). One gate for every admin door.
 */
export function adminGate(
  app: FastifyInstance,
  adminKey: string | null,
  refuse: (request: FastifyRequest, reply: FastifyReply, refusal: AdminRefusal) => FastifyReply,
): void {
  const keyMatches = adminKey === null ? null : adminKeyChecker(adminKey);
  app.addHook("onRequest", async (request, reply) => {
    if (keyMatches === null) {
      if (!addressedToLoopback(request.headers.host)) {
        logRefusal(request, "admin.refused", "admin");
        return refuse(request, reply, { status: 403, reason: NOT_LOOPBACK });
      }
    } else if (!keyMatches(request.headers.authorization)) {
      logRefusal(request, "admin.refused", "admin");
      reply.header("www-authenticate", 'Bearer realm="curfew-admin"');
      return refuse(request, reply, { status: 401, reason: "The admin API requires Authorization: Bearer <admin key>." });
    }
  });
}
