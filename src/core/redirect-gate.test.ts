/**
 * The redirect gate (house rule 8) against its rules (SEC-31..35) and the BAD-R01..R40
 * corpus of bad redirect targets, with the allow-list that corpus assumes: the
 * `https://app.example.com/` prefix, plus a `*.example.org` wildcard entry.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type CoreErrorCode, isCoreError } from "./errors.ts";
import { type RedirectPolicy, matchLogoutUrl, matchesExactly, parseAllowedTarget, parseLogoutUrlPattern, resolveRedirect } from "./redirect-gate.ts";

const DEFAULT = "https://app.example.com/home";

const policy: RedirectPolicy = {
  allowed: [parseAllowedTarget("https://app.example.com/"), parseAllowedTarget("https://*.example.org")],
  defaultUrl: new URL(DEFAULT),
};

/** The exact URI an OIDC client registered, as the BAD-R corpus assumes. */
const REGISTERED = ["https://app.example.com/logout/cb"];

const REFUSALS: readonly CoreErrorCode[] = ["RETURN_TO_NOT_ALLOWED", "RETURN_TO_INVALID"];

function assertRefused(raw: string, p: RedirectPolicy = policy): void {
  assert.throws(
    () => resolveRedirect(raw, p),
    (error: unknown) => {
      assert.ok(isCoreError(error), `expected a CoreError for ${JSON.stringify(raw)}, got ${String(error)}`);
      assert.ok(REFUSALS.includes(error.code), `unexpected code ${error.code} for ${JSON.stringify(raw)}`);
      // SEC-34/35: what the error echoes can never carry a header break or a control character.
      assert.doesNotMatch(error.message, /[\x00-\x1f\x7f]/);
      assert.doesNotMatch(error.details.target ?? "", /[\x00-\x1f\x7f]/);
      return true;
    },
    `expected ${JSON.stringify(raw)} to be refused`,
  );
}

/** SEC-32: an allowed target comes back as its canonical serialisation, and stays on an allowed origin. */
function assertAllowed(raw: string, href: string, p: RedirectPolicy = policy): URL {
  const url = resolveRedirect(raw, p);
  assert.ok(url instanceof URL);
  assert.equal(url.href, href);
  assert.equal(new URL(url.href).href, url.href, "the emitted href is byte-identical to its re-parse");
  return url;
}

