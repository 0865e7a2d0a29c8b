/**
 * The Kratos settings flow, method `password` (docs/adr/0026-password-change.md), for API clients
 * and browsers: `GET /self-service/settings/api` (createNativeSettingsFlow), `GET
 * /self-service/settings/browser` (createBrowserSettingsFlow), `GET /self-service/settings/flows`
 * (getSettingsFlow) and `POST /self-service/settings` (updateSettingsFlow).
 *
 * A flow belongs to the identity whose session made it, and to the kind of credential that made
 * it: an API flow answers only a session token, a browser flow only the session cookie, with the
 * flow's CSRF token and a same-site request (house rule 9) to save. A saved password ends every
 * other session of the identity (core `changePassword`) before the answer.
 */
import type { FastifyReply } from "fastify";
import type { Static } from "typebox";
import { Type } from "typebox";
import type { AuthenticatedSession, Flow, FlowKind } from "../../core/model.ts";
import { isCoreError } from "../../core/errors.ts";
import { resolveRedirect } from "../../core/redirect-gate.ts";
import { acceptsJson, isJsonRequest } from "../../http/negotiate.ts";
import { redirectAnswer } from "../../http/openapi.ts";
import { requestOrigin } from "../../http/request-context.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { logRefusal } from "../../http/security-log.ts";
import { BrowserCookies, forward } from "./browser.ts";
import { presentedToken } from "./credentials.ts";
import type { FastifyRequest, KratosApp, KratosDoorOptions } from "./door.ts";
import { TEXT, flowJson, type FlowView } from "./flow-json.ts";
import { ROUTES } from "./routes.ts";
import { identityJson } from "./serialize.ts";
import { CSRF_VIOLATION, KratosWireError, NO_ACTIVE_SESSION, fromCoreError, type KratosError } from "./wire-errors.ts";
import * as W from "./wire.ts";

const SettingsFlow = Type.Intersect([W.Flow, Type.Object({ identity: W.Identity })], { description: "A settings flow" });
const RefreshRequired = Type.Object(
  { error: W.GenericError.properties.error, redirect_browser_to: Type.String() },
  { description: "session_refresh_required: sign in again (the refresh login in redirect_browser_to) within the privileged window" },
);
const ERRORS = { 400: W.GenericError, 401: W.GenericError, 403: W.GenericError, 404: W.GenericError, 410: W.GenericError, 429: W.GenericError, 503: W.GenericError };

const SELF = { actor: "self", door: "kratos" } as const;

/** Kratos's refusal of another identity's settings flow. */
const IDENTITY_MISMATCH: KratosError = {
  code: 403,
  id: "security_identity_mismatch",
  reason: "The flow was interrupted because the identity of the session does not match the identity of the flow.",
  message: "The requested action was forbidden",
};

