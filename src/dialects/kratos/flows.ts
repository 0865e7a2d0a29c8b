/**
 * Login and registration flows, native (API) and browser, as Kratos runs them:
 * create a flow, read it, submit it. Native flows answer with a session token; browser flows
 * set the `ory_kratos_session` cookie and, unless the caller asked for JSON, redirect (303).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { isCoreError } from "../../core/errors.ts";
import type { AuthenticatedSession, Flow, FlowKind, FlowType, Identity } from "../../core/model.ts";
import { resolveRedirect } from "../../core/redirect-gate.ts";
import type { SignedIn } from "../../core/sessions.ts";
import { acceptsJson, isJsonRequest } from "../../http/negotiate.ts";
import { requestOrigin } from "../../http/request-context.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { logRefusal } from "../../http/security-log.ts";
import { BrowserCookies, forward, seeOther, withQuery } from "./browser.ts";
import { presentedToken } from "./credentials.ts";
import { type KratosApp, type KratosDoorOptions, ownSessionView } from "./door.ts";
import { CSRF_VIOLATION, type KratosError, KratosWireError, fromCoreError, sendKratosError } from "./wire-errors.ts";
import { type FlowView, TEXT, flowJson } from "./flow-json.ts";
import { ROUTES } from "./routes.ts";
import { identityJson } from "./serialize.ts";
import * as W from "./wire.ts";

const FlowQuery = Type.Object({ flow: Type.Optional(Type.String()) });
const InitQuery = Type.Object({
  refresh: Type.Optional(Type.String()),
  return_to: Type.Optional(Type.String()),
  aal: Type.Optional(Type.String()),
  return_session_token_exchange_code: Type.Optional(Type.String()),
  login_challenge: Type.Optional(Type.String()),
});
const IdQuery = Type.Object({ id: Type.String() });

const LoginBody = Type.Object(
  {
    method: Type.String({ maxLength: 64 }),
    identifier: Type.Optional(Type.String({ maxLength: 320 })),
    password_identifier: Type.Optional(Type.String({ maxLength: 320 })),
    password: Type.Optional(Type.String({ maxLength: 4096 })),
    csrf_token: Type.Optional(Type.String({ maxLength: 256 })),
    transient_payload: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

const RegistrationBody = Type.Object(
  {
    method: Type.String({ maxLength: 64 }),
    traits: Type.Optional(Type.Object({}, { additionalProperties: true })),
    password: Type.Optional(Type.String({ maxLength: 4096 })),
    csrf_token: Type.Optional(Type.String({ maxLength: 256 })),
    transient_payload: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);

/** A 400 on submission is the flow again with its messages, or a herodot error, as in Kratos. */
const FlowOrError = Type.Union([W.Flow, W.GenericError]);
const BrowserLoginSuccess = Type.Object({ session: W.Session, continue_with: Type.Array(Type.Unknown()) });

const ERROR_RESPONSES = {
  400: W.GenericError,
  401: W.GenericError,
  403: W.GenericError,
  404: W.GenericError,
  410: W.GenericError,
  429: W.GenericError,
  503: W.GenericError,
};

const STRATEGY_MISSING: Record<FlowType, string> = {
  login: "Could not find a strategy to log you in with. Did you fill out the form correctly?",
  registration: "Could not find a strategy to sign you up with. Did you fill out the form correctly?",
  settings: "Could not find a strategy to update your settings. Did you fill out the form correctly?",
};

/**
 * HTML forms post `traits.email=…`; Kratos reads those dotted names into the `traits` object.
 * Runs before validation, so the same schema checks forms and JSON.
 */
function foldFormTraits(request: FastifyRequest): void {
  const body = request.body as Record<string, unknown> | null | undefined;
  if (!body || typeof body !== "object" || Array.isArray(body)) return;
  const dotted = Object.keys(body).filter((k) => k.startsWith("traits."));
  if (dotted.length === 0 || "traits" in body) return;
  const traits: Record<string, unknown> = {};
  for (const key of dotted) {
    traits[key.slice("traits.".length)] = body[key];
    delete body[key];
  }
  body.traits = traits;
}

