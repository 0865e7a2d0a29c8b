/**
 * The caller's own sessions: whoami, list, revoke one, revoke all others
 * (Kratos `toSession`, `listMySessions`, `disableMySession`, `disableMyOtherSessions`). Any Curfew
 * session token works here, whichever door began it.
 */
import { SESSION_SECURITY } from "../../http/app.ts";
import { Type } from "typebox";
import type { AuthenticatedSession } from "../../core/model.ts";
import { isUuid } from "../../core/tokens.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { logRefusal } from "../../http/security-log.ts";
import { presentedToken, type PresentedToken } from "./credentials.ts";
import { type FastifyRequest, type KratosApp, type KratosDoorOptions, ownSessionView, pageSizeOf, paginate, SELF } from "./door.ts";
import { CANNOT_REVOKE_CURRENT_SESSION, CORE_ERRORS, CSRF_VIOLATION, type KratosError, KratosWireError, sendKratosError } from "./wire-errors.ts";
import { ROUTES } from "./routes.ts";
import * as W from "./wire.ts";

/** whoami's 401 carries no error id, unlike Kratos's other 401s: a Kratos surprise kept as is. */
const WHOAMI_UNAUTHORIZED: KratosError = { code: 401, reason: "No valid session credentials found in the request." };
/** The session-list endpoints' 401, in Kratos's words. */
const MY_SESSIONS_UNAUTHORIZED: KratosError = { code: 401, reason: "No valid session cookie found." };

const PageQuery = Type.Object({
  page_size: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
  per_page: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
  page_token: Type.Optional(Type.String({ maxLength: 512 })),
  page: Type.Optional(Type.String({ pattern: "^[0-9]{1,6}$" })),
});


const ERRORS = { 400: W.GenericError, 401: W.GenericError, 403: W.GenericError, 404: W.GenericError, 503: W.GenericError };

export function sessionRoutes(app: KratosApp, door: KratosDoorOptions): void {
  const { core } = door;

  async function authenticate(
    request: FastifyRequest,
    unauthorized: KratosError,
  ): Promise<{ auth: AuthenticatedSession; token: PresentedToken }> {
    const token = presentedToken(request);
    const auth = token ? await core.sessions.findLive(token.token) : null;
    if (!token || !auth) throw new KratosWireError(unauthorized);
    return { auth, token };
  }

  /**
   * D12: the SDK calls DELETE /sessions and /sessions/{id} without a CSRF token, so a
   * cookie-authenticated call must at least prove it comes from our own pages. Token callers
   * carry no ambient credential and need no such proof.
   */
  function refuseCrossSite(request: FastifyRequest, token: PresentedToken): void {
    if (token.source === "cookie" && isCrossSite(request.headers, door.ownOrigins)) {
      logRefusal(request, "csrf.refused", "kratos");
      throw new KratosWireError(CSRF_VIOLATION);
    }
  }

  app.route({
    method: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    url: ROUTES.toSession,
    schema: {
      operationId: "toSession", security: SESSION_SECURITY,
      tags: ["frontend"],
      summary: "Check who the current session belongs to",
      description:
        "Accepts `X-Session-Token`, the `ory_kratos_session` cookie or `Authorization: Bearer`, in that order. 401 for anything but a live session; 503 when the store cannot answer (never a pass).",
      response: { 200: W.Session, ...ERRORS },
    },
    handler: async (request, reply) => {
      const { auth } = await authenticate(request, WHOAMI_UNAUTHORIZED);
      reply.header("x-kratos-authenticated-identity-id", auth.identity.id);
      return reply.send(ownSessionView(door, auth));
    },
  });

  app.get(
    ROUTES.listMySessions,
    {
      schema: {
        operationId: "listMySessions", security: SESSION_SECURITY,
        tags: ["frontend"],
        summary: "List the caller's other live sessions",
        querystring: PageQuery,
        response: { 200: W.SessionList, ...ERRORS },
      },
    },
    async (request, reply) => {
      const { auth } = await authenticate(request, MY_SESSIONS_UNAUTHORIZED);
      const pageSize = pageSizeOf(request.query);
      const filter = { identityId: auth.identity.id, active: true, exceptSessionId: auth.session.id };
      const page = await core.sessions.list({ ...filter, limit: pageSize, ...(request.query.page_token ? { cursor: request.query.page_token } : {}) });
      paginate(reply, door, ROUTES.listMySessions, pageSize, page.next, await core.sessions.count(filter));
      return reply.send(page.items.map((session) => ownSessionView(door, { session, identity: auth.identity })));
    },
  );

  app.delete(
    ROUTES.listMySessions,
    {
      schema: {
        operationId: "disableMyOtherSessions", security: SESSION_SECURITY,
        tags: ["frontend"],
        summary: "End every other session of the caller",
        response: { 200: Type.Object({ count: Type.Integer() }), ...ERRORS },
      },
    },
    async (request, reply) => {
      const { auth, token } = await authenticate(request, MY_SESSIONS_UNAUTHORIZED);
      refuseCrossSite(request, token);
      const { ended } = await core.logout({ kind: "others", of: auth.session }, "revoked_by_user", SELF);
      return reply.send({ count: ended.length });
    },
  );

  app.delete(
    ROUTES.disableMySession,
    {
      schema: {
        operationId: "disableMySession", security: SESSION_SECURITY,
        tags: ["frontend"],
        summary: "End one of the caller's other sessions",
        description: "204 whether or not the id named a session of the caller (Kratos never reveals which). The current session cannot be ended here: use logout.",
        params: W.UuidParam,
        response: { 204: Type.Null(), ...ERRORS },
      },
    },
    async (request, reply) => {
      const { auth, token } = await authenticate(request, MY_SESSIONS_UNAUTHORIZED);
      if (!isUuid(request.params.id)) {
        return sendKratosError(request, reply, { code: 400, message: `invalid UUID: ${request.params.id.slice(0, 64)}` });
      }
      refuseCrossSite(request, token);
      if (request.params.id === auth.session.id) return sendKratosError(request, reply, CANNOT_REVOKE_CURRENT_SESSION);
      // Only a session of the caller's own identity; any other id changes nothing and answers the same.
      await core.logout({ kind: "session", sessionId: request.params.id, ownerId: auth.identity.id }, "revoked_by_user", SELF);
      return reply.code(204).send(null);
    },
  );

  // Extending is an admin operation; Kratos answers 404 here, and not a CSRF error (K-47).
  // Not in the OpenAPI document: it does nothing but refuse, and is here only so that the refusal is Kratos's.
  app.patch(ROUTES.publicExtendSession, { schema: { hide: true } }, async (request, reply) =>
    sendKratosError(request, reply, CORE_ERRORS.SESSION_NOT_FOUND()),
  );
}
