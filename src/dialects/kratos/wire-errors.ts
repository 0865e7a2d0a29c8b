/**
 * The Kratos error envelope (ory/herodot's `{"error": {id?, code, status, request?, reason?,
 * details?, message}}`) and everything this door says in it: every core error code, every kind of
 * request failure, and the refusals that are this door's own. `satisfies Record<CoreErrorCode, …>`
 * and `satisfies RequestFailureWords<…>` make a new code or kind a compile error here until this
 * door decides how to say it (house rule 6).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type CoreError, type CoreErrorCode, isCoreError } from "../../core/errors.ts";
import { type RequestFailureWords, classifyRequestFailure, sayRequestFailure } from "../../http/request-failure.ts";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** herodot's default message per status, used when an error has no message of its own. */
const DEFAULT_MESSAGE: Record<number, string> = {
  400: "The request was malformed or contained invalid parameters",
  401: "The request could not be authorized",
  403: "The requested action was forbidden",
  404: "The requested resource could not be found",
  409: "A resource with that value exists already",
  500: "An internal server error occurred, please contact the system administrator",
  503: "The service is temporarily unavailable",
};

export interface KratosError {
  code: number;
  id?: string;
  reason?: string;
  message?: string;
  details?: Record<string, unknown>;
  /** Siblings of `error` at the top level (e.g. `expired_at`, `use_flow_id`). */
  extra?: Record<string, unknown>;
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number;
}

export function envelope(e: KratosError, requestId: string | undefined): Record<string, unknown> {
  const error: Record<string, unknown> = {};
  if (e.id) error.id = e.id;
  error.code = e.code;
  error.status = STATUS_TEXT[e.code] ?? "Error";
  if (requestId) error.request = requestId;
  if (e.reason) error.reason = e.reason;
  if (e.details && Object.keys(e.details).length > 0) error.details = e.details;
  error.message = e.message ?? DEFAULT_MESSAGE[e.code] ?? STATUS_TEXT[e.code] ?? "Error";
  return { error, ...e.extra };
}

export function sendKratosError(request: FastifyRequest, reply: FastifyReply, e: KratosError): FastifyReply {
  if (e.retryAfter !== undefined) reply.header("retry-after", String(e.retryAfter));
  // Echo the request id only as http/app.ts accepted it (its own id otherwise), never raw input.
  const requestId = request.headers["x-request-id"] === request.id ? request.id : undefined;
  return reply
    .code(e.code)
    .header("ory-error-id", e.id ?? "")
    .type("application/json; charset=utf-8")
    .send(envelope(e, requestId));
}

/** Kratos's answer without a live session (`session_inactive`). */
export const NO_ACTIVE_SESSION: KratosError = {
  code: 401,
  id: "session_inactive",
  reason: "No active session was found in this request.",
  message: "request does not have a valid authentication session",
};

/** This door's own refusals, beside the core's. */

/** D12: a browser state change without proof that it came from our own pages. */
export const CSRF_VIOLATION: KratosError = {
  code: 403,
  id: "security_csrf_violation",
  reason:
    "Please retry the flow and optionally clear your cookies. The request was rejected to protect you from Cross-Site-Request-Forgery (CSRF) which could cause account takeover, leaking personal information, and other serious security issues.",
  message: "the request was rejected to protect you from Cross-Site-Request-Forgery",
  details: { docs: "https://www.ory.com/docs/troubleshooting/csrf" },
};

/** `disableMySession` naming the caller's own session: that is what logout is for. */
export const CANNOT_REVOKE_CURRENT_SESSION: KratosError = { code: 400, message: "cannot revoke current session" };

export const LOGOUT_TOKEN_MISSING: KratosError = { code: 400, reason: "Please include a token in the URL query." };

export const LOGOUT_TOKEN_MISMATCH: KratosError = {
  code: 403,
  reason: "Unable to log out because the logout token in the URL query does not match the session cookie.",
};

