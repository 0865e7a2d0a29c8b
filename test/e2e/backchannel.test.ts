/**
 * Back-Channel Logout 1.0 end to end: a session that signed in to an app ends through another
 * door, and the app's receiver gets a logout token it can verify with the provider's JWKS
 * (SEC-43), after the logout answered, retried when the app was down (FLT-06), never sent to an
 * address the configuration does not allow (SEC-47).
 */
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as client from "openid-client";
import type { BackchannelDelivery } from "../../src/core/model.ts";
import { APP_SECRET, Browser, type Provider, startProvider } from "../support/oidc.ts";

const APP = "http://localhost:1";

interface Receiver {
  uri: string;
  tokens: string[];
  /** Statuses to answer, in order; 204 once they run out. */
  answers: number[];
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const tokens: string[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
      tokens.push(new URLSearchParams(body).get("logout_token") ?? "");
      res.writeHead(answers.shift() ?? 204, { "cache-control": "no-store" }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { uri: `http://127.0.0.1:${port}/backchannel-logout`, tokens, answers, close: () => new Promise((r) => server.close(() => r())) };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function signInAndOut(op: Provider, email: string): Promise<{ sid: string; sub: string }> {
  const config = await client.discovery(new URL(op.issuer), "rp-bc", undefined, client.ClientSecretPost(APP_SECRET), { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${APP}/callback`,
    scope: "openid",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  const browser = new Browser(op.base);
  const hop = await browser.signInThrough(url.href, email);
  const tokens = await client.authorizationCodeGrant(config, new URL(hop.location!), { pkceCodeVerifier: verifier });
  const claims = tokens.claims()!;
  // Ended at another door: the Kratos browser logout.
  const flow = await browser.request(`${op.base}/self-service/logout/browser`, { headers: { accept: "application/json" } });
  const out = await browser.request((JSON.parse(flow.body) as { logout_url: string }).logout_url);
  assert.equal(out.status, 303);
  return { sid: String(claims.sid), sub: claims.sub };
}

/** The app's delivery rows once `ready` holds for them (or as they are after ten seconds). */
async function deliveriesOnce(op: Provider, ready: (rows: BackchannelDelivery[]) => boolean): Promise<BackchannelDelivery[]> {
  const end = Date.now() + 10_000;
  let rows = await op.t.server.store.listDeliveries({ clientId: "rp-bc", limit: 10 });
  while (!ready(rows) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    rows = await op.t.server.store.listDeliveries({ clientId: "rp-bc", limit: 10 });
  }
  return rows;
}

const app = (uri: string) => ({
  client_id: "rp-bc",
  client_secret: APP_SECRET,
  token_endpoint_auth_method: "client_secret_post" as const,
  redirect_uris: [`${APP}/callback`],
  backchannel_logout_uri: uri,
});

describe("back-channel logout", () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  it("SEC-43, SEC-48, INV-4: a logout at the Kratos door reaches the app as a logout token it verifies with the JWKS", async () => {
    const rx = await receiver();
    const op = await startProvider([app(rx.uri)]);
    cleanups.push(() => op.close(), () => rx.close());
    const person = await op.person("bc.one@example.com");
    const { sid, sub } = await signInAndOut(op, person.email);
    await until(() => rx.tokens.length === 1, "the logout token");
    const token = rx.tokens[0]!;
    assert.equal(decodeProtectedHeader(token).typ, "logout+jwt");
    const jwks = createLocalJWKSet((await (await fetch(`${op.issuer}.well-known/jwks.json`)).json()) as { keys: [] });
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: "rp-bc", algorithms: ["RS256"] });
    assert.equal(payload.sid, sid);
    assert.equal(payload.sub, sub);
    assert.equal(payload.sub, person.id);
    assert.deepEqual(payload.events, { "http://schemas.openid.net/event/backchannel-logout": {} });
    assert.equal(payload.nonce, undefined);
    assert.equal(typeof payload.jti, "string");
    assert.equal(payload.exp! - payload.iat!, 120);
    // The outcome is recorded just after the app's answer.
    const rows = await deliveriesOnce(op, (r) => r[0]?.status === "delivered");
    assert.deepEqual(rows.map((r) => [r.status, r.attempts, r.lastStatus]), [["delivered", 1, 204]]);
  });

  it("FLT-06: an app that answers 503 is tried again, with a fresh token", async () => {
    const rx = await receiver();
    rx.answers.push(503);
    const op = await startProvider([app(rx.uri)]);
    cleanups.push(() => op.close(), () => rx.close());
    const person = await op.person("bc.two@example.com");
    await signInAndOut(op, person.email);
    await until(() => rx.tokens.length === 2, "the retry");
    const [first, second] = rx.tokens.map((t) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()) as { jti: string });
    assert.notEqual(first!.jti, second!.jti, "a fresh jti per attempt");
    // The outcome is recorded after the answer: wait for it.
    const rows = await deliveriesOnce(op, (r) => r[0]?.status === "delivered");
    assert.equal(rows[0]!.status, "delivered");
    assert.equal(rows[0]!.attempts, 2);
  });

  it("SEC-47: without allow_loopback nothing is sent to a loopback address, and the row says why", async () => {
    const rx = await receiver();
    const op = await startProvider([app(rx.uri)], { "oidc.backchannel.allow_loopback": false });
    cleanups.push(() => op.close(), () => rx.close());
    const person = await op.person("bc.three@example.com");
    await signInAndOut(op, person.email);
    const rows = await deliveriesOnce(op, (r) => (r[0]?.lastError ?? null) !== null);
    assert.equal(rx.tokens.length, 0);
    assert.match(rows[0]!.lastError ?? "", /not allowed/);
    assert.equal(rows[0]!.status, "pending", "kept, to be tried again: a configuration may change");
    // The operator's view, and a retry through the admin API.
    const listed = (await (await fetch(`${op.t.adminUrl}/admin/deliveries?client_id=rp-bc`)).json()) as { id: string; status: string; last_error: string }[];
    assert.deepEqual(listed.map((d) => [d.id, d.status]), [[rows[0]!.id, "pending"]]);
    assert.match(listed[0]!.last_error, /not allowed/);
    const retry = await fetch(`${op.t.adminUrl}/admin/deliveries/${rows[0]!.id}/retry`, { method: "POST" });
    assert.equal(retry.status, 204);
  });
});