export function settingsRoutes(app: KratosApp, door: KratosDoorOptions): void {
  const { core, baseUrl } = door;
  const cookies = new BrowserCookies(door);

  /**
   * The caller's live session, from the credential a flow of `kind` takes: a session token for an
   * API flow, the session cookie for a browser flow (a browser's cookie would otherwise let any
   * page drive an API flow, which has no CSRF token).
   */
  async function authenticate(request: FastifyRequest, kind: FlowKind): Promise<AuthenticatedSession> {
    const token = presentedToken(request);
    const fits = token !== null && (kind === "browser" ? token.source === "cookie" : token.source !== "cookie");
    const auth = fits ? await core.sessions.findLive(token.token) : null;
    if (!auth) throw new KratosWireError(NO_ACTIVE_SESSION);
    return auth;
  }

  /** The settings flow of that id, if it is the caller's; Kratos's 403 when it is another identity's. */
  async function ownFlow(request: FastifyRequest, id: string): Promise<{ flow: Flow; auth: AuthenticatedSession }> {
    const flow = await core.flows.get(id, "settings");
    const auth = await authenticate(request, flow.kind);
    if (flow.identityId !== auth.identity.id) throw new KratosWireError(IDENTITY_MISMATCH);
    return { flow, auth };
  }

  /** Whether a browser flow's caller wants JSON (an SPA) rather than redirects (a form post). */
  const wantsJson = (request: FastifyRequest, flow: Pick<Flow, "kind">) => flow.kind === "api" || isJsonRequest(request.headers) || acceptsJson(request.headers);
  const uiOf = (flow: Flow) => `${door.ui.settings}?flow=${flow.id}`;

  const json = (flow: Flow, auth: AuthenticatedSession, view: FlowView = (flow.view as FlowView | null) ?? {}): Static<typeof SettingsFlow> => ({
    ...flowJson(flow, baseUrl, view),
    identity: identityJson(auth.identity, { baseUrl, admin: false }),
  });

  app.get(
    ROUTES.createNativeSettingsFlow,
    {
      schema: {
        operationId: "createNativeSettingsFlow", security: [{ sessionToken: [] }, { sessionCookie: [] }],
        tags: ["frontend"],
        summary: "Start a settings flow (a password change) for an API client",
        description: "Needs X-Session-Token. Not for browsers: they have no session token, and a flow of this kind has no CSRF protection.",
        response: { 200: SettingsFlow, ...ERRORS },
      },
    },
    async (request, reply) => {
      const auth = await authenticate(request, "api");
      const flow = await core.flows.create("settings", "api", `${baseUrl}${request.url}`, null, null, {
        identityId: auth.identity.id,
        ip: requestOrigin(request, "kratos").ipAddress,
      });
      return reply.send(json(flow, auth));
    },
  );

  app.get(
    ROUTES.createBrowserSettingsFlow,
    {
      // A browser's failure goes to the error page, as the other browser flows' (JSON to a JSON caller).
      config: { browser: true },
      schema: {
        operationId: "createBrowserSettingsFlow", security: [{ sessionCookie: [] }],
        tags: ["frontend"],
        summary: "Start a settings flow (a password change) in a browser",
        description:
          "Needs the session cookie. Redirects (303) to the change-password page (selfservice.flows.settings.ui_url) with ?flow=, or answers the flow as JSON when asked for it. Without a session, to the sign-in page, which returns here.",
        querystring: Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 2048 })) }),
        response: { 200: SettingsFlow, 303: redirectAnswer("To the change-password page, or to sign in first"), ...ERRORS },
      },
    },
    async (request, reply) => {
      const json_ = isJsonRequest(request.headers) || acceptsJson(request.headers);
      const token = presentedToken(request);
      const auth = token?.source === "cookie" ? await core.sessions.findLive(token.token) : null;
      if (!auth) {
        if (json_) throw new KratosWireError(NO_ACTIVE_SESSION);
        const back = `${baseUrl}${ROUTES.createBrowserSettingsFlow}`;
        return reply.code(303).header("location", `${baseUrl}${ROUTES.createBrowserLoginFlow}?${new URLSearchParams({ return_to: back })}`).send();
      }
      const returnTo = request.query.return_to ? resolveRedirect(request.query.return_to, door.redirect).href : null;
      const flow = await core.flows.create("settings", "browser", `${baseUrl}${request.url}`, returnTo, cookies.csrfTokenFor(request, reply), {
        identityId: auth.identity.id,
        ip: requestOrigin(request, "kratos").ipAddress,
      });
      if (json_) return reply.send(json(flow, auth));
      return reply.code(303).header("location", uiOf(flow)).send();
    },
  );

  app.get(
    ROUTES.getSettingsFlow,
    {
      schema: {
        operationId: "getSettingsFlow", security: [{ sessionToken: [] }, { sessionCookie: [] }],
        tags: ["frontend"],
        summary: "Get a settings flow",
        querystring: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: SettingsFlow, ...ERRORS },
      },
    },
    async (request, reply) => {
      const { flow, auth } = await ownFlow(request, request.query.id);
      // A browser flow is read with the CSRF cookie it was made for, as the login flow (SEC-10).
      if (flow.kind === "browser" && !cookies.csrfValid(request, flow.csrfToken ?? undefined)) {
        logRefusal(request, "csrf.refused", "kratos");
        throw new KratosWireError(CSRF_VIOLATION);
      }
      return reply.send(json(flow, auth));
    },
  );

  app.post(
    ROUTES.updateSettingsFlow,
    {
      // A browser's failure goes to the error page, as the other browser flows' (JSON to a JSON caller).
      config: { browser: true },
      schema: {
        operationId: "updateSettingsFlow", security: [{ sessionToken: [] }, { sessionCookie: [] }],
        tags: ["frontend"],
        summary: "Save a settings flow: a new password",
        description:
          "Method `password` only. Within the privileged window after a sign-in (selfservice.flows.settings.privileged_session_max_age, 15 minutes): otherwise 403 session_refresh_required with redirect_browser_to. A saved password ends every other session of the identity before the 200 (selfservice.flows.settings.revoke_other_sessions_on_password_change).",
        querystring: Type.Object({ flow: Type.String({ maxLength: 64 }) }),
        body: Type.Object(
          { method: Type.String({ maxLength: 32 }), password: Type.Optional(Type.String()), csrf_token: Type.Optional(Type.String({ maxLength: 256 })) },
          { additionalProperties: false },
        ),
        // A refused password is the flow with its messages; a malformed request, Kratos's error.
        response: {
          ...ERRORS,
          200: SettingsFlow,
          303: redirectAnswer("A browser's form post: to return_to or the change-password page once saved, back to that page with the messages, or to the refresh login"),
          400: Type.Union([SettingsFlow, W.GenericError]),
          403: Type.Union([RefreshRequired, W.GenericError]),
        },
      },
    },
    async (request, reply) => {
      const { flow, auth } = await ownFlow(request, request.query.flow);
      const body = request.body;
      const asJson = wantsJson(request, flow);
      /** A refusal with the flow: the flow with its messages as JSON, or back to the page that shows them. */
      const refuse = async (view: FlowView): Promise<FastifyReply> => {
        await core.flows.saveView(flow.id, view);
        return asJson ? reply.code(400).send(json(flow, auth, view)) : reply.code(303).header("location", uiOf(flow)).send();
      };
      // House rule 9: a browser's change is proven same-site twice, by the flow's token and the request.
      if (flow.kind === "browser" && (isCrossSite(request.headers, door.ownOrigins) || !cookies.csrfValid(request, body.csrf_token))) {
        logRefusal(request, "csrf.refused", "kratos");
        if (asJson) throw new KratosWireError(CSRF_VIOLATION);
        return forward(door, request, reply, CSRF_VIOLATION);
      }
      if (body.method !== "password") return refuse({ messages: [TEXT.invalid("Could not find a strategy to update your settings. Did you fill out the form correctly?")] });
      // A save hashes a password twice, so it counts against the client's sign-in limit (SEC-61).
      await core.sessions.admitAttempt(requestOrigin(request, "kratos").ipAddress);
      try {
        await core.identities.changePassword(auth, body.password, SELF);
      } catch (error) {
        if (isCoreError(error, "PASSWORD_REJECTED")) {
          return refuse({ nodeMessages: { password: [body.password === undefined ? TEXT.missing("password") : TEXT.passwordPolicy(error.message)] } });
        }
        if (isCoreError(error, "SESSION_REFRESH_REQUIRED")) {
          // Kratos's FlowNeedsReAuth: the refresh login, returning to this very request.
          const returnTo = flow.kind === "browser" ? uiOf(flow) : `${baseUrl}${request.url}`;
          const redirect = `${baseUrl}${ROUTES.createBrowserLoginFlow}?${new URLSearchParams({ refresh: "true", return_to: returnTo })}`;
          if (!asJson) return reply.code(303).header("location", redirect).send();
          throw new KratosWireError({ ...fromCoreError(error), extra: { redirect_browser_to: redirect } });
        }
        throw error;
      }
      const view: FlowView = { state: "success", messages: [TEXT.settingsSaved()] };
      await core.flows.saveView(flow.id, view);
      if (asJson) return reply.send(json(flow, auth, view));
      return reply.code(303).header("location", flow.returnTo ?? uiOf(flow)).send();
    },
  );
}