describe("BAD-R01..R40: redirect targets", () => {
  const bad: Array<[id: string, inputs: string[]]> = [
    ["BAD-R01 another host", ["https://evil.com/"]],
    ["BAD-R02 scheme-relative //host", ["//evil.com", "//evil.com/home"]],
    ["BAD-R03 triple slash", ["///evil.com"]],
    ["BAD-R04 two backslashes", ["\\\\evil.com"]],
    ["BAD-R05 slash backslash", ["/\\evil.com"]],
    ["BAD-R06 backslash slash", ["\\/evil.com"]],
    ["BAD-R07 slash TAB slash", ["/\t/evil.com"]],
    ["BAD-R08 slash LF slash", ["/\n/evil.com"]],
    ["BAD-R09 https: without slashes (parsers disagree)", ["https:evil.com"]],
    ["BAD-R10 http: without slashes", ["http:evil.com"]],
    ["BAD-R11 userinfo looks like our host", ["https://app.example.com@evil.com"]],
    ["BAD-R12 encoded slash in userinfo", ["https://app.example.com%2F@evil.com"]],
    ["BAD-R13 several @ (REG-01)", ["https://a@b@evil.com"]],
    ["BAD-R14 backslash before @", ["https://evil.com\\@app.example.com"]],
    ["BAD-R15 fragment before @", ["https://evil.com#@app.example.com"]],
    ["BAD-R16 query before @", ["https://evil.com?@app.example.com"]],
    ["BAD-R17 our host as a sub-domain of theirs", ["https://app.example.com.evil.com/"]],
    ["BAD-R18 host boundary", ["https://evilapp.example.com/", "https://app.example.com-evil.com/", "https://evilexample.org/"]],
    [
      "BAD-R19 javascript: in any disguise",
      ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "\u0000javascript:alert(1)"],
    ],
    ["BAD-R21 raw CR LF (SEC-34)", ["/\r\nSet-Cookie:x=1"]],
    ["BAD-R22 encoded CR LF outside a path", ["%0d%0aLocation:%20https://evil.com", "%250d%250aLocation:%2520https://evil.com"]],
    ["BAD-R23 other schemes", ["data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd"]],
    ["BAD-R24 full-width and ideographic dots", ["https://ｅｖｉｌ.com/", "https://evil。com/"]],
    [
      "BAD-R25 dot segments and path parameters (REG-02)",
      ["https://app.example.com/app/..;/admin", "/app/%2e%2e/admin", "https://app.example.com/app/../admin", "/app/%2E%2E/admin", "/a/.%2e/b"],
    ],
    ["BAD-R26 Cyrillic homograph", ["https://аpp.example.com/"]],
    ["BAD-R27 zero-width space", ["https://app.example.com\u200b/"]],
    ["BAD-R28 numeric loopback hosts", ["http://2130706433/", "http://0x7f.1/"]],
    ["BAD-R33 trailing dot", ["https://app.example.com./"]],
    ["BAD-R34 port mismatch", ["https://app.example.com:8443/"]],
    ["BAD-R35 downgrade to http", ["http://app.example.com/"]],
    ["BAD-R36 over-long targets", [`https://app.example.com/${"a".repeat(8 * 1024)}`, `/${"a".repeat(100 * 1024)}`]],
    ["BAD-R40 TAB inside the scheme", ["ht\ttps://evil.com"]],
  ];
  for (const [name, inputs] of bad) {
    test(`${name} is refused with RETURN_TO_NOT_ALLOWED or RETURN_TO_INVALID`, () => {
      for (const raw of inputs) assertRefused(raw);
    });
  }

  test("BAD-R20 an encoded CR LF in a path stays a same-origin path and is never decoded", () => {
    const url = resolveRedirect("/%0d%0aSet-Cookie:x=1", policy);
    assert.equal(url.origin, "https://app.example.com");
    assert.equal(url.href, "https://app.example.com/%0d%0aSet-Cookie:x=1");
    assert.doesNotMatch(url.href, /[\r\n]/);
  });

  test("BAD-R29 an upper-case URL on the prefix allow-list is allowed in its canonical form", () => {
    assertAllowed("HTTPS://APP.EXAMPLE.COM/", "https://app.example.com/");
  });

  test("BAD-R30..R32 are only wrong for exact matching: the prefix gate emits their canonical form", () => {
    assertAllowed("https://app.example.com:443/logout/cb", "https://app.example.com/logout/cb");
    assertAllowed("https://app.example.com/logout/cb?foo=bar", "https://app.example.com/logout/cb?foo=bar");
    assertAllowed("https://app.example.com/logout/cb#frag", "https://app.example.com/logout/cb#frag");
  });

  test("BAD-R37 whatever a door makes of a repeated parameter, the gate keeps it on our origin", () => {
    // Refusing the duplicate is the door's job (SEC-70); the gate sees one string.
    const url = resolveRedirect("/a,https://evil.com", policy);
    assert.equal(url.origin, "https://app.example.com");
  });

  test("BAD-R38 an empty, absent or null target gives the default", () => {
    for (const raw of ["", undefined, null]) assertAllowed(raw as string, DEFAULT);
    // A fresh URL each time: a caller that mutates it cannot change the policy.
    const first = resolveRedirect("", policy);
    first.pathname = "/mutated";
    assert.equal(policy.defaultUrl.href, DEFAULT);
  });

  test("BAD-R39 a relative path resolves against the default URL and is allowed", () => {
    assertAllowed("/dashboard", "https://app.example.com/dashboard");
  });
});

