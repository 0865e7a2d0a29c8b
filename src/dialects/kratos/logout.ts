/**
 * Where the Kratos door logs out: the wire of Kratos's logout flows (docs/dialects/kratos.md,
 * "Logout"), each ending in the core's logout engine.
 * - native: `DELETE /self-service/logout/api {session_token}` → 204;
 * - browser: `GET /self-service/logout/browser` gives `{logout_url, logout_token}`, and
 *   `GET /self-service/logout?token=&return_to=` ends the session and answers 303 (or 204 for a
 *   JSON caller).
 * Deliberate differences from Kratos: `return_to` is validated before anything is revoked;
 * exactly the session whose logout token matched is revoked, whichever carrier identified it;
 * nothing is ever reported as logged out without a revocation (INV-1).
 */
import { SESSION_SECURITY } from "../../http/app.ts";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { Core } from "../../core/index.ts";
import { isCoreError } from "../../core/errors.ts";
import type { AuthenticatedSession } from "../../core/model.ts";
import type { AuthenticateOptions } from "../../core/sessions.ts";
import { resolveRedirect } from "../../core/redirect-gate.ts";
import { COOKIE_NAMES, readCookie } from "../../http/cookies.ts";
import { isJsonRequest } from "../../http/negotiate.ts";
import { BrowserCookies, forward, seeOther } from "./browser.ts";
import { presentedToken } from "./credentials.ts";
import { type KratosApp, type KratosDoorOptions, SELF } from "./door.ts";
import {
  type KratosError,
  KratosWireError,
  LOGOUT_TOKEN_MISMATCH,
  LOGOUT_TOKEN_MISSING,
  NO_ACTIVE_SESSION,
  sendKratosError,
} from "./wire-errors.ts";
import { ROUTES } from "./routes.ts";
import * as W from "./wire.ts";

/** Kratos's logout tokens are `ory_lo_` + the session's logout proof (D4). */
const LOGOUT_TOKEN_PREFIX = "ory_lo_";

/** The logout token of a session: stable for its life, as Kratos's is, and dead with it (D4). */
export function logoutTokenOf(core: Core, sessionId: string): string {
  return LOGOUT_TOKEN_PREFIX + core.proofs.mint("logout", sessionId);
}

function logoutTokenMatches(core: Core, sessionId: string, presented: string): boolean {
  return presented.startsWith(LOGOUT_TOKEN_PREFIX) && core.proofs.verify("logout", sessionId, presented.slice(LOGOUT_TOKEN_PREFIX.length));
}


