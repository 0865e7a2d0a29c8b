/**
 * What the browser half of the Kratos door shares: its cookies (session and CSRF, D2, D12),
 * Kratos's error forwarding (ory/x errorsx, `Forward`) and the error container endpoint.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { csrfTokenMatches, maskCsrfSecret, newCsrfSecret } from "../../core/csrf.ts";
import { isCoreError } from "../../core/errors.ts";
import { COOKIE_NAMES, CSRF_COOKIE_MAX_AGE, csrfCookieName, readCookie, serializeCookie } from "../../http/cookies.ts";
import { acceptsJson, isJsonRequest } from "../../http/negotiate.ts";
import type { KratosApp, KratosDoorOptions } from "./door.ts";
import { CORE_ERRORS, type KratosError, envelope, sendKratosError } from "./wire-errors.ts";
import { ROUTES } from "./routes.ts";
import * as W from "./wire.ts";
import { requestOrigin } from "../../http/request-context.ts";

export class BrowserCookies {
  readonly csrfName: string;

  constructor(private readonly door: KratosDoorOptions) {
    this.csrfName = csrfCookieName(door.baseUrl);
  }

  /** The CSRF secret from the request's cookie, when it has one of the right shape. */
  csrfSecret(request: FastifyRequest): string | null {
    const value = readCookie(request.headers.cookie, this.csrfName);
    return value !== null && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
  }

  /** The request's CSRF secret, or a new one set as a cookie; returns a masked token for a form. */
  csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
    let secret = this.csrfSecret(request);
    if (!secret) secret = this.rotateCsrf(reply);
    return maskCsrfSecret(secret);
  }

  /** D12: the body's token must unmask to the CSRF cookie's secret. */
  csrfValid(request: FastifyRequest, token: string | undefined): boolean {
    return csrfTokenMatches(token, this.csrfSecret(request));
  }

  /** A new CSRF secret, after logout and at every sign-in (SEC-28), as Kratos does. */
  rotateCsrf(reply: FastifyReply): string {
    const secret = newCsrfSecret();
    this.#append(reply, serializeCookie(this.csrfName, secret, { secure: this.door.secureCookies, maxAge: CSRF_COOKIE_MAX_AGE }));
    return secret;
  }

  /** The session cookie (D2), persistent until the session's absolute expiry, as Kratos does. */
  setSession(reply: FastifyReply, token: string, expiresAt: Date): void {
    const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - this.door.core.clock.now().getTime()) / 1000));
    this.#append(reply, serializeCookie(COOKIE_NAMES.kratosSession, token, { secure: this.door.secureCookies, maxAge }));
  }

  /** Clears the session cookie with the attributes it was set with (SEC-25). */
  clearSession(reply: FastifyReply): void {
    this.#append(reply, serializeCookie(COOKIE_NAMES.kratosSession, "", { secure: this.door.secureCookies, maxAge: 0 }));
  }

  /** Fastify appends to `set-cookie` by itself; handing it the list again would repeat every cookie. */
  #append(reply: FastifyReply, cookie: string): void {
    reply.header("set-cookie", cookie);
  }
}

/**
 * Kratos's `errorx.Manager.Forward`: a JSON caller gets the error; a browser is sent (303) to the
 * error page with the id of the stored error, so it never lands on a bare 4xx. A browser that
 * asks for JSON gets the JSON. When the error cannot even be stored, the JSON error it is.
 */
export async function forward(
  door: KratosDoorOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  error: KratosError,
): Promise<FastifyReply> {
  if (isJsonRequest(request.headers) || acceptsJson(request.headers)) return sendKratosError(request, reply, error);
  let id: string;
  try {
    id = await door.core.flows.recordError((envelope(error, undefined) as { error: unknown }).error, requestOrigin(request, "kratos").ipAddress);
  } catch (storeError) {
    // Past this address's share of kept errors (SEC-101): the error itself, as JSON, not kept.
    if (isCoreError(storeError, "RATE_LIMITED")) return sendKratosError(request, reply, error);
    if (isCoreError(storeError)) return sendKratosError(request, reply, CORE_ERRORS[storeError.code](storeError));
    throw storeError;
  }
  if (error.retryAfter !== undefined) reply.header("retry-after", String(error.retryAfter));
  return seeOther(reply, withQuery(door.ui.error, "id", id));
}

/** A configured page URL with one more query parameter (the URL may carry a query of its own). */
export function withQuery(page: string, name: string, value: string): string {
  const url = new URL(page);
  url.searchParams.set(name, value);
  return url.href;
}

/** 303 See Other: the browser follows with a GET, whatever the method was (Kratos uses 303 throughout). */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header("location", location).send();
}

export function flowErrorRoutes(app: KratosApp, door: KratosDoorOptions): void {
  app.get(
    ROUTES.getFlowError,
    {
      schema: {
        operationId: "getFlowError",
        tags: ["frontend"],
        summary: "Get an error shown to a browser",
        querystring: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Object({ id: Type.String(), error: Type.Unknown(), created_at: Type.String(), updated_at: Type.String() }), 404: W.GenericError },
      },
    },
    async (request, reply) => {
      const stored = await door.core.flows.getError(request.query.id).catch((error: unknown) => {
        if (isCoreError(error, "FLOW_NOT_FOUND")) return null;
        throw error;
      });
      if (!stored) return sendKratosError(request, reply, { code: 404, message: "The requested resource could not be found" });
      const at = stored.createdAt.toISOString();
      return reply.send({ id: stored.id, error: stored.error, created_at: at, updated_at: at });
    },
  );
}
