import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeDevice, doorName, fieldLabel, localeOf, messageText, relativeTime } from "./for-people.ts";

describe("what the pages say to a person", () => {
  it("devices: browser on OS from ua-parser-js; a program as an API client with its name and version", () => {
    const mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    assert.equal(describeDevice(mac), "Chrome on macOS");
    assert.equal(describeDevice("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"), "Firefox on Linux");
    assert.equal(describeDevice("curl/8.1.2"), "API client (curl 8.1)");
    assert.equal(describeDevice("python-requests/2.31.0"), "API client (python-requests 2.31)");
    assert.equal(describeDevice("node"), "API client (node)");
    assert.equal(describeDevice(null), "Unknown device");
    assert.equal(describeDevice("<script>".repeat(20)).length <= "API client ()".length + 40, true, "bounded");
  });

  it("doors by the names people know; a Kratos session of a program is the API", () => {
    assert.equal(doorName("kratos", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"), "This website");
    assert.equal(doorName("kratos", "curl/8.1.2"), "App or script (API)");
    assert.equal(doorName("firstock", "okhttp/4.9.0"), "Trading API (Firstock)");
    assert.equal(doorName("assets", null), "Assets (WoodWing)");
  });

  it("labels: email or username, Email, an optional username, a new password", () => {
    assert.equal(fieldLabel("identifier", "username", "ID"), "Email or username");
    assert.equal(fieldLabel("traits.email", "email", "E-Mail"), "Email");
    assert.equal(fieldLabel("traits.username", "username", "Username"), "Username (optional)");
    assert.equal(fieldLabel("password", "new-password", "Password"), "New password");
    assert.equal(fieldLabel("password", "current-password", "Password"), "Password");
  });

  it("no message names a phone number", () => {
    assert.doesNotMatch(messageText(4000006, "… email address, or phone number."), /phone/i);
    assert.equal(messageText(4000005, "kept"), "kept");
  });

  it("times: relative in the viewer's language, the exact instant for a tooltip", () => {
    const now = new Date(Date.UTC(2026, 11, 7, 12, 0, 0));
    assert.equal(relativeTime(new Date(now.getTime() - 5 * 60_000), now, "en").relative, "5 minutes ago");
    assert.equal(relativeTime(now, now, "en").relative, "this minute");
    assert.equal(relativeTime(new Date(now.getTime() - 2 * 86_400_000), now, "en").relative, "2 days ago");
    assert.equal(relativeTime(new Date(now.getTime() - 3 * 3_600_000), now, "de").relative, "vor 3 Stunden");
    assert.match(relativeTime(now, now, "en").exact, /December 7, 2026.*12:00.*UTC/);
    assert.equal(localeOf("de-CH,de;q=0.9,en;q=0.8"), "de-CH");
    assert.equal(localeOf("*"), "en");
    assert.equal(localeOf("x".repeat(300)), "en");
    assert.equal(localeOf(undefined), "en");
  });
});
