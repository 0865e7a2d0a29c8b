/** What every handler of the OpenID Connect door needs: the core and the few settings of this door. */
import type { FastifyRequest } from "fastify";
import type { Core } from "../../core/index.ts";
import type { AuthenticatedSession } from "../../core/model.ts";
import type { LogoutUrlPattern } from "../../core/redirect-gate.ts";
import type { DoorApp } from "../../http/app.ts";
import { COOKIE_NAMES, readCookie } from "../../http/cookies.ts";

export interface OidcDoorOptions {
  core: Core;
  /**
   * The issuer: the public base URL with one trailing slash, byte for byte the same in discovery,
   * ID tokens, logout tokens and the `iss` of every authorization response (auth0-spa-js derives
   * it as `<domain>/`; openid-client compares it exactly).
   */
  issuer: string;
  /** Where a browser without a session goes to sign in: the browser login flow (D7: the session keeps door kratos). */
  signInUrl: string;
  /** The signed-out page. */
  loggedOutUrl: string;
  /** The tenant's Allowed Logout URLs (`/v2/logout` without `client_id`). */
  allowedLogoutUrls: readonly LogoutUrlPattern[];
  /** Cookies carry `Secure` when the base URL is https (D2). */
  secureCookies: boolean;
  /** Origins whose pages may make cookie-authenticated state changes (our own; D12). */
  ownOrigins: readonly string[];
}

export type OidcApp = DoorApp;

/**
 * The provider session: the browser's Curfew session cookie, as the sign-in pages set it. A
 * bearer token or `X-Session-Token` is not a browser and signs nobody in here. Store failures
 * propagate (INV-3).
 */
export async function providerSession(
  door: OidcDoorOptions,
  request: FastifyRequest,
  options: { recordActivity?: boolean } = {},
): Promise<AuthenticatedSession | null> {
  const token = readCookie(request.headers.cookie, COOKIE_NAMES.kratosSession);
  return token ? door.core.sessions.findLive(token, options) : null;
}

/** Issuer-relative URL of a route (`ROUTES`): `<issuer>authorize`. */
export function endpoint(door: OidcDoorOptions, route: string): string {
  return door.issuer + route.replace(/^\//, "");
}
