/**
 * Native (API) login and registration flows and native logout: what a mobile app, a CLI or a
 * server uses with a session token (research/kratos.md §2.3, §4.2, §4.4). Browser flows and
 * their cookies come with the browser half of this door.
 */
import { Type } from "typebox";
import { isCoreError } from "../../core/errors.ts";
import type { Flow, FlowType } from "../../core/model.ts";
import { resolveRedirect } from "../../core/redirect-gate.ts";
import { requestOrigin } from "../../http/request-context.ts";
import { presentedToken } from "./credentials.ts";
import { type KratosApp, type KratosDoorOptions, ownSessionView } from "./door.ts";
import { type KratosError, KratosWireError, fromCoreError, sendKratosError } from "./errors.ts";
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

const NativeLogoutBody = Type.Object(
  { session_token: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);

/** A 400 on submission is the flow again with its messages, or a herodot error (research/kratos.md §4.2). */
const FlowOrError = Type.Union([W.Flow, W.GenericError]);

const ERROR_RESPONSES = { 400: W.GenericError, 401: W.GenericError, 403: W.GenericError, 404: W.GenericError, 410: W.GenericError, 429: W.GenericError, 503: W.GenericError };

export function selfServiceRoutes(app: KratosApp, door: KratosDoorOptions): void {
  const { core, baseUrl } = door;

  /** Kratos's "already signed in" check at flow creation (research/kratos.md §4.2). */
  async function refuseIfSignedIn(request: Parameters<typeof presentedToken>[0], type: FlowType): Promise<void> {
    const token = presentedToken(request);
    if (!token) return;
    try {
      await core.sessions.authenticate(token.token);
    } catch (error) {
      if (isCoreError(error, "SESSION_INACTIVE") || isCoreError(error, "SESSION_MISSING")) return;
      throw error;
    }
    throw new KratosWireError(alreadySignedIn(type));
  }

  async function createFlow(type: FlowType, url: string, returnTo: string | undefined): Promise<Flow> {
    const target = returnTo ? resolveRedirect(returnTo, door.redirect).href : null;
    return core.flows.create(type, "api", baseUrl + url, target);
  }

  for (const type of ["login", "registration"] as const) {
    const operationId = type === "login" ? "createNativeLoginFlow" : "createNativeRegistrationFlow";
    app.get(
      type === "login" ? ROUTES.createNativeLoginFlow : ROUTES.createNativeRegistrationFlow,
      {
        schema: {
          operationId,
          tags: ["frontend"],
          summary: `Create a ${type} flow for native apps`,
          querystring: InitQuery,
          response: { 200: W.Flow, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        if (type === "registration" || request.query.refresh !== "true") await refuseIfSignedIn(request, type);
        if (request.query.aal !== undefined && request.query.aal !== "aal1") {
          return sendKratosError(request, reply, {
            code: 400,
            reason: `Unable to parse AuthenticationMethod Assurance Level (AAL): expected one of [aal1] but got ${request.query.aal.slice(0, 16)}`,
          });
        }
        const flow = await createFlow(type, request.url, request.query.return_to);
        return reply.send(flowJson(flow, baseUrl));
      },
    );

    app.get(
      type === "login" ? ROUTES.getLoginFlow : ROUTES.getRegistrationFlow,
      {
        schema: {
          operationId: type === "login" ? "getLoginFlow" : "getRegistrationFlow",
          tags: ["frontend"],
          summary: `Get a ${type} flow`,
          querystring: IdQuery,
          response: { 200: W.Flow, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => {
        const flow = await core.flows.get(request.query.id, type);
        return reply.send(flowJson(flow, baseUrl));
      },
    );
  }

  /** Loads the flow a submission names; an expired one is replaced, as Kratos does (410 + use_flow_id). */
  async function submittedFlow(flowId: string | undefined, type: FlowType): Promise<Flow> {
    if (!flowId) throw new KratosWireError(MALFORMED_FLOW_PARAM);
    try {
      return await core.flows.get(flowId, type);
    } catch (error) {
      if (isCoreError(error, "FLOW_EXPIRED")) {
        const init = type === "login" ? ROUTES.createNativeLoginFlow : ROUTES.createNativeRegistrationFlow;
        const replacement = await core.flows.create(type, "api", baseUrl + init, null);
        const expiredAt = error.details.expiredAt ?? new Date();
        const wire = fromCoreError(error);
        throw new KratosWireError({
          ...wire,
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

  app.post(
    ROUTES.updateLoginFlow,
    {
      schema: {
        operationId: "updateLoginFlow",
        tags: ["frontend"],
        summary: "Submit a login flow",
        querystring: FlowQuery,
        body: LoginBody,
        response: { 200: W.SuccessfulNativeLogin, ...ERROR_RESPONSES, 400: FlowOrError },
      },
    },
    async (request, reply) => {
      const flow = await submittedFlow(request.query.flow, "login");
      const body = request.body;
      const identifier = body.identifier ?? body.password_identifier ?? "";
      const view: FlowView = { values: { identifier } };
      const fail = (v: FlowView) => reply.code(400).send(flowJson(flow, baseUrl, { ...view, ...v }));
      if (flow.kind !== "api") return fail({ messages: [TEXT.invalid("This flow can only be completed in a browser.")] });
      if (body.method !== "password") {
        return fail({ messages: [{ id: 4010002, text: "Could not find a strategy to log you in with. Did you fill out the form correctly?", type: "error" }] });
      }
      const token = presentedToken(request);
      if (token) {
        const signedIn = await core.sessions.authenticate(token.token).then(
          () => true,
          (e: unknown) => {
            if (isCoreError(e, "SESSION_INACTIVE") || isCoreError(e, "SESSION_MISSING")) return false;
            throw e;
          },
        );
        if (signedIn) return fail({ messages: [TEXT.invalid(alreadySignedIn("login").reason as string)] });
      }
      if (identifier === "") return fail({ nodeMessages: { identifier: [TEXT.missing("identifier")] } });
      if (!body.password) return fail({ nodeMessages: { password: [TEXT.missing("password")] } });
      try {
        const signed = await core.sessions.signIn(identifier, { kind: "password", password: body.password }, requestOrigin(request, "kratos"));
        return reply.send({ session_token: signed.token, session: ownSessionView(door, signed), continue_with: null });
      } catch (error) {
        if (isCoreError(error, "CREDENTIALS_INVALID")) return fail({ messages: [TEXT.credentialsInvalid()] });
        throw error;
      }
    },
  );

  app.post(
    ROUTES.updateRegistrationFlow,
    {
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
      const flow = await submittedFlow(request.query.flow, "registration");
      const body = request.body;
      const traits = body.traits ?? {};
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(traits)) if (typeof v === "string") values[`traits.${k}`] = v;
      const fail = (v: FlowView) => reply.code(400).send(flowJson(flow, baseUrl, { values, ...v }));
      if (flow.kind !== "api") return fail({ messages: [TEXT.invalid("This flow can only be completed in a browser.")] });
      if (body.method !== "password") {
        return fail({ messages: [{ id: 4010002, text: "Could not find a strategy to sign you up with. Did you fill out the form correctly?", type: "error" }] });
      }
      await refuseIfSignedIn(request, "registration");
      // The password method needs a password: without this check an identity would be created
      // without one and signed in at once, by anyone naming an unused email.
      if (!body.password) return fail({ nodeMessages: { password: [TEXT.missing("password")] } });
      const origin = requestOrigin(request, "kratos");
      core.sessions.admitAttempt(origin.ipAddress);
      let identity;
      try {
        identity = await core.identities.create({ traits, password: body.password }, "self");
      } catch (error) {
        if (isCoreError(error, "IDENTIFIER_TAKEN")) return fail({ messages: [TEXT.duplicate()] });
        if (isCoreError(error, "TRAITS_INVALID") || isCoreError(error, "PASSWORD_REJECTED")) {
          const field = error.details.field ?? "traits";
          const message = /is missing/.test(error.message)
            ? TEXT.missing(field.replace(/^traits\./, ""))
            : error.code === "PASSWORD_REJECTED"
              ? TEXT.passwordPolicy(error.message.charAt(0).toLowerCase() + error.message.slice(1))
              : TEXT.invalid(error.message);
          return fail({ nodeMessages: { [field]: [message] } });
        }
        throw error;
      }
      const signed = await core.sessions.begin(identity, origin);
      return reply.send({
        session_token: signed.token,
        session: ownSessionView(door, signed),
        identity: identityJson(signed.identity, { baseUrl, admin: false }),
        continue_with: [{ action: "set_ory_session_token", ory_session_token: signed.token }],
      });
    },
  );

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
        await core.sessions.logoutWithToken(token, { actor: "self", door: "kratos" });
      } catch (error) {
        if (isCoreError(error, "SESSION_INACTIVE")) return refuse();
        throw error;
      }
      return reply.code(204).send(null);
    },
  );
}

/** Kratos's E-ALREADY and E-ALREADY-REG (research/kratos.md §1.3). */
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

const MALFORMED_FLOW_PARAM: KratosError = { code: 400, reason: "The flow query parameter is missing or malformed." };
