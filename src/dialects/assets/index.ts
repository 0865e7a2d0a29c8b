/**
 * The WoodWing Assets Server door (seed 003; research/firstock-assets.md §2): a CSRF-protected
 * browser session API. `/services/login` sets the `authToken` cookie (D2) and returns a
 * `csrfToken`; `/services/apilogin` returns a bearer `authToken`; `/services/profile` checks a
 * session; `POST /services/logout` ends it (cookie sessions need `X-CSRF-TOKEN`); and
 * `GET|POST /logout?logoutSuccessUrl=` ends it and redirects (D15).
 *
 * Deviations from the vendor text (docs/dialects/assets.md): `logoutSuccessUrl` goes through the
 * redirect gate (no open redirect); a cross-site GET /logout asks for confirmation instead of
 * logging out silently; login refuses cross-site browser posts (login CSRF, SEC-65).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { sessionCsrfToken, sessionCsrfTokenMatches } from "../../core/csrf.ts";
import { parseSessionToken } from "../../core/tokens.ts";
import { isCoreError } from "../../core/errors.ts";
import type { Core } from "../../core/index.ts";
import type { AuthenticatedSession, Identity } from "../../core/model.ts";
import { type RedirectPolicy, resolveRedirect } from "../../core/redirect-gate.ts";
import { COOKIE_NAMES, cookieValues, readCookie, serializeCookie } from "../../http/cookies.ts";
import { contentSecurityPolicy, html, page } from "../../http/html.ts";
import type { DoorApp } from "../../http/app.ts";
import { BodyError } from "../../http/json-body.ts";
import { requestOrigin } from "../../http/request-context.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { type AssetsError, INVALID_CSRF, NOT_LOGGED_IN, badRequest, fromCoreError, sendAssetsError } from "./envelope.ts";

/** assetsServices is registered under this prefix; its routes below are relative to it. */
export const SERVICES_PREFIX = "/services";

export const ROUTES = {
  login: "/login",
  apiLogin: "/apilogin",
  profile: "/profile",
  logout: "/logout",
  /** At the root, not under /services (assetsRedirectLogout). */
  redirectLogout: "/logout",
} as const;

export interface AssetsDoorOptions {
  core: Core;
  baseUrl: string;
  /** The redirect gate's allow-list; relative targets resolve against the base URL. */
  redirect: RedirectPolicy;
  /** Where /logout goes without an acceptable logoutSuccessUrl (`assets.landing_page`). */
  landingPage: string;
  serverVersion: string;
  statusOkOnError: boolean;
  secureCookies: boolean;
  ownOrigins: readonly string[];
}

type Params = Record<string, string>;

/**
 * Assets takes its parameters from the query string or a form body, either one (§2.2). A name
 * given twice, or in both places, is refused (SEC-70): two layers must never read it differently.
 */
function paramsOf(request: FastifyRequest): Params {
  const out: Params = {};
  const add = (source: unknown) => {
    if (source === undefined || source === null) return;
    if (typeof source !== "object" || Array.isArray(source)) throw badRequestError("The request body must be a form.");
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (typeof v !== "string") throw badRequestError(`The parameter ${k.slice(0, 64)} was given more than once or is not text.`);
      if (Object.hasOwn(out, k)) throw badRequestError(`The parameter ${k.slice(0, 64)} was given more than once.`);
      out[k] = v;
    }
  };
  add(request.query);
  add(request.body);
  return out;
}

class AssetsWireError extends Error {
  constructor(readonly wire: AssetsError) {
    super(wire.message);
  }
}

function badRequestError(message: string): AssetsWireError {
  return new AssetsWireError(badRequest(message));
}

const SITE_SAFE = new Set(["same-origin", "same-site", "none"]);

/** Spring's answer to a known path asked with the wrong method (research/firstock-assets.md §2.8). */
function methodNotAllowed(method: string): AssetsError {
  return { errorcode: 405, errorname: "HttpRequestMethodNotSupportedException", message: `Request method '${method.slice(0, 16)}' is not supported` };
}

