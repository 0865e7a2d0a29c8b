/**
 * CORS for single-page apps on other origins (`serve.public.cors.allowed_origins`), so Ory's SDK
 * can run in a browser page with `credentials: "include"`. Only listed origins get CORS headers,
 * and only they may send credentials; every other origin gets none (the browser then withholds
 * the response). The headers match what Kratos allows by default (its `serve.public.cors` defaults).
 */
import type { FastifyInstance } from "fastify";

const ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS = "Authorization, Content-Type, X-Session-Token, X-CSRF-Token, X-Request-Id, Accept";
const EXPOSE_HEADERS = "Content-Type, Set-Cookie, Link, X-Total-Count, Ory-Error-Id, X-Kratos-Authenticated-Identity-Id";

export function cors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  if (allowedOrigins.length === 0) return;
  const allowed = new Set(allowedOrigins);
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    reply.header("vary", "Origin");
    if (typeof origin !== "string" || !allowed.has(origin)) return;
    reply.header("access-control-allow-origin", origin);
    reply.header("access-control-allow-credentials", "true");
    reply.header("access-control-expose-headers", EXPOSE_HEADERS);
    if (request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined) {
      // A preflight: answered here, before routing, so no door ever sees it.
      reply.header("access-control-allow-methods", ALLOW_METHODS);
      reply.header("access-control-allow-headers", ALLOW_HEADERS);
      reply.header("access-control-max-age", "600");
      return reply.code(204).send();
    }
  });
}
