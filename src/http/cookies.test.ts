/** Cookie names and attributes in one place (D2, SEC-07, SEC-10, SEC-25). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { COOKIE_NAMES, readCookie, serializeCookie } from "./cookies.ts";

const NAME = COOKIE_NAMES.kratosSession;
const TOKEN = "3f2a8a8e-4c6e-4d47-9d0c-0c9a4b5f6e7d.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";

function attributes(cookie: string): string[] {
  return cookie.split(";").slice(1).map((a) => a.trim());
}

describe("readCookie", () => {
  test("D2 the vendor cookie names", () => {
    assert.equal(COOKIE_NAMES.kratosSession, "ory_kratos_session");
    assert.equal(COOKIE_NAMES.assetsSession, "authToken");
  });

  test("reads the named cookie among others, in any position", () => {
    assert.equal(readCookie(`${NAME}=${TOKEN}`, NAME), TOKEN);
    assert.equal(readCookie(`a=1; ${NAME}=${TOKEN}; b=2`, NAME), TOKEN);
    assert.equal(readCookie(`a=1;${NAME}=${TOKEN}`, NAME), TOKEN);
    assert.equal(readCookie(`authToken=x; ${NAME}=${TOKEN}`, "authToken"), "x");
  });

  test("an absent cookie is null", () => {
    assert.equal(readCookie(undefined, NAME), null);
    assert.equal(readCookie("", NAME), null);
    assert.equal(readCookie("a=1; b=2", NAME), null);
    assert.equal(readCookie(`${NAME}=`, NAME), null, "an empty value authenticates nobody");
    assert.equal(readCookie(NAME, NAME), null, "a name without a value");
  });

  test("the name must match exactly, not as a prefix, suffix or substring", () => {
    assert.equal(readCookie(`x${NAME}=a; ${NAME}x=b; ${NAME}_old=c`, NAME), null);
    assert.equal(readCookie(`other=${NAME}=evil`, NAME), null, "a value that contains the name is not the cookie");
  });

  test("a quoted value is unquoted", () => {
    assert.equal(readCookie(`${NAME}="${TOKEN}"`, NAME), TOKEN);
  });

  test("SEC-10 the same cookie twice with the same value is read", () => {
    assert.equal(readCookie(`${NAME}=${TOKEN}; ${NAME}=${TOKEN}`, NAME), TOKEN);
    assert.equal(readCookie(`${NAME}=${TOKEN}; other=1; ${NAME}="${TOKEN}"`, NAME), TOKEN);
  });

  test("SEC-10 the same cookie twice with different values is ambiguous: null (cookie tossing)", () => {
    assert.equal(readCookie(`${NAME}=${TOKEN}; ${NAME}=attacker`, NAME), null);
    assert.equal(readCookie(`${NAME}=attacker; ${NAME}=${TOKEN}`, NAME), null);
    assert.equal(readCookie(`${NAME}=${TOKEN}; ${NAME}=`, NAME), null);
    assert.equal(readCookie(`${NAME}=a; ${NAME}=a; ${NAME}=b`, NAME), null);
  });
});

describe("serializeCookie (D2)", () => {
  test("D2 HttpOnly, SameSite=Lax, Path=/, no Domain, no Secure on http", () => {
    const cookie = serializeCookie(NAME, TOKEN, { secure: false });
    assert.ok(cookie.startsWith(`${NAME}=${TOKEN};`));
    const attrs = attributes(cookie);
    assert.ok(attrs.includes("HttpOnly"));
    assert.ok(attrs.includes("SameSite=Lax"));
    assert.ok(attrs.includes("Path=/"));
    assert.ok(!attrs.some((a) => /^domain=/i.test(a)), "host-only: no Domain");
    assert.ok(!attrs.some((a) => /^secure$/i.test(a)));
    assert.ok(!attrs.some((a) => /^(max-age|expires)=/i.test(a)), "a browser-session cookie by default");
  });

  test("D2 Secure only when asked (https base URL)", () => {
    const attrs = attributes(serializeCookie(COOKIE_NAMES.assetsSession, "v", { secure: true }));
    assert.ok(attrs.includes("Secure"));
    assert.ok(attrs.includes("HttpOnly") && attrs.includes("SameSite=Lax") && attrs.includes("Path=/"));
    assert.ok(!attrs.some((a) => /^domain=/i.test(a)));
  });

  test("a positive Max-Age is written in whole seconds, without Expires", () => {
    const attrs = attributes(serializeCookie(NAME, TOKEN, { secure: true, maxAge: 3600.9 }));
    assert.ok(attrs.includes("Max-Age=3600"));
    assert.ok(!attrs.some((a) => /^expires=/i.test(a)));
  });

  test("SEC-25 clearing sets Max-Age=0 and an Expires in 1970, with the same Path and no Domain", () => {
    for (const maxAge of [0, -5]) {
      const cookie = serializeCookie(NAME, "", { secure: true, maxAge });
      assert.ok(cookie.startsWith(`${NAME}=;`));
      const attrs = attributes(cookie);
      assert.ok(attrs.includes("Max-Age=0"), cookie);
      assert.ok(attrs.includes("Expires=Thu, 01 Jan 1970 00:00:00 GMT"), cookie);
      assert.ok(attrs.includes("Path=/") && attrs.includes("HttpOnly") && attrs.includes("SameSite=Lax") && attrs.includes("Secure"));
      assert.ok(!attrs.some((a) => /^domain=/i.test(a)));
    }
  });

  test("a serialised cookie reads back", () => {
    const cookie = serializeCookie(NAME, TOKEN, { secure: false });
    const pair = cookie.split(";")[0];
    assert.equal(readCookie(`theme=dark; ${pair}`, NAME), TOKEN);
  });
});