const AMBIGUOUS_CREDENTIALS: AssetsError = badRequest("A bearer token and an authToken cookie of another session were sent; nothing was changed.");

const AMBIGUOUS_COOKIE: AssetsError = badRequest("More than one authToken cookie was sent; nothing was changed. Clear this site's cookies, then sign out again.");

/**
 * Assets reads parameters from the query string or a form (§2.2), nothing else. The listener's
 * JSON and text/plain parsers would otherwise accept a body this door then ignores, so a
 * `text/plain` POST /services/logout would succeed; without them it is 415 (D13).
 */
function acceptFormsOnly(app: DoorApp): void {
  app.removeContentTypeParser(["application/json", "text/plain"]);
}

export async function assetsServices(app: DoorApp, door: AssetsDoorOptions): Promise<void> {
  acceptFormsOnly(app);
  installErrorHandling(app, door);
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split("?", 1)[0] ?? "").slice(SERVICES_PREFIX.length);
    const post = [ROUTES.login, ROUTES.apiLogin, ROUTES.logout].includes(path as never);
    if (post || path === ROUTES.profile) {
      reply.header("allow", post ? "POST" : "GET, POST");
      return sendAssetsError(reply, methodNotAllowed(request.method), door.statusOkOnError);
    }
    return sendAssetsError(reply, { errorcode: 404, message: "Not found" }, door.statusOkOnError);
  });
  const { core } = door;
  const session = sessionReader(door);

  /** Username and password from `cred` (base64 of user:password) or the two parameters. */
  function credentials(p: Params): { username: string; password: string } | null {
    if (p.cred !== undefined) {
      const decoded = Buffer.from(p.cred, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : null;
    }
    if (p.username && p.password !== undefined) return { username: p.username, password: p.password };
    return null;
  }

  async function signIn(request: FastifyRequest, p: Params) {
    const creds = credentials(p);
    if (!creds) throw new LoginRefused("Missing username or password");
    try {
      return await core.sessions.signIn(creds.username, { kind: "password", password: creds.password }, requestOrigin(request, "assets"));
    } catch (error) {
      // D14: one message for an unknown user and a wrong password.
      if (isCoreError(error, "CREDENTIALS_INVALID")) throw new LoginRefused("Invalid username or password");
      throw error;
    }
  }

  const LoginDoc = {
    tags: ["assets"],
    querystring: Type.Object({}, { additionalProperties: true }),
    description: "Parameters in the query string or a form body: `username` and `password`, or `cred` (base64 of username:password).",
  };

  app.post(ROUTES.login, { schema: { operationId: "assetsLogin", summary: "Sign in a browser session (authToken cookie + csrfToken)", ...LoginDoc } }, async (request, reply) => {
    // SEC-65: a page of another site must not sign this browser in (login CSRF).
    if (isCrossSite(request.headers, door.ownOrigins)) return sendAssetsError(reply, INVALID_CSRF, door.statusOkOnError);
    const p = paramsOf(request);
    try {
      const signed = await signIn(request, p);
      reply.header("set-cookie", serializeCookie(COOKIE_NAMES.assetsSession, signed.token, { secure: door.secureCookies, maxAge: secondsUntil(core, signed.session.expiresAt) }));
      const body: Record<string, unknown> = {
        loginSuccess: true,
        serverVersion: door.serverVersion,
        csrfToken: sessionCsrfToken(core.settings.secret, signed.session.id),
      };
      if (p.returnProfile === "true") body.userProfile = profileOf(signed.identity);
      return reply.type("application/json; charset=utf-8").send(JSON.stringify(body));
    } catch (error) {
      if (error instanceof LoginRefused) return reply.type("application/json; charset=utf-8").send(JSON.stringify({ loginSuccess: false, serverVersion: door.serverVersion, loginFaultMessage: error.message }));
      throw error;
    }
  });

  app.post(ROUTES.apiLogin, { schema: { operationId: "assetsApiLogin", summary: "Sign in an API client (bearer authToken, no CSRF)", ...LoginDoc } }, async (request, reply) => {
    const p = paramsOf(request);
    try {
      const signed = await signIn(request, p);
      return reply.type("application/json; charset=utf-8").send(JSON.stringify({ loginSuccess: true, serverVersion: door.serverVersion, authToken: signed.token }));
    } catch (error) {
      if (error instanceof LoginRefused) return reply.type("application/json; charset=utf-8").send(JSON.stringify({ loginSuccess: false, serverVersion: door.serverVersion, loginFaultMessage: error.message }));
      throw error;
    }
  });

  app.route({
    method: ["GET", "POST"],
    url: ROUTES.profile,
    schema: { operationId: "assetsProfile", tags: ["assets"], summary: "The profile of the current session", description: "A POST from a cookie session needs X-CSRF-TOKEN." },
    handler: async (request, reply) => {
      const current = await session.require(request);
      if (request.method === "POST" && current.via === "cookie") session.requireCsrf(request, current, request.headers["x-csrf-token"]);
      return reply.type("application/json; charset=utf-8").send(JSON.stringify(profileOf(current.auth.identity)));
    },
  });

  app.post(
    ROUTES.logout,
    {
      schema: {
        operationId: "assetsLogout",
        tags: ["assets"],
        summary: "End the session (AJAX)",
        description: "A cookie session needs X-CSRF-TOKEN equal to its csrfToken and a same-site request; a bearer session needs neither. Revoked durably before {\"logoutSuccess\":true} (INV-1).",
      },
    },
    async (request, reply) => {
      const current = await session.require(request);
      if (current.via === "cookie") session.requireCsrf(request, current, request.headers["x-csrf-token"]);
      await core.sessions.logout(current.auth, { actor: "self", door: "assets" });
      if (current.via === "cookie") session.clearCookie(reply);
      return reply.type("application/json; charset=utf-8").send(JSON.stringify({ logoutSuccess: true }));
    },
  );
}

