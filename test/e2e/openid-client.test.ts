/**
 * openid-client 6 (panva), unchanged, as the judge of the provider: discovery, the code flow with
 * PKCE S256 and `iss` on the response (RFC 9207), the ID token, userinfo, refresh with rotation,
 * revocation, and codes and tokens dying with their session whatever door ends it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as client from "openid-client";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { APP_SECRET, Browser, type Provider, startProvider, webApp } from "../support/oidc.ts";

const APP = "http://localhost:1";

let op: Provider;
let config: client.Configuration;

before(async () => {
  op = await startProvider([webApp("rp-one", APP)]);
  config = await client.discovery(new URL(op.issuer), "rp-one", undefined, client.ClientSecretBasic(APP_SECRET), {
    execute: [client.allowInsecureRequests],
  });
});
after(() => op.close());

/** Runs the code flow in a fresh browser as `email`; answers the tokens and the browser. */
async function codeFlow(email: string, scope = "openid email profile offline_access") {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${APP}/callback`,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  const browser = new Browser(op.base);
  const hop = await browser.signInThrough(url.href, email);
  assert.equal(hop.status, 303, hop.body);
  const callback = new URL(hop.location!);
  assert.equal(callback.origin + callback.pathname, `${APP}/callback`);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  return { tokens, browser, callback, verifier };
}

describe("openid-client 6 against the provider", () => {
  it("discovery: the issuer is the base URL with one slash, and every endpoint sits under it", () => {
    const m = config.serverMetadata();
    assert.equal(m.issuer, op.issuer);
    assert.equal(m.authorization_endpoint, `${op.issuer}authorize`);
    assert.equal(m.token_endpoint, `${op.issuer}oauth/token`);
    assert.equal(m.jwks_uri, `${op.issuer}.well-known/jwks.json`);
    assert.deepEqual(m.code_challenge_methods_supported, ["S256"]);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
  });

  it("SEC-95: code + PKCE gives an RS256 ID token with iss, sub, aud, auth_time, nonce, sid; userinfo by scope", async () => {
    const alice = await op.person("alice.oc@example.com");
    const { tokens, callback } = await codeFlow(alice.email);
    assert.equal(callback.searchParams.get("iss"), op.issuer, "RFC 9207 iss on the response");
    assert.ok(tokens.id_token && tokens.refresh_token && tokens.access_token);
    assert.equal(decodeProtectedHeader(tokens.id_token).alg, "RS256");
    assert.ok(decodeProtectedHeader(tokens.id_token).kid);
    const claims = tokens.claims()!;
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.aud, "rp-one");
    assert.equal(typeof claims.auth_time, "number");
    assert.match(String(claims.sid), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(claims.email, alice.email);
    const info = await client.fetchUserInfo(config, tokens.access_token, alice.id);
    assert.equal(info.email, alice.email);
  });

  it("SEC-93: refresh rotates: the new refresh token works, the spent one is refused and takes its family with it", async () => {
    const bob = await op.person("bob.oc@example.com");
    const { tokens } = await codeFlow(bob.email);
    const second = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.notEqual(second.refresh_token, tokens.refresh_token);
    assert.equal(decodeJwt(second.id_token!).sid, tokens.claims()!.sid, "the same session");
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (e: client.ResponseBodyError) => e.error === "invalid_grant");
    // Reuse of a spent token revokes the family: the newest refresh and access tokens too.
    await assert.rejects(client.refreshTokenGrant(config, second.refresh_token!), (e: client.ResponseBodyError) => e.error === "invalid_grant");
    await assert.rejects(client.fetchUserInfo(config, second.access_token, bob.id));
  });

  it("SEC-92: a code used twice is refused, and the tokens of its first use are revoked", async () => {
    const carol = await op.person("carol.oc@example.com");
    const { tokens, callback, verifier } = await codeFlow(carol.email);
    const replay = await fetch(`${op.issuer}oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`rp-one:${APP_SECRET}`).toString("base64")}` },
      body: new URLSearchParams({ grant_type: "authorization_code", code: callback.searchParams.get("code")!, redirect_uri: `${APP}/callback`, code_verifier: verifier }),
    });
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { error: string }).error, "invalid_grant");
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, carol.id));
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!));
  });

  it("SEC-93 / RFC 7009: revoking the refresh token takes its access token along", async () => {
    const dan = await op.person("dan.oc@example.com");
    const { tokens } = await codeFlow(dan.email);
    await client.tokenRevocation(config, tokens.refresh_token!);
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, dan.id));
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!));
  });

  it("SEC-22 / INV-2: signing out at the Kratos door ends the app's access and refresh tokens (offline_access too)", async () => {
    const erin = await op.person("erin.oc@example.com");
    const { tokens, browser } = await codeFlow(erin.email);
    const flow = await browser.request(`${op.base}/self-service/logout/browser`, { headers: { accept: "application/json" } });
    assert.equal(flow.status, 200, flow.body);
    const out = await browser.request((JSON.parse(flow.body) as { logout_url: string }).logout_url);
    assert.equal(out.status, 303);
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, erin.id));
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (e: client.ResponseBodyError) => e.error === "invalid_grant");
  });

  it("SEC-42: after Auth0's /v2/logout the app's tokens are dead, and prompt=none in the same browser is login_required", async () => {
    const fay = await op.person("fay.oc@example.com");
    const { tokens, browser } = await codeFlow(fay.email);
    const out = await browser.request(`${op.base}/v2/logout?client_id=rp-one&returnTo=${encodeURIComponent(`${APP}/`)}`);
    assert.equal(out.status, 302);
    assert.equal(out.location, `${APP}/`);
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, fay.id));
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), (e: client.ResponseBodyError) => e.error === "invalid_grant");
    const silent = client.buildAuthorizationUrl(config, { redirect_uri: `${APP}/callback`, scope: "openid", prompt: "none" });
    const hop = await browser.navigate(silent.href);
    assert.equal(new URL(hop.location!).searchParams.get("error"), "login_required");
  });

  it("SEC-38: buildEndSessionUrl with the ID token as hint ends the session at once and returns to the app with state", async () => {
    const gil = await op.person("gil.oc@example.com");
    const { tokens, browser } = await codeFlow(gil.email);
    assert.equal(config.serverMetadata().end_session_endpoint, `${op.issuer}oidc/logout`);
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${APP}/`, state: "bye-1" });
    const out = await browser.request(url.href);
    assert.equal(out.status, 303, out.body);
    assert.equal(out.location, `${APP}/?state=bye-1`);
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!));
  });

  it("prompt=none without a session answers login_required at the redirect URI, with state and iss", async () => {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: `${APP}/callback`, scope: "openid", state: "s-1", prompt: "none" });
    const hop = await new Browser(op.base).navigate(url.href);
    assert.equal(hop.status, 303);
    const back = new URL(hop.location!);
    assert.equal(back.searchParams.get("error"), "login_required");
    assert.equal(back.searchParams.get("state"), "s-1");
    assert.equal(back.searchParams.get("iss"), op.issuer);
  });
});
