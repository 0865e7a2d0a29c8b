/**
 * The WoodWing Assets Server door (WoodWing's Assets Server REST documentation): a CSRF-protected
 * browser session API. `/services/login` sets the `authToken` cookie (D2) and returns a
 * `csrfToken`; `/services/apilogin` returns a bearer `authToken`; `/services/profile` checks a
 * session; `POST /services/logout` and `GET|POST /logout?logoutSuccessUrl=` end it (logout.ts).
 *
 * Deviations from the vendor text (docs/dialects/assets.md): login refuses cross-site browser
 * posts (login CSRF, SEC-65); the logout deviations are in logout.ts.
 */
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { isCoreError } from "../../core/errors.ts";
import type { Core } from "../../core/index.ts";
import type { RedirectPolicy } from "../../core/redirect-gate.ts";
import type { DoorApp } from "../../http/app.ts";
import { COOKIE_NAMES, serializeCookie } from "../../http/cookies.ts";
import { requestOrigin } from "../../http/request-context.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { logRefusal } from "../../http/security-log.ts";
import { sessionReader } from "./credentials.ts";
import { redirectLogoutRoutes, servicesLogoutRoutes } from "./logout.ts";
import { ROUTES, SERVICES_PREFIX } from "./routes.ts";
import { ASSETS_ERRORS, LoginJson, type Params, ProfileJson, acceptFormsOnly, paramsOf, profileOf, sendJson } from "./wire.ts";
import { INVALID_CSRF, NOT_FOUND, installErrorHandling, methodNotAllowed, sendAssetsError } from "./wire-errors.ts";

export { ROUTES, SERVICES_PREFIX } from "./routes.ts";

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

/** A sign-in the vendor answers with `loginSuccess: false` and a message, not an error. */
class LoginRefused extends Error {}

export async function assetsServices(app: DoorApp, door: AssetsDoorOptions): Promise<void> {
  acceptFormsOnly(app);
  installErrorHandling(app, door.statusOkOnError);
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split("?", 1)[0] ?? "").slice(SERVICES_PREFIX.length);
    const post = [ROUTES.login, ROUTES.apiLogin, ROUTES.logout].includes(path as never);
    if (post || path === ROUTES.profile) {
      reply.header("allow", post ? "POST" : "GET, POST");
      return sendAssetsError(reply, methodNotAllowed(request.method), door.statusOkOnError);
    }
    return sendAssetsError(reply, NOT_FOUND, door.statusOkOnError);
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

  const refused = (error: LoginRefused) => ({ loginSuccess: false, serverVersion: door.serverVersion, loginFaultMessage: error.message });

  const LoginDoc = {
    tags: ["assets"],
    querystring: Type.Object({}, { additionalProperties: true }),
    response: { 200: LoginJson, ...ASSETS_ERRORS },
    description: "Parameters in the query string or a form body: `username` and `password`, or `cred` (base64 of username:password).",
  };

  app.post(ROUTES.login, { schema: { operationId: "assetsLogin", summary: "Sign in a browser session (authToken cookie + csrfToken)", ...LoginDoc } }, async (request, reply) => {
    // SEC-65: a page of another site must not sign this browser in (login CSRF).
    if (isCrossSite(request.headers, door.ownOrigins)) {
      logRefusal(request, "csrf.refused", "assets");
      return sendAssetsError(reply, INVALID_CSRF, door.statusOkOnError);
    }
    const p = paramsOf(request);
    try {
      const signed = await signIn(request, p);
      const maxAge = Math.max(0, Math.floor((signed.session.expiresAt.getTime() - core.clock.now().getTime()) / 1000));
      reply.header("set-cookie", serializeCookie(COOKIE_NAMES.assetsSession, signed.token, { secure: door.secureCookies, maxAge }));
      const body: Record<string, unknown> = { loginSuccess: true, serverVersion: door.serverVersion, csrfToken: session.csrfToken(signed) };
      if (p.returnProfile === "true") body.userProfile = profileOf(signed.identity);
      return sendJson(reply, body);
    } catch (error) {
      if (error instanceof LoginRefused) return sendJson(reply, refused(error));
      throw error;
    }
  });

  app.post(ROUTES.apiLogin, { schema: { operationId: "assetsApiLogin", summary: "Sign in an API client (bearer authToken, no CSRF)", ...LoginDoc } }, async (request, reply) => {
    const p = paramsOf(request);
    try {
      const signed = await signIn(request, p);
      return sendJson(reply, { loginSuccess: true, serverVersion: door.serverVersion, authToken: signed.token });
    } catch (error) {
      if (error instanceof LoginRefused) return sendJson(reply, refused(error));
      throw error;
    }
  });

  app.route({
    method: ["GET", "POST"],
    url: ROUTES.profile,
    schema: {
      operationId: "assetsProfile",
      tags: ["assets"],
      summary: "The profile of the current session",
      description: "A POST from a cookie session needs X-CSRF-TOKEN.",
      response: { 200: ProfileJson, ...ASSETS_ERRORS },
    },
    handler: async (request, reply) => {
      const current = await session.require(request);
      if (request.method === "POST" && current.via === "cookie") session.requireCsrf(request, current, request.headers["x-csrf-token"]);
      return sendJson(reply, profileOf(current.auth.identity));
    },
  });

  servicesLogoutRoutes(app, door, session);
}

/** `GET|POST /logout?logoutSuccessUrl=` (D15), outside /services. */
export async function assetsRedirectLogout(app: DoorApp, door: AssetsDoorOptions): Promise<void> {
  acceptFormsOnly(app);
  // status_ok_on_error is Assets' returnStatusOkOnErrorForServicesApi: it covers /services/*
  // only. /logout answers browsers, for whom a 200 would read as success (INV-1).
  installErrorHandling(app, false);
  redirectLogoutRoutes(app, door, sessionReader(door));
}
