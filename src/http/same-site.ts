/**
 * The second CSRF layer (house rule 9: "every state-changing browser request proves it
 * is same-site"): does this request come from a page of another site? Browsers say so in
 * `Sec-Fetch-Site` and, on non-GET requests, in `Origin`. A request with neither is not from a
 * browser page (a server forwarding a cookie, a script), so no other site can have forged it.
 */
import type { IncomingHttpHeaders } from "node:http";

export function isCrossSite(headers: IncomingHttpHeaders, ownOrigins: readonly string[]): boolean {
  const site = headers["sec-fetch-site"];
  const origin = headers.origin;
  const ownOrigin = typeof origin === "string" && origin !== "" && ownOrigins.includes(origin);
  if (typeof site === "string" && site !== "") {
    if (site === "same-origin" || site === "none") return false;
    // A page on a listed sibling origin (`serve.public.cors.allowed_origins`, D12): the browser
    // says same-site and names the page in Origin, which no page can forge. Cross-site stays
    // refused: a SameSite=Lax cookie does not travel with a cross-site fetch anyway.
    return !(site === "same-site" && ownOrigin);
  }
  if (typeof origin === "string" && origin !== "") return !ownOrigin;
  return false;
}
