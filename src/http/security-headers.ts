/**
 * Headers on every response (SEC-11, SEC-71): nothing Curfew says about a session may be cached,
 * sniffed, framed or leak a URL through Referer. Built once; set on every request.
 */
import type { FastifyInstance } from "fastify";

export function securityHeaders(app: FastifyInstance, https: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    // Kratos sends this on every GET (ory/x NoCacheNegroni); we send it on every response.
    "cache-control": "private, no-cache, no-store, must-revalidate",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
  };
  if (https) headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
  app.addHook("onRequest", async (_request, reply) => {
    reply.headers(headers);
  });
  return headers;
}
