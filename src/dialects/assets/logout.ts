/**
 * Where the Assets door logs out, each through the core's logout engine:
 * - `POST /services/logout` (AJAX): a cookie session needs `X-CSRF-TOKEN` and a same-site request;
 *   revoked durably, then `{"logoutSuccess":true}` and the cookie expired (INV-1);
 * - `GET|POST /logout?logoutSuccessUrl=` (D15): revoked, the cookie expired, 302 onwards.
 *
 * Deviations from the vendor text (docs/dialects/assets.md): `logoutSuccessUrl` goes through the
 * redirect gate (no open redirect), and a cross-site GET /logout asks for confirmation instead of
 * logging out silently.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isCoreError } from "../../core/errors.ts";
import type { Actor } from "../../core/model.ts";
import { resolveRedirect } from "../../core/redirect-gate.ts";
import type { DoorApp } from "../../http/app.ts";
import { COOKIE_NAMES, cookieValues, readCookie } from "../../http/cookies.ts";
import { contentSecurityPolicy, html, page } from "../../http/html.ts";
import { logRefusal } from "../../http/security-log.ts";
import type { SessionReader } from "./credentials.ts";
import type { AssetsDoorOptions } from "./index.ts";
import { ROUTES } from "./routes.ts";
import { ASSETS_ERRORS, LogoutJson, type Params, paramsOf, sendJson } from "./wire.ts";
import { htmlPage, redirectAnswer } from "../../http/openapi.ts";
import { AMBIGUOUS_COOKIE, AMBIGUOUS_CREDENTIALS, AssetsWireError, NOT_LOGGED_IN, methodNotAllowed, sendAssetsError } from "./wire-errors.ts";

const SELF: Actor = { actor: "self", door: "assets" };

/** `Sec-Fetch-Site` values from which a GET /logout ends the session in one step (D15). */
const SITE_SAFE = new Set(["same-origin", "same-site", "none"]);

/** `POST /services/logout`, under /services. */
export function servicesLogoutRoutes(app: DoorApp, door: AssetsDoorOptions, session: SessionReader): void {
  app.post(
    ROUTES.logout,
    {
      schema: {
        operationId: "assetsLogout",
        tags: ["assets"],
        summary: "End the session (AJAX)",
        description: "A cookie session needs X-CSRF-TOKEN equal to its csrfToken and a same-site request; a bearer session needs neither. Revoked durably before {\"logoutSuccess\":true} (INV-1).",
        response: { 200: LogoutJson, ...ASSETS_ERRORS },
      },
    },
    async (request, reply) => {
      const current = await session.require(request, { recordActivity: false });
      await door.core.sessions.checkBeforeEnding(current.auth, () => {
        if (current.via === "cookie") session.requireCsrf(request, current, request.headers["x-csrf-token"]);
      });
      await door.core.logout({ kind: "session", sessionId: current.auth.session.id }, "logout", SELF);
      if (current.via === "cookie") session.clearCookie(reply);
      return sendJson(reply, { logoutSuccess: true });
    },
  );
}

