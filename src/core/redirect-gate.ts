/**
 * The one redirect gate (house rule 8). Every door that redirects to a caller-chosen
 * target (`return_to`, `returnTo`, `logoutSuccessUrl`, `post_logout_redirect_uri`) asks here.
 *
 * Order follows SEC-31..SEC-35: refuse raw input a parser could read two ways,
 * parse with the WHATWG parser, compare the parsed URL with the allow-list, and hand back the
 * canonical serialisation, never the raw string.
 */
import { CoreError } from "./errors.ts";

export interface RedirectPolicy {
  /** Allow-list entries: scheme + host (optionally `*.` wildcard label) + path prefix. */
  allowed: readonly AllowedTarget[];
  /** Where to go when no target is given; relative targets resolve against it, as in Kratos. */
  defaultUrl: URL;
}

export interface AllowedTarget {
  protocol: string;
  /** Lower-case host with port, or `*.example.com` for any sub-domain (not the apex). */
  host: string;
  /** Path prefix, matched on a segment boundary. */
  path: string;
}

const MAX_TARGET_LENGTH = 2048;
// Control characters, space, backslash and anything outside printable ASCII: each is read
// differently by some parser or browser (BAD-R04..R08, R19, R21, R24, R26, R27, R40).
const UNSAFE_RAW = /[^\x21-\x7e]|\\/;
const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
// Dot segments and path parameters in any encoding (BAD-R25, REG-02).
const UNSAFE_PATH = /(^|\/)(\.|%2e){1,2}(\/|$)|;|%2e%2e|%2f|%5c/i;

/**
 * Parses an allow-list entry from configuration. Throws a plain Error naming the problem, for
 * the configuration loader to report with the key.
 */
