/**
 * RP-Initiated Logout 1.0 at `/oidc/logout`, in process: the hint is checked (SEC-37), a request
 * that does not prove it comes from the current session's app is confirmed on our page first
 * (SEC-38, SEC-39), the redirect is the app's registered URI exactly (SEC-40) with `state`
 * (SEC-41), and every refusal is a page that ends nothing.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { SignJWT, generateKeyPair } from "jose";
import { ALICE, BASE, assertDead, assertLive, byCookie, signIn, withAlice } from "../../../test/support/kratos.ts";
import { APP_SECRET } from "../../../test/support/oidc.ts";
import type { Door } from "../../../test/support/server.ts";
import { SigningKeys } from "../../core/signing-keys.ts";

const WEB = { client_id: "web", client_secret: APP_SECRET, redirect_uris: ["https://web.example/cb"], post_logout_redirect_uris: ["https://web.example/bye"] };
const OTHER = { client_id: "other", client_secret: APP_SECRET, redirect_uris: ["https://other.example/cb"] };
const CONFIG = { "oidc.clients": [WEB, OTHER] };
const VERIFIER = "v".repeat(43);
const BYE = "https://web.example/bye";

type Res = { statusCode: number; headers: Record<string, unknown>; body: string };

/** Signs Alice in and runs the code flow for `web`; answers her session token and ID token. */
async function signedIn(k: Door): Promise<{ token: string; idToken: string; accessToken: string }> {
  const { token } = await signIn(k.pub, ALICE.email);
  const query = new URLSearchParams({
    client_id: "web",
    redirect_uri: "https://web.example/cb",
    response_type: "code",
    scope: "openid",
    code_challenge: createHash("sha256").update(VERIFIER).digest("base64url"),
    code_challenge_method: "S256",
  });
  const auth = await k.pub.inject({ method: "GET", url: `/authorize?${query}`, headers: byCookie(token) });
  const code = new URL(String(auth.headers.location)).searchParams.get("code")!;
  const res = await k.pub.inject({
    method: "POST",
    url: "/oauth/token",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: "https://web.example/cb", code_verifier: VERIFIER, client_id: "web", client_secret: APP_SECRET }).toString(),
  });
  const body = JSON.parse(res.body) as { id_token: string; access_token: string };
  return { token, idToken: body.id_token, accessToken: body.access_token };
}

const endSession = (k: Door, query: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> =>
  k.pub.inject({ method: "GET", url: `/oidc/logout?${new URLSearchParams(query)}`, headers }) as Promise<Res>;

function confirmForm(res: Res): Record<string, string> {
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.body, /<form method="post" action="http:\/\/localhost:4433\/oidc\/logout\/confirm">/);
  return Object.fromEntries([...res.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, "&")]));
}

