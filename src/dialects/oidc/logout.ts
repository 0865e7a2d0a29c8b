/**
 * The OpenID Connect door's logouts: Auth0's `GET /v2/logout` (Auth0 Authentication API, "Auth0
 * Logout") and RP-Initiated Logout 1.0 at `/oidc/logout` (below). Like every logout it ends the session through the one engine (`core.logout`), and only
 * then answers (INV-1); the session's codes and tokens end with it (SEC-22).
 *
 * Auth0 lets any page send a browser here and redirects to `returnTo` when it is on an allow-list.
 * Curfew keeps the wire (a GET with `returnTo` and `client_id`, no confirmation) and decides what
 * Auth0 leaves open (docs/dialects/oidc.md): everything is validated before anything ends, so an
 * unknown app or a refused `returnTo` is a 400 page and the session is untouched; a request an
 * `<img>`, `<iframe>` or `fetch` makes (`Sec-Fetch-Dest` other than `document`) is refused, so a
 * page cannot sign its visitors out from inside itself (SEC-27).
 */
import { htmlPage, redirectAnswer } from "../../http/openapi.ts";
import type { FastifyReply, FastifyRequest } from "fastify";
import { decodeJwt } from "jose";
import { isCoreError } from "../../core/errors.ts";
import type { Actor } from "../../core/model.ts";
import { type LogoutUrlPattern, matchLogoutUrl, matchesExactly, parseLogoutUrlPattern } from "../../core/redirect-gate.ts";
import { constantTimeEqual } from "../../core/tokens.ts";
import { COOKIE_NAMES, cookieValues, serializeCookie } from "../../http/cookies.ts";
import { html, page } from "../../http/html.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { logRefusal } from "../../http/security-log.ts";
import { type OidcApp, type OidcDoorOptions, endpoint, providerSession } from "./door.ts";
import { leaveSignedOut } from "./front-channel.ts";
import { OAuthParams } from "./params.ts";
import { ROUTES } from "./routes.ts";
import { Params } from "./wire.ts";

/** What RP-Initiated Logout answers: a confirmation page, a redirect once signed out, or a refusal page. */
const END_SESSION_ANSWERS = {
  200: htmlPage("The confirmation page (or, with no post_logout_redirect_uri, the signed-out page framing the apps' front-channel URIs)"),
  303: redirectAnswer("Signed out: to the registered post_logout_redirect_uri, with state"),
  400: htmlPage("A refused request: nothing ended"),
  403: htmlPage("The confirmation did not come from this browser's page: nothing ended"),
};
import { type OAuthFailure, invalidRequest, sendErrorPage } from "./wire-errors.ts";

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
        response: {
          302: redirectAnswer("Signed out: to returnTo, the app's first Allowed Logout URL, or the signed-out page"),
          400: htmlPage("A refused returnTo, an unknown client or a repeated parameter: nothing ended"),
          403: htmlPage("Not a top-level navigation: nothing ended"),
        },
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
      const outcome = current ? await core.logout({ kind: "session", sessionId: current.session.id }, "logout", SELF) : null;
      clearSessionCookie(reply);
      return leaveSignedOut(reply, door, outcome?.ended ?? [], target, 302);
    },
  );
}

/** The parameters of RP-Initiated Logout 1.0 §2 (`federated` is Auth0's and ignored). */
const END_SESSION_PARAMS = ["id_token_hint", "logout_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"] as const;

/** A validated end-session request: where to go afterwards, and what the hint said. */
interface EndSession {
  clientId: string | null;
  redirect: string | null;
  state: string | null;
  /** The `sid` the request names: the hint's, or `logout_hint` with `client_id` (Auth0's rule). */
  sid: string | null;
}

/**
 * RP-Initiated Logout 1.0 (`end_session_endpoint`): `GET|POST /oidc/logout`, then, unless the
 * request provably comes from an app of the current session, a confirmation page whose form posts
 * to `/oidc/logout/confirm` with the session-bound CSRF proof (SEC-39). Then the session ends
 * through the one engine and the browser goes (303) to the registered `post_logout_redirect_uri`
 * with `state`, or to the signed-out page.
 */