export function parseAllowedTarget(entry: string): AllowedTarget {
  let url: URL;
  const wildcard = /^([a-z]+:\/\/)\*\.(.*)$/i.exec(entry);
  try {
    url = new URL(wildcard ? `${wildcard[1]}wildcard.${wildcard[2]}` : entry);
  } catch {
    throw new Error(`"${entry}" is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`"${entry}" must be http or https`);
  if (url.username || url.password) throw new Error(`"${entry}" must not carry user information`);
  let host = url.host.toLowerCase();
  // The WHATWG parser accepts `*` in a host, so `*`, `*foo.com` and `foo.*.com` would otherwise
  // become literal hosts: refuse them as Kratos does (x/urlx wildcard matching).
  if (host.includes("*")) throw new Error(`"${entry}" may use a wildcard only as a leading "*." label`);
  if (wildcard) {
    const rest = host.slice("wildcard.".length);
    // `*.com`, `*.com.` or `*.localhost` would allow a whole public suffix: refuse (Kratos drops these too).
    if (!rest.replace(/\.(:\d+)?$/, "$1").includes(".")) throw new Error(`"${entry}" is a wildcard over a whole top-level domain`);
    host = `*.${rest}`;
  }
  return { protocol: url.protocol, host, path: url.pathname };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return pattern === host;
}

function pathMatches(prefix: string, path: string): boolean {
  if (prefix === "/" || prefix === path) return true;
  const base = prefix.endsWith("/") ? prefix : prefix + "/";
  return path.startsWith(base);
}

export function isAllowed(url: URL, allowed: readonly AllowedTarget[]): boolean {
  return allowed.some(
    (entry) => entry.protocol === url.protocol && hostMatches(entry.host, url.host) && pathMatches(entry.path, url.pathname),
  );
}

/**
 * Resolves a caller-supplied redirect target. An empty or absent target gives the default.
 * Throws RETURN_TO_INVALID for input that cannot be read one way only, and
 * RETURN_TO_NOT_ALLOWED for a well-formed target off the allow-list.
 */
export function resolveRedirect(raw: string | undefined | null, policy: RedirectPolicy): URL {
  if (raw === undefined || raw === null || raw === "") return new URL(policy.defaultUrl.href);
  const refuse = (): never => {
    throw new CoreError("RETURN_TO_NOT_ALLOWED", `Requested return_to URL "${printable(raw)}" is not allowed.`, {
      target: printable(raw),
    });
  };
  if (raw.length > MAX_TARGET_LENGTH || UNSAFE_RAW.test(raw)) refuse();
  let url: URL;
  if (ABSOLUTE.test(raw)) {
    try {
      url = new URL(raw);
    } catch {
      throw new CoreError("RETURN_TO_INVALID", "Unable to parse the return_to query parameter as an URL.", {
        target: printable(raw),
      });
    }
  } else if (raw.startsWith("/") && !raw.startsWith("//")) {
    url = new URL(raw, policy.defaultUrl);
  } else {
    // `//evil.com`, `https:evil.com`, `javascript:…` and bare words all land here (BAD-R02, R09, R19).
    return refuse();
  }
  const rawPath = raw.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, "").split(/[?#]/, 1)[0] ?? "";
  if (url.username || url.password || UNSAFE_PATH.test(rawPath)) refuse();
  const allowed = policy.allowed.concat(originOf(policy.defaultUrl));
  if (!isAllowed(url, allowed)) refuse();
  return url;
}

/**
 * The default URL's origin is always allowed: relative targets resolve against it, so a relative
 * path can only ever name a page on the origin we send people to anyway.
 */
function originOf(url: URL): AllowedTarget {
  return { protocol: url.protocol, host: url.host.toLowerCase(), path: "/" };
}

/**
 * OpenID Connect `post_logout_redirect_uri` and `redirect_uri` are compared exactly with what the
 * client registered (RP-Initiated Logout 1.0 §3; BAD-R29..R32): no normalisation at all.
 */
export function matchesExactly(raw: string, registered: readonly string[]): boolean {
  return registered.includes(raw);
}

/**
 * Why a relying app's registered URI (`redirect_uris`, `post_logout_redirect_uris`, the logout
 * URIs) is unusable, or null: it must be an absolute http(s) URL without a fragment
 * (RFC 6749 §3.1.2) or user information, written in printable ASCII.
 */
export function appUriProblem(value: string): string | null {
  if (UNSAFE_RAW.test(value)) return `"${printable(value)}" contains a space, a backslash or a character outside printable ASCII`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${printable(value)}" is not an absolute URL`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `"${printable(value)}" must be http or https`;
  if (url.username || url.password) return `"${printable(value)}" must not carry user information`;
  if (value.includes("#")) return `"${printable(value)}" must not have a fragment`;
  return null;
}

/**
 * An entry of Auth0's Allowed Logout URLs (`/v2/logout`). Auth0 documents: a scheme is required,
 * `*` is a sub-domain wildcard, scheme and host compare case-insensitively, the path exactly, and
 * the query of `returnTo` is not compared. It leaves open what we settle here
 * (docs/dialects/oidc.md): `*` is exactly one leftmost label, never the apex; ports are compared
 * (default ports normalised); an origin alone means the path `/`.
 */
export interface LogoutUrlPattern {
  protocol: string;
  /** Lower-case host name; with `wildcard`, the suffix after the `*.` label. */
  hostname: string;
  wildcard: boolean;
  /** "" for the scheme's default port, as WHATWG URL serialises it. */
  port: string;
  path: string;
}

export function parseLogoutUrlPattern(entry: string): LogoutUrlPattern {
  const wildcard = /^([a-z][a-z0-9+.-]*:\/\/)\*\.(.*)$/i.exec(entry);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) throw new Error(`"${printable(entry)}" needs a scheme (https://…)`);
  const problem = appUriProblem(wildcard ? `${wildcard[1]}wildcard.${wildcard[2]}` : entry);
  if (problem) throw new Error(problem);
  const url = new URL(wildcard ? `${wildcard[1]}wildcard.${wildcard[2]}` : entry);
  if (url.hostname.includes("*")) throw new Error(`"${printable(entry)}" may use a wildcard only as the leftmost "*." label`);
  const hostname = wildcard ? url.hostname.slice("wildcard.".length) : url.hostname;
  if (wildcard && !hostname.replace(/\.$/, "").includes(".")) throw new Error(`"${printable(entry)}" is a wildcard over a whole top-level domain`);
  return { protocol: url.protocol, hostname, wildcard: wildcard !== null, port: url.port, path: url.pathname };
}

/**
 * Checks an Auth0 `returnTo` against Allowed Logout URLs and hands back its canonical URL (its
 * query kept), or null. The raw value passes the same refusals as every other target first
 * (SEC-31..SEC-35): unreadable input, user information and dot segments never match.
 */
export function matchLogoutUrl(raw: string, patterns: readonly LogoutUrlPattern[]): URL | null {
  if (raw.length > MAX_TARGET_LENGTH || UNSAFE_RAW.test(raw) || !ABSOLUTE.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const rawPath = raw.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, "").split(/[?#]/, 1)[0] ?? "";
  if (url.username || url.password || UNSAFE_PATH.test(rawPath)) return null;
  const host = url.hostname;
  const matches = patterns.some((p) => {
    if (p.protocol !== url.protocol || p.port !== url.port || p.path !== url.pathname) return false;
    if (!p.wildcard) return p.hostname === host;
    const label = host.slice(0, host.length - p.hostname.length - 1);
    return host.endsWith(`.${p.hostname}`) && label !== "" && !label.includes(".");
  });
  return matches ? url : null;
}

/** Error messages may echo the target; make sure they cannot carry control characters. */
function printable(raw: string): string {
  const clipped = raw.length > 256 ? raw.slice(0, 256) + "…" : raw;
  return clipped.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c));
}
