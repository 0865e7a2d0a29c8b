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

export function cors(app: FastifyInstance, allowedOrigins: readonly string[], except: readonly string[] = []): void {
  if (allowedOrigins.length === 0) return;
  const allowed = new Set(allowedOrigins);
  const skipped = new Set(except);
  app.addHook("onRequest", async (request, reply) => {
    if (skipped.has(pathOf(request.url))) return;
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

/**
 * The policy of the endpoints relying apps' pages call (the token, revocation and userinfo
 * endpoints of single sign-on): no cookies, so no credentials; a preflight from any origin some
 * app lists in its `web_origins` is answered here, and the handler, once it knows which app is
 * calling, lets the page read the answer only if its origin is that app's. The headers allowed
 * are what auth0-spa-js sends: `Content-Type` and its telemetry header `Auth0-Client`.
 */
export function appCors(app: FastifyInstance, paths: readonly string[], appOrigins: () => Promise<ReadonlySet<string>>): void {
  const covered = new Set(paths);
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "OPTIONS" || !covered.has(pathOf(request.url))) return;
    const origin = request.headers.origin;
    if (typeof origin !== "string" || request.headers["access-control-request-method"] === undefined) return;
    reply.header("vary", "Origin");
    if ((await appOrigins()).has(origin)) {
      reply.header("access-control-allow-origin", origin);
      reply.header("access-control-allow-methods", "GET, POST");
      reply.header("access-control-allow-headers", "Authorization, Content-Type, Auth0-Client");
      reply.header("access-control-max-age", "600");
    }
    return reply.code(204).send();
  });
}

function pathOf(url: string): string {
  return url.split("?", 1)[0] ?? "/";
}
