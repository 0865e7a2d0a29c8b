/**
 * The Firstock V4 wire envelopes (seed 001; research/firstock-assets.md §1.2–§1.5):
 * success `{"status":"success","data":…}`, failure
 * `{"status":"failed","code":"<HTTP status as a string>","name":…,"error":{"field":…,"message":…}}`,
 * with the HTTP status equal to `code`. Key order is the seed's. No JSON true, false or null
 * anywhere: the official Python SDK parses responses with `ast.literal_eval` (§1.7).
 */
import type { FastifyReply } from "fastify";
import type { CoreError, CoreErrorCode } from "../../core/errors.ts";

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

export function sendSuccess(reply: FastifyReply, data: string | Record<string, string | string[]>): FastifyReply {
  return reply.code(200).type("application/json; charset=utf-8").send(JSON.stringify({ status: "success", data }));
}

/** The seed's failure for any jKey that does not name a live session of that user. */
export const INVALID_JKEY: FirstockFailure = { code: 401, name: "INVALID_JKEY", field: "jKey", message: "jKey parameter is invalid" };

/** D14: unknown userId and wrong password are one answer. */
export const INVALID_PASSWORD: FirstockFailure = {
  code: 401,
  name: "INVALID_PASSWORD",
  field: "password",
  message: "password parameter is invalid",
};

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

/** Every core error in Firstock's words (house rule 6). */
export const CORE_FAILURES = {
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
  SESSION_NOT_FOUND: () => INVALID_JKEY,
  CANNOT_REVOKE_CURRENT_SESSION: () => INVALID_JKEY,
  LOGOUT_TOKEN_MISSING: () => INVALID_JKEY,
  LOGOUT_TOKEN_MISMATCH: () => INVALID_JKEY,
  RETURN_TO_INVALID: () => badRequest("return_to", "return_to parameter is invalid"),
  RETURN_TO_NOT_ALLOWED: () => badRequest("return_to", "return_to parameter is invalid"),
  FLOW_NOT_FOUND: () => ({ code: 404, name: "RESOURCE_NOT_FOUND", field: "", message: "resource not found" }),
  FLOW_EXPIRED: () => ({ code: 404, name: "RESOURCE_NOT_FOUND", field: "", message: "resource not found" }),
  REGISTRATION_DISABLED: () => ({ code: 403, name: "FORBIDDEN", field: "", message: "registration is disabled" }),
  CSRF_VIOLATION: () => ({ code: 403, name: "FORBIDDEN", field: "", message: "request refused" }),
  // INV-3: a store that cannot confirm is never a success; the jKey stays valid.
  STORE_UNAVAILABLE: () => UNAVAILABLE,
} satisfies Record<CoreErrorCode, (e: CoreError) => FirstockFailure>;

export function fromCoreError(e: CoreError): FirstockFailure {
  return CORE_FAILURES[e.code](e);
}
