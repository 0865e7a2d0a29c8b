/**
 * Everything the Assets door refuses, in the Assets Server's error JSON
 * `{"errorcode": <status>, "errorname"?: …, "message": …}` with the real HTTP status, or with 200
 * when `assets.status_ok_on_error` is set, as the server's returnStatusOkOnErrorForServicesApi
 * does (D13). Clients read `errorcode` first, so both work. Every core error code and every kind
 * of request failure is mapped (house rule 6).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type CoreError, type CoreErrorCode, isCoreError } from "../../core/errors.ts";
import type { DoorApp } from "../../http/app.ts";
import { type RequestFailureWords, classifyRequestFailure, logRequestFailure, sayRequestFailure } from "../../http/request-failure.ts";

export interface AssetsError {
  errorcode: number;
  errorname?: string;
  message: string;
  retryAfter?: number;
}

export function sendAssetsError(reply: FastifyReply, e: AssetsError, statusOkOnError: boolean): FastifyReply {
  if (e.retryAfter !== undefined) reply.header("retry-after", String(e.retryAfter));
  const body: Record<string, unknown> = { errorcode: e.errorcode };
  if (e.errorname) body.errorname = e.errorname;
  body.message = e.message;
  return reply.code(statusOkOnError ? 200 : e.errorcode).type("application/json; charset=utf-8").send(JSON.stringify(body));
}

/** What Assets answers without a live session. */
export const NOT_LOGGED_IN: AssetsError = { errorcode: 401, message: "Not logged in" };

/** Spring Security's answer to a missing or wrong CSRF token (Assets runs on Spring). */
export const INVALID_CSRF: AssetsError = { errorcode: 403, errorname: "InvalidCsrfTokenException", message: "Invalid CSRF token" };

export function badRequest(message: string): AssetsError {
  return { errorcode: 400, errorname: "BadRequestException", message };
}

/** Spring's answer to a known path asked with the wrong method. */
export function methodNotAllowed(method: string): AssetsError {
  return { errorcode: 405, errorname: "HttpRequestMethodNotSupportedException", message: `Request method '${method.slice(0, 16)}' is not supported` };
}

export const NOT_FOUND: AssetsError = { errorcode: 404, message: "Not found" };

export const AMBIGUOUS_CREDENTIALS: AssetsError = badRequest("A bearer token and an authToken cookie of another session were sent; nothing was changed.");

export const AMBIGUOUS_COOKIE: AssetsError = badRequest("More than one authToken cookie was sent; nothing was changed. Clear this site's cookies, then sign out again.");

/** An answer already in this door's words, thrown from deep in a handler and sent by its error handler. */
export class AssetsWireError extends Error {
  constructor(readonly wire: AssetsError) {
    super(wire.message);
  }
}

export const CORE_ERRORS = {
  CREDENTIALS_INVALID: () => ({ errorcode: 401, errorname: "BadCredentialsException", message: "Invalid username or password" }),
  RATE_LIMITED: (e) => ({
    errorcode: 429,
    errorname: "TooManyRequestsException",
    message: "Too many login attempts. Try again later.",
    ...(e.details.retryAfterSeconds !== undefined ? { retryAfter: e.details.retryAfterSeconds } : {}),
  }),
  IDENTIFIER_TAKEN: () => badRequest("The user exists already"),
  TRAITS_INVALID: (e) => badRequest(e.message),
  PASSWORD_REJECTED: (e) => badRequest(e.message),
  IDENTITY_NOT_FOUND: () => NOT_LOGGED_IN,
  SESSION_MISSING: () => NOT_LOGGED_IN,
  SESSION_INACTIVE: () => NOT_LOGGED_IN,
  // Only the Kratos settings flow asks for a fresh sign-in; were another door to, it is a 403.
  SESSION_REFRESH_REQUIRED: () => ({ errorcode: 403, errorname: "AccessDeniedException", message: "Sign in again to do this" }),
  SESSION_NOT_FOUND: () => NOT_LOGGED_IN,
  RETURN_TO_INVALID: () => badRequest("Invalid logoutSuccessUrl"),
  RETURN_TO_NOT_ALLOWED: () => badRequest("Invalid logoutSuccessUrl"),
  FLOW_NOT_FOUND: () => NOT_FOUND,
  FLOW_EXPIRED: () => NOT_FOUND,
  REGISTRATION_DISABLED: () => ({ errorcode: 403, message: "Forbidden" }),
  // INV-3: never a success; the session stays as it was.
  STORE_UNAVAILABLE: () => ({
    errorcode: 503,
    errorname: "ServiceUnavailableException",
    message: "The session store did not answer. Nothing was changed; try again.",
    retryAfter: 1,
  }),
} satisfies Record<CoreErrorCode, (e: CoreError) => AssetsError>;

const UNREADABLE = () => badRequest("The request body could not be read.");
const UNSUPPORTED = (message: string): AssetsError => ({ errorcode: 415, errorname: "HttpMediaTypeNotSupportedException", message });

/** Bad input in Assets' words. This door reads query strings and forms only (SEC-68). */
export const REQUEST_FAILURES = {
  empty_body: UNREADABLE,
  malformed: UNREADABLE,
  duplicate_key: UNREADABLE,
  forbidden_key: UNREADABLE,
  too_deep: UNREADABLE,
  charset: UNREADABLE,
  encoding: (f) => UNSUPPORTED(f.message),
  too_large: () => ({ errorcode: 413, errorname: "PayloadTooLargeException", message: "The request body is too large." }),
  media_type: () => UNSUPPORTED("Send parameters in the query string or as a form."),
  validation: () => badRequest("Invalid request parameters."),
  client_error: () => badRequest("Invalid request."),
  internal: () => ({ errorcode: 500, message: "An internal error occurred" }),
} satisfies RequestFailureWords<AssetsError>;

export function toAssetsError(error: FastifyError, request: FastifyRequest): AssetsError {
  if (error instanceof AssetsWireError) return error.wire;
  if (isCoreError(error)) return CORE_ERRORS[error.code](error);
  return sayRequestFailure(REQUEST_FAILURES, classifyRequestFailure(error, request));
}

/** Every failure of an Assets route leaves in this envelope, never as a bare 500 (SEC-66). */
export function installErrorHandling(app: DoorApp, statusOkOnError: boolean): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const wire = toAssetsError(error, request);
    logRequestFailure(request, error, wire.errorcode);
    return sendAssetsError(reply, wire, statusOkOnError);
  });
}
