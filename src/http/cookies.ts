/**
 * Every cookie Curfew reads or writes, with its attributes, in one place (D2, SEC-07, SEC-25).
 * The names are the vendors' (`ory_kratos_session`, `authToken`), not `__Host-` prefixed: a
 * documented deviation (docs/adr/0003-cookies.md) kept for client compatibility; every other
 * attribute `__Host-` would enforce is set.
 */
import { createHash } from "node:crypto";

export const COOKIE_NAMES = {
  kratosSession: "ory_kratos_session",
  assetsSession: "authToken",
} as const;

/**
 * Kratos's CSRF cookie: `csrf_token_` + hex SHA-256 of the public base URL
 * (as Kratos names it), so two deployments on one host do not share it.
 */
export function csrfCookieName(baseUrl: string): string {
  return "csrf_token_" + createHash("sha256").update(baseUrl).digest("hex");
}

/** A year, as Kratos keeps its CSRF cookie. */
export const CSRF_COOKIE_MAX_AGE = 31_536_000;

/**
 * The value of cookie `name`, or null when it is absent or ambiguous. Two cookies of the same
 * name with different values (cookie tossing from a sibling domain, SEC-10) authenticate
 * nobody: we never guess which one is the victim's.
 */
export function readCookie(header: string | undefined, name: string): string | null {
  const values = cookieValues(header, name);
  return values.length === 1 && values[0] !== "" ? values[0]! : null;
}

/**
 * The distinct values the request gives cookie `name` (an empty one included), in order. More
 * than one is the ambiguity readCookie refuses to resolve; a logout must not read it as "no
 * session" either (SEC-10: a sibling domain's cookie can be sent before ours).
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header || !header.includes(name)) return [];
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (!values.includes(value)) values.push(value);
  }
  return values;
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 clears the cookie. Omitted: a browser-session cookie. */
  maxAge?: number;
}

/** `Set-Cookie` for `name`: HttpOnly, SameSite=Lax, Path=/, no Domain, Secure on https (D2). */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  let cookie = `${name}=${value}; Path=/; HttpOnly; SameSite=Lax`;
  if (options.secure) cookie += "; Secure";
  if (options.maxAge !== undefined) {
    cookie += `; Max-Age=${Math.max(0, Math.floor(options.maxAge))}`;
    if (options.maxAge <= 0) cookie += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  }
  return cookie;
}
