/**
 * Auth0's `GET /v2/logout` in process: validated first, then the session ends through the one
 * engine and the browser goes to `returnTo`; anything refused is a page and ends nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALICE, BASE, assertDead, assertLive, byCookie, signIn, withAlice } from "../../../test/support/kratos.ts";
import { FailingStore } from "../../../test/support/failing-store.ts";
import { doorFor } from "../../../test/support/server.ts";
import { APP_SECRET } from "../../../test/support/oidc.ts";
import { createIdentity } from "../../../test/support/kratos.ts";

const WEB = {
  client_id: "web",
  client_secret: APP_SECRET,
  redirect_uris: ["https://web.example/cb"],
  allowed_logout_urls: ["https://*.web.example/bye", "https://web.example/", "https://web.example/bye"],
};
const CONFIG = { "oidc.clients": [WEB], "oidc.allowed_logout_urls": ["https://tenant.example/"] };

const logout = (k: { pub: { inject: Function } }, query: string, headers: Record<string, string> = {}) =>
  (k.pub.inject as (o: object) => Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>)({ method: "GET", url: `/v2/logout${query}`, headers });

describe("GET /v2/logout", () => {
  it("INV-1: with client_id and an allowed returnTo the session ends, the cookie is cleared, then 302 to returnTo with its query", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    const res = await logout(k, `?client_id=web&returnTo=${encodeURIComponent("https://WEB.example/bye?next=/x")}&auth0Client=eyJ9&federated`, byCookie(token));
    assert.equal(res.statusCode, 302, res.body);
    assert.equal(res.headers.location, "https://web.example/bye?next=/x");
    assert.match(String(res.headers["set-cookie"]), /^ory_kratos_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
    await assertDead(k.pub, token);
  });

  it("SEC-31: a returnTo off the app's list, or an unknown client_id, is a 400 page and the session is untouched", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const query of [
      `?client_id=web&returnTo=${encodeURIComponent("https://evil.example/")}`,
      `?client_id=web&returnTo=${encodeURIComponent("https://web.example/Bye")}`,
      `?client_id=web&returnTo=${encodeURIComponent("https://a.b.web.example/bye")}`,
      `?client_id=web&returnTo=${encodeURIComponent("https://web.example:8443/")}`,
      `?client_id=web&returnTo=${encodeURIComponent("//web.example/")}`,
      `?client_id=web&returnTo=${encodeURIComponent('https://web.example/"><script>alert(1)</script>')}`,
      `?client_id=nobody&returnTo=${encodeURIComponent("https://web.example/")}`,
      `?returnTo=${encodeURIComponent("https://web.example/")}`,
      `?client_id=web&client_id=web`,
    ]) {
      const res = await logout(k, query, byCookie(token));
      assert.equal(res.statusCode, 400, query);
      assert.equal(res.headers.location, undefined);
      assert.equal(res.headers["set-cookie"], undefined);
      assert.match(res.body, /invalid_request/);
      assert.doesNotMatch(res.body, /<script>alert/);
    }
    await assertLive(k.pub, token);
  });

  it("without client_id returnTo is checked against the tenant list; without returnTo the app's first URL, else the signed-out page", async (t) => {
    const k = await withAlice(t, CONFIG);
    const a = await signIn(k.pub, ALICE.email);
    assert.equal((await logout(k, `?returnTo=${encodeURIComponent("https://tenant.example")}`, byCookie(a.token))).headers.location, "https://tenant.example/");
    await assertDead(k.pub, a.token);
    const b = await signIn(k.pub, ALICE.email);
    assert.equal((await logout(k, "?client_id=web", byCookie(b.token))).headers.location, "https://web.example/", "the first URL that is not a wildcard");
    const c = await signIn(k.pub, ALICE.email);
    assert.equal((await logout(k, "", byCookie(c.token))).headers.location, `${BASE}/ui/logged-out`);
    await assertDead(k.pub, c.token);
    // Nobody signed in: nothing to end, the same redirect.
    assert.equal((await logout(k, "?client_id=web")).statusCode, 302);
  });

  it("SEC-27: a subresource or fetch (Sec-Fetch-Dest other than document) cannot sign anyone out", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    for (const dest of ["image", "iframe", "empty", "script"]) {
      const res = await logout(k, "?client_id=web", { ...byCookie(token), "sec-fetch-dest": dest });
      assert.equal(res.statusCode, 403, dest);
    }
    await assertLive(k.pub, token);
    assert.equal((await logout(k, "?client_id=web", { ...byCookie(token), "sec-fetch-dest": "document" })).statusCode, 302);
    await assertDead(k.pub, token);
  });

  it("SEC-10: two session cookies sign nobody out", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    const res = await logout(k, "?client_id=web", { cookie: `ory_kratos_session=${token}; ory_kratos_session=other` });
    assert.equal(res.statusCode, 400);
    await assertLive(k.pub, token);
  });

  it("INV-3: when the revocation cannot be committed, 503 and the session stays; the cookie is kept", async (t) => {
    const store = await FailingStore.open();
    const k = await doorFor(t, { store, config: CONFIG });
    await createIdentity(k.adm, ALICE);
    const { token } = await signIn(k.pub, ALICE.email);
    store.fail("revokeSessions");
    const res = await logout(k, "?client_id=web", byCookie(token));
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers.location, undefined);
    assert.equal(res.headers["set-cookie"], undefined);
    store.heal();
    await assertLive(k.pub, token);
  });
});