const NativeLogoutBody = Type.Object(
  { session_token: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);

const CONFLICTING_CREDENTIALS: KratosError = {
  code: 400,
  reason: "The request carries credentials of two different sessions; nothing was changed. Send only the session cookie.",
};

const ERROR_RESPONSES = { 400: W.GenericError, 401: W.GenericError, 403: W.GenericError, 503: W.GenericError };

export function logoutRoutes(app: KratosApp, door: KratosDoorOptions): void {
  const { core, baseUrl } = door;
  const cookies = new BrowserCookies(door);

  /**
   * The session the request carries (header, cookie or bearer), or null; store errors propagate.
   * `recordActivity: false` on the request that goes on to end it: the logout is then its one write.
   */
  async function currentSession(request: FastifyRequest, options: AuthenticateOptions = {}): Promise<AuthenticatedSession | null> {
    const token = presentedToken(request);
    if (!token) return null;
    return core.sessions.findLive(token.token, options);
  }

  app.delete(
    ROUTES.performNativeLogout,
    {
      schema: {
        operationId: "performNativeLogout",
        tags: ["frontend"],
        summary: "Log out with a session token",
        description:
          "Revokes the session the token belongs to, durably, before answering 204. A repeat answers 204 again; an unknown token answers 403.",
        body: NativeLogoutBody,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const token = request.body.session_token;
      const refuse = () =>
        sendKratosError(request, reply, {
          code: 403,
          reason: "The provided Ory Session Token could not be found, is invalid, or otherwise malformed.",
        });
      if (!token) return refuse();
      try {
        // An already-ended session answers 204 again, as Kratos does for a repeat.
        await core.logout({ kind: "token", token }, "logout", SELF);
      } catch (error) {
        if (isCoreError(error, "SESSION_INACTIVE")) return refuse();
        throw error;
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    ROUTES.createBrowserLogoutFlow,
    {
      config: { browser: true },
      schema: {
        operationId: "createBrowserLogoutFlow", security: SESSION_SECURITY,
        tags: ["frontend"],
        summary: "Get a logout URL for the current browser session",
        description: "Changes nothing. `return_to` goes through the redirect gate now and again when the URL is used.",
        querystring: Type.Object({ return_to: Type.Optional(Type.String()) }),
        response: { 200: Type.Object({ logout_token: Type.String(), logout_url: Type.String() }), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const current = await currentSession(request);
      if (!current) return forward(door, request, reply, NO_ACTIVE_SESSION);
      const query = new URLSearchParams();
      if (request.query.return_to) query.set("return_to", resolveRedirect(request.query.return_to, door.redirect).href);
      const logoutToken = logoutTokenOf(core, current.session.id);
      query.set("token", logoutToken); // keys in sorted order, as Kratos builds the URL
      return reply.send({ logout_token: logoutToken, logout_url: `${baseUrl}${ROUTES.updateLogoutFlow}?${query.toString()}` });
    },
  );

  app.get(
    ROUTES.updateLogoutFlow,
    {
      config: { browser: true },
      schema: {
        operationId: "updateLogoutFlow",
        tags: ["frontend"],
        summary: "Log out the current browser session",
        description:
          "Needs the session (cookie) and its logout token. Validates return_to first, then revokes durably, clears the cookie and answers 303 to return_to (or the configured page), or 204 for a JSON caller. Errors go to the error page, or as JSON to a JSON caller.",
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })), return_to: Type.Optional(Type.String()) }),
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { token, return_to: returnTo } = request.query;
      // Kratos's order (token, then session, then the token's match), except that return_to is
      // checked before the revocation. Every refusal changes nothing: the session and its cookie
      // stay (INV-3), and a browser sees why on the error page.
      if (!token) return forward(door, request, reply, LOGOUT_TOKEN_MISSING);
      const current = await currentSession(request, { recordActivity: false });
      if (!current) return forward(door, request, reply, NO_ACTIVE_SESSION);
      // Refusals from here on (a wrong logout token, another session's cookie, a refused
      // return_to) go to the door's error handler, which forwards them, as it does a store failure
      // (and logs that).
      const next = await core.sessions.checkBeforeEnding(current, () => {
        if (!logoutTokenMatches(core, current.session.id, token)) throw new KratosWireError(LOGOUT_TOKEN_MISMATCH);
        // The cookie is cleared and the browser told it is signed out: that is only true when the
        // cookie names the session being revoked. Another carrier for another session beside it
        // is refused, and nothing changes.
        const cookie = readCookie(request.headers.cookie, COOKIE_NAMES.kratosSession);
        const cookieSession = cookie ? core.sessions.sessionIdOf(cookie) : null;
        if (cookieSession !== null && cookieSession !== current.session.id) throw new KratosWireError(CONFLICTING_CREDENTIALS);
        return returnTo ? resolveRedirect(returnTo, door.redirect).href : door.ui.loggedOut;
      });
      await core.logout({ kind: "session", sessionId: current.session.id }, "logout", SELF);
      // Only now, after the commit (INV-1): clear the cookie, renew the CSRF secret (SEC-28).
      cookies.clearSession(reply);
      cookies.rotateCsrf(reply);
      if (door.secureCookies) {
        // SEC-26: not "cache", which stalls Chrome for seconds (REG-33).
        reply.header("clear-site-data", '"cookies", "storage"');
      }
      if (isJsonRequest(request.headers)) return reply.code(204).send(null);
      return seeOther(reply, next);
    },
  );
}
