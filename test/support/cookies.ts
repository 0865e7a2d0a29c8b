/**
 * Reading the `Set-Cookie` lines of an in-process response, for the tests of every door that
 * sets a cookie (the Kratos session and CSRF cookies, the Assets `authToken`).
 */
import assert from "node:assert/strict";
import type { LightMyRequestResponse } from "fastify";

type Response = LightMyRequestResponse;

/** Every `Set-Cookie` line of a response. */
export function setCookies(res: Response): string[] {
  const header = res.headers["set-cookie"];
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [String(header)];
}

/** The raw Set-Cookie line for `name`; fails when there is not exactly one. */
export function setCookie(res: Response, name: string): string {
  const lines = setCookies(res).filter((line) => line.startsWith(`${name}=`));
  assert.equal(lines.length, 1, `one Set-Cookie for ${name}, got: ${JSON.stringify(setCookies(res))}`);
  return lines[0]!;
}

export function hasSetCookie(res: Response, name: string): boolean {
  return setCookies(res).some((line) => line.startsWith(`${name}=`));
}

/** The value of a Set-Cookie line (everything after the first `=`, up to the first `;`). */
export function cookieValue(line: string): string {
  const first = line.split(";", 1)[0]!;
  return first.slice(first.indexOf("=") + 1);
}

/** The attributes of a Set-Cookie line, lower-cased names: `{ path: "/", httponly: "", … }`. */
export function cookieAttributes(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of line.split(";").slice(1)) {
    const [k, ...v] = part.trim().split("=");
    out.set(k!.toLowerCase(), v.join("="));
  }
  return out;
}
