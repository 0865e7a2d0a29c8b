/**
 * Content negotiation exactly as Kratos does it (ory/x `httpx`), because Ory's SDKs
 * depend on it: `@ory/client-fetch` sends the all-wildcard Accept unless configured, and must
 * then be treated as a browser. This is golang/gddo `httputil.NegotiateContentType`: for each offer in
 * order, the best-matching Accept entry gives it a quality (exact beats a type wildcard beats the all-wildcard);
 * the highest quality wins, and the earlier offer wins a tie.
 */
import type { IncomingHttpHeaders } from "node:http";

interface AcceptSpec {
  value: string;
  q: number;
}

function parseAccept(header: string): AcceptSpec[] {
  const specs: AcceptSpec[] = [];
  for (const part of header.split(",")) {
    const [type, ...params] = part.trim().split(";");
    if (!type) continue;
    let q = 1;
    for (const param of params) {
      const [k, v] = param.trim().split("=");
      if (k?.trim().toLowerCase() === "q" && v !== undefined) q = Number.parseFloat(v) || 0;
    }
    specs.push({ value: type.trim().toLowerCase(), q });
  }
  return specs;
}

/** gddo NegotiateContentType: the best offer for the Accept header, or `fallback` without one. */
export function negotiate(accept: string | undefined, offers: readonly string[], fallback: string): string {
  if (!accept) return fallback;
  const specs = parseAccept(accept);
  let bestOffer = fallback;
  let bestQ = -1;
  let bestWild = 3;
  for (const offer of offers) {
    const slash = offer.indexOf("/");
    for (const spec of specs) {
      if (spec.q === 0) continue;
      if (spec.value === "*/*") {
        if (spec.q > bestQ || (spec.q === bestQ && bestWild > 2)) {
          bestQ = spec.q;
          bestWild = 2;
          bestOffer = offer;
        }
      } else if (spec.value.endsWith("/*")) {
        if (offer.slice(0, slash + 1) === spec.value.slice(0, -1) && (spec.q > bestQ || (spec.q === bestQ && bestWild > 1))) {
          bestQ = spec.q;
          bestWild = 1;
          bestOffer = offer;
        }
      } else if (spec.value === offer && (spec.q > bestQ || (spec.q === bestQ && bestWild > 0))) {
        bestQ = spec.q;
        bestWild = 0;
        bestOffer = offer;
      }
    }
  }
  return bestOffer;
}

const JSON_REQUEST_OFFERS = ["text/html", "text/*", "*/*", "application/json"] as const;
const ACCEPTS_JSON_OFFERS = ["text/html", "application/json"] as const;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Kratos `IsJSONRequest`: an exact `Content-Type: application/json`, or JSON negotiated. */
export function isJsonRequest(headers: IncomingHttpHeaders): boolean {
  if (mediaType(headers["content-type"]) === "application/json") return true;
  return negotiate(headers.accept, JSON_REQUEST_OFFERS, "text/html") === "application/json";
}

/** Kratos `AcceptsJSON` and the flow-init negotiation: `text/html` vs `application/json`. */
export function acceptsJson(headers: IncomingHttpHeaders): boolean {
  return negotiate(headers.accept, ACCEPTS_JSON_OFFERS, "text/html") === "application/json";
}