/** `GET|POST /logout?logoutSuccessUrl=` (D15), outside /services. */
export async function assetsRedirectLogout(app: DoorApp, door: AssetsDoorOptions): Promise<void> {
  acceptFormsOnly(app);
  // status_ok_on_error is Assets' returnStatusOkOnErrorForServicesApi: it covers /services/*
  // only. /logout answers browsers, for whom a 200 would read as success (INV-1).
  installErrorHandling(app, { ...door, statusOkOnError: false });
  const { core } = door;
  const session = sessionReader(door);
  const landing = new URL(door.landingPage);

  /** A relative path or an allowed absolute URL; anything else quietly becomes the landing page (§4.2). */
  function target(raw: string | undefined): string {
    if (!raw) return landing.href;
    try {
      return resolveRedirect(raw, { allowed: door.redirect.allowed, defaultUrl: new URL(door.baseUrl + "/") }).href;
    } catch (error) {
      if (isCoreError(error, "RETURN_TO_NOT_ALLOWED") || isCoreError(error, "RETURN_TO_INVALID")) return landing.href;
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
    },
    handler: async (request, reply) => {
      const p = paramsOf(request);
      const next = target(p.logoutSuccessUrl);
      const current = await session.find(request);
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
        if (!oneStep) return confirmationPage(reply, door, csrfFor(door, current.auth), p.logoutSuccessUrl);
      } else if (current.via === "cookie") {
        // The header or the form field (D15), never the query string: no token in a URL (DESIGN.md).
        const field = typeof request.body === "object" && request.body !== null ? (request.body as Params).csrfToken : undefined;
        session.requireCsrf(request, current, request.headers["x-csrf-token"] ?? field);
      }
      // A bearer beside a cookie of another session: ending the bearer's session and sending the
      // browser to the success page would tell it a lie about its own session (INV-1).
      if (current.via === "bearer") {
        const cookie = readCookie(request.headers.cookie, COOKIE_NAMES.assetsSession);
        const cookieSession = cookie ? parseSessionToken(cookie)?.sessionId : undefined;
        if (cookieSession !== undefined && cookieSession !== current.auth.session.id) throw new AssetsWireError(AMBIGUOUS_CREDENTIALS);
      }
      await core.sessions.logout(current.auth, { actor: "self", door: "assets" });
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

function csrfFor(door: AssetsDoorOptions, auth: AuthenticatedSession): string {
  return sessionCsrfToken(door.core.settings.secret, auth.session.id);
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

interface Current {
  auth: AuthenticatedSession;
  via: "bearer" | "cookie";
}

function sessionReader(door: AssetsDoorOptions) {
  const { core } = door;
  return {
    /** Bearer first (apilogin), then the authToken cookie (§2.4). Store failures propagate (INV-3). */
    async find(request: FastifyRequest): Promise<Current | null> {
      const authorization = request.headers.authorization;
      let token: string | null = null;
      let via: Current["via"] = "cookie";
      if (typeof authorization === "string" && /^bearer /i.test(authorization)) {
        token = authorization.slice(7).trim();
        via = "bearer";
      } else {
        token = readCookie(request.headers.cookie, COOKIE_NAMES.assetsSession);
      }
      if (!token) return null;
      const auth = await core.sessions.findLive(token);
      return auth ? { auth, via } : null;
    },
    async require(request: FastifyRequest): Promise<Current> {
      const current = await this.find(request);
      if (!current) throw new AssetsWireError(NOT_LOGGED_IN);
      return current;
    },
    /** Both layers (house rule 9): the session's CSRF token, in constant time, and a same-site request (SEC-55, SEC-56). */
    requireCsrf(request: FastifyRequest, current: Current, presented: unknown): void {
      const token = typeof presented === "string" ? presented : undefined;
      if (isCrossSite(request.headers, door.ownOrigins) || !sessionCsrfTokenMatches(core.settings.secret, current.auth.session.id, token)) {
        throw new AssetsWireError(INVALID_CSRF);
      }
    },
    clearCookie(reply: FastifyReply): void {
      reply.header("set-cookie", serializeCookie(COOKIE_NAMES.assetsSession, "", { secure: door.secureCookies, maxAge: 0 }));
    },
  };
}

class LoginRefused extends Error {}

function profileOf(identity: Identity): Record<string, unknown> {
  const { email, username } = identity.traits;
  return { username: username ?? email, fullName: username ?? email, email, userZone: "", groups: [], authorities: ["ROLE_USER"] };
}

function secondsUntil(core: Core, at: Date): number {
  return Math.max(0, Math.floor((at.getTime() - core.clock.now().getTime()) / 1000));
}

function installErrorHandling(app: DoorApp, door: AssetsDoorOptions): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const wire = toAssetsError(error);
    if (wire.errorcode >= 500 && !isCoreError(error)) request.log.error({ err: error }, "unhandled error");
    if (isCoreError(error, "STORE_UNAVAILABLE")) request.log.error({ err: error.cause }, "store unavailable");
    return sendAssetsError(reply, wire, door.statusOkOnError);
  });
}

function toAssetsError(error: FastifyError): AssetsError {
  if (error instanceof AssetsWireError) return error.wire;
  if (isCoreError(error)) return fromCoreError(error);
  if (error instanceof BodyError) {
    if (error.problem === "encoding") return { errorcode: 415, errorname: "HttpMediaTypeNotSupportedException", message: error.message };
    return badRequest("The request body could not be read.");
  }
  if (error.validation) return badRequest("Invalid request parameters.");
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return { errorcode: 413, errorname: "PayloadTooLargeException", message: "The request body is too large." };
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return { errorcode: 415, errorname: "HttpMediaTypeNotSupportedException", message: "Send parameters in the query string or as a form." };
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return badRequest("Invalid request.");
  return { errorcode: 500, message: "An internal error occurred" };
}
