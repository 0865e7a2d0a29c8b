/**
 * The OpenID Connect door's admin routes, on the admin listener: the back-channel outbox as an
 * operator needs it (which app was told, which was not, and why), and a retry. Errors are the
 * OAuth envelope `{error, error_description}`, as the rest of this door's JSON.
 */
import type { FastifyError } from "fastify";
import { Type } from "typebox";
import type { BackchannelDelivery } from "../../core/model.ts";
import { adminKeyChecker } from "../../http/admin-key.ts";
import { logRequestFailure } from "../../http/request-failure.ts";
import type { OidcApp, OidcDoorOptions } from "./door.ts";
import { ADMIN_ROUTES } from "./routes.ts";
import { OAuthError } from "./wire.ts";
import { sendOAuthError, toOAuthFailure } from "./wire-errors.ts";

export interface OidcAdminOptions extends Pick<OidcDoorOptions, "core"> {
  /** When set, every admin call needs `Authorization: Bearer <key>`. */
  adminKey: string | null;
}

const Delivery = Type.Object({
  id: Type.String(),
  session_id: Type.String(),
  identity_id: Type.String(),
  client_id: Type.String(),
  uri: Type.String(),
  reason: Type.String(),
  status: Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed"), Type.Literal("cancelled")]),
  attempts: Type.Integer(),
  next_attempt_at: Type.String(),
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export function deliveryJson(d: BackchannelDelivery) {
  return {
    id: d.id,
    session_id: d.sessionId,
    identity_id: d.identityId,
    client_id: d.clientId,
    uri: d.uri,
    reason: d.reason,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt.toISOString(),
    last_status: d.lastStatus,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

export async function oidcAdmin(app: OidcApp, options: OidcAdminOptions): Promise<void> {
  const { core } = options;
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const failure = toOAuthFailure(error, request);
    logRequestFailure(request, error, failure.status);
    return sendOAuthError(reply, failure);
  });
  if (options.adminKey !== null) {
    const keyMatches = adminKeyChecker(options.adminKey);
    app.addHook("onRequest", async (request, reply) => {
      if (!keyMatches(request.headers.authorization)) {
        reply.header("www-authenticate", 'Bearer realm="curfew-admin"');
        return sendOAuthError(reply, { status: 401, error: "invalid_token", description: "The admin API requires Authorization: Bearer <admin key>." });
      }
    });
  }

  app.get(
    ADMIN_ROUTES.listDeliveries,
    {
      schema: {
        operationId: "listBackchannelDeliveries",
        tags: ["oidc"],
        summary: "Back-channel logout notices, newest first",
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed"), Type.Literal("cancelled")])),
            client_id: Type.Optional(Type.String({ maxLength: 255 })),
            session_id: Type.Optional(Type.String({ maxLength: 64 })),
            page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 250 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Delivery), 400: OAuthError, 401: OAuthError, 503: OAuthError },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const rows = await core.deliveries.list({
        limit: q.page_size ?? 250,
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.client_id !== undefined ? { clientId: q.client_id } : {}),
        ...(q.session_id !== undefined ? { sessionId: q.session_id } : {}),
      });
      return reply.send(rows.map(deliveryJson));
    },
  );

  app.post(
    ADMIN_ROUTES.retryDelivery,
    {
      schema: {
        operationId: "retryBackchannelDelivery",
        tags: ["oidc"],
        summary: "Send a failed or pending notice again now (with a fresh logout token)",
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), 404: OAuthError, 401: OAuthError, 503: OAuthError },
      },
    },
    async (request, reply) => {
      if (!(await core.deliveries.retry(request.params.id))) {
        return sendOAuthError(reply, { status: 404, error: "invalid_request", description: "No delivery of that id is waiting to be sent." });
      }
      return reply.code(204).send(null);
    },
  );
}
