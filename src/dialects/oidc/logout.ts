/**
 * The OpenID Connect door's logout: Auth0's `GET /v2/logout` (Auth0 Authentication API, "Auth0
 * Logout"). Like every logout it ends the session through the one engine (`core.logout`), and only
 * then answers (INV-1); the session's codes and tokens end with it (SEC-22).
 *
 * Auth0 lets any page send a browser here and redirects to `returnTo` when it is on an allow-list.
 * Curfew keeps the wire (a GET with `returnTo` and `client_id`, no confirmation) and decides what
 * Auth0 leaves open (docs/dialects/oidc.md): everything is validated before anything ends, so an
 * unknown app or a refused `returnTo` is a 400 page and the session is untouched; a request an
 * `<img>`, `<iframe>` or `fetch` makes (`Sec-Fetch-Dest` other than `document`) is refused, so a
 * page cannot sign its visitors out from inside itself (SEC-27).
 */
import type { FastifyReply } from "fastify";
import type { Actor } from "../../core/model.ts";
import { type LogoutUrlPattern, matchLogoutUrl, parseLogoutUrlPattern } from "../../core/redirect-gate.ts";
import { COOKIE_NAMES, cookieValues, serializeCookie } from "../../http/cookies.ts";
import { type OidcApp, type OidcDoorOptions, providerSession } from "./door.ts";
import { OAuthParams } from "./params.ts";
import { ROUTES } from "./routes.ts";
import { Params } from "./wire.ts";
import { invalidRequest, sendErrorPage } from "./wire-errors.ts";

const SELF: Actor = { actor: "self", door: "oidc" };

export function logoutRoutes(app: OidcApp, door: OidcDoorOptions): void {
  const { core } = door;

  function clearSessionCookie(reply: FastifyReply): void {
    reply.header("set-cookie", serializeCookie(COOKIE_NAMES.kratosSession, "", { secure: door.secureCookies, maxAge: 0 }));
  }

  app.get(
    ROUTES.auth0Logout,
    {
      config: { page: true },
      schema: {
        operationId: "auth0Logout",
        tags: ["oidc"],
        summary: "Auth0 logout: end the session, then 302 to returnTo",
        description:
          "`returnTo` must match the app's Allowed Logout URLs (`client_id` given) or the tenant's (`oidc.allowed_logout_urls`); scheme and host case-insensitively, the path exactly, its query not compared. Without returnTo: the app's first Allowed Logout URL, else the signed-out page. A refused returnTo or an unknown client is a 400 page and ends nothing.",
        querystring: Params,
      },
    },
    async (request, reply) => {
      const dest = request.headers["sec-fetch-dest"];
      if (typeof dest === "string" && dest !== "" && dest !== "document") {
        return sendErrorPage(reply, { status: 403, error: "access_denied", description: "Signing out needs a top-level navigation." });
      }
      const p = new OAuthParams(request.query);
      const repeated = p.duplicated(["returnTo", "client_id"]);
      if (repeated.length > 0) return sendErrorPage(reply, invalidRequest(`The ${repeated[0]} parameter is repeated.`));
      const clientId = p.get("client_id");
      let patterns: readonly LogoutUrlPattern[] = door.allowedLogoutUrls;
      let fallback = door.loggedOutUrl;
      if (clientId !== undefined) {
        const relying = await core.apps.find(clientId);
        if (!relying) return sendErrorPage(reply, invalidRequest("The client_id names no app of this provider."));
        patterns = relying.allowedLogoutUrls.map(parseLogoutUrlPattern);
        // Auth0: without returnTo, the app's first Allowed Logout URL (a wildcard one names no URL).
        fallback = relying.allowedLogoutUrls.find((u) => !u.includes("*")) ?? door.loggedOutUrl;
      }
      const returnTo = p.get("returnTo");
      let target = fallback;
      if (returnTo !== undefined) {
        const allowed = matchLogoutUrl(returnTo, patterns);
        if (!allowed) {
          return sendErrorPage(
            reply,
            invalidRequest(`The "returnTo" querystring parameter "${returnTo.slice(0, 256)}" is not defined as a valid URL in "Allowed Logout URLs".`),
          );
        }
        target = allowed.href;
      }
      // SEC-10: two session cookies are ambiguous; nobody is signed out on a guess.
      if (cookieValues(request.headers.cookie, COOKIE_NAMES.kratosSession).length > 1) {
        return sendErrorPage(reply, invalidRequest("The request carries two session cookies; sign out from the page you signed in on."));
      }
      const current = await providerSession(door, request, { recordActivity: false });
      if (current) await core.logout({ kind: "session", sessionId: current.session.id }, "logout", SELF);
      clearSessionCookie(reply);
      return reply.code(302).header("location", target).send();
    },
  );
}