export const CORE_ERRORS = {
  CREDENTIALS_INVALID: () => ({
    code: 400,
    reason: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
  }),
  RATE_LIMITED: (e) => ({
    code: 429,
    id: "self_service_rate_limited",
    reason: "Too many attempts. Please wait before trying again.",
    message: "too many requests",
    ...(e.details.retryAfterSeconds !== undefined ? { retryAfter: e.details.retryAfterSeconds } : {}),
  }),
  IDENTIFIER_TAKEN: () => ({
    code: 409,
    reason: "This identity conflicts with another identity that already exists.",
    message: "A resource with that value exists already",
  }),
  TRAITS_INVALID: (e) => ({ code: 400, reason: e.message }),
  PASSWORD_REJECTED: (e) => ({ code: 400, reason: e.message }),
  IDENTITY_NOT_FOUND: () => ({ code: 404, message: "Unable to locate the resource" }),
  SESSION_MISSING: () => NO_ACTIVE_SESSION,
  SESSION_INACTIVE: () => NO_ACTIVE_SESSION,
  SESSION_NOT_FOUND: () => ({ code: 404, message: "Unable to locate the resource" }),
  RETURN_TO_INVALID: (e) => ({ code: 400, reason: e.message }),
  RETURN_TO_NOT_ALLOWED: (e) => ({ code: 400, id: "self_service_flow_return_to_forbidden", reason: e.message }),
  FLOW_NOT_FOUND: () => ({ code: 404, message: "Unable to locate the resource" }),
  FLOW_EXPIRED: (e) => ({
    code: 410,
    id: "self_service_flow_expired",
    reason: "The self-service flow expired, initialize a new one.",
    message: "self-service flow expired",
    ...(e.details.expiredAt ? { extra: { expired_at: e.details.expiredAt.toISOString() } } : {}),
  }),
  REGISTRATION_DISABLED: () => ({
    code: 400,
    id: "self_service_flow_disabled",
    reason: "Registration is not allowed because it was disabled.",
    message: "registration flow disabled",
  }),
  // The settings flow adds `redirect_browser_to` (the refresh login) where it answers this.
  SESSION_REFRESH_REQUIRED: () => ({
    code: 403,
    id: "session_refresh_required",
    reason: "The login session is too old and thus not allowed to update these fields. Please re-authenticate.",
    message: "The requested action was forbidden",
  }),
  // INV-3: a store that cannot confirm is an error the client may retry, never a success.
  STORE_UNAVAILABLE: () => ({
    code: 503,
    reason: "The session store did not answer. Nothing was changed; try again.",
    message: "The service is temporarily unavailable",
    retryAfter: 1,
  }),
} satisfies Record<CoreErrorCode, (e: CoreError) => KratosError>;

export function fromCoreError(e: CoreError): KratosError {
  return CORE_ERRORS[e.code](e);
}

/** An answer already in this door's words, thrown from deep in a handler and sent by the door's error handler. */
export class KratosWireError extends Error {
  constructor(readonly wire: KratosError) {
    super(wire.reason ?? wire.message ?? `HTTP ${wire.code}`);
  }
}

/** Bad input in Kratos's words (D13: Kratos answers a wrong content type with 400 and this reason). */
export const REQUEST_FAILURES = {
  empty_body: () => ({ code: 400, reason: 'Unable to decode HTTP Request Body because its HTTP Header "Content-Length" is zero.' }),
  malformed: () => ({ code: 400, reason: "Unable to decode JSON payload: the request body is not valid JSON." }),
  duplicate_key: () => ({ code: 400, reason: "Unable to decode JSON payload: a key appears more than once." }),
  forbidden_key: () => ({ code: 400, reason: "Unable to decode JSON payload: the body uses a forbidden key." }),
  too_deep: () => ({ code: 400, reason: "Unable to decode JSON payload: the body is nested too deeply." }),
  charset: () => ({ code: 415, reason: "Unable to decode JSON payload: only UTF-8 is supported." }),
  encoding: () => ({ code: 415, reason: "Unable to decode HTTP Request Body: a Content-Encoding is not supported; send it uncompressed." }),
  too_large: () => ({ code: 413, reason: "The request body is larger than this server accepts." }),
  media_type: (f) => ({
    code: 400,
    reason: `HTTP ${f.method} Request used unknown HTTP Header "Content-Type: ${f.contentType.slice(0, 64)}", only [application/json, application/x-www-form-urlencoded] are supported.`,
  }),
  validation: (f) => ({ code: 400, reason: `${f.part} ${f.message.replace(/^[a-z]+\/?/, "")}`.trim() }),
  client_error: (f) => ({ code: f.status, reason: f.message }),
  internal: () => ({ code: 500 }),
} satisfies RequestFailureWords<KratosError>;

/** Any error a Kratos route can end in, in this door's envelope: its own, the core's, or a request failure. */
export function toKratosError(error: FastifyError, request: FastifyRequest): KratosError {
  if (error instanceof KratosWireError) return error.wire;
  if (isCoreError(error)) return fromCoreError(error);
  return sayRequestFailure(REQUEST_FAILURES, classifyRequestFailure(error, request));
}
