/**
 * The Assets Server wire (WoodWing's Assets Server REST documentation): parameters from the query
 * string or a form, JSON answers, the user profile. The error JSON is in wire-errors.ts.
 */
import { Type } from "typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Identity } from "../../core/model.ts";
import type { DoorApp } from "../../http/app.ts";
import { AssetsWireError, badRequest } from "./wire-errors.ts";

export type Params = Record<string, string>;

/**
 * Assets takes its parameters from the query string or a form body, either one. A name given
 * twice, or in both places, is refused (SEC-70): two layers must never read it differently.
 */
export function paramsOf(request: FastifyRequest): Params {
  const out: Params = {};
  const add = (source: unknown) => {
    if (source === undefined || source === null) return;
    if (typeof source !== "object" || Array.isArray(source)) throw new AssetsWireError(badRequest("The request body must be a form."));
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (typeof v !== "string") throw new AssetsWireError(badRequest(`The parameter ${k.slice(0, 64)} was given more than once or is not text.`));
      if (Object.hasOwn(out, k)) throw new AssetsWireError(badRequest(`The parameter ${k.slice(0, 64)} was given more than once.`));
      out[k] = v;
    }
  };
  add(request.query);
  add(request.body);
  return out;
}

/**
 * Assets reads parameters from the query string or a form, nothing else. The listener's JSON and
 * text/plain parsers would otherwise accept a body this door then ignores, so a `text/plain` POST
 * /services/logout would succeed; without them it is 415 (D13).
 */
export function acceptFormsOnly(app: DoorApp): void {
  app.removeContentTypeParser(["application/json", "text/plain"]);
}

/** A JSON answer, written exactly as given (Assets' key order). */
export function sendJson(reply: FastifyReply, body: Record<string, unknown>): FastifyReply {
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(body));
}

export function profileOf(identity: Identity): Record<string, unknown> {
  const { email, username } = identity.traits;
  return { username: username ?? email, fullName: username ?? email, email, userZone: "", groups: [], authorities: ["ROLE_USER"] };
}

// ---- what the Assets operations answer, for the OpenAPI document ----------------------------

export const AssetsErrorJson = Type.Object(
  { errorcode: Type.Integer(), errorname: Type.Optional(Type.String()), message: Type.String() },
  { description: "An Assets Server error: the HTTP status in `errorcode` (and as the status, unless assets.status_ok_on_error)" },
);
export const ProfileJson = Type.Object({
  username: Type.String(),
  fullName: Type.String(),
  email: Type.String(),
  userZone: Type.String(),
  groups: Type.Array(Type.String()),
  authorities: Type.Array(Type.String()),
});
export const LoginJson = Type.Object(
  {
    loginSuccess: Type.Boolean(),
    serverVersion: Type.String(),
    csrfToken: Type.Optional(Type.String({ description: "Browser login: send it as X-CSRF-TOKEN with each state-changing call" })),
    authToken: Type.Optional(Type.String({ description: "API login: send it as Authorization: Bearer" })),
    userProfile: Type.Optional(ProfileJson),
    loginFaultMessage: Type.Optional(Type.String({ description: "When loginSuccess is false" })),
  },
  { description: "Success, or a refused sign-in (loginSuccess false, with the reason)" },
);
export const LogoutJson = Type.Object({ logoutSuccess: Type.Literal(true) });
export const ASSETS_ERRORS = { 400: AssetsErrorJson, 401: AssetsErrorJson, 403: AssetsErrorJson, 405: AssetsErrorJson, 429: AssetsErrorJson, 503: AssetsErrorJson };
