/**
 * The OpenID Connect door's admin routes, on the admin listener: the relying apps (RFC 7591
 * metadata names, RFC 7592-like read, replace and delete), and the back-channel outbox as an
 * operator needs it (which app was told, which was not, and why), with a retry. Errors are the
 * OAuth envelope `{error, error_description}`, as the rest of this door's JSON.
 */
import type { FastifyError, FastifyReply } from "fastify";
import { Type } from "typebox";
import { OidcClient } from "../../config/schema.ts";
import type { AppChangeRefusal } from "../../core/relying-apps.ts";
import type { BackchannelDelivery, RelyingApp } from "../../core/model.ts";
import { adminGate } from "../../http/admin-key.ts";
import { logRequestFailure } from "../../http/request-failure.ts";
import type { OidcApp, OidcDoorOptions } from "./door.ts";
import { ADMIN_ROUTES } from "./routes.ts";
import { OAuthError } from "./wire.ts";
import { type OAuthFailure, sendOAuthError, toOAuthFailure } from "./wire-errors.ts";

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

/**
 * What the admin API takes: configuration's fields less the secret (generated). The id is
 * optional in both: generated on create; on replace it is the path's, and may be repeated in the
 * body as RFC 7592 §2.2 has clients send it.
 */
const { client_id: ClientId, client_secret: _secret, ...metadataFields } = OidcClient.properties;
const ClientBody = Type.Object({ ...metadataFields, client_id: Type.Optional(ClientId) }, { additionalProperties: false });
const OptionalUri = Type.Optional(Type.String());
const Client = Type.Object({
  client_id: Type.String(),
  /** Only in the answer to POST: shown once, kept as its hash (D1). */
  client_secret: Type.Optional(Type.String()),
  token_endpoint_auth_method: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  allowed_logout_urls: Type.Array(Type.String()),
  web_origins: Type.Array(Type.String()),
  backchannel_logout_uri: OptionalUri,
  backchannel_logout_session_required: Type.Boolean(),
  frontchannel_logout_uri: OptionalUri,
  frontchannel_logout_session_required: Type.Boolean(),
  source: Type.Union([Type.Literal("config"), Type.Literal("admin")]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const ClientPath = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });
const CLIENT_ERRORS = { 400: OAuthError, 401: OAuthError, 404: OAuthError, 409: OAuthError, 413: OAuthError, 415: OAuthError, 503: OAuthError };

export function clientJson(a: RelyingApp, secret: string | null = null) {
  return {
    client_id: a.clientId,
    ...(secret !== null ? { client_secret: secret } : {}),
    token_endpoint_auth_method: a.authMethod,
    redirect_uris: [...a.redirectUris],
    post_logout_redirect_uris: [...a.postLogoutRedirectUris],
    allowed_logout_urls: [...a.allowedLogoutUrls],
    web_origins: [...a.webOrigins],
    ...(a.backchannelLogoutUri !== null ? { backchannel_logout_uri: a.backchannelLogoutUri } : {}),
    backchannel_logout_session_required: a.backchannelLogoutSessionRequired,
    ...(a.frontchannelLogoutUri !== null ? { frontchannel_logout_uri: a.frontchannelLogoutUri } : {}),
    frontchannel_logout_session_required: a.frontchannelLogoutSessionRequired,
    source: a.source,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

/** A refused app change on the wire: RFC 7591 §3.2.2 codes for bad metadata, 409 for what is not this API's to change. */
function refusal(r: AppChangeRefusal, clientId: string | undefined): OAuthFailure {
  switch (r.refused) {
    case "invalid":
      return {
        status: 400,
        error: r.problems.every((p) => p.startsWith("redirect_uris:")) ? "invalid_redirect_uri" : "invalid_client_metadata",
        description: r.problems.join("; "),
      };
    case "exists":
      return { status: 409, error: "invalid_client_metadata", description: `An app with client_id ${JSON.stringify(clientId)} exists already.` };
    case "configured":
      return { status: 409, error: "invalid_request", description: `The app ${JSON.stringify(clientId)} is defined in configuration (oidc.clients); change it there.` };
    case "not_found":
      return { status: 404, error: "invalid_request", description: `There is no app with client_id ${JSON.stringify(clientId)}.` };
  }
}

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
  adminGate(app, options.adminKey, (_request, reply, refusal) =>
    sendOAuthError(reply, { status: refusal.status, error: refusal.status === 401 ? "invalid_token" : "access_denied", description: refusal.reason }),
  );

  const refuse = (reply: FastifyReply, r: AppChangeRefusal, clientId: string | undefined) => sendOAuthError(reply, refusal(r, clientId));

  app.post(
    ADMIN_ROUTES.clients,
    {
      schema: {
        operationId: "createClient",
        tags: ["oidc"],
        summary: "Register a relying app; a confidential app's generated secret is in this answer only",
        body: ClientBody,
        response: { 201: Client, ...CLIENT_ERRORS },
      },
    },
    async (request, reply) => {
      const created = await core.apps.create(request.body);
      if ("refused" in created) return refuse(reply, created, request.body.client_id);
      return reply.code(201).header("cache-control", "no-store").send(clientJson(created.app, created.secret));
    },
  );

  app.get(
    ADMIN_ROUTES.clients,
    { schema: { operationId: "listClients", tags: ["oidc"], summary: "Every relying app, of configuration and of this API", response: { 200: Type.Array(Client), 401: OAuthError, 503: OAuthError } } },
    async (_request, reply) => reply.send((await core.apps.list()).map((a) => clientJson(a))),
  );

  app.get(
    ADMIN_ROUTES.client,
    { schema: { operationId: "getClient", tags: ["oidc"], summary: "One relying app", params: ClientPath, response: { 200: Client, ...CLIENT_ERRORS } } },
    async (request, reply) => {
      const found = await core.apps.find(request.params.id);
      if (!found) return refuse(reply, { refused: "not_found" }, request.params.id);
      return reply.send(clientJson(found));
    },
  );

  app.put(
    ADMIN_ROUTES.client,
    {
      schema: {
        operationId: "replaceClient",
        tags: ["oidc"],
        summary: "Replace an app's metadata (all of it; the secret stays). Apps of configuration are changed there (409)",
        params: ClientPath,
        body: ClientBody,
        response: { 200: Client, ...CLIENT_ERRORS },
      },
    },
    async (request, reply) => {
      const { client_id: named, ...metadata } = request.body;
      if (named !== undefined && named !== request.params.id) {
        return sendOAuthError(reply, { status: 400, error: "invalid_request", description: "The body's client_id must be the path's." });
      }
      const replaced = await core.apps.replace(request.params.id, metadata);
      if ("refused" in replaced) return refuse(reply, replaced, request.params.id);
      return reply.send(clientJson(replaced));
    },
  );

  app.delete(
    ADMIN_ROUTES.client,
    {
      schema: {
        operationId: "deleteClient",
        tags: ["oidc"],
        summary: "Delete an app with its codes, tokens and participation. Apps of configuration are removed there (409)",
        params: ClientPath,
        response: { 204: Type.Null(), ...CLIENT_ERRORS },
      },
    },
    async (request, reply) => {
      const removed = await core.apps.remove(request.params.id);
      if (removed !== true) return refuse(reply, removed, request.params.id);
      return reply.code(204).send(null);
    },
  );

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
