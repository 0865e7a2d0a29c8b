/**
 * The Ory Kratos door: Fastify plugins for the public and the admin API. Parse the wire, call
 * the core, map the outcome or error back to Kratos's wire (research/kratos.md).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { isCoreError } from "../../core/errors.ts";
import { adminKeyChecker } from "../../http/admin-key.ts";
import { BodyError } from "../../http/json-body.ts";
import { adminRoutes } from "./admin.ts";
import type { KratosApp, KratosDoorOptions } from "./door.ts";
import { type KratosError, KratosWireError, fromCoreError, sendKratosError } from "./errors.ts";
import { schemaRoutes } from "./identity-schema.ts";
import { flowErrorRoutes, forward } from "./browser.ts";
import { Redirect, flowRoutes } from "./flows.ts";
import { logoutRoutes } from "./logout.ts";
import { sessionRoutes } from "./sessions.ts";

export type { KratosDoorOptions } from "./door.ts";

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
  schemaRoutes(app);
}

export async function kratosAdmin(app: KratosApp, door: KratosDoorOptions): Promise<void> {
  acceptKratosBodiesOnly(app);
  app.setErrorHandler(errorHandlerFor(door));
  app.setNotFoundHandler(notFoundFor(app));
  if (door.adminKey !== null) {
    const keyMatches = adminKeyChecker(door.adminKey);
    app.addHook("onRequest", async (request, reply) => {
      if (!keyMatches(request.headers.authorization)) {
        reply.header("www-authenticate", 'Bearer realm="curfew-admin"');
        return sendKratosError(request, reply, { code: 401, reason: "The admin API requires Authorization: Bearer <admin key>." });
      }
    });
  }
  adminRoutes(app, door);
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

const BODY_REASONS: Record<BodyError["problem"], string> = {
  empty: 'Unable to decode HTTP Request Body because its HTTP Header "Content-Length" is zero.',
  malformed: "Unable to decode JSON payload: the request body is not valid JSON.",
  duplicate_key: "Unable to decode JSON payload: a key appears more than once.",
  forbidden_key: "Unable to decode JSON payload: the body uses a forbidden key.",
  too_deep: "Unable to decode JSON payload: the body is nested too deeply.",
  charset: "Unable to decode JSON payload: only UTF-8 is supported.",
  encoding: "Unable to decode HTTP Request Body: a Content-Encoding is not supported; send it uncompressed.",
};

/**
 * Every failure leaves this door in the herodot envelope, never as a bare 500 (SEC-66):
 * core errors by the total map, wire errors as built, Fastify's own (validation, body size,
 * media type) with Kratos's reasons, anything else as a logged, generic 500. On the browser
 * routes a browser is forwarded to the error page instead (research/kratos.md §1.4).
 */
function errorHandlerFor(door: KratosDoorOptions) {
  return async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof Redirect) return reply.code(303).header("location", error.location).send();
    const wire = toKratosError(error, request);
    if (wire.code >= 500 && !isCoreError(error)) request.log.error({ err: error }, "unhandled error");
    if (isCoreError(error, "STORE_UNAVAILABLE")) request.log.error({ err: error.cause }, "store unavailable");
    if ((request.routeOptions.config as { browser?: boolean } | undefined)?.browser) return forward(door, request, reply, wire);
    return sendKratosError(request, reply, wire);
  };
}

function toKratosError(error: FastifyError, request: FastifyRequest): KratosError {
  if (error instanceof KratosWireError) return error.wire;
  if (isCoreError(error)) return fromCoreError(error);
  if (error instanceof BodyError) return { code: error.problem === "charset" || error.problem === "encoding" ? 415 : 400, reason: BODY_REASONS[error.problem] };
  if (error.validation) {
    return { code: 400, reason: `${error.validationContext ?? "request"} ${error.message.replace(/^[a-z]+\/?/, "")}`.trim() };
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { code: 413, reason: "The request body is larger than this server accepts." };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      // D13: Kratos answers a wrong content type with 400 and this reason.
      return {
        code: 400,
        reason: `HTTP ${request.method} Request used unknown HTTP Header "Content-Type: ${String(request.headers["content-type"] ?? "").slice(0, 64)}", only [application/json, application/x-www-form-urlencoded] are supported.`,
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: 400, reason: BODY_REASONS.empty };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { code: status, reason: error.message };
  return { code: 500 };
}

/** For the listeners Kratos owns: a request too malformed to route still gets the herodot envelope. */
export function kratosMalformedRequest(request: FastifyRequest, reply: FastifyReply): void {
  void sendKratosError(request, reply, { code: 400, reason: "The request URL is malformed." });
}
