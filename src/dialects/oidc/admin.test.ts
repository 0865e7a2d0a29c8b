/** The OpenID Connect door's admin routes in process: relying apps, the back-channel outbox and its retry. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { ALICE, byCookie, signIn, withAlice } from "../../../test/support/kratos.ts";
import { APP_SECRET } from "../../../test/support/oidc.ts";
import { doorFor } from "../../../test/support/server.ts";
import type { HttpApp } from "../../http/app.ts";

const KEY = "k".repeat(32);
const json = { "content-type": "application/json" };
const CONFIGURED = { client_id: "configured", client_secret: APP_SECRET, redirect_uris: ["https://configured.example/cb"] };
const NEW_APP = {
  client_id: "shop",
  redirect_uris: ["https://shop.example/cb"],
  post_logout_redirect_uris: ["https://shop.example/"],
  backchannel_logout_uri: "https://shop.example/backchannel",
};

const call = (adm: HttpApp, method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown) =>
  adm.inject({ method, url, ...(payload !== undefined ? { headers: json, payload: JSON.stringify(payload) } : {}) });

describe("admin: /admin/clients", () => {
  it("RFC 7591 §3.2.1: POST registers an app and shows its generated secret once; the secret works at the token endpoint", async (t) => {
    const k = await withAlice(t, { "oidc.clients": [CONFIGURED] });
    const created = await call(k.adm, "POST", "/admin/clients", NEW_APP);
    assert.equal(created.statusCode, 201, created.body);
    assert.match(String(created.headers["cache-control"]), /no-store/);
    const body = JSON.parse(created.body);
    assert.equal(body.client_id, "shop");
    assert.equal(body.token_endpoint_auth_method, "client_secret_basic", "confidential by default, as configuration");
    assert.equal(body.source, "admin");
    assert.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/);
    const read = JSON.parse((await call(k.adm, "GET", "/admin/clients/shop")).body);
    assert.equal(read.client_secret, undefined, "the secret is never shown again");
    assert.deepEqual(read.post_logout_redirect_uris, NEW_APP.post_logout_redirect_uris);
    const listed = JSON.parse((await call(k.adm, "GET", "/admin/clients")).body) as { client_id: string; source: string }[];
    assert.deepEqual(listed.map((a) => [a.client_id, a.source]), [["configured", "config"], ["shop", "admin"]]);

    // A sign-in for the new app: its page's form may end at the app (Chromium applies form-action
    // to the redirects after a post); a sign-in for nobody's request names no app.
    const loginPageCsp = async (url: string) => {
      let res = await k.pub.inject({ method: "GET", url });
      const cookies: string[] = [];
      for (let hop = 0; hop < 3 && res.statusCode === 303; hop++) {
        for (const c of [res.headers["set-cookie"] ?? []].flat()) cookies.push(String(c).split(";")[0]!);
        res = await k.pub.inject({ method: "GET", url: String(res.headers.location).replace(/^https?:\/\/[^/]+/, ""), headers: { cookie: cookies.join("; ") } });
      }
      assert.equal(res.statusCode, 200, res.body);
      return String(res.headers["content-security-policy"]);
    };
    const held = new URLSearchParams({ client_id: "shop", redirect_uri: "https://shop.example/cb", response_type: "code", scope: "openid" });
    assert.match(await loginPageCsp(`/authorize?${held}`), /form-action [^;]*https:\/\/shop\.example/);
    assert.doesNotMatch(await loginPageCsp("/self-service/login/browser"), /shop\.example|configured\.example/);

    // The new app signs in at once: a code for it, exchanged with the generated secret.
    const verifier = "v".repeat(43);
    const { token: session } = await signIn(k.pub, ALICE.email);
    const query = new URLSearchParams({
      client_id: "shop",
      redirect_uri: "https://shop.example/cb",
      response_type: "code",
      scope: "openid",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    });
    const authorized = await k.pub.inject({ method: "GET", url: `/authorize?${query}`, headers: byCookie(session) });
    const code = new URL(String(authorized.headers.location)).searchParams.get("code")!;
    const exchanged = await k.pub.inject({
      method: "POST",
      url: "/oauth/token",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`shop:${body.client_secret}`).toString("base64")}` },
      payload: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: "https://shop.example/cb", code_verifier: verifier }).toString(),
    });
    assert.equal(exchanged.statusCode, 200, exchanged.body);
  });

  it("RFC 7591 §3.2.1: without a client_id one is generated; a public app gets no secret", async (t) => {
    const k = await doorFor(t);
    const created = JSON.parse(
      (await call(k.adm, "POST", "/admin/clients", { token_endpoint_auth_method: "none", redirect_uris: ["http://localhost:5173/"], web_origins: ["http://localhost:5173"] })).body,
    );
    assert.match(created.client_id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(created.client_secret, undefined);
    assert.equal(JSON.parse((await call(k.adm, "GET", `/admin/clients/${created.client_id}`)).body).token_endpoint_auth_method, "none");
  });

  it("RFC 7591 §3.2.2: bad metadata is invalid_redirect_uri or invalid_client_metadata (400) and writes nothing", async (t) => {
    const k = await doorFor(t);
    const cases: [unknown, string][] = [
      [{ ...NEW_APP, redirect_uris: ["https://shop.example/cb#frag"] }, "invalid_redirect_uri"],
      [{ ...NEW_APP, redirect_uris: ["https://user@shop.example/cb"] }, "invalid_redirect_uri"],
      [{ ...NEW_APP, redirect_uris: ["javascript:alert(1)"] }, "invalid_redirect_uri"],
      [{ ...NEW_APP, backchannel_logout_uri: "ftp://shop.example/bc" }, "invalid_client_metadata"],
      [{ ...NEW_APP, web_origins: ["https://shop.example/path"] }, "invalid_client_metadata"],
      [{ ...NEW_APP, allowed_logout_urls: ["https://*.*.example/"] }, "invalid_client_metadata"],
    ];
    for (const [payload, error] of cases) {
      const res = await call(k.adm, "POST", "/admin/clients", payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(JSON.parse(res.body).error, error, JSON.stringify(payload));
    }
    // What the schema refuses is the OAuth envelope too: a secret of one's own, unknown fields, no redirect URIs, not JSON.
    for (const payload of [{ ...NEW_APP, client_secret: APP_SECRET }, { ...NEW_APP, logo_uri: "https://x/" }, { client_id: "x" }, { ...NEW_APP, redirect_uris: "https://shop.example/cb" }]) {
      const res = await call(k.adm, "POST", "/admin/clients", payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(JSON.parse(res.body).error, "invalid_request");
    }
    const notJson = await k.adm.inject({ method: "POST", url: "/admin/clients", headers: json, payload: "{nope" });
    assert.equal(notJson.statusCode, 400);
    assert.equal(JSON.parse(notJson.body).error, "invalid_request");
    assert.deepEqual(JSON.parse((await call(k.adm, "GET", "/admin/clients")).body), [], "nothing was written");
  });

  it("PUT replaces an admin app's metadata and keeps its secret; it does not turn confidential into public", async (t) => {
    const k = await doorFor(t);
    const { client_secret: secret, created_at: createdAt } = JSON.parse((await call(k.adm, "POST", "/admin/clients", NEW_APP)).body);
    const replaced = await call(k.adm, "PUT", "/admin/clients/shop", { redirect_uris: ["https://shop.example/new-cb"] });
    assert.equal(replaced.statusCode, 200, replaced.body);
    const after = JSON.parse(replaced.body);
    assert.deepEqual(after.redirect_uris, ["https://shop.example/new-cb"]);
    assert.deepEqual(after.post_logout_redirect_uris, [], "a replace is the whole of the metadata");
    assert.equal(after.backchannel_logout_uri, undefined);
    assert.equal(after.created_at, createdAt);
    const app = await k.t.server.core.apps.authenticate({ clientId: "shop", secret });
    assert.ok(app, "the secret stays");
    const toPublic = await call(k.adm, "PUT", "/admin/clients/shop", { token_endpoint_auth_method: "none", redirect_uris: ["https://shop.example/cb"] });
    assert.equal(toPublic.statusCode, 400);
    assert.equal(JSON.parse(toPublic.body).error, "invalid_client_metadata");
    const withId = await call(k.adm, "PUT", "/admin/clients/shop", { client_id: "other", redirect_uris: ["https://shop.example/cb"] });
    assert.equal(withId.statusCode, 400, "the id is the path's");
    const sameId = await call(k.adm, "PUT", "/admin/clients/shop", { client_id: "shop", redirect_uris: ["https://shop.example/cb"] });
    assert.equal(sameId.statusCode, 200, "RFC 7592 §2.2: the body may name the app");
    assert.equal((await call(k.adm, "PUT", "/admin/clients/nobody", { redirect_uris: ["https://shop.example/cb"] })).statusCode, 404);
  });

  it("DELETE removes an admin app, and with it the tokens it held; apps of configuration are 409 and a taken id is 409", async (t) => {
    const k = await withAlice(t, { "oidc.clients": [CONFIGURED] });
    const { client_secret: secret } = JSON.parse((await call(k.adm, "POST", "/admin/clients", NEW_APP)).body);
    assert.equal((await call(k.adm, "POST", "/admin/clients", NEW_APP)).statusCode, 409, "a taken client_id");
    const configuredAgain = await call(k.adm, "POST", "/admin/clients", { ...NEW_APP, client_id: "configured" });
    assert.equal(configuredAgain.statusCode, 409);
    assert.equal(JSON.parse(configuredAgain.body).error, "invalid_client_metadata");
    for (const [method, payload] of [["PUT", { redirect_uris: ["https://configured.example/cb"] }], ["DELETE", undefined]] as const) {
      const res = await call(k.adm, method, "/admin/clients/configured", payload);
      assert.equal(res.statusCode, 409, method);
      assert.match(JSON.parse(res.body).error_description, /oidc\.clients/);
    }
    assert.equal((await call(k.adm, "DELETE", "/admin/clients/shop")).statusCode, 204);
    assert.equal((await call(k.adm, "GET", "/admin/clients/shop")).statusCode, 404);
    assert.equal(await k.t.server.core.apps.authenticate({ clientId: "shop", secret }), null);
    assert.equal((await call(k.adm, "DELETE", "/admin/clients/shop")).statusCode, 404);
  });

  it("SEC-100: without an admin key, a request addressed to another host name (DNS rebinding) is 403 at both admin doors and changes nothing", async (t) => {
    const k = await doorFor(t);
    for (const host of ["rebind.example:4434", "127.0.0.1.evil.example", "0.0.0.0:4434"]) {
      const oidc = await k.adm.inject({ method: "POST", url: "/admin/clients", headers: { ...json, host }, payload: JSON.stringify(NEW_APP) });
      assert.equal(oidc.statusCode, 403, host);
      assert.equal(JSON.parse(oidc.body).error, "access_denied");
      const kratos = await k.adm.inject({ method: "GET", url: "/admin/identities", headers: { host } });
      assert.equal(kratos.statusCode, 403, host);
      assert.equal(JSON.parse(kratos.body).error.code, 403, "the Kratos envelope");
    }
    assert.deepEqual(JSON.parse((await call(k.adm, "GET", "/admin/clients")).body), []);
    for (const host of ["127.0.0.1:4434", "[::1]:4434", "localhost", "127.5.6.7"]) {
      assert.equal((await k.adm.inject({ method: "GET", url: "/admin/clients", headers: { host } })).statusCode, 200, host);
    }
  });

  it("SEC admin API: with an admin key set, /admin/clients needs it", async (t) => {
    const k = await doorFor(t, { config: { "serve.admin.key": KEY } });
    assert.equal((await call(k.adm, "GET", "/admin/clients")).statusCode, 401);
    assert.equal((await call(k.adm, "POST", "/admin/clients", NEW_APP)).statusCode, 401);
    assert.equal((await k.adm.inject({ method: "GET", url: "/admin/clients", headers: { authorization: `Bearer ${KEY}` } })).statusCode, 200);
  });
});

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