describe("/oidc/logout (RP-Initiated Logout 1.0)", () => {
  it("SEC-36, SEC-38, SEC-41: a hint whose sid is the current session's ends it at once: 303 to the registered URI with state only", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token, idToken } = await signedIn(k);
    const res = await endSession(k, { id_token_hint: idToken, post_logout_redirect_uri: BYE, state: "s 1" }, byCookie(token));
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, `${BYE}?state=s+1`);
    assert.match(String(res.headers["set-cookie"]), /^ory_kratos_session=;.*Max-Age=0/);
    await assertDead(k.pub, token);
    // POST is supported too (§2), and with nobody signed in there is nothing to confirm.
    const post = await k.pub.inject({ method: "POST", url: "/oidc/logout", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "" });
    assert.equal(post.statusCode, 303);
    assert.equal(post.headers.location, `${BASE}/ui/logged-out`);
  });

  it("SEC-37: an expired hint still names its session (§4)", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token, idToken } = await signedIn(k);
    const claims = JSON.parse(Buffer.from(idToken.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    const expired = await k.t.server.core.signingKeys.sign({ ...claims, exp: 1, iat: 0 });
    const res = await endSession(k, { id_token_hint: expired, post_logout_redirect_uri: BYE }, byCookie(token));
    assert.equal(res.statusCode, 303);
    await assertDead(k.pub, token);
  });

  it("SEC-39: without a hint, a confirmation page with the session-bound token; the form ends the session, a forged one does not", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signedIn(k);
    const page = await endSession(k, { client_id: "web", post_logout_redirect_uri: BYE, state: "xyz" }, byCookie(token));
    const fields = confirmForm(page);
    assert.match(String(page.headers["content-security-policy"]), /form-action [^;]*https:\/\/web\.example/);
    await assertLive(k.pub, token);
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      k.pub.inject({
        method: "POST",
        url: "/oidc/logout/confirm",
        headers: { ...byCookie(token), "content-type": "application/x-www-form-urlencoded", origin: BASE, ...headers },
        payload: new URLSearchParams(body).toString(),
      });
    assert.equal((await post({ ...fields, csrf_token: "forged" })).statusCode, 403);
    assert.equal((await post({ ...fields }, { origin: "https://evil.example", "sec-fetch-site": "cross-site" })).statusCode, 403);
    await assertLive(k.pub, token);
    const done = await post(fields);
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, `${BYE}?state=xyz`);
    await assertDead(k.pub, token);
  });

  it("SEC-38: a valid hint of another session asks first; a cookieless POST naming a live session is made again as a GET", async (t) => {
    const k = await withAlice(t, CONFIG);
    const first = await signedIn(k);
    const second = await signIn(k.pub, ALICE.email);
    confirmForm(await endSession(k, { id_token_hint: first.idToken }, byCookie(second.token)));
    await assertLive(k.pub, second.token);
    const cookieless = await k.pub.inject({
      method: "POST",
      url: "/oidc/logout",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ id_token_hint: first.idToken, post_logout_redirect_uri: BYE }).toString(),
    });
    assert.equal(cookieless.statusCode, 303);
    const again = new URL(String(cookieless.headers.location));
    assert.equal(again.origin + again.pathname, `${BASE}/oidc/logout`);
    assert.equal(again.searchParams.get("id_token_hint"), first.idToken);
    await assertLive(k.pub, first.token);
    // The top-level GET carries the cookie: the hint is that session's, so it ends.
    const done = await k.pub.inject({ method: "GET", url: again.pathname + again.search, headers: byCookie(first.token) });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, BYE);
    await assertDead(k.pub, first.token);
  });

  it("SEC-36, SEC-37, SEC-40: bad hints, unregistered or inexact URIs, mismatched or unknown clients and repeats are 400 pages that end nothing", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token, idToken, accessToken } = await signedIn(k);
    const [header, payload] = idToken.split(".") as [string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${payload}.`;
    const jwk = (k.t.server.core.signingKeys.publicJwks().keys[0]!) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: String(jwk.kid) }).sign(new TextEncoder().encode(JSON.stringify(jwk)));
    const foreignKey = (await generateKeyPair("RS256")).privateKey;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: String(jwk.kid) }).sign(foreignKey);
    const logoutToken = await k.t.server.core.signingKeys.sign({ ...claims, events: { "http://schemas.openid.net/event/backchannel-logout": {} } }, "logout+jwt");
    const unknownAud = await k.t.server.core.signingKeys.sign({ ...claims, aud: "nobody" });
    const cases: Record<string, string>[] = [
      { id_token_hint: none },
      { id_token_hint: hs256 },
      { id_token_hint: foreign },
      { id_token_hint: logoutToken },
      { id_token_hint: accessToken },
      { id_token_hint: `${header}.${payload}.AAAA` },
      { id_token_hint: "not-a-jwt" },
      { id_token_hint: unknownAud },
      { id_token_hint: idToken, client_id: "other" },
      { id_token_hint: idToken, post_logout_redirect_uri: `${BYE}/` },
      { id_token_hint: idToken, post_logout_redirect_uri: `${BYE}?foo=bar` },
      { id_token_hint: idToken, post_logout_redirect_uri: "https://WEB.example/bye" },
      { id_token_hint: idToken, post_logout_redirect_uri: "https://evil.example/" },
      { post_logout_redirect_uri: BYE },
      { client_id: "nobody" },
    ];
    for (const query of cases) {
      const res = await endSession(k, query, byCookie(token));
      assert.equal(res.statusCode, 400, JSON.stringify(query).slice(0, 120));
      assert.equal(res.headers.location, undefined);
      assert.equal(res.headers["set-cookie"], undefined);
    }
    const repeated = await k.pub.inject({ method: "GET", url: `/oidc/logout?state=a&state=b`, headers: byCookie(token) });
    assert.equal(repeated.statusCode, 400);
    await assertLive(k.pub, token);
  });

  it("SEC-39, SEC-98: an ID token whose key was rotated out is read as no hint: a confirmation first, and its app's registered URI still applies", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token, idToken } = await signedIn(k);
    const keys = k.t.server.core.signingKeys;
    // The key that signed the ID token is no longer kept, as after three rotations.
    await keys.reload({ keys: [await SigningKeys.generate()] });
    assert.ok(keys.namesUnknownKey(idToken));
    const res = await endSession(k, { id_token_hint: idToken, post_logout_redirect_uri: BYE, state: "s" }, byCookie(token));
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /<form method="post" action="[^"]+\/oidc\/logout\/confirm">/);
    assert.match(res.body, /name="post_logout_redirect_uri" value="https:\/\/web\.example\/bye"/);
    await assertLive(k.pub, token);
    // Its unverified audience picks nothing the app did not register.
    const elsewhere = await endSession(k, { id_token_hint: idToken, post_logout_redirect_uri: "https://evil.example/" }, byCookie(token));
    assert.equal(elsewhere.statusCode, 400);
  });
});