describe("SEC-31 allow-list matching", () => {
  test("SEC-31 a target under an allowed prefix is allowed", () => {
    assertAllowed("https://app.example.com/settings?tab=1", "https://app.example.com/settings?tab=1");
  });

  test("SEC-31 path prefixes match on a segment boundary: /app does not match /app-evil", () => {
    const p: RedirectPolicy = {
      allowed: [parseAllowedTarget("https://apps.example.net/app")],
      defaultUrl: new URL(DEFAULT),
    };
    assertAllowed("https://apps.example.net/app", "https://apps.example.net/app", p);
    assertAllowed("https://apps.example.net/app/", "https://apps.example.net/app/", p);
    assertAllowed("https://apps.example.net/app/x?y=1", "https://apps.example.net/app/x?y=1", p);
    assertRefused("https://apps.example.net/app-evil", p);
    assertRefused("https://apps.example.net/apple", p);
    assertRefused("https://apps.example.net/", p);
  });

  test("SEC-31 a wildcard label matches sub-domains at any depth", () => {
    assertAllowed("https://a.example.org/x", "https://a.example.org/x");
    assertAllowed("https://A.B.Example.Org/", "https://a.b.example.org/");
  });

  test("SEC-31 a wildcard does not match the apex, a suffix host, another scheme or another port", () => {
    assertRefused("https://example.org/");
    assertRefused("https://evilexample.org/");
    assertRefused("https://example.org.evil.com/");
    assertRefused("http://a.example.org/");
    assertRefused("https://a.example.org:8443/");
  });

  test("SEC-31 the default URL's origin is always allowed, even with an empty allow-list", () => {
    const p: RedirectPolicy = { allowed: [], defaultUrl: new URL(DEFAULT) };
    assertAllowed("/x", "https://app.example.com/x", p);
    assertAllowed("https://app.example.com/y", "https://app.example.com/y", p);
    assertRefused("https://a.example.org/", p);
  });

  test("SEC-32 an absolute URL that does not parse is RETURN_TO_INVALID", () => {
    for (const raw of ["https://", "https://[::1/"]) {
      assert.throws(() => resolveRedirect(raw, policy), (e: unknown) => isCoreError(e, "RETURN_TO_INVALID"));
    }
  });

  test("SEC-33 a relative target must begin with exactly one slash", () => {
    for (const raw of ["dashboard", "./dashboard", "../dashboard", "?x=1", "#x"]) assertRefused(raw);
  });
});

describe("parseAllowedTarget: allow-list entries from configuration", () => {
  test("SEC-31 an entry keeps scheme, lower-cased host with port, and path", () => {
    assert.deepEqual(parseAllowedTarget("https://App.Example.com:8443/a/b"), {
      protocol: "https:",
      host: "app.example.com:8443",
      path: "/a/b",
    });
    assert.deepEqual(parseAllowedTarget("https://*.Example.org/x"), { protocol: "https:", host: "*.example.org", path: "/x" });
  });

  test("SEC-31 a wildcard over a whole top-level domain is refused", () => {
    for (const entry of ["https://*.com", "https://*.com/", "https://*.localhost", "https://*.com."]) {
      assert.throws(() => parseAllowedTarget(entry), Error, entry);
    }
  });

  test("SEC-31 a wildcard anywhere but a leading *. label is refused (as Kratos drops them at config load)", () => {
    for (const entry of ["https://*", "https://*foo.com", "https://foo.*.com", "https://a.*.example.com/"]) {
      assert.throws(() => parseAllowedTarget(entry), Error, entry);
    }
  });

  test("SEC-32 non-http schemes are refused", () => {
    for (const entry of ["javascript:alert(1)", "ftp://files.example.com/", "file:///etc/", "data:text/html,x"]) {
      assert.throws(() => parseAllowedTarget(entry), /must be http or https/, entry);
    }
  });

  test("SEC-32 user information is refused", () => {
    for (const entry of ["https://user@app.example.com/", "https://user:pass@app.example.com/"]) {
      assert.throws(() => parseAllowedTarget(entry), /user information/, entry);
    }
  });

  test("SEC-32 a relative or unparseable entry is refused", () => {
    for (const entry of ["/dashboard", "app.example.com", ""]) {
      assert.throws(() => parseAllowedTarget(entry), /not an absolute URL/, entry);
    }
  });
});

