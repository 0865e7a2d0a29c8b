/**
 * Content negotiation copied from Kratos (ory/kratos x/isjsonrequest.go and x/http.go): golang/gddo
 * NegotiateContentType, on which Ory's SDKs depend to get JSON rather than redirects.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { acceptsJson, isJsonRequest, negotiate } from "./negotiate.ts";

const BROWSER_NAVIGATION =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const AXIOS = "application/json, text/plain, */*";

describe("Kratos's negotiation: isJsonRequest and acceptsJson", () => {
  const table: Array<[name: string, accept: string | undefined, json: boolean]> = [
    ["no Accept is a browser (redirect)", undefined, false],
    ["an empty Accept is a browser", "", false],
    ["Accept */* (@ory/client-fetch default) is a browser", "*/*", false],
    ["axios's application/json, text/plain, */* is JSON", AXIOS, true],
    ["application/json alone is JSON", "application/json", true],
    ["equal-q application/json, text/html is a browser: text/html is the earlier offer", "application/json, text/html", false],
    ["equal-q text/html, application/json is a browser", "text/html, application/json", false],
    ["browser navigation Accept is a browser", BROWSER_NAVIGATION, false],
    ["application/json beats a lower-q text/html", "text/html;q=0.5, application/json", true],
    ["application/json with q=0 is never chosen", "application/json;q=0", false],
    ["text/html;q=0 with application/json is JSON", "text/html;q=0, application/json", true],
  ];
  for (const [name, accept, json] of table) {
    test(`as Kratos: ${name}`, () => {
      const headers = accept === undefined ? {} : { accept };
      assert.equal(isJsonRequest(headers), json, "isJsonRequest");
      assert.equal(acceptsJson(headers), json, "acceptsJson");
    });
  }

  test("as Kratos: at equal q an exact application/json beats text/* matching text/html (gddo specificity)", () => {
    assert.equal(isJsonRequest({ accept: "text/*, application/json" }), true);
    assert.equal(acceptsJson({ accept: "text/*, application/json" }), true);
    // A higher q on the wildcard wins over specificity.
    assert.equal(isJsonRequest({ accept: "text/*, application/json;q=0.5" }), false);
    assert.equal(acceptsJson({ accept: "text/*, application/json;q=0.5" }), false);
  });

  test("as Kratos: parameters, case and spacing do not change the outcome", () => {
    assert.equal(isJsonRequest({ accept: "Application/JSON" }), true);
    assert.equal(isJsonRequest({ accept: "  application/json ; charset=utf-8 " }), true);
    assert.equal(isJsonRequest({ accept: "application/json;Q=0" }), false);
  });

  test("as Kratos: Content-Type application/json makes isJsonRequest true, even on a GET with a browser Accept", () => {
    assert.equal(isJsonRequest({ "content-type": "application/json" }), true);
    assert.equal(isJsonRequest({ "content-type": "application/json; charset=utf-8", accept: BROWSER_NAVIGATION }), true);
    assert.equal(isJsonRequest({ "content-type": "Application/JSON", accept: "*/*" }), true);
    // acceptsJson looks at Accept only.
    assert.equal(acceptsJson({ "content-type": "application/json" }), false);
  });

  test("as Kratos: other content types do not make a JSON request", () => {
    for (const contentType of ["application/x-www-form-urlencoded", "text/plain", "application/json-patch+json", "multipart/form-data"]) {
      assert.equal(isJsonRequest({ "content-type": contentType }), false, contentType);
    }
  });
});

describe("negotiate (gddo NegotiateContentType)", () => {
  const offers = ["text/html", "application/json"] as const;

  test("gddo without an Accept header gives the default offer", () => {
    assert.equal(negotiate(undefined, offers, "text/html"), "text/html");
    assert.equal(negotiate(undefined, offers, "application/json"), "application/json");
  });

  test("gddo a higher q wins over offer order", () => {
    assert.equal(negotiate("text/html;q=0.1, application/json;q=0.9", offers, "text/html"), "application/json");
  });

  test("gddo on equal q and specificity the earlier offer wins", () => {
    assert.equal(negotiate("application/json, text/html", offers, "x"), "text/html");
    assert.equal(negotiate("*/*", offers, "x"), "text/html");
    assert.equal(negotiate("*/*", ["application/json", "text/html"], "x"), "application/json");
  });

  test("gddo an exact match beats a type wildcard, which beats */*, at equal q", () => {
    assert.equal(negotiate("*/*, application/json", offers, "x"), "application/json");
    assert.equal(negotiate("application/*, */*", ["text/html", "application/json"], "x"), "application/json");
  });

  test("gddo nothing acceptable gives the default", () => {
    assert.equal(negotiate("image/png", offers, "fallback"), "fallback");
    assert.equal(negotiate("application/json;q=0, text/html;q=0", offers, "fallback"), "fallback");
  });
});
