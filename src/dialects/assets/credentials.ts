/**
 * Finding the session an Assets request carries, and the two CSRF layers of a cookie session: a
 * bearer `authToken` (apilogin) first, then the `authToken` cookie (D2), as the Assets Server reads
 * them. Any Curfew session token is accepted, whichever door issued it (D1).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuthenticatedSession } from "../../core/model.ts";
import type { AuthenticateOptions } from "../../core/sessions.ts";
import { COOKIE_NAMES, readCookie, serializeCookie } from "../../http/cookies.ts";
import { isCrossSite } from "../../http/same-site.ts";
import { logRefusal } from "../../http/security-log.ts";
import type { AssetsDoorOptions } from "./index.ts";
import { AssetsWireError, INVALID_CSRF, NOT_LOGGED_IN } from "./wire-errors.ts";

export interface Current {
  auth: AuthenticatedSession;
  via: "bearer" | "cookie";
}

export function sessionReader(door: AssetsDoorOptions) {
  const { core } = door;
  return {
    /** Bearer first, then the authToken cookie. Store failures propagate (INV-3). */
    async find(request: FastifyRequest, options: AuthenticateOptions = {}): Promise<Current | null> {
      const authorization = request.headers.authorization;
      let token: string | null = null;
      let via: Current["via"] = "cookie";
      if (typeof authorization === "string" && /^bearer /i.test(authorization)) {
        token = authorization.slice(7).trim();
        via = "bearer";
      } else {
        token = readCookie(request.headers.cookie, COOKIE_NAMES.assetsSession);
      }
      if (!token) return null;
      const auth = await core.sessions.findLive(token, options);
      return auth ? { auth, via } : null;
    },
    async require(request: FastifyRequest, options: AuthenticateOptions = {}): Promise<Current> {
      const current = await this.find(request, options);
      if (!current) throw new AssetsWireError(NOT_LOGGED_IN);
      return current;
    },
    /** The session's csrfToken: a CSRF proof of the session (core/proofs.ts). */
    csrfToken(auth: AuthenticatedSession): string {
      return core.proofs.mint("csrf", auth.session.id);
    },
    /** Both layers (house rule 9): the session's CSRF token, in constant time, and a same-site request (SEC-55, SEC-56). */
    requireCsrf(request: FastifyRequest, current: Current, presented: unknown): void {
      const token = typeof presented === "string" ? presented : undefined;
      if (isCrossSite(request.headers, door.ownOrigins) || !core.proofs.verify("csrf", current.auth.session.id, token)) {
        logRefusal(request, "csrf.refused", "assets");
        throw new AssetsWireError(INVALID_CSRF);
      }
    },
    clearCookie(reply: FastifyReply): void {
      reply.header("set-cookie", serializeCookie(COOKIE_NAMES.assetsSession, "", { secure: door.secureCookies, maxAge: 0 }));
    },
  };
}

export type SessionReader = ReturnType<typeof sessionReader>;
