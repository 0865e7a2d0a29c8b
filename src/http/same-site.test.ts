/** The second CSRF layer (house rule 9, D12, SEC-56): Sec-Fetch-Site first, then Origin. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isCrossSite } from "./same-site.ts";

const OWN = ["https://app.example.com", "http://localhost:4433"];

describe("isCrossSite", () => {
  test("SEC-56 Sec-Fetch-Site same-origin and none (typed, bookmarked) are not cross-site", () => {
    assert.equal(isCrossSite({ "sec-fetch-site": "same-origin" }, OWN), false);
    assert.equal(isCrossSite({ "sec-fetch-site": "none" }, OWN), false);
  });

  test("SEC-56 Sec-Fetch-Site cross-site is cross-site (BAD-C12)", () => {
    assert.equal(isCrossSite({ "sec-fetch-site": "cross-site" }, OWN), true);
  });

  test("D12 Sec-Fetch-Site same-site (a sibling sub-domain) is not same-origin, so it is refused", () => {
    assert.equal(isCrossSite({ "sec-fetch-site": "same-site" }, OWN), true);
  });

  test("SEC-56 an unknown or repeated Sec-Fetch-Site value is treated as cross-site", () => {
    assert.equal(isCrossSite({ "sec-fetch-site": "SAME-ORIGIN" }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "same-origin, cross-site" }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "garbage" }, OWN), true);
  });

  test("SEC-56 Sec-Fetch-Site decides when both headers are present", () => {
    assert.equal(isCrossSite({ "sec-fetch-site": "cross-site", origin: "https://app.example.com" }, OWN), true);
    assert.equal(isCrossSite({ "sec-fetch-site": "same-origin", origin: "https://app.example.com" }, OWN), false);
  });

  test("SEC-56 without Sec-Fetch-Site, an Origin of our own is not cross-site", () => {
    assert.equal(isCrossSite({ origin: "https://app.example.com" }, OWN), false);
    assert.equal(isCrossSite({ origin: "http://localhost:4433" }, OWN), false);
    assert.equal(isCrossSite({ "sec-fetch-site": "", origin: "https://app.example.com" }, OWN), false);
  });

  test("SEC-56 without Sec-Fetch-Site, any other Origin is cross-site (BAD-C11)", () => {
    for (const origin of [
      "https://evil.example",
      "https://app.example.com.evil.com",
      "http://app.example.com",
      "https://app.example.com:8443",
      "https://sub.app.example.com",
      "http://localhost:4434",
    ]) {
      assert.equal(isCrossSite({ origin }, OWN), true, origin);
    }
  });

  test("SEC-56 Origin: null (sandboxed frames, opaque redirects) is cross-site", () => {
    assert.equal(isCrossSite({ origin: "null" }, OWN), true);
  });

  test("D12 a request with neither header is not from another site's page", () => {
    assert.equal(isCrossSite({}, OWN), false);
    assert.equal(isCrossSite({ origin: "", "sec-fetch-site": "" }, OWN), false);
    assert.equal(isCrossSite({ referer: "https://evil.example/" }, OWN), false, "Referer is not consulted");
  });

  test("SEC-56 with no own origins configured every Origin is cross-site", () => {
    assert.equal(isCrossSite({ origin: "https://app.example.com" }, []), true);
  });
});
