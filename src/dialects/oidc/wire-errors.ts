/**
 * Everything the OpenID Connect door refuses. API endpoints answer the OAuth 2.0 error envelope
 * `{"error": code, "error_description": text}` (RFC 6749 §5.2; RFC 6750 §3 for /userinfo;
 * RFC 7009 §2.2.1); the browser endpoints (/authorize before its redirect URI is known, the logout
 * doors) answer a page that says the same, and never redirect anywhere they were not sure of.
 * Every core error code and every kind of request failure is mapped (house rule 6).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type CoreError, type CoreErrorCode, isCoreError } from "../../core/errors.ts";
import { html, page } from "../../http/html.ts";
import { type RequestFailureWords, classifyRequestFailure, sayRequestFailure } from "../../http/request-failure.ts";

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "access_denied"
  | "login_required"
  | "request_not_supported"
  | "request_uri_not_supported"
  | "invalid_token"
  | "server_error"
  | "temporarily_unavailable"
  // RFC 7591 §3.2.2, at the admin API's /admin/clients.
  | "invalid_redirect_uri"
  | "invalid_client_metadata";

export interface OAuthFailure {
  status: number;
  error: OAuthErrorCode;
  description: string;
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number;
  /** RFC 6749 §5.2 (Basic client authentication) and RFC 6750 §3 (bearer tokens). */
  wwwAuthenticate?: string;
}

/** A refusal thrown from deep in a handler; the door's error handler answers it. */
export class OAuthWireError extends Error {
  constructor(readonly failure: OAuthFailure) {
    super(`${failure.error}: ${failure.description}`);
  }
}

export const invalidRequest = (description: string): OAuthFailure => ({ status: 400, error: "invalid_request", description });

export function sendOAuthError(reply: FastifyReply, f: OAuthFailure): FastifyReply {
  if (f.retryAfter !== undefined) reply.header("retry-after", String(f.retryAfter));
  if (f.wwwAuthenticate !== undefined) reply.header("www-authenticate", f.wwwAuthenticate);
  return reply.code(f.status).header("pragma", "no-cache").type("application/json; charset=utf-8").send({ error: f.error, error_description: f.description });
}

/** The CSP of the door's own pages: our stylesheet, nothing else, no forms, no framing. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * A refusal shown to the person in the browser (RFC 6749 §4.1.2.1: with an unknown client or a
 * redirect URI that does not match, "the authorization server SHOULD inform the resource owner of
 * the error and MUST NOT automatically redirect"). The echoed text is escaped by `html`.
 */
export function sendErrorPage(reply: FastifyReply, f: OAuthFailure): FastifyReply {
  if (f.retryAfter !== undefined) reply.header("retry-after", String(f.retryAfter));
  const body = html`<ul class="messages"><li class="error">${f.error}: ${f.description}</li></ul>
<p>Nothing was changed. Go back to the app you came from and try again.</p>`;
  return reply
    .code(f.status)
    .header("content-security-policy", PAGE_CSP)
    .type("text/html; charset=utf-8")
    .send(page({ title: f.status >= 500 ? "Something went wrong" : "This request cannot be completed", body }));
}

const UNAVAILABLE: OAuthFailure = {
  status: 503,
  error: "temporarily_unavailable",
  description: "The session store did not answer. Nothing was changed; try again.",
  retryAfter: 1,
};

/** Every core error in OAuth's words. */
export const CORE_ERRORS = {
  CREDENTIALS_INVALID: () => ({ status: 400, error: "invalid_grant", description: "The credentials are invalid." }),
  RATE_LIMITED: (e) => ({
    status: 429,
    error: "temporarily_unavailable",
    description: "Too many attempts. Try again later.",
    ...(e.details.retryAfterSeconds !== undefined ? { retryAfter: e.details.retryAfterSeconds } : {}),
  }),
  IDENTIFIER_TAKEN: () => invalidRequest("The identifier is already in use."),
  TRAITS_INVALID: (e) => invalidRequest(e.message),
  PASSWORD_REJECTED: (e) => invalidRequest(e.message),
  IDENTITY_NOT_FOUND: () => ({ status: 400, error: "invalid_grant", description: "The account no longer exists." }),
  SESSION_MISSING: () => ({ status: 400, error: "login_required", description: "No one is signed in." }),
  SESSION_INACTIVE: () => ({ status: 400, error: "login_required", description: "The session has ended." }),
  // OpenID Connect Core 3.1.2.6: a fresh authentication is needed (prompt=login would give one).
  SESSION_REFRESH_REQUIRED: () => ({ status: 400, error: "login_required", description: "A more recent sign-in is required." }),
  SESSION_NOT_FOUND: () => ({ status: 400, error: "login_required", description: "The session has ended." }),
  RETURN_TO_INVALID: () => invalidRequest("The redirect target is not a URL."),
  RETURN_TO_NOT_ALLOWED: () => invalidRequest("The redirect target is not allowed."),
  FLOW_NOT_FOUND: () => invalidRequest("The request is unknown or has expired."),
  FLOW_EXPIRED: () => invalidRequest("The request has expired."),
  REGISTRATION_DISABLED: () => ({ status: 403, error: "access_denied", description: "Registration is disabled." }),
  // INV-3: a store that cannot confirm is never a success.
  STORE_UNAVAILABLE: () => UNAVAILABLE,
} satisfies Record<CoreErrorCode, (e: CoreError) => OAuthFailure>;

/** Bad input in OAuth's words: invalid_request (400), 413, 415. */
export const REQUEST_FAILURES = {
  empty_body: () => invalidRequest("The request body is required."),
  malformed: (f) => invalidRequest(f.message),
  duplicate_key: (f) => invalidRequest(f.message),
  forbidden_key: (f) => invalidRequest(f.message),
  too_deep: (f) => invalidRequest(f.message),
  charset: (f) => ({ status: 415, error: "invalid_request", description: f.message }),
  encoding: () => ({ status: 415, error: "invalid_request", description: "Content-Encoding is not supported; send the body uncompressed." }),
  too_large: () => ({ status: 413, error: "invalid_request", description: "The request body is too large." }),
  media_type: () => ({ status: 415, error: "invalid_request", description: "Send application/x-www-form-urlencoded (or application/json)." }),
  validation: (f) => invalidRequest(f.field ? `The parameter ${f.field} is ${f.problem === "missing" ? "missing" : "invalid"}.` : "The request is malformed."),
  client_error: () => invalidRequest("The request is malformed."),
  internal: () => ({ status: 500, error: "server_error", description: "An internal error occurred." }),
} satisfies RequestFailureWords<OAuthFailure>;

export function toOAuthFailure(error: FastifyError, request: FastifyRequest): OAuthFailure {
  if (error instanceof OAuthWireError) return error.failure;
  if (isCoreError(error)) return CORE_ERRORS[error.code](error);
  return sayRequestFailure<OAuthFailure>(REQUEST_FAILURES, classifyRequestFailure(error, request));
}
