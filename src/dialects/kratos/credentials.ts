/**
 * Finding the session token in a request, in Kratos's order (ory/kratos session/manager_http.go):
 * `X-Session-Token`, then the `ory_kratos_session` cookie, then `Authorization: Bearer`.
 * Any Curfew session token is accepted, whichever door issued it (D1).
 */
import type { FastifyRequest } from "fastify";
import { COOKIE_NAMES, readCookie } from "../../http/cookies.ts";

export type TokenSource = "header" | "cookie" | "bearer";

export interface PresentedToken {
  token: string;
  source: TokenSource;
}

export function presentedToken(request: FastifyRequest): PresentedToken | null {
  const header = request.headers["x-session-token"];
  if (typeof header === "string" && header !== "") return { token: header, source: "header" };
  const cookie = readCookie(request.headers.cookie, COOKIE_NAMES.kratosSession);
  if (cookie) return { token: cookie, source: "cookie" };
  const authorization = request.headers.authorization;
  if (typeof authorization === "string") {
    const parts = authorization.split(" ");
    if (parts.length === 2 && parts[0]!.toLowerCase() === "bearer" && parts[1] !== "") {
      return { token: parts[1]!, source: "bearer" };
    }
  }
  return null;
}