export function flowRoutes(app: KratosApp, door: KratosDoorOptions): void {
  const { core, baseUrl } = door;
  const cookies = new BrowserCookies(door);

  /** The live session behind the request, if any; store failures propagate (INV-3). */
  async function signedInSession(request: FastifyRequest) {
    const token = presentedToken(request);
    if (!token) return null;
    return core.sessions.findLive(token.token);
  }

  function validatedReturnTo(returnTo: string | undefined): string | null {
    return returnTo ? resolveRedirect(returnTo, door.redirect).href : null;
  }

  function initRoute(type: FlowType, kind: FlowKind): string {
    if (type === "login") return kind === "api" ? ROUTES.createNativeLoginFlow : ROUTES.createBrowserLoginFlow;
    return kind === "api" ? ROUTES.createNativeRegistrationFlow : ROUTES.createBrowserRegistrationFlow;
  }

  function uiUrl(type: FlowType): string {
    return type === "login" ? door.ui.login : door.ui.registration;
  }

  // ---- native flows -----------------------------------------------------------------------

  for (const type of ["login", "registration"] as const) {
    app.get(
      initRoute(type, "api"),
      {
        schema: {
          operationId: type === "login" ? "createNativeLoginFlow" : "createNativeRegistrationFlow",
          tags: ["frontend"],
          summary: `Create a ${type} flow for native apps`,
          querystring: InitQuery,
          response: { 200: W.Flow, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const refresh = type === "login" && request.query.refresh === "true";
        const current = await signedInSession(request);
        if (current && !refresh) throw new KratosWireError(alreadySignedIn(type));
        refuseHigherAal(request.query.aal);
        // `refresh=true` re-authenticates a signed-in person; signed out, it is an ordinary login.
        const flow = await core.flows.create(type, "api", baseUrl + request.url, validatedReturnTo(request.query.return_to), null, {
          refresh: refresh && current !== null,
          ip: requestOrigin(request, "kratos").ipAddress,
        });
        return reply.send(flowJson(flow, baseUrl));
      },
    );

    // ---- browser flows ----------------------------------------------------------------------

    app.get(
      initRoute(type, "browser"),
      {
        config: { browser: true },
        schema: {
          operationId: type === "login" ? "createBrowserLoginFlow" : "createBrowserRegistrationFlow",
          tags: ["frontend"],
          summary: `Create a ${type} flow for browsers`,
          description: `Redirects (303) to the ${type} page, or answers the flow as JSON when the request asks for it (Accept negotiation as Kratos does it). Sets the CSRF cookie.`,
          querystring: InitQuery,
          response: { 200: W.Flow, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const json = acceptsJson(request.headers);
        const returnTo = validatedReturnTo(request.query.return_to);
        const refresh = type === "login" && request.query.refresh === "true";
        const current = await signedInSession(request);
        if (current && !refresh) {
          if (json) return sendKratosError(request, reply, alreadySignedIn(type));
          return seeOther(reply, returnTo ?? door.redirect.defaultUrl.href);
        }
        refuseHigherAal(request.query.aal);
        const csrf = cookies.csrfTokenFor(request, reply);
        const flow = await core.flows.create(type, "browser", baseUrl + request.url, returnTo, csrf, {
          refresh: refresh && current !== null,
          ip: requestOrigin(request, "kratos").ipAddress,
        });
        if (json) return reply.send(flowJson(flow, baseUrl));
        return seeOther(reply, withQuery(uiUrl(type), "flow", flow.id));
      },
    );

    app.get(
      type === "login" ? ROUTES.getLoginFlow : ROUTES.getRegistrationFlow,
      {
        schema: {
          operationId: type === "login" ? "getLoginFlow" : "getRegistrationFlow",
          tags: ["frontend"],
          summary: `Get a ${type} flow`,
          description: "A browser flow is shown only to the browser holding its CSRF cookie (403 otherwise).",
          querystring: IdQuery,
          response: { 200: W.Flow, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const flow = await core.flows.get(request.query.id, type);
        if (flow.kind === "browser" && !cookies.csrfValid(request, flow.csrfToken ?? undefined)) {
          logRefusal(request, "csrf.refused", "kratos");
          return sendKratosError(request, reply, CSRF_VIOLATION);
        }
        return reply.send(flowJson(flow, baseUrl, (flow.view as FlowView | null) ?? {}));
      },
    );
  }

  /** Loads the flow a submission names; an expired one is replaced, as Kratos does (410 + use_flow_id). */
  async function submittedFlow(request: FastifyRequest, flowId: string | undefined, type: FlowType): Promise<Flow> {
    if (!flowId) throw new KratosWireError(MALFORMED_FLOW_PARAM);
    try {
      return await core.flows.get(flowId, type);
    } catch (error) {
      if (isCoreError(error, "FLOW_EXPIRED")) {
        const expired = await core.flows.findAny(flowId, type);
        const kind = expired?.kind ?? "api";
        const csrf = kind === "browser" ? (expired?.csrfToken ?? null) : null;
        const replacement = await core.flows.create(type, kind, baseUrl + initRoute(type, kind), expired?.returnTo ?? null, csrf, {
          ip: requestOrigin(request, "kratos").ipAddress,
        });
        if (kind === "browser" && !isJsonRequest(request.headers)) {
          throw new Redirect(withQuery(uiUrl(type), "flow", replacement.id));
        }
        const expiredAt = error.details.expiredAt ?? core.clock.now();
        throw new KratosWireError({
          ...fromCoreError(error),
          extra: {
            expired_at: expiredAt.toISOString(),
            since: (core.clock.now().getTime() - expiredAt.getTime()) * 1_000_000, // nanoseconds, as Kratos sends
            use_flow_id: replacement.id,
          },
        });
      }
      if (isCoreError(error, "FLOW_NOT_FOUND") && !/^[0-9a-f-]{36}$/.test(flowId)) throw new KratosWireError(MALFORMED_FLOW_PARAM);
      throw error;
    }
  }

  /**
   * Answers a submission. For native flows: the flow JSON with its messages (400), or the
   * success body. For browser flows: the same as JSON when the caller asked for JSON, else
   * a 303 back to the form page (which shows the kept view) or onwards.
   */
  function responder(request: FastifyRequest, reply: FastifyReply, flow: Flow) {
    const browser = flow.kind === "browser";
    const json = !browser || isJsonRequest(request.headers);
    return {
      async invalid(view: FlowView): Promise<FastifyReply> {
        if (browser) await core.flows.saveView(flow.id, view);
        if (json) return reply.code(400).send(flowJson(flow, baseUrl, view));
        return seeOther(reply, withQuery(uiUrl(flow.type), "flow", flow.id));
      },
      async signedIn(signed: SignedIn, extra: { identity?: Identity } = {}): Promise<FastifyReply> {
        const session = ownSessionView(door, signed);
        const identity = extra.identity ? { identity: identityJson(extra.identity, { baseUrl, admin: false }) } : {};
        if (!browser) {
          const continueWith = extra.identity ? [{ action: "set_ory_session_token", ory_session_token: signed.token }] : null;
          return reply.send({ session_token: signed.token, session, ...identity, continue_with: continueWith });
        }
        // A new principal: a new session cookie (SEC-12) and a new CSRF secret, as Kratos rotates it.
        cookies.setSession(reply, signed.token, signed.session.expiresAt);
        cookies.rotateCsrf(reply);
        const next = flow.returnTo ?? door.redirect.defaultUrl.href;
        if (json) return reply.send({ session, ...identity, continue_with: [{ action: "redirect_browser_to", redirect_browser_to: next }] });
        return seeOther(reply, next);
      },
      /** A refresh flow done: the same session, renewed; its token (or cookie) stays as it was. */
      async reauthenticated(renewed: AuthenticatedSession): Promise<FastifyReply> {
        const session = ownSessionView(door, renewed);
        // Native: the token the client presented is still its token (only its hash is kept, D1).
        if (!browser) return reply.send({ session_token: presentedToken(request)?.token ?? "", session, continue_with: null });
        const next = flow.returnTo ?? door.redirect.defaultUrl.href;
        if (json) return reply.send({ session, continue_with: [{ action: "redirect_browser_to", redirect_browser_to: next }] });
        return seeOther(reply, next);
      },
      /** Browser requests that fail outright (CSRF, throttling) go to the error page. */
      async refused(error: KratosError): Promise<FastifyReply> {
        if (json) return sendKratosError(request, reply, error);
        return forward(door, request, reply, error);
      },
    };
  }

  /**
   * Checks common to both submissions; true when it has answered and the submission stops here.
   * A boolean, not the reply: a FastifyReply is thenable and an awaited one resolves to
   * undefined, so "return the reply" would read as "go on" and sign in after a refusal (SEC-65).
   */
  async function precheck(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: Flow,
    body: { method: string; csrf_token?: string | undefined },
    view: FlowView,
  ): Promise<boolean> {
    const answer = responder(request, reply, flow);
    // D12, house rule 9: a browser flow proves the submission came from our page, in two layers:
    // the token bound to the CSRF cookie, and a same-site check. The SameSite=Lax cookie alone is
    // no second layer against a sibling sub-domain, which can both toss a CSRF cookie of its own
    // (SEC-10) and post same-site with it (login CSRF, SEC-65).
    if (flow.kind === "browser" && (isCrossSite(request.headers, door.ownOrigins) || !cookies.csrfValid(request, body.csrf_token))) {
      logRefusal(request, "csrf.refused", "kratos");
      await answer.refused(CSRF_VIOLATION);
      return true;
    }
    if (body.method !== "password") {
      await answer.invalid({ ...view, messages: [{ id: 4010002, text: STRATEGY_MISSING[flow.type], type: "error" }] });
      return true;
    }
    // A refresh flow is for the signed-in person (the login handler checks it is them).
    if (!flow.refresh && (await signedInSession(request))) {
      if (flow.kind === "browser" && !isJsonRequest(request.headers)) {
        // Kratos: 303 onwards for login, 302 for registration.
        reply.code(flow.type === "login" ? 303 : 302).header("location", door.redirect.defaultUrl.href).send();
      } else if (flow.type === "registration") {
        // Login folds "already signed in" into the flow as a message; registration answers the error itself.
        sendKratosError(request, reply, alreadySignedIn("registration"));
      } else {
        await answer.invalid({ ...view, messages: [TEXT.invalid(alreadySignedIn(flow.type).reason as string)] });
      }
      return true;
    }
    return false;
  }

  app.post(
    ROUTES.updateLoginFlow,
    {
      config: { browser: true },
      preValidation: async (request) => foldFormTraits(request),
      schema: {
        operationId: "updateLoginFlow",
        tags: ["frontend"],
        summary: "Submit a login flow",
        description: "JSON or a form. Native flows answer with a session token; browser flows set the session cookie and redirect (303), or answer JSON when asked.",
        querystring: FlowQuery,
        body: LoginBody,
        response: { 200: Type.Union([W.SuccessfulNativeLogin, BrowserLoginSuccess]), ...ERROR_RESPONSES, 400: FlowOrError },
      },
    },
    async (request, reply) => {
      const flow = await submittedFlow(request, request.query.flow, "login");
      const body = request.body;
      const identifier = body.identifier ?? body.password_identifier ?? "";
      const view: FlowView = { values: { identifier } };
      if (await precheck(request, reply, flow, body, view)) return reply;
      const answer = responder(request, reply, flow);
      if (identifier === "") return answer.invalid({ ...view, nodeMessages: { identifier: [TEXT.missing("identifier")] } });
      if (!body.password) return answer.invalid({ ...view, nodeMessages: { password: [TEXT.missing("password")] } });
      const proof = { kind: "password", password: body.password } as const;
      try {
        const current = flow.refresh ? await signedInSession(request) : null;
        if (current) {
          // Kratos `refresh=true`: the same person renews the same session (authenticated_at).
          const renewed = await core.sessions.reauthenticate(current, identifier, proof, requestOrigin(request, "kratos"));
          if (!renewed) return answer.refused(IDENTITY_MISMATCH);
          return answer.reauthenticated(renewed);
        }
        const signed = await core.sessions.signIn(identifier, proof, requestOrigin(request, "kratos"));
        return answer.signedIn(signed);
      } catch (error) {
        if (isCoreError(error, "CREDENTIALS_INVALID")) return answer.invalid({ ...view, messages: [TEXT.credentialsInvalid()] });
        if (isCoreError(error, "RATE_LIMITED")) return answer.refused(fromCoreError(error));
        throw error;
      }
    },
  );

  app.post(
    ROUTES.updateRegistrationFlow,
    {
      config: { browser: true },
      preValidation: async (request) => foldFormTraits(request),
      schema: {
        operationId: "updateRegistrationFlow",
        tags: ["frontend"],
        summary: "Submit a registration flow; signs the new identity in",
        querystring: FlowQuery,
        body: RegistrationBody,
        response: { 200: W.SuccessfulNativeRegistration, ...ERROR_RESPONSES, 400: FlowOrError },
      },
    },
    async (request, reply) => {
      const flow = await submittedFlow(request, request.query.flow, "registration");
      const body = request.body;
      const traits = body.traits ?? {};
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(traits)) if (typeof v === "string") values[`traits.${k}`] = v;
      const view: FlowView = { values };
      if (await precheck(request, reply, flow, body, view)) return reply;
      const answer = responder(request, reply, flow);
      // The password method needs a password: without this check an identity would be created
      // without one and signed in at once, by anyone naming an unused email.
      if (!body.password) return answer.invalid({ ...view, nodeMessages: { password: [TEXT.missing("password")] } });
      const origin = requestOrigin(request, "kratos");
      let identity;
      try {
        await core.sessions.admitAttempt(origin.ipAddress);
        identity = await core.identities.create({ traits, password: body.password }, "self");
      } catch (error) {
        if (isCoreError(error, "IDENTIFIER_TAKEN")) return answer.invalid({ ...view, messages: [TEXT.duplicate()] });
        if (isCoreError(error, "RATE_LIMITED")) return answer.refused(fromCoreError(error));
        if (isCoreError(error, "TRAITS_INVALID") || isCoreError(error, "PASSWORD_REJECTED")) {
          const field = error.details.field ?? "traits";
          const message = /is missing/.test(error.message)
            ? TEXT.missing(field.replace(/^traits\./, ""))
            : error.code === "PASSWORD_REJECTED"
              ? TEXT.passwordPolicy(error.message.charAt(0).toLowerCase() + error.message.slice(1))
              : TEXT.invalid(error.message);
          return answer.invalid({ ...view, nodeMessages: { [field]: [message] } });
        }
        throw error;
      }
      return answer.signedIn(await core.sessions.begin(identity, origin), { identity });
    },
  );
}

/** Only aal1 exists until Curfew has second factors. */
function refuseHigherAal(aal: string | undefined): void {
  if (aal !== undefined && aal !== "aal1") {
    throw new KratosWireError({
      code: 400,
      reason: `Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1] but got ${aal.slice(0, 16)}`,
    });
  }
}

/** Kratos's `session_already_available` errors of login and of registration. */
function alreadySignedIn(type: FlowType): KratosError {
  return {
    code: 400,
    id: "session_already_available",
    reason:
      type === "login"
        ? "A valid session was detected and thus login is not possible. Did you forget to set `?refresh=true`?"
        : "A valid session was detected and thus registration is not possible.",
    message: "you are already logged in",
  };
}

/** A refresh flow submitted with another person's credentials (Kratos's `security_identity_mismatch`). */
const IDENTITY_MISMATCH: KratosError = {
  code: 400,
  id: "security_identity_mismatch",
  reason: "The credentials belong to someone other than the person signed in. Sign out first to sign in as someone else.",
  message: "the request was initiated by someone else",
};

const MALFORMED_FLOW_PARAM: KratosError = { code: 400, reason: "The flow query parameter is missing or malformed." };

/** A browser sent elsewhere from deep in a handler (an expired flow's replacement). */
export class Redirect extends Error {
  constructor(readonly location: string) {
    super(`303 ${location}`);
  }
}
