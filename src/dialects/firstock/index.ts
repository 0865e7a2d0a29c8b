/**
 * The Firstock V4 door (Firstock's V4 API documentation): a broker-style token API.
 * `POST /api/V4/login` gives a `jKey` (the Curfew session token, D1), `POST /api/V4/logout
 * {userId, jKey}` ends it (logout.ts), `POST /api/V4/userDetails {userId, jKey}` checks it. JSON
 * bodies only; the jKey travels in the body, never in a URL or a log (SEC-50).
 */
import type { FastifyError } from "fastify";
import { Type } from "typebox";
import type { Core } from "../../core/index.ts";
import type { AuthenticatedSession, Identity } from "../../core/model.ts";
import { constantTimeEqual } from "../../core/tokens.ts";
import type { DoorApp } from "../../http/app.ts";
import { requestOrigin } from "../../http/request-context.ts";
import { logRequestFailure } from "../../http/request-failure.ts";
import { logoutRoutes } from "./logout.ts";
import { PREFIX, ROUTES } from "./routes.ts";
import { LoginBody, TokenBody, requestTime, responses, sendSuccess } from "./wire.ts";
import { INVALID_APIKEY, INVALID_JKEY, JSON_ONLY, NOT_FOUND, methodNotAllowed, sendFailure, toFirstockFailure } from "./wire-errors.ts";

export { PREFIX, ROUTES } from "./routes.ts";

export interface FirstockDoorOptions {
  core: Core;
  /** Vendor codes and API keys from key generation (`firstock.vendors`). */
  vendors: readonly { vendorCode: string; apiKey: string }[];
  /** The zone `requestTime` is written in (the daily cut-off's). */
  timeZone: string;
}

export async function firstockDoor(app: DoorApp, door: FirstockDoorOptions): Promise<void> {
  const { core } = door;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = toFirstockFailure(error, request);
    logRequestFailure(request, error, failure.code);
    return sendFailure(reply, failure);
  });

  // SEC-50: JSON only. Forms would otherwise be parsed by the listener's form parser.
  app.addHook("preValidation", async (request, reply) => {
    if (request.is404) return; // the not-found handler answers 404/405 in the envelope
    const type = (request.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
    if (type !== "application/json") return sendFailure(reply, JSON_ONLY);
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
        response: responses(Type.Object({ status: Type.Literal("success"), data: Type.Object({ actid: Type.String(), userName: Type.String(), susertoken: Type.String(), email: Type.String() }) })),
      },
    },
    async (request, reply) => {
      const { userId, password, vendorCode, apiKey } = request.body;
      if (!vendorKnown(vendorCode, apiKey)) return sendFailure(reply, INVALID_APIKEY);
      const signed = await core.sessions.signIn(userId, { kind: "digest", digest: password }, requestOrigin(request, "firstock"));
      const { email, username } = signed.identity.traits;
      // Key order of the vendor's example: actid, userName, susertoken, email.
      return sendSuccess(reply, { actid: username ?? email, userName: username ?? email, susertoken: signed.token, email });
    },
  );

  logoutRoutes(app, door);

  app.post(
    ROUTES.userDetails,
    {
      schema: {
        operationId: "firstockUserDetails",
        tags: ["firstock"],
        summary: "The account behind a live jKey",
        body: TokenBody,
        response: responses(Type.Object({ status: Type.Literal("success"), data: Type.Object({}, { additionalProperties: true }) })),
      },
    },
    async (request, reply) => {
      const ip = requestOrigin(request, "firstock").ipAddress;
      await core.limits.check("bad-token", ip);
      const owned = await ownedSession(request.body.userId, request.body.jKey);
      if (!owned) {
        await core.limits.record("bad-token", ip);
        return sendFailure(reply, INVALID_JKEY);
      }
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
    if (!known) return sendFailure(reply, NOT_FOUND);
    reply.header("allow", "POST");
    return sendFailure(reply, methodNotAllowed(request.method));
  });
}
