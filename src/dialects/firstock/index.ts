/**
 * The Firstock V4 door (seed 001; research/firstock-assets.md §1): a broker-style token API.
 * `POST /api/V4/login` gives a `jKey` (the Curfew session token, D1), `POST /api/V4/logout
 * {userId, jKey}` ends it, `POST /api/V4/userDetails {userId, jKey}` checks it. JSON bodies
 * only; the jKey travels in the body, never in a URL or a log (SEC-50).
 */
import type { FastifyError } from "fastify";
import { Type } from "typebox";
import { isCoreError } from "../../core/errors.ts";
import type { Core } from "../../core/index.ts";
import type { AuthenticatedSession, Identity } from "../../core/model.ts";
import { constantTimeEqual } from "../../core/tokens.ts";
import type { DoorApp } from "../../http/app.ts";
import { BodyError } from "../../http/json-body.ts";
import { requestOrigin } from "../../http/request-context.ts";
import {
  type FirstockFailure,
  INVALID_JKEY,
  badRequest,
  fromCoreError,
  sendFailure,
  sendSuccess,
} from "./envelope.ts";

/** The door is registered under this prefix; routes below are relative to it. */
export const PREFIX = "/api/V4";

export const ROUTES = {
  login: "/login",
  logout: "/logout",
  userDetails: "/userDetails",
} as const;

export interface FirstockDoorOptions {
  core: Core;
  /** Vendor codes and API keys from key generation (`firstock.vendors`). */
  vendors: readonly { vendorCode: string; apiKey: string }[];
  /** The zone `requestTime` is written in (the daily cut-off's). */
  timeZone: string;
}

const text = (maxLength: number, minLength = 0) => Type.String({ maxLength, minLength });

const LoginBody = Type.Object(
  {
    userId: text(320, 1),
    password: Type.String({ maxLength: 256, description: "Lowercase hex SHA-256 of the password (D11)." }),
    TOTP: Type.String({ maxLength: 16, description: "Accepted and ignored until Curfew has second factors." }),
    vendorCode: text(128, 1),
    apiKey: text(256, 1),
  },
  { additionalProperties: false },
);

const TokenBody = Type.Object({ userId: text(320, 1), jKey: text(256) }, { additionalProperties: false });

const Failure = Type.Object({
  status: Type.Literal("failed"),
  code: Type.String(),
  name: Type.String(),
  error: Type.Object({ field: Type.String(), message: Type.String() }),
});

/** Responses are written by envelope.ts as exact strings; these schemas document them. */
const docs = (success: Type.TSchema) => ({ 200: success, 400: Failure, 401: Failure, 413: Failure, 415: Failure, 429: Failure, 503: Failure });

