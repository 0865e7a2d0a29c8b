/** The OpenID Connect door's admin routes in process: the back-channel outbox and its retry. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { doorFor } from "../../../test/support/server.ts";

const KEY = "k".repeat(32);

describe("admin: /admin/deliveries", () => {
  it("SEC admin API: with an admin key set, a call without it is 401 in the OAuth envelope", async (t) => {
    const k = await doorFor(t, { config: { "serve.admin.key": KEY } });
    const none = await k.adm.inject({ method: "GET", url: "/admin/deliveries" });
    assert.equal(none.statusCode, 401);
    assert.equal(JSON.parse(none.body).error, "invalid_token");
    const ok = await k.adm.inject({ method: "GET", url: "/admin/deliveries", headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(JSON.parse(ok.body), []);
    // The Kratos admin prefix rule holds here too: /deliveries is /admin/deliveries.
    assert.equal((await k.adm.inject({ method: "GET", url: "/deliveries", headers: { authorization: `Bearer ${KEY}` } })).statusCode, 200);
  });

  it("bad filters are 400 and an unknown delivery's retry is 404, in the OAuth envelope", async (t) => {
    const k = await doorFor(t);
    const bad = await k.adm.inject({ method: "GET", url: "/admin/deliveries?status=lost" });
    assert.equal(bad.statusCode, 400);
    assert.equal(JSON.parse(bad.body).error, "invalid_request");
    const unknown = await k.adm.inject({ method: "POST", url: "/admin/deliveries/00000000-0000-4000-8000-000000000000/retry" });
    assert.equal(unknown.statusCode, 404);
    assert.equal(JSON.parse(unknown.body).error, "invalid_request");
  });
});
