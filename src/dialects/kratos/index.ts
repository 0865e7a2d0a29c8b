/**
 * The Ory Kratos door: Fastify plugins for the public and the admin API. Parse the wire, call
 * the core, map the outcome or error back to Kratos's wire (docs/dialects/kratos.md).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { adminGate } from "../../http/admin-key.ts";
import { logRequestFailure } from "../../http/request-failure.ts";
import { adminRoutes } from "./admin.ts";
import { auditRoutes } from "./audit.ts";
import { settingsRoutes } from "./settings.ts";
import type { KratosApp, KratosDoorOptions } from "./door.ts";
import { sendKratosError, toKratosError } from "./wire-errors.ts";
import { schemaRoutes } from "./identity-schema.ts";
import { flowErrorRoutes, forward } from "./browser.ts";
import { Redirect, flowRoutes } from "./flows.ts";
import { logoutRoutes } from "./logout.ts";
import { sessionRoutes } from "./sessions.ts";

export type { KratosDoorOptions } from "./door.ts";
export { ROUTES as KRATOS_ROUTES } from "./routes.ts";

/**
 * Kratos reads JSON (and, for browser forms, urlencoded) bodies only. Fastify's built-in
 * text/plain parser would hand a `text/plain` body to the route's schema and answer "body must be
 * object"; without it the request gets Kratos's content-type reason (D13, SEC-68).
 */
function acceptKratosBodiesOnly(app: KratosApp): void {
  app.removeContentTypeParser("text/plain");
}

export async function kratosPublic(app: KratosApp, door: KratosDoorOptions): Promise<void> {
  acceptKratosBodiesOnly(app);
  app.setErrorHandler(errorHandlerFor(door));
  app.setNotFoundHandler(notFoundFor(app));
  flowRoutes(app, door);
  logoutRoutes(app, door);
  flowErrorRoutes(app, door);
  sessionRoutes(app, door);
  settingsRoutes(app, door);
  schemaRoutes(app);
}

export async function kratosAdmin(app: KratosApp, door: KratosDoorOptions): Promise<void> {
  acceptKratosBodiesOnly(app);
  app.setErrorHandler(errorHandlerFor(door));
  app.setNotFoundHandler(notFoundFor(app));
  adminGate(app, door.adminKey, (request, reply, refusal) => sendKratosError(request, reply, { code: refusal.status, reason: refusal.reason }));
  adminRoutes(app, door);
  auditRoutes(app, door);
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * 404 for an unknown path; 405 with `Allow` for a known path asked with the wrong method
 * (SEC-69). Either way in the herodot envelope.
 */
function notFoundFor(app: KratosApp) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?", 1)[0] ?? "/";
    const allowed = METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
    if (allowed.length > 0) {
      reply.header("allow", allowed.join(", "));
      return sendKratosError(request, reply, { code: 405, message: `The method ${request.method.slice(0, 16)} is not allowed here.` });
    }
    return sendKratosError(request, reply, { code: 404, message: "The requested resource could not be found" });
  };
}

/**
 * Every failure leaves this door in the herodot envelope, never as a bare 500 (SEC-66): this
 * door's own refusals as built, core errors and request failures by their total maps, anything
 * else as a logged, generic 500. On the browser routes a browser is forwarded to the error page
 * instead, as Kratos's error forwarding does.
 */
function errorHandlerFor(door: KratosDoorOptions) {
  return async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof Redirect) return reply.code(303).header("location", error.location).send();
    const wire = toKratosError(error, request);
    logRequestFailure(request, error, wire.code);
    if ((request.routeOptions.config as { browser?: boolean } | undefined)?.browser) return forward(door, request, reply, wire);
    return sendKratosError(request, reply, wire);
  };
}

/** For the listeners Kratos owns: a request too malformed to route still gets the herodot envelope. */
export function kratosMalformedRequest(request: FastifyRequest, reply: FastifyReply): void {
  void sendKratosError(request, reply, { code: 400, reason: "The request URL is malformed." });
}