export async function firstockDoor(app: DoorApp, door: FirstockDoorOptions): Promise<void> {
  const { core } = door;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = toFailure(error);
    if (failure.code >= 500 && !isCoreError(error)) request.log.error({ err: error }, "unhandled error");
    if (isCoreError(error, "STORE_UNAVAILABLE")) request.log.error({ err: error.cause }, "store unavailable");
    return sendFailure(reply, failure);
  });

  // SEC-50: JSON only. Forms would otherwise be parsed by the listener's form parser.
  app.addHook("preValidation", async (request, reply) => {
    if (request.is404) return; // the not-found handler answers 404/405 in the envelope
    const type = (request.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
    if (type !== "application/json") {
      return sendFailure(reply, { code: 415, name: "UNSUPPORTED_MEDIA_TYPE", field: "Content-Type", message: "Content-Type must be application/json" });
    }
  });

  /** The identity `userId` names, and the live session `jKey` is, when they belong together (SEC-51). */
  async function ownedSession(userId: string, jKey: string): Promise<{ identity: Identity; auth: AuthenticatedSession } | null> {
    const identity = await core.identities.findByIdentifier(userId);
    if (!identity || jKey === "") return null;
    const auth = await core.sessions.findLive(jKey);
    return auth && auth.identity.id === identity.id ? { identity, auth } : null;
  }

  const vendorKnown = (vendorCode: string, apiKey: string) =>
    door.vendors.some((v) => constantTimeEqual(v.vendorCode, vendorCode) && constantTimeEqual(v.apiKey, apiKey));

  app.post(
    ROUTES.login,
    {
      schema: {
        operationId: "firstockLogin",
        tags: ["firstock"],
        summary: "Sign in; the jKey is data.susertoken",
        description: "`password` is the lowercase hex SHA-256 of the password (D11). `userId` is a username or email (D9). Unknown user and wrong password give the same INVALID_PASSWORD (D14).",
        body: LoginBody,
        response: docs(Type.Object({ status: Type.Literal("success"), data: Type.Object({ actid: Type.String(), userName: Type.String(), susertoken: Type.String(), email: Type.String() }) })),
      },
    },
    async (request, reply) => {
      const { userId, password, vendorCode, apiKey } = request.body;
      if (!vendorKnown(vendorCode, apiKey)) {
        return sendFailure(reply, { code: 401, name: "INVALID_APIKEY", field: "apiKey", message: "apiKey parameter is invalid" });
      }
      const signed = await core.sessions.signIn(userId, { kind: "digest", digest: password }, requestOrigin(request, "firstock"));
      const { email, username } = signed.identity.traits;
      // Key order of the vendor's example: actid, userName, susertoken, email.
      return sendSuccess(reply, { actid: username ?? email, userName: username ?? email, susertoken: signed.token, email });
    },
  );

  app.post(
    ROUTES.logout,
    {
      schema: {
        operationId: "firstockLogout",
        tags: ["firstock"],
        summary: "End the session of a jKey",
        description: "Revokes durably before answering (INV-1). An unknown, ended, expired or other user's jKey gets 401 INVALID_JKEY and ends nothing (SEC-51), a repeat included, as Firstock answers a dead jKey.",
        body: TokenBody,
        response: docs(Type.Object({ status: Type.Literal("success"), data: Type.String() })),
      },
    },
    async (request, reply) => {
      const { userId, jKey } = request.body;
      const identity = await core.identities.findByIdentifier(userId);
      if (!identity || jKey === "") return sendFailure(reply, INVALID_JKEY);
      let ended: boolean;
      try {
        ended = await core.sessions.logoutWithToken(jKey, { actor: "self", door: "firstock" }, identity.id);
      } catch (error) {
        if (isCoreError(error, "SESSION_INACTIVE")) return sendFailure(reply, INVALID_JKEY);
        throw error;
      }
      if (!ended) return sendFailure(reply, INVALID_JKEY);
      return sendSuccess(reply, "Successfully logged out");
    },
  );

  app.post(
    ROUTES.userDetails,
    {
      schema: {
        operationId: "firstockUserDetails",
        tags: ["firstock"],
        summary: "The account behind a live jKey",
        body: TokenBody,
        response: docs(Type.Object({ status: Type.Literal("success"), data: Type.Object({}, { additionalProperties: true }) })),
      },
    },
    async (request, reply) => {
      const owned = await ownedSession(request.body.userId, request.body.jKey);
      if (!owned) return sendFailure(reply, INVALID_JKEY);
      const { email, username } = owned.identity.traits;
      return sendSuccess(reply, {
        actid: username ?? email,
        email,
        exchange: [],
        orarr: [],
        requestTime: requestTime(core.clock.now(), door.timeZone),
        uprev: "INVESTOR",
        userName: username ?? email,
      });
    },
  );

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "";
    const known = Object.values(ROUTES).some((route) => PREFIX + route === path);
    if (known) reply.header("allow", "POST");
    return sendFailure(reply, known
      ? { code: 405, name: "METHOD_NOT_ALLOWED", field: "", message: `${request.method.slice(0, 16)} is not allowed; use POST` }
      : { code: 404, name: "RESOURCE_NOT_FOUND", field: "", message: "resource not found" });
  });
}

/** `HH:MM:SS DD-MM-YYYY`, as Firstock writes requestTime (research/firstock-assets.md §1.5). */
function requestTime(now: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(now)
      .map((x) => [x.type, x.value]),
  );
  return `${p.hour}:${p.minute}:${p.second} ${p.day}-${p.month}-${p.year}`;
}

function toFailure(error: FastifyError): FirstockFailure {
  if (isCoreError(error)) return fromCoreError(error);
  if (error instanceof BodyError) {
    if (error.problem === "charset") return { code: 415, name: "UNSUPPORTED_MEDIA_TYPE", field: "Content-Type", message: error.message };
    if (error.problem === "encoding") {
      return { code: 415, name: "UNSUPPORTED_MEDIA_TYPE", field: "Content-Encoding", message: "Content-Encoding is not supported; send the body uncompressed" };
    }
    return badRequest("body", error.problem === "empty" ? "request body is required" : error.message);
  }
  if (error.validation) {
    const v = error.validation[0];
    const params = (v?.params ?? {}) as { missingProperty?: string; additionalProperty?: string; additionalProperties?: string[] };
    const field = params.missingProperty ?? params.additionalProperty ?? params.additionalProperties?.[0] ?? (v?.instancePath ?? "").replace(/^\//, "");
    if (params.missingProperty) return badRequest(field, `${field} is required`);
    if (params.additionalProperty || params.additionalProperties) return badRequest(field, `${field} is not a parameter of this API`);
    return badRequest(field || "body", field ? `${field} parameter is invalid` : "request body must be a JSON object");
  }
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return { code: 413, name: "PAYLOAD_TOO_LARGE", field: "body", message: "request body is too large" };
  if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return { code: 415, name: "UNSUPPORTED_MEDIA_TYPE", field: "Content-Type", message: "Content-Type must be application/json" };
  if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return badRequest("body", "request body is required");
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return badRequest("body", "the request is invalid");
  return { code: 500, name: "INTERNAL_SERVER_ERROR", field: "", message: "an internal error occurred" };
}
