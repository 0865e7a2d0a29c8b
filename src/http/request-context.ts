/** What the core wants to know about a request's origin (device capture, throttling). */
import type { FastifyRequest } from "fastify";
import type { Door } from "../core/model.ts";
import type { RequestOrigin } from "../core/sessions.ts";

const MAX_USER_AGENT = 512;

/**
 * The client IP is Fastify's `request.ip`: the socket's peer, unless the peer is a proxy listed in
 * `serve.public.trust_proxy`, whose `X-Forwarded-For` then names the client. From anyone else that
 * header is attacker-chosen and ignored (SEC-61).
 */
export function requestOrigin(request: FastifyRequest, door: Door): RequestOrigin {
  const ua = request.headers["user-agent"];
  return {
    door,
    ipAddress: request.ip ?? null,
    userAgent: typeof ua === "string" ? ua.slice(0, MAX_USER_AGENT) : null,
  };
}