/** `GET|POST /logout?logoutSuccessUrl=` (D15), outside /services. */
export function redirectLogoutRoutes(app: DoorApp, door: AssetsDoorOptions, session: SessionReader): void {
  const { core } = door;
  const landing = new URL(door.landingPage);

  /** A relative path or an allowed absolute URL; anything else quietly becomes the landing page. */
  function target(request: FastifyRequest, raw: string | undefined): string {
    if (!raw) return landing.href;
    try {
      return resolveRedirect(raw, { allowed: door.redirect.allowed, defaultUrl: new URL(door.baseUrl + "/") }).href;
    } catch (error) {
      if (isCoreError(error, "RETURN_TO_NOT_ALLOWED") || isCoreError(error, "RETURN_TO_INVALID")) {
        logRefusal(request, "redirect.refused", "assets");
        return landing.href;
      }
      throw error;
    }
  }

  app.route({
    method: ["GET", "POST"],
    url: ROUTES.redirectLogout,
    schema: {
      operationId: "assetsLogoutAndRedirect",
      tags: ["assets"],
      summary: "End the session and redirect (302)",
      description:
        "A same-origin, same-site or typed-in GET ends the session in one step; a cross-site GET, or one that says nothing of its origin, gets a confirmation page whose button POSTs with the CSRF token. A POST needs the token (X-CSRF-TOKEN or form field csrfToken). logoutSuccessUrl: a relative path or an allowed absolute URL, else the landing page.",
      response: {
        200: htmlPage("The confirmation page (a cross-site GET): its button POSTs with the CSRF token"),
        302: redirectAnswer("Signed out (or not signed in): to logoutSuccessUrl, or the landing page"),
        ...ASSETS_ERRORS,
      },
    },
    handler: async (request, reply) => {
      const p = paramsOf(request);
      const next = target(request, p.logoutSuccessUrl);
      const current = await session.find(request, { recordActivity: false });
      if (!current) {
        // "Signed out" only when nothing this request carries names a live session (INV-1).
        // Two authToken cookies (one tossed in by a sibling domain, SEC-10) authenticate nobody
        // but prove nothing either; a dead bearer takes precedence over the cookie (as at
        // /services/logout) but does not end the cookie's session.
        const cookies = cookieValues(request.headers.cookie, COOKIE_NAMES.assetsSession);
        if (cookies.length > 1) throw new AssetsWireError(AMBIGUOUS_COOKIE);
        if (cookies[0] && (await core.sessions.findLive(cookies[0]))) throw new AssetsWireError(NOT_LOGGED_IN);
        // Nothing to end: no session is live here. Say nothing false; just go on.
        if (cookies[0]) session.clearCookie(reply);
        return reply.code(302).header("location", next).send();
      }
      // A bearer token is no ambient credential: no other site can have sent it (SEC-55).
      if (request.method === "GET" && current.via === "cookie") {
        const site = request.headers["sec-fetch-site"];
        const origin = request.headers.origin;
        const oneStep = typeof site === "string" && site !== "" ? SITE_SAFE.has(site) : typeof origin === "string" && door.ownOrigins.includes(origin);
        if (!oneStep) {
          // Nothing ends yet: the page is a request of the session's holder like any other.
          await core.sessions.recordActivity(current.auth);
          return confirmationPage(reply, door, session.csrfToken(current.auth), p.logoutSuccessUrl);
        }
      }
      await core.sessions.checkBeforeEnding(current.auth, () => {
        if (request.method !== "GET" && current.via === "cookie") {
          // The header or the form field (D15), never the query string: no token in a URL (SEC-04).
          const field = typeof request.body === "object" && request.body !== null ? (request.body as Params).csrfToken : undefined;
          session.requireCsrf(request, current, request.headers["x-csrf-token"] ?? field);
        }
        // A bearer beside a cookie of another session: ending the bearer's session and sending the
        // browser to the success page would tell it a lie about its own session (INV-1).
        if (current.via === "bearer") {
          const cookie = readCookie(request.headers.cookie, COOKIE_NAMES.assetsSession);
          const cookieSession = cookie ? core.sessions.sessionIdOf(cookie) : null;
          if (cookieSession !== null && cookieSession !== current.auth.session.id) throw new AssetsWireError(AMBIGUOUS_CREDENTIALS);
        }
      });
      await core.logout({ kind: "session", sessionId: current.auth.session.id }, "logout", SELF);
      if (current.via === "cookie") session.clearCookie(reply);
      return reply.code(302).header("location", next).send();
    },
  });

  // Outside /services there is no not-found handler of ours: answer other methods here, in Assets' words.
  app.route({
    method: ["PUT", "DELETE", "PATCH"],
    url: ROUTES.redirectLogout,
    schema: { hide: true },
    handler: async (request, reply) => {
      reply.header("allow", "GET, POST");
      return sendAssetsError(reply, methodNotAllowed(request.method), false);
    },
  });
}

function confirmationPage(reply: FastifyReply, door: AssetsDoorOptions, csrf: string, successUrl: string | undefined): FastifyReply {
  return reply
    .code(200)
    .header("content-security-policy", contentSecurityPolicy(door.baseUrl, { defaultUrl: new URL(door.landingPage), allowed: door.redirect.allowed }))
    .type("text/html; charset=utf-8")
    .send(
      page({
        title: "Sign out?",
        body: html`<p>A page asked to sign you out. Do you want to sign out?</p>
<form method="post" action="${door.baseUrl}${ROUTES.redirectLogout}" class="actions">
<input type="hidden" name="csrfToken" value="${csrf}">
${successUrl ? html`<input type="hidden" name="logoutSuccessUrl" value="${successUrl}">` : ""}
<button type="submit">Sign out</button>
<a href="${door.baseUrl}/">Stay signed in</a>
</form>`,
      }),
    );
}
