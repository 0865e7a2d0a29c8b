/** What the core wants to know about a request's origin (device capture, throttling). */
import type { FastifyRequest } from "fastify";
import type { Door } from "../core/model.ts";
import type { RequestOrigin } from "../core/sessions.ts";

const MAX_USER_AGENT = 512;

/**
 * The client IP is the socket's peer, never a forwarded header: `X-Forwarded-For` from the
 * internet is attacker-chosen (SEC-61). Behind a proxy, set Fastify's trustProxy (not yet
 * configurable; docs/adr/0006-login-throttling.md).
 */
export function requestOrigin(request: FastifyRequest, door: Door): RequestOrigin {
  const ua = request.headers["user-agent"];
  return {
    door,
    ipAddress: request.ip ?? null,
    userAgent: typeof ua === "string" ? ua.slice(0, MAX_USER_AGENT) : null,
  };
}
