/**
 * The WoodWing Assets Server wire (research/firstock-assets.md §2.2–§2.8): errors are
 * `{"errorcode": <status>, "errorname"?: …, "message": …}` with the real HTTP status, or with 200
 * when `assets.status_ok_on_error` is set, as Assets' returnStatusOkOnErrorForServicesApi does
 * (D13). Clients read `errorcode` first, so both work.
 */
import type { FastifyReply } from "fastify";
import type { CoreError, CoreErrorCode } from "../../core/errors.ts";

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

/** What Assets answers without a live session (research §2.6). */
export const NOT_LOGGED_IN: AssetsError = { errorcode: 401, message: "Not logged in" };

/** Spring Security's answer to a missing or wrong CSRF token (research §2.5). */
export const INVALID_CSRF: AssetsError = { errorcode: 403, errorname: "InvalidCsrfTokenException", message: "Invalid CSRF token" };

export function badRequest(message: string): AssetsError {
  return { errorcode: 400, errorname: "BadRequestException", message };
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
  SESSION_NOT_FOUND: () => NOT_LOGGED_IN,
  CANNOT_REVOKE_CURRENT_SESSION: () => badRequest("The current session cannot be ended here"),
  LOGOUT_TOKEN_MISSING: () => INVALID_CSRF,
  LOGOUT_TOKEN_MISMATCH: () => INVALID_CSRF,
  RETURN_TO_INVALID: () => badRequest("Invalid logoutSuccessUrl"),
  RETURN_TO_NOT_ALLOWED: () => badRequest("Invalid logoutSuccessUrl"),
  FLOW_NOT_FOUND: () => ({ errorcode: 404, message: "Not found" }),
  FLOW_EXPIRED: () => ({ errorcode: 404, message: "Not found" }),
  REGISTRATION_DISABLED: () => ({ errorcode: 403, message: "Forbidden" }),
  CSRF_VIOLATION: () => INVALID_CSRF,
  // INV-3: never a success; the session stays as it was.
  STORE_UNAVAILABLE: () => ({
    errorcode: 503,
    errorname: "ServiceUnavailableException",
    message: "The session store did not answer. Nothing was changed; try again.",
    retryAfter: 1,
  }),
} satisfies Record<CoreErrorCode, (e: CoreError) => AssetsError>;

export function fromCoreError(e: CoreError): AssetsError {
  return CORE_ERRORS[e.code](e);
}
