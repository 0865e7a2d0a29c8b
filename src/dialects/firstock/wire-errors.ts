/**
 * Everything the Firstock door refuses, in Firstock's failure envelope
 * `{"status":"failed","code":"<HTTP status as a string>","name":…,"error":{"field":…,"message":…}}`,
 * with the HTTP status equal to `code` (Firstock's V4 API documentation; key order is theirs).
 * Every core error code and every kind of request failure is mapped (house rule 6).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type CoreError, type CoreErrorCode, isCoreError } from "../../core/errors.ts";
import { type RequestFailureWords, classifyRequestFailure, sayRequestFailure } from "../../http/request-failure.ts";

export interface FirstockFailure {
  code: number;
  name: string;
  field: string;
  message: string;
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number;
}

export function sendFailure(reply: FastifyReply, f: FirstockFailure): FastifyReply {
  if (f.retryAfter !== undefined) reply.header("retry-after", String(f.retryAfter));
  return reply
    .code(f.code)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify({ status: "failed", code: String(f.code), name: f.name, error: { field: f.field, message: f.message } }));
}

/** The vendor's failure for any jKey that does not name a live session of that user. */
export const INVALID_JKEY: FirstockFailure = { code: 401, name: "INVALID_JKEY", field: "jKey", message: "jKey parameter is invalid" };

/** D14: unknown userId and wrong password are one answer. */
export const INVALID_PASSWORD: FirstockFailure = {
  code: 401,
  name: "INVALID_PASSWORD",
  field: "password",
  message: "password parameter is invalid",
};

export const INVALID_APIKEY: FirstockFailure = { code: 401, name: "INVALID_APIKEY", field: "apiKey", message: "apiKey parameter is invalid" };

/** SEC-68: this door reads JSON only. */
export const JSON_ONLY: FirstockFailure = { code: 415, name: "UNSUPPORTED_MEDIA_TYPE", field: "Content-Type", message: "Content-Type must be application/json" };

export const NOT_FOUND: FirstockFailure = { code: 404, name: "RESOURCE_NOT_FOUND", field: "", message: "resource not found" };

export function methodNotAllowed(method: string): FirstockFailure {
  return { code: 405, name: "METHOD_NOT_ALLOWED", field: "", message: `${method.slice(0, 16)} is not allowed; use POST` };
}

export function badRequest(field: string, message: string): FirstockFailure {
  return { code: 400, name: "BAD_REQUEST", field, message };
}

const UNAVAILABLE: FirstockFailure = {
  code: 503,
  name: "SERVICE_UNAVAILABLE",
  field: "",
  message: "The session store did not answer. Nothing was changed; try again.",
  retryAfter: 1,
};

/** Every core error in Firstock's words. */
export const CORE_ERRORS = {
  CREDENTIALS_INVALID: () => INVALID_PASSWORD,
  RATE_LIMITED: (e) => ({
    code: 429,
    name: "API_RATE_LIMIT",
    field: "userId",
    message: "Too many attempts. Try again later.",
    ...(e.details.retryAfterSeconds !== undefined ? { retryAfter: e.details.retryAfterSeconds } : {}),
  }),
  IDENTIFIER_TAKEN: () => badRequest("userId", "userId is already in use"),
  TRAITS_INVALID: (e) => badRequest("userId", e.message),
  PASSWORD_REJECTED: () => INVALID_PASSWORD,
  IDENTITY_NOT_FOUND: () => INVALID_JKEY,
  SESSION_MISSING: () => INVALID_JKEY,
  SESSION_INACTIVE: () => INVALID_JKEY,
  // Only the Kratos settings flow asks for a fresh sign-in; were this door to, the client must log in again.
  SESSION_REFRESH_REQUIRED: () => INVALID_JKEY,
  SESSION_NOT_FOUND: () => INVALID_JKEY,
  RETURN_TO_INVALID: () => badRequest("return_to", "return_to parameter is invalid"),
  RETURN_TO_NOT_ALLOWED: () => badRequest("return_to", "return_to parameter is invalid"),
  FLOW_NOT_FOUND: () => NOT_FOUND,
  FLOW_EXPIRED: () => NOT_FOUND,
  REGISTRATION_DISABLED: () => ({ code: 403, name: "FORBIDDEN", field: "", message: "registration is disabled" }),
  // INV-3: a store that cannot confirm is never a success; the jKey stays valid.
  STORE_UNAVAILABLE: () => UNAVAILABLE,
} satisfies Record<CoreErrorCode, (e: CoreError) => FirstockFailure>;

const UNSUPPORTED = (field: string, message: string): FirstockFailure => ({ code: 415, name: "UNSUPPORTED_MEDIA_TYPE", field, message });

/** Bad input in Firstock's words: BAD_REQUEST naming the field, 413, 415. */
export const REQUEST_FAILURES = {
  empty_body: () => badRequest("body", "request body is required"),
  malformed: (f) => badRequest("body", f.message),
  duplicate_key: (f) => badRequest("body", f.message),
  forbidden_key: (f) => badRequest("body", f.message),
  too_deep: (f) => badRequest("body", f.message),
  charset: (f) => UNSUPPORTED("Content-Type", f.message),
  encoding: () => UNSUPPORTED("Content-Encoding", "Content-Encoding is not supported; send the body uncompressed"),
  too_large: () => ({ code: 413, name: "PAYLOAD_TOO_LARGE", field: "body", message: "request body is too large" }),
  media_type: () => JSON_ONLY,
  validation: (f) => {
    if (f.problem === "missing") return badRequest(f.field, `${f.field} is required`);
    if (f.problem === "unknown") return badRequest(f.field, `${f.field} is not a parameter of this API`);
    return badRequest(f.field || "body", f.field ? `${f.field} parameter is invalid` : "request body must be a JSON object");
  },
  client_error: () => badRequest("body", "the request is invalid"),
  internal: () => ({ code: 500, name: "INTERNAL_SERVER_ERROR", field: "", message: "an internal error occurred" }),
} satisfies RequestFailureWords<FirstockFailure>;

/** Any error a Firstock route can end in, in the failure envelope. */
export function toFirstockFailure(error: FastifyError, request: FastifyRequest): FirstockFailure {
  if (isCoreError(error)) return CORE_ERRORS[error.code](error);
  return sayRequestFailure(REQUEST_FAILURES, classifyRequestFailure(error, request));
}