export function endSessionRoutes(app: OidcApp, door: OidcDoorOptions): void {
  const { core } = door;

  /** Validates everything before anything can end (SEC-36..SEC-40); a refusal is a 400 page. */
  async function validate(raw: unknown): Promise<EndSession | OAuthFailure> {
    const p = new OAuthParams(raw);
    const repeated = p.duplicated(END_SESSION_PARAMS);
    if (repeated.length > 0) return invalidRequest(`The ${repeated[0]} parameter is repeated.`);
    let clientId = p.get("client_id") ?? null;
    let sid: string | null = null;
    const hint = p.get("id_token_hint");
    if (hint !== undefined && core.signingKeys.namesUnknownKey(hint)) {
      // An ID token older than the kept keys (an app may hold one for days, past a rotation) can no
      // longer be checked. It proves nothing, so it is read as no hint at all: the person is asked
      // first (SEC-39), and its unverified audience only says which app's registered URIs to
      // consider, as client_id would (SEC-40 still applies).
      if (clientId === null) clientId = unverifiedAudience(hint);
    } else if (hint !== undefined) {
      // SEC-37: our RS256 signature and issuer; an ID token (not a logout token, not an access
      // token); a known audience. Its expiry is ignored (RP-Initiated Logout 1.0 §4).
      const verified = await core.signingKeys.verify(hint, door.issuer);
      const claims = verified?.claims;
      const aud = typeof claims?.aud === "string" ? claims.aud : Array.isArray(claims?.aud) && claims.aud.length === 1 ? claims.aud[0]! : null;
      if (!verified || verified.typ !== undefined || aud === null || typeof claims?.sub !== "string" || claims.events !== undefined) {
        return invalidRequest("The id_token_hint is not an ID token this provider issued.");
      }
      // §2: with both, client_id MUST be the hint's audience.
      if (clientId !== null && clientId !== aud) return invalidRequest("client_id does not match the id_token_hint.");
      clientId = aud;
      sid = typeof claims.sid === "string" ? claims.sid : null;
    } else if (clientId !== null) {
      // Auth0: `logout_hint` (the session's sid) with `client_id` stands in for the ID token.
      sid = p.get("logout_hint") ?? null;
    }
    let relying = null;
    if (clientId !== null) {
      relying = await core.apps.find(clientId);
      if (!relying) return { status: 400, error: "invalid_client", description: "The client_id names no app of this provider." };
    }
    const uri = p.get("post_logout_redirect_uri") ?? null;
    // SEC-40, §3: only a URI an identified app registered, compared exactly.
    if (uri !== null && (relying === null || !matchesExactly(uri, relying.postLogoutRedirectUris))) {
      return invalidRequest("The post_logout_redirect_uri is not registered for this app (or no app was named).");
    }
    return { clientId, redirect: uri, state: uri !== null ? (p.get("state") ?? null) : null, sid };
  }

  /** Ends the session (if any), clears the cookie, and sends the browser on (303). */
  async function finish(reply: FastifyReply, sessionId: string | null, request: EndSession): Promise<FastifyReply> {
    const outcome = sessionId !== null ? await core.logout({ kind: "session", sessionId }, "logout", SELF) : null;
    reply.header("set-cookie", serializeCookie(COOKIE_NAMES.kratosSession, "", { secure: door.secureCookies, maxAge: 0 }));
    const target =
      request.redirect === null
        ? door.loggedOutUrl
        : request.state === null
          ? request.redirect
          : request.redirect + (request.redirect.includes("?") ? "&" : "?") + new URLSearchParams({ state: request.state }).toString();
    return leaveSignedOut(reply, door, outcome?.ended ?? [], target, 303);
  }

  async function endSession(request: FastifyRequest, reply: FastifyReply, raw: unknown, byPost: boolean): Promise<FastifyReply> {
    const checked = await validate(raw);
    if ("error" in checked) return sendErrorPage(reply, checked);
    if (cookieValues(request.headers.cookie, COOKIE_NAMES.kratosSession).length > 1) {
      return sendErrorPage(reply, invalidRequest("The request carries two session cookies; sign out from the page you signed in on."));
    }
    const current = await providerSession(door, request, { recordActivity: false });
    // SEC-38: the request proves it comes from an app of this very session only by naming its sid.
    if (current && checked.sid !== null && constantTimeEqual(checked.sid, core.grants.sidOf(current.session.id))) {
      return finish(reply, current.session.id, checked);
    }
    if (current) return confirmation(reply, current.session.id, checked);
    // No session cookie. A cross-site form POST does not carry the SameSite=Lax cookie; when it
    // names a session that is still live, the same request is made again as a top-level GET,
    // which does, and goes on as above (RP-Initiated Logout 1.0 §2 requires POST to work).
    const named = byPost && checked.sid !== null ? await core.grants.participantBySid(checked.sid) : null;
    // A store failure propagates (INV-1: no redirect that reads as "signed out" on a guess).
    const live = named
      ? await core.sessions.get(named.sessionId).then(
          (s) => core.sessions.isLive(s),
          (error: unknown) => {
            if (isCoreError(error, "SESSION_NOT_FOUND")) return false;
            throw error;
          },
        )
      : false;
    if (live) {
      const p = new OAuthParams(raw);
      const again = new URLSearchParams();
      for (const name of END_SESSION_PARAMS) {
        const value = p.get(name);
        if (value !== undefined) again.set(name, value);
      }
      return reply.code(303).header("location", `${endpoint(door, ROUTES.endSession)}?${again}`).send();
    }
    return finish(reply, null, checked);
  }

  /** SEC-39: a page of ours, whose form carries the session-bound proof, asks before anything ends. */
  function confirmation(reply: FastifyReply, sessionId: string, request: EndSession): FastifyReply {
    const fields: Record<string, string> = {
      csrf_token: core.proofs.mint("csrf", sessionId),
      ...(request.clientId !== null ? { client_id: request.clientId } : {}),
      ...(request.redirect !== null ? { post_logout_redirect_uri: request.redirect } : {}),
      ...(request.state !== null ? { state: request.state } : {}),
    };
    const inputs = Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
    const body = html`<p>An app asked to sign you out of Curfew. This ends your session here and in every app you signed in to with it.</p>
<form method="post" action="${endpoint(door, ROUTES.confirmEndSession)}">${inputs}<button type="submit">Sign out</button></form>
<p><a href="${door.issuer}">Stay signed in</a></p>`;
    // Chromium applies form-action to the redirect after the post: the app's URI must be allowed.
    const targets = [new URL(door.issuer).origin, ...(request.redirect !== null ? [new URL(request.redirect).origin] : []), new URL(door.loggedOutUrl).origin];
    return reply
      .code(200)
      .header("content-security-policy", `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${[...new Set(targets)].join(" ")}; frame-ancestors 'none'; base-uri 'none'`)
      .type("text/html; charset=utf-8")
      .send(page({ title: "Sign out?", body }));
  }

  const schema = (operationId: string, summary: string) => ({
    operationId,
    tags: ["oidc"],
    summary,
    description:
      "RP-Initiated Logout 1.0. Without an id_token_hint (or client_id + logout_hint) naming the current session, a confirmation page first. post_logout_redirect_uri must be registered exactly by the named app; state is returned with it. Refusals are 400 pages and end nothing.",
    response: END_SESSION_ANSWERS,
  });
  app.get(ROUTES.endSession, { config: { page: true }, schema: { ...schema("oidcEndSession", "End the session (RP-Initiated Logout)"), querystring: Params } }, (request, reply) =>
    endSession(request, reply, request.query, false),
  );
  app.post(ROUTES.endSession, { config: { page: true }, schema: { ...schema("oidcEndSessionByPost", "End the session (RP-Initiated Logout, form POST)"), body: Params } }, (request, reply) =>
    endSession(request, reply, request.body, true),
  );

  app.post(
    ROUTES.confirmEndSession,
    {
      config: { page: true },
      schema: { operationId: "confirmOidcEndSession", tags: ["oidc"], summary: "The confirmation page's form: end the session", body: Params, response: END_SESSION_ANSWERS },
    },
    async (request, reply) => {
      const checked = await validate(request.body);
      if ("error" in checked) return sendErrorPage(reply, checked);
      const current = await providerSession(door, request, { recordActivity: false });
      const token = new OAuthParams(request.body).get("csrf_token");
      // House rule 9: the session-bound proof and a same-site request, both.
      if (isCrossSite(request.headers, door.ownOrigins) || (current !== null && !core.proofs.verify("csrf", current.session.id, token))) {
        logRefusal(request, "csrf.refused", "oidc");
        if (current) await core.sessions.recordActivity(current);
        return sendErrorPage(reply, { status: 403, error: "access_denied", description: "This sign-out form did not come from this browser's page." });
      }
      return finish(reply, current?.session.id ?? null, checked);
    },
  );
}

/** The single audience a JWS's payload names, read without trusting it; null when there is none. */
function unverifiedAudience(jws: string): string | null {
  try {
    const { aud } = decodeJwt(jws);
    return typeof aud === "string" ? aud : Array.isArray(aud) && aud.length === 1 && typeof aud[0] === "string" ? aud[0] : null;
  } catch {
    return null;
  }
}
