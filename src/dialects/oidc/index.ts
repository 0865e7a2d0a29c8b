/**
 * The OpenID Connect / Auth0 door: an OpenID Provider over the one session core, for apps that
 * share single sign-on (docs/dialects/oidc.md). Discovery and keys, the authorization endpoint,
 * the token, revocation and userinfo endpoints; the browser's provider session is its Curfew
 * session (D7: begun at the sign-in pages, door kratos).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { logRequestFailure } from "../../http/request-failure.ts";
import { authorizeRoutes } from "./authorize.ts";
import { discoveryRoutes } from "./discovery.ts";
import { endSessionRoutes, logoutRoutes } from "./logout.ts";
import type { OidcApp, OidcDoorOptions } from "./door.ts";
import { tokenRoutes } from "./token.ts";
import { sendErrorPage, sendOAuthError, toOAuthFailure } from "./wire-errors.ts";

export type { OidcDoorOptions } from "./door.ts";
export { ROUTES as OIDC_ROUTES, ADMIN_ROUTES as OIDC_ADMIN_ROUTES, APP_CALLED_PATHS } from "./routes.ts";
export { oidcAdmin } from "./admin.ts";

export async function oidcDoor(app: OidcApp, door: OidcDoorOptions): Promise<void> {
  // Forms are the wire (RFC 6749 §4.1.3); JSON is accepted as Auth0 accepts it. Nothing else.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = toOAuthFailure(error, request);
    logRequestFailure(request, error, failure.status);
    // The browser endpoints answer with a page; the rest with the OAuth error JSON.
    if ((request.routeOptions.config as { page?: boolean } | undefined)?.page === true) return sendErrorPage(reply, failure);
    return sendOAuthError(reply, failure);
  });
  discoveryRoutes(app, door);
  authorizeRoutes(app, door);
  tokenRoutes(app, door);
  logoutRoutes(app, door);
  endSessionRoutes(app, door);
}