describe("matchesExactly: OIDC post_logout_redirect_uri (SEC-40, OpenID Connect RP-Initiated Logout 1.0 §3)", () => {
  test("SEC-40 the registered URI itself matches", () => {
    assert.equal(matchesExactly("https://app.example.com/logout/cb", REGISTERED), true);
  });

  test("BAD-R29..R32 case, default port, an added query or a fragment do not match", () => {
    for (const raw of [
      "HTTPS://APP.EXAMPLE.COM/logout/cb",
      "https://APP.example.com/logout/cb",
      "https://app.example.com:443/logout/cb",
      "https://app.example.com/logout/cb?foo=bar",
      "https://app.example.com/logout/cb#frag",
    ]) {
      assert.equal(matchesExactly(raw, REGISTERED), false, raw);
    }
  });

  test("SEC-40 prefixes, trailing slashes and other URIs do not match", () => {
    for (const raw of ["https://app.example.com/logout", "https://app.example.com/logout/cb/", "https://app.example.com/logout/cb/x", ""]) {
      assert.equal(matchesExactly(raw, REGISTERED), false, raw);
    }
    assert.equal(matchesExactly("https://app.example.com/logout/cb", []), false);
  });
});

describe("Auth0 Allowed Logout URLs (matchLogoutUrl)", () => {
  const patterns = ["https://app.example.com/bye", "https://*.example.org", "http://localhost:3000/"].map(parseLogoutUrlPattern);
  const match = (raw: string) => matchLogoutUrl(raw, patterns)?.href ?? null;

  test("scheme and host compare case-insensitively, the path exactly, and the returnTo query is not compared but kept", () => {
    assert.equal(match("https://app.example.com/bye"), "https://app.example.com/bye");
    assert.equal(match("HTTPS://APP.example.COM/bye?next=/x"), "https://app.example.com/bye?next=/x");
    assert.equal(match("https://app.example.com/Bye"), null);
    assert.equal(match("https://app.example.com/bye/"), null);
    assert.equal(match("https://app.example.com/bye/more"), null);
  });

  test("* is exactly one leftmost label, never the apex; ports are compared; an origin means the path /", () => {
    assert.equal(match("https://a.example.org/"), "https://a.example.org/");
    assert.equal(match("https://a.example.org"), "https://a.example.org/");
    assert.equal(match("https://a.b.example.org/"), null);
    assert.equal(match("https://example.org/"), null);
    assert.equal(match("https://a.example.org:8443/"), null);
    assert.equal(match("https://app.example.com:443/bye"), "https://app.example.com/bye");
    assert.equal(match("http://localhost:3000"), "http://localhost:3000/");
    assert.equal(match("http://localhost:3001/"), null);
  });

  test("SEC-32: unreadable, relative, user-information and dot-segment targets never match", () => {
    for (const raw of [
      "//app.example.com/bye",
      "/bye",
      "https://user@app.example.com/bye",
      "https://app.example.com/x/../bye",
      "https://app.example.com/%2e%2e/bye",
      "https://app.example.com/bye\r\nSet-Cookie: x",
      "https://app.example.com\\@evil.example/bye",
      "javascript://app.example.com/bye",
      "https://app.example.com.evil.example/bye",
      "",
    ]) {
      assert.equal(match(raw), null, raw);
    }
  });
});
