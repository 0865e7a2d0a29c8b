/**
 * The second CSRF layer (house rule 9; DESIGN.md "Every state-changing browser request proves it
 * is same-site"): does this request come from a page of another site? Browsers say so in
 * `Sec-Fetch-Site` and, on non-GET requests, in `Origin`. A request with neither is not from a
 * browser page (a server forwarding a cookie, a script), so no other site can have forged it.
 */
import type { IncomingHttpHeaders } from "node:http";

export function isCrossSite(headers: IncomingHttpHeaders, ownOrigins: readonly string[]): boolean {
  const site = headers["sec-fetch-site"];
  if (typeof site === "string" && site !== "") return site !== "same-origin" && site !== "none";
  const origin = headers.origin;
  if (typeof origin === "string" && origin !== "") return !ownOrigins.includes(origin);
  return false;
}
